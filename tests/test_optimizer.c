/* Adam and SGD with momentum against references computed here, in double, from
 * the textbook formulas (torch.optim's documentation). The optimizer only uses
 * the parameter block of the model, so these tests give it a stand-in model
 * holding a tiny vector. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jointvae/train.h"
#include "model/model.h"
#include "train/optimizer.h"
#include "test_util.h"

#define COUNT 7
#define STEPS 6

static void assert_close(double actual, double expected, double tolerance, const char *what,
                         int index)
{
    if (!(fabs(actual - expected) <= tolerance)) {
        print_error("%s[%d]: got %.9g, expected %.9g (tolerance %g)\n", what, index, actual,
                    expected, tolerance);
        fail();
    }
}

typedef struct stand_in {
    struct jvae_model model;
    float params[COUNT];
    float grads[COUNT];
} stand_in;

static void stand_in_init(stand_in *s)
{
    memset(s, 0, sizeof *s);
    /* Mixed signs and magnitudes, including 0. */
    const float initial[COUNT] = {0.5f, -1.25f, 0.0f, 2.0f, -0.03125f, 1e-3f, -3.5f};
    memcpy(s->params, initial, sizeof initial);
    s->model.param_count = COUNT;
    s->model.params = s->params;
    s->model.grads = s->grads;
}

/* A gradient sequence that changes sign and spans magnitudes from 1e-9 (where ε
 * matters) to 10. */
static double gradient_at(int step, int i)
{
    static const double scale[COUNT] = {1.0, 0.1, 10.0, 1e-9, 0.5, 2.0, 1e-3};
    return scale[i] * sin(1.7 * step + 0.9 * i + 0.3);
}

static void set_gradients(stand_in *s, int step)
{
    for (int i = 0; i < COUNT; i++) s->grads[i] = (float)gradient_at(step, i);
}

static void run_adam(float weight_decay)
{
    stand_in s;
    stand_in_init(&s);
    jvae_optimizer_options o;
    assert_int_equal(jvae_optimizer_options_init(&o), JVAE_OK);
    o.learning_rate = 0.01f;
    o.weight_decay = weight_decay;
    jvae_optimizer *opt = NULL;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &o), JVAE_OK);

    /* Reference in double, from the same float hyper-parameters. */
    const double lr = o.learning_rate, b1 = o.beta1, b2 = o.beta2, eps = o.epsilon;
    const double wd = o.weight_decay;
    double p[COUNT], m[COUNT] = {0}, v[COUNT] = {0};
    for (int i = 0; i < COUNT; i++) p[i] = s.params[i];

    for (int t = 1; t <= STEPS; t++) {
        set_gradients(&s, t);
        assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
        assert_int_equal(jvae_optimizer_step_count(opt), t);
        for (int i = 0; i < COUNT; i++) {
            double g = (double)s.grads[i] + wd * p[i];
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            double m_hat = m[i] / (1.0 - pow(b1, t));
            double v_hat = v[i] / (1.0 - pow(b2, t));
            p[i] -= lr * m_hat / (sqrt(v_hat) + eps);
            /* Each float step rounds about ten operations to half an ulp
             * (6e-8 relative) on values of magnitude <= 4 (the parameter), so
             * 6 steps stay below 6·10·6e-8·4 ≈ 1.5e-5. The smallest update
             * (g = 1e-9, where ε dominates) is lr/11 ≈ 9e-4, so a wrong
             * formula (bias correction, ε placement, decay) cannot pass. */
            assert_close(s.params[i], p[i], 1.5e-5, "param", i);
        }
    }
    jvae_optimizer_free(opt);
}

static void test_adam_matches_reference(void **state)
{
    (void)state;
    run_adam(0.0f);
}

static void test_adam_with_weight_decay(void **state)
{
    (void)state;
    run_adam(0.1f);
}

static void test_adam_first_step_is_lr_times_sign(void **state)
{
    (void)state;
    /* With m̂ = g and v̂ = g² on step 1, Adam moves every parameter with a
     * gradient much larger than ε by lr·sign(g) — a property independent of the
     * formula the other test transcribes. */
    stand_in s;
    stand_in_init(&s);
    jvae_optimizer_options o;
    jvae_optimizer_options_init(&o);
    o.learning_rate = 0.25f;
    jvae_optimizer *opt = NULL;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &o), JVAE_OK);
    float before[COUNT];
    memcpy(before, s.params, sizeof before);
    set_gradients(&s, 1);
    assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
    for (int i = 0; i < COUNT; i++) {
        if (fabs(gradient_at(1, i)) < 1e-6) continue; /* ε is not negligible there */
        double expected = before[i] - 0.25 * (gradient_at(1, i) > 0 ? 1.0 : -1.0);
        /* lr·|g|/(|g| + ε) differs from lr by lr·ε/|g| <= 0.25·1e-8/1e-6; plus float rounding. */
        assert_close(s.params[i], expected, 1e-5, "param", i);
    }
    jvae_optimizer_free(opt);
}

static void run_sgd(float momentum, float weight_decay)
{
    stand_in s;
    stand_in_init(&s);
    jvae_optimizer_options o;
    jvae_optimizer_options_init(&o);
    o.kind = JVAE_OPTIMIZER_SGD;
    o.learning_rate = 0.05f;
    o.momentum = momentum;
    o.weight_decay = weight_decay;
    jvae_optimizer *opt = NULL;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &o), JVAE_OK);

    const double lr = o.learning_rate, mu = o.momentum, wd = o.weight_decay;
    double p[COUNT], buf[COUNT] = {0};
    for (int i = 0; i < COUNT; i++) p[i] = s.params[i];
    for (int t = 1; t <= STEPS; t++) {
        set_gradients(&s, t);
        assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
        for (int i = 0; i < COUNT; i++) {
            double g = (double)s.grads[i] + wd * p[i];
            buf[i] = t == 1 ? g : mu * buf[i] + g;
            p[i] -= lr * buf[i];
            /* Three float roundings per step on values <= 4 (param) and
             * lr·|buf| <= 0.05·10/(1−0.9): 6 steps · 4 ops · 6e-8 · 5 < 1e-5. */
            assert_close(s.params[i], p[i], 1e-5, "param", i);
        }
    }
    jvae_optimizer_free(opt);
}

static void test_sgd_momentum_matches_reference(void **state)
{
    (void)state;
    run_sgd(0.9f, 0.0f);
    run_sgd(0.5f, 0.01f);
}

static void test_sgd_without_momentum(void **state)
{
    (void)state;
    run_sgd(0.0f, 0.0f);
}

static void test_non_finite_gradient_updates_nothing(void **state)
{
    (void)state;
    const float poison[] = {NAN, INFINITY, -INFINITY};
    for (int kind = 0; kind < 2; kind++) {
        for (size_t k = 0; k < sizeof poison / sizeof poison[0]; k++) {
            stand_in s;
            stand_in_init(&s);
            jvae_optimizer_options o;
            jvae_optimizer_options_init(&o);
            o.kind = kind == 0 ? JVAE_OPTIMIZER_ADAM : JVAE_OPTIMIZER_SGD;
            jvae_optimizer *opt = NULL;
            assert_int_equal(jvae_optimizer_create(&opt, &s.model, &o), JVAE_OK);
            set_gradients(&s, 1);
            assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
            float params_before[COUNT];
            memcpy(params_before, s.params, sizeof params_before);

            set_gradients(&s, 2);
            s.grads[COUNT - 1] = poison[k]; /* the last one: earlier ones must not move */
            assert_int_equal(jvae_optimizer_step(opt), JVAE_ERR_NUMERIC);
            assert_error_contains("gradient 6 is");
            assert_memory_equal(s.params, params_before, sizeof params_before);
            assert_int_equal(jvae_optimizer_step_count(opt), 1);

            /* The moments are untouched too: the next good step equals the
             * step a fresh twin takes after the same single good step. */
            stand_in twin;
            stand_in_init(&twin);
            jvae_optimizer *twin_opt = NULL;
            assert_int_equal(jvae_optimizer_create(&twin_opt, &twin.model, &o), JVAE_OK);
            set_gradients(&twin, 1);
            assert_int_equal(jvae_optimizer_step(twin_opt), JVAE_OK);
            set_gradients(&s, 2);
            set_gradients(&twin, 2);
            assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
            assert_int_equal(jvae_optimizer_step(twin_opt), JVAE_OK);
            assert_memory_equal(s.params, twin.params, sizeof s.params);
            jvae_optimizer_free(opt);
            jvae_optimizer_free(twin_opt);
        }
    }
}

static void test_options_and_learning_rate(void **state)
{
    (void)state;
    stand_in s;
    stand_in_init(&s);
    jvae_optimizer_options o;
    assert_int_equal(jvae_optimizer_options_init(NULL), JVAE_ERR_INVALID_ARGUMENT);
    jvae_optimizer_options_init(&o);
    assert_int_equal(o.kind, JVAE_OPTIMIZER_ADAM);
    assert_true(o.learning_rate == 5e-4f && o.beta1 == 0.9f && o.beta2 == 0.999f);
    assert_true(o.epsilon == 1e-8f && o.weight_decay == 0.0f && o.momentum == 0.9f);

    jvae_optimizer *opt = (jvae_optimizer *)&o;
    jvae_optimizer_options b = o;
    b.version = 99;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &b), JVAE_ERR_VERSION);
    assert_null(opt);
    assert_error_contains("options version 99");
    b = o;
    b.learning_rate = -1.0f;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &b), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("learning_rate must be finite and >= 0, got -1");
    b = o;
    b.beta1 = 1.0f;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &b), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("beta1 must be in [0, 1), got 1");
    b = o;
    b.beta2 = NAN;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &b), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("beta2 must be in [0, 1)");
    b = o;
    b.epsilon = -1e-8f;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &b), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("epsilon must be finite and >= 0");
    b = o;
    b.weight_decay = INFINITY;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &b), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("weight_decay must be finite");
    b = o;
    b.kind = JVAE_OPTIMIZER_SGD;
    b.momentum = -0.5f;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &b), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("momentum must be finite and >= 0");
    b = o;
    b.kind = (jvae_optimizer_kind)7;
    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &b), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("unknown optimizer kind 7");
    assert_int_equal(jvae_optimizer_create(&opt, NULL, &o), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("model is NULL");

    assert_int_equal(jvae_optimizer_create(&opt, &s.model, &o), JVAE_OK);
    assert_int_equal(jvae_optimizer_step_count(opt), 0);
    assert_int_equal(jvae_optimizer_set_learning_rate(opt, NAN), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_optimizer_set_learning_rate(opt, 0.125f), JVAE_OK);
    jvae_optimizer_options got;
    assert_int_equal(jvae_optimizer_get_options(opt, &got), JVAE_OK);
    assert_true(got.learning_rate == 0.125f);
    assert_true(got.beta2 == o.beta2);
    jvae_optimizer_free(opt);
    jvae_optimizer_free(NULL);
    assert_int_equal(jvae_optimizer_step(NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_optimizer_step_count(NULL), 0);
}

/* A stand-in large enough for the optimizer to share its check (from 256 K
 * values) and its update (from 32 K) among a pool's workers, of an odd size
 * so that the last block is short. */
#define LARGE 300007

typedef struct large_stand_in {
    struct jvae_model model;
    float *params, *grads;
} large_stand_in;

static large_stand_in *large_create(int threads)
{
    large_stand_in *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->params = calloc(LARGE, sizeof(float));
    s->grads = calloc(LARGE, sizeof(float));
    assert_non_null(s->params);
    assert_non_null(s->grads);
    jvae_rng rng;
    jvae_rng_seed(&rng, 31);
    test_fill_uniform(&rng, s->params, LARGE, -2.0f, 2.0f);
    s->model.param_count = LARGE;
    s->model.params = s->params;
    s->model.grads = s->grads;
    if (threads > 1)
        assert_int_equal(jvae_pool_create(&s->model.pool, threads, "large_create"), JVAE_OK);
    return s;
}

static void large_free(large_stand_in *s)
{
    jvae_pool_free(s->model.pool);
    free(s->params);
    free(s->grads);
    free(s);
}

/* Gradients of step t: mixed signs and magnitudes, some exactly 0. */
static void large_gradients(large_stand_in *s, int step)
{
    jvae_rng rng;
    jvae_rng_seed(&rng, 1000 + (uint64_t)step);
    test_fill_uniform(&rng, s->grads, LARGE, -1.0f, 1.0f);
    for (int i = 0; i < LARGE; i += 7) s->grads[i] *= 1e-6f;
    for (int i = 3; i < LARGE; i += 101) s->grads[i] = 0.0f;
}

static void assert_bits_equal(const char *what, int threads, const float *a, const float *b)
{
    for (int i = 0; i < LARGE; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) {
            print_error("%s[%d], %d threads: %.9g, without a pool %.9g\n", what, i, threads,
                        (double)a[i], (double)b[i]);
            fail();
        }
}

/* The update is element-wise, so a pool of 2 or 3 workers gives the very bits
 * of no pool: parameters and both moments, for Adam and SGD, with weight
 * decay so that every term of the update is used. */
static void test_pool_gives_same_bits(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        jvae_optimizer_options o;
        jvae_optimizer_options_init(&o);
        o.kind = kind == 0 ? JVAE_OPTIMIZER_ADAM : JVAE_OPTIMIZER_SGD;
        o.learning_rate = 0.01f;
        o.weight_decay = 0.05f;
        large_stand_in *alone = large_create(1);
        jvae_optimizer *alone_opt = NULL;
        assert_int_equal(jvae_optimizer_create(&alone_opt, &alone->model, &o), JVAE_OK);
        for (int t = 1; t <= 3; t++) {
            large_gradients(alone, t);
            assert_int_equal(jvae_optimizer_step(alone_opt), JVAE_OK);
        }
        for (int threads = 2; threads <= 3; threads++) {
            large_stand_in *shared = large_create(threads);
            assert_int_equal(jvae_pool_threads(shared->model.pool), threads);
            jvae_optimizer *opt = NULL;
            assert_int_equal(jvae_optimizer_create(&opt, &shared->model, &o), JVAE_OK);
            for (int t = 1; t <= 3; t++) {
                large_gradients(shared, t);
                assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
            }
            assert_bits_equal("param", threads, shared->params, alone->params);
            assert_bits_equal("first moment", threads, opt->first, alone_opt->first);
            if (kind == 0)
                assert_bits_equal("second moment", threads, opt->second, alone_opt->second);
            jvae_optimizer_free(opt);
            large_free(shared);
        }
        jvae_optimizer_free(alone_opt);
        large_free(alone);
    }
}

/* Adam's vector loops (16 lanes with AVX-512, 4 with SSE2; ctest runs this
 * under each JVAE_MAX_ISA) give the bits of its scalar loop, which this
 * repeats operation by operation in float, over LARGE (odd) values so that
 * both loops' tails run too. */
static void test_adam_lanes_give_the_scalar_bits(void **state)
{
    (void)state;
    jvae_optimizer_options o;
    jvae_optimizer_options_init(&o);
    o.learning_rate = 0.01f;
    o.weight_decay = 0.05f;
    large_stand_in *s = large_create(1);
    jvae_optimizer *opt = NULL;
    assert_int_equal(jvae_optimizer_create(&opt, &s->model, &o), JVAE_OK);
    float *p = malloc(LARGE * sizeof *p), *m = calloc(LARGE, sizeof *m);
    float *v = calloc(LARGE, sizeof *v);
    assert_non_null(p);
    assert_non_null(m);
    assert_non_null(v);
    memcpy(p, s->params, LARGE * sizeof *p);
    const float b1 = o.beta1, b2 = o.beta2;
    const float omb1 = (float)(1.0 - o.beta1), omb2 = (float)(1.0 - o.beta2);
    for (int t = 1; t <= 3; t++) {
        large_gradients(s, t);
        assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
        const float step = (float)(-((double)o.learning_rate / (1.0 - pow(o.beta1, t))));
        const float bc2 = (float)sqrt(1.0 - pow(o.beta2, t));
        for (int i = 0; i < LARGE; i++) {
            const float g = s->grads[i] + o.weight_decay * p[i];
            m[i] = m[i] * b1 + omb1 * g;
            v[i] = v[i] * b2 + (omb2 * g) * g;
            p[i] = p[i] + (step * m[i]) / (sqrtf(v[i]) / bc2 + o.epsilon);
        }
    }
    assert_bits_equal("param", 1, s->params, p);
    assert_bits_equal("first moment", 1, opt->first, m);
    assert_bits_equal("second moment", 1, opt->second, v);
    free(p);
    free(m);
    free(v);
    jvae_optimizer_free(opt);
    large_free(s);
}

/* On a pool, a non-finite gradient in the last worker's block is still found
 * and named, the lowest index wins when several are bad (whichever worker
 * finds each), and nothing moves. */
static void test_pool_reports_lowest_non_finite(void **state)
{
    (void)state;
    const int bad[][2] = {{LARGE - 2, -1}, {LARGE - 2, 17}, {270001, 270000}, {5, LARGE - 1}};
    for (int threads = 2; threads <= 3; threads++)
        for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
            large_stand_in *s = large_create(threads);
            jvae_optimizer_options o;
            jvae_optimizer_options_init(&o);
            jvae_optimizer *opt = NULL;
            assert_int_equal(jvae_optimizer_create(&opt, &s->model, &o), JVAE_OK);
            large_gradients(s, 1);
            assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
            float *before = malloc(LARGE * sizeof *before);
            assert_non_null(before);
            memcpy(before, s->params, LARGE * sizeof *before);
            large_gradients(s, 2);
            s->grads[bad[c][0]] = NAN;
            if (bad[c][1] >= 0) s->grads[bad[c][1]] = INFINITY;
            const int lowest = bad[c][1] >= 0 && bad[c][1] < bad[c][0] ? bad[c][1] : bad[c][0];
            assert_int_equal(jvae_optimizer_step(opt), JVAE_ERR_NUMERIC);
            char expected[64];
            snprintf(expected, sizeof expected, "gradient %d is %s", lowest,
                     lowest == bad[c][0] ? "nan" : "inf");
            assert_error_contains(expected);
            assert_memory_equal(s->params, before, LARGE * sizeof *before);
            assert_int_equal(jvae_optimizer_step_count(opt), 1);
            free(before);
            jvae_optimizer_free(opt);
            large_free(s);
        }
}

/* A real model on a 2-thread pool: backward's check names the first poisoned
 * gradient by tensor and index (the lower of two in different tensors, found
 * by different workers), and the optimizer refuses the same value by its
 * index in the block. */
static void test_model_scans_name_first_non_finite(void **state)
{
    (void)state;
    jvae_model_options options;
    jvae_model_options_init(&options);
    options.threads = 2;
    jvae_model *m = NULL;
    assert_int_equal(jvae_model_create(&m, &options), JVAE_OK);
    assert_int_equal(jvae_model_reserve(m, 2), JVAE_OK);
    const int64_t count = jvae_model_param_count(m);
    const int tensors = jvae_model_param_tensor_count(m);
    const char *name = NULL;
    int64_t offset = 0;
    /* The first conv's bias and the last conv's weight: far apart in the block. */
    assert_int_equal(jvae_model_param_info(m, 1, &name, NULL, NULL, &offset), JVAE_OK);
    const int64_t early = offset + 3;
    char expected[128];
    snprintf(expected, sizeof expected, "the gradient of %s[3] is nan", name);
    assert_int_equal(jvae_model_param_info(m, tensors - 2, NULL, NULL, NULL, &offset), JVAE_OK);
    const int64_t late = offset + 5;
    assert_true(early < count / 4 && late > count / 2);

    const int64_t shape[4] = {2, options.channels, options.height, options.width};
    jvae_tensor *images = NULL;
    assert_int_equal(jvae_tensor_create(&images, 4, shape), JVAE_OK);
    jvae_rng rng;
    jvae_rng_seed(&rng, 41);
    test_fill_uniform(&rng, jvae_tensor_data(images), (size_t)jvae_tensor_numel(images), 0.0f,
                      1.0f);
    assert_int_equal(jvae_model_zero_grad(m), JVAE_OK);
    assert_int_equal(jvae_model_forward(m, images, NULL, NULL, 0.0, 0.0, NULL), JVAE_OK);
    float *grads = jvae_model_grads(m);
    grads[late] = INFINITY; /* backward accumulates into these */
    grads[early] = NAN;
    assert_int_equal(jvae_model_backward(m), JVAE_ERR_NUMERIC);
    assert_error_contains(expected);

    jvae_optimizer_options o;
    jvae_optimizer_options_init(&o);
    jvae_optimizer *opt = NULL;
    assert_int_equal(jvae_optimizer_create(&opt, m, &o), JVAE_OK);
    assert_int_equal(jvae_optimizer_step(opt), JVAE_ERR_NUMERIC);
    snprintf(expected, sizeof expected, "gradient %lld is nan", (long long)early);
    assert_error_contains(expected);
    grads[early] = 0.0f;
    assert_int_equal(jvae_optimizer_step(opt), JVAE_ERR_NUMERIC);
    snprintf(expected, sizeof expected, "gradient %lld is inf", (long long)late);
    assert_error_contains(expected);
    jvae_optimizer_free(opt);
    jvae_tensor_free(images);
    jvae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_matches_reference),
        cmocka_unit_test(test_adam_with_weight_decay),
        cmocka_unit_test(test_adam_first_step_is_lr_times_sign),
        cmocka_unit_test(test_sgd_momentum_matches_reference),
        cmocka_unit_test(test_sgd_without_momentum),
        cmocka_unit_test(test_non_finite_gradient_updates_nothing),
        cmocka_unit_test(test_options_and_learning_rate),
        cmocka_unit_test(test_pool_gives_same_bits),
        cmocka_unit_test(test_adam_lanes_give_the_scalar_bits),
        cmocka_unit_test(test_pool_reports_lowest_non_finite),
        cmocka_unit_test(test_model_scans_name_first_non_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
