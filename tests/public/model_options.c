/* Model and loss options, creation, parameter tensors and memory queries,
 * through the shared library only. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <jointvae/jointvae.h>

#define assert_error_contains(needle) assert_non_null(strstr(jvae_last_error(), (needle)))

static jvae_model_options defaults(void)
{
    jvae_model_options o;
    assert_int_equal(jvae_model_options_init(&o), JVAE_OK);
    return o;
}

/* Create with options o: expect `status` and a message containing `needle`,
 * and the out handle left NULL. */
static void expect_rejected(const jvae_model_options *o, jvae_status status, const char *needle)
{
    jvae_model *m = (jvae_model *)&m; /* any non-NULL value: create must reset it */
    assert_int_equal(jvae_model_create(&m, o), status);
    assert_null(m);
    if (strstr(jvae_last_error(), needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", jvae_last_error(), needle);
}

static void test_defaults(void **state)
{
    (void)state;
    const jvae_model_options o = defaults();
    assert_int_equal(o.version, JVAE_MODEL_OPTIONS_VERSION);
    assert_int_equal(o.channels, 1);
    assert_int_equal(o.height, 32);
    assert_int_equal(o.width, 32);
    assert_int_equal(o.n_continuous, 10);
    assert_int_equal(o.n_discrete, 1);
    assert_int_equal(o.discrete_sizes[0], 10);
    assert_true(o.temperature == 0.67f);
    assert_int_equal(o.hidden, 256);
    assert_int_equal(o.seed, 1);
    assert_int_equal(o.threads, 1);
    assert_int_equal(jvae_model_options_init(NULL), JVAE_ERR_INVALID_ARGUMENT);

    jvae_loss_options l;
    assert_int_equal(jvae_loss_options_init(&l), JVAE_OK);
    assert_int_equal(l.version, JVAE_LOSS_OPTIONS_VERSION);
    assert_int_equal(l.mode, JVAE_LOSS_JOINTVAE);
    assert_true(l.gamma_continuous == 30.0f && l.gamma_discrete == 30.0f);
    assert_true(l.beta == 4.0f && l.gamma == 30.0f);
    assert_int_equal(l.official_scaling, 0);
    assert_int_equal(jvae_loss_options_init(NULL), JVAE_ERR_INVALID_ARGUMENT);
}

static void test_each_bad_option_is_named(void **state)
{
    (void)state;
    jvae_model *m = NULL;
    jvae_model_options o = defaults();
    assert_int_equal(jvae_model_create(NULL, &o), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("out is NULL");
    assert_int_equal(jvae_model_create(&m, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("options is NULL");

    o.version = 7;
    expect_rejected(&o, JVAE_ERR_VERSION, "options.version 7 is not supported");
    o = defaults();
    o.channels = 5;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "options.channels must be 1..4, got 5");
    o.channels = 0;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "options.channels must be 1..4, got 0");
    o = defaults();
    o.width = 64;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "must be equal, got 32x64");
    o.height = o.width = 48;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "power of two >= 32, got 48");
    o.height = o.width = 16;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "power of two >= 32, got 16");
    o.height = o.width = 8192;
    expect_rejected(&o, JVAE_ERR_UNSUPPORTED, "larger than 4096x4096");
    o = defaults();
    o.n_continuous = -1;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "options.n_continuous must be 0..65536, got -1");
    o = defaults();
    o.n_discrete = JVAE_MAX_DISCRETE + 1;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "options.n_discrete must be 0..64, got 65");
    o.n_discrete = -1;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "options.n_discrete must be 0..64, got -1");
    o = defaults();
    o.n_discrete = 2;
    o.discrete_sizes[1] = 1;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "options.discrete_sizes[1] must be 2..65536, got 1");
    o = defaults();
    o.n_continuous = 0;
    o.n_discrete = 0;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "at least one latent");
    o = defaults();
    o.temperature = 0.0f;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "options.temperature must be finite and > 0");
    o.temperature = NAN;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "options.temperature must be finite and > 0");
    o = defaults();
    o.hidden = 0;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "options.hidden must be 1..65536, got 0");
    o = defaults();
    o.threads = 0;
    expect_rejected(&o, JVAE_ERR_INVALID_ARGUMENT, "options.threads must be >= 1, got 0");

    /* Either part of the latent may be absent; unused sizes are ignored. */
    o = defaults();
    o.n_discrete = 0;
    o.discrete_sizes[0] = -5;
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    assert_int_equal(jvae_model_latent_dim(m), 10);
    assert_int_equal(jvae_model_discrete_dim(m), 0);
    jvae_model_free(m);
    o = defaults();
    o.n_continuous = 0;
    o.n_discrete = 3;
    o.discrete_sizes[1] = 2;
    o.discrete_sizes[2] = 5;
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    assert_int_equal(jvae_model_latent_dim(m), 17);
    assert_int_equal(jvae_model_discrete_dim(m), 17);
    jvae_model_options got;
    assert_int_equal(jvae_model_get_options(m, &got), JVAE_OK);
    assert_int_equal(got.n_discrete, 3);
    assert_int_equal(got.discrete_sizes[2], 5);
    assert_int_equal(jvae_model_get_options(m, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_get_options(NULL, &got), JVAE_ERR_INVALID_ARGUMENT);
    jvae_model_free(m);
    jvae_model_free(NULL);
}

static void test_loss_options(void **state)
{
    (void)state;
    jvae_model *m = NULL;
    jvae_model_options o = defaults();
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    jvae_loss_options l, got;
    assert_int_equal(jvae_model_get_loss(m, &got), JVAE_OK);
    assert_int_equal(jvae_loss_options_init(&l), JVAE_OK);
    assert_memory_equal(&l, &got, sizeof l);

    l.mode = JVAE_LOSS_CAPACITY;
    l.gamma = 100.0f;
    l.official_scaling = 1;
    assert_int_equal(jvae_model_set_loss(m, &l), JVAE_OK);
    assert_int_equal(jvae_model_get_loss(m, &got), JVAE_OK);
    assert_int_equal(got.mode, JVAE_LOSS_CAPACITY);
    assert_true(got.gamma == 100.0f);
    assert_int_equal(got.official_scaling, 1);

    jvae_loss_options bad = l;
    bad.version = 9;
    assert_int_equal(jvae_model_set_loss(m, &bad), JVAE_ERR_VERSION);
    assert_error_contains("loss options.version 9");
    bad = l;
    bad.mode = (jvae_loss_mode)5;
    assert_int_equal(jvae_model_set_loss(m, &bad), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("loss options.mode 5 is unknown");
    bad = l;
    bad.gamma_discrete = -1.0f;
    assert_int_equal(jvae_model_set_loss(m, &bad), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("loss options.gamma_discrete must be finite and >= 0, got -1");
    bad = l;
    bad.beta = INFINITY;
    assert_int_equal(jvae_model_set_loss(m, &bad), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("loss options.beta");
    bad = l;
    bad.official_scaling = 2;
    assert_int_equal(jvae_model_set_loss(m, &bad), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("official_scaling must be 0 or 1, got 2");
    /* A rejected loss leaves the previous one in place. */
    assert_int_equal(jvae_model_get_loss(m, &got), JVAE_OK);
    assert_int_equal(got.mode, JVAE_LOSS_CAPACITY);

    assert_int_equal(jvae_model_set_loss(NULL, &l), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_set_loss(m, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_get_loss(NULL, &got), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_get_loss(m, NULL), JVAE_ERR_INVALID_ARGUMENT);
    jvae_model_free(m);
}

/* Expected tensors of a model: name and shape, in state-dict order. */
typedef struct expected_tensor {
    const char *name;
    int ndim;
    int64_t shape[4];
} expected_tensor;

static void expect_tensors(const jvae_model_options *o, const expected_tensor *want, int count)
{
    jvae_model *m = NULL;
    assert_int_equal(jvae_model_create(&m, o), JVAE_OK);
    assert_int_equal(jvae_model_param_tensor_count(m), count);
    int64_t next = 0;
    for (int t = 0; t < count; t++) {
        const char *name;
        int ndim;
        int64_t shape[JVAE_TENSOR_MAX_DIMS], offset, numel = 1;
        assert_int_equal(jvae_model_param_info(m, t, &name, &ndim, shape, &offset), JVAE_OK);
        assert_string_equal(name, want[t].name);
        assert_int_equal(ndim, want[t].ndim);
        for (int d = 0; d < ndim; d++) {
            assert_int_equal(shape[d], want[t].shape[d]);
            numel *= shape[d];
        }
        /* Tensors are packed back to back in order. */
        assert_int_equal(offset, next);
        next += numel;
    }
    assert_int_equal(jvae_model_param_count(m), next);
    jvae_model_free(m);
}

static void test_parameter_tensors_32(void **state)
{
    (void)state;
    /* The official MNIST model; PyTorch counts 687359 parameters for it. */
    const jvae_model_options o = defaults();
    const expected_tensor want[] = {
        {"img_to_features.0.weight", 4, {32, 1, 4, 4}},  {"img_to_features.0.bias", 1, {32}},
        {"img_to_features.2.weight", 4, {64, 32, 4, 4}}, {"img_to_features.2.bias", 1, {64}},
        {"img_to_features.4.weight", 4, {64, 64, 4, 4}}, {"img_to_features.4.bias", 1, {64}},
        {"features_to_hidden.0.weight", 2, {256, 1024}}, {"features_to_hidden.0.bias", 1, {256}},
        {"fc_mean.weight", 2, {10, 256}},                {"fc_mean.bias", 1, {10}},
        {"fc_log_var.weight", 2, {10, 256}},             {"fc_log_var.bias", 1, {10}},
        {"fc_alphas.0.weight", 2, {10, 256}},            {"fc_alphas.0.bias", 1, {10}},
        {"latent_to_features.0.weight", 2, {256, 20}},   {"latent_to_features.0.bias", 1, {256}},
        {"latent_to_features.2.weight", 2, {1024, 256}}, {"latent_to_features.2.bias", 1, {1024}},
        {"features_to_img.0.weight", 4, {64, 32, 4, 4}}, {"features_to_img.0.bias", 1, {32}},
        {"features_to_img.2.weight", 4, {32, 32, 4, 4}}, {"features_to_img.2.bias", 1, {32}},
        {"features_to_img.4.weight", 4, {32, 1, 4, 4}},  {"features_to_img.4.bias", 1, {1}},
    };
    expect_tensors(&o, want, (int)(sizeof want / sizeof want[0]));
    jvae_model *m = NULL;
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    assert_int_equal(jvae_model_param_count(m), 687359);
    const char *name = NULL;
    assert_int_equal(jvae_model_param_info(m, 24, &name, NULL, NULL, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("index must be 0..23, got 24");
    assert_int_equal(jvae_model_param_info(m, -1, &name, NULL, NULL, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_param_info(NULL, 0, &name, NULL, NULL, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    /* Every output is optional. */
    assert_int_equal(jvae_model_param_info(m, 0, NULL, NULL, NULL, NULL), JVAE_OK);
    assert_int_equal(jvae_model_param_tensor_count(NULL), 0);
    assert_int_equal(jvae_model_param_count(NULL), 0);
    assert_int_equal(jvae_model_latent_dim(NULL), 0);
    assert_int_equal(jvae_model_discrete_dim(NULL), 0);
    assert_null(jvae_model_params(NULL));
    assert_null(jvae_model_grads(NULL));
    jvae_model_free(m);
}

static void test_parameter_tensors_64_and_128(void **state)
{
    (void)state;
    /* dSprites: 1x64x64, 6 continuous, discrete [3]. */
    jvae_model_options o = defaults();
    o.height = o.width = 64;
    o.n_continuous = 6;
    o.discrete_sizes[0] = 3;
    const expected_tensor want64[] = {
        {"img_to_features.0.weight", 4, {32, 1, 4, 4}},  {"img_to_features.0.bias", 1, {32}},
        {"img_to_features.2.weight", 4, {32, 32, 4, 4}}, {"img_to_features.2.bias", 1, {32}},
        {"img_to_features.4.weight", 4, {64, 32, 4, 4}}, {"img_to_features.4.bias", 1, {64}},
        {"img_to_features.6.weight", 4, {64, 64, 4, 4}}, {"img_to_features.6.bias", 1, {64}},
        {"features_to_hidden.0.weight", 2, {256, 1024}}, {"features_to_hidden.0.bias", 1, {256}},
        {"fc_mean.weight", 2, {6, 256}},                 {"fc_mean.bias", 1, {6}},
        {"fc_log_var.weight", 2, {6, 256}},              {"fc_log_var.bias", 1, {6}},
        {"fc_alphas.0.weight", 2, {3, 256}},             {"fc_alphas.0.bias", 1, {3}},
        {"latent_to_features.0.weight", 2, {256, 9}},    {"latent_to_features.0.bias", 1, {256}},
        {"latent_to_features.2.weight", 2, {1024, 256}}, {"latent_to_features.2.bias", 1, {1024}},
        {"features_to_img.0.weight", 4, {64, 64, 4, 4}}, {"features_to_img.0.bias", 1, {64}},
        {"features_to_img.2.weight", 4, {64, 32, 4, 4}}, {"features_to_img.2.bias", 1, {32}},
        {"features_to_img.4.weight", 4, {32, 32, 4, 4}}, {"features_to_img.4.bias", 1, {32}},
        {"features_to_img.6.weight", 4, {32, 1, 4, 4}},  {"features_to_img.6.bias", 1, {1}},
    };
    expect_tensors(&o, want64, (int)(sizeof want64 / sizeof want64[0]));

    /* 128x128 RGB, continuous only, hidden 32: one more 32→32 stage each side. */
    o = defaults();
    o.channels = 3;
    o.height = o.width = 128;
    o.n_continuous = 5;
    o.n_discrete = 0;
    o.hidden = 32;
    const expected_tensor want128[] = {
        {"img_to_features.0.weight", 4, {32, 3, 4, 4}},  {"img_to_features.0.bias", 1, {32}},
        {"img_to_features.2.weight", 4, {32, 32, 4, 4}}, {"img_to_features.2.bias", 1, {32}},
        {"img_to_features.4.weight", 4, {32, 32, 4, 4}}, {"img_to_features.4.bias", 1, {32}},
        {"img_to_features.6.weight", 4, {64, 32, 4, 4}}, {"img_to_features.6.bias", 1, {64}},
        {"img_to_features.8.weight", 4, {64, 64, 4, 4}}, {"img_to_features.8.bias", 1, {64}},
        {"features_to_hidden.0.weight", 2, {32, 1024}},  {"features_to_hidden.0.bias", 1, {32}},
        {"fc_mean.weight", 2, {5, 32}},                  {"fc_mean.bias", 1, {5}},
        {"fc_log_var.weight", 2, {5, 32}},               {"fc_log_var.bias", 1, {5}},
        {"latent_to_features.0.weight", 2, {32, 5}},     {"latent_to_features.0.bias", 1, {32}},
        {"latent_to_features.2.weight", 2, {1024, 32}},  {"latent_to_features.2.bias", 1, {1024}},
        {"features_to_img.0.weight", 4, {64, 64, 4, 4}}, {"features_to_img.0.bias", 1, {64}},
        {"features_to_img.2.weight", 4, {64, 32, 4, 4}}, {"features_to_img.2.bias", 1, {32}},
        {"features_to_img.4.weight", 4, {32, 32, 4, 4}}, {"features_to_img.4.bias", 1, {32}},
        {"features_to_img.6.weight", 4, {32, 32, 4, 4}}, {"features_to_img.6.bias", 1, {32}},
        {"features_to_img.8.weight", 4, {32, 3, 4, 4}},  {"features_to_img.8.bias", 1, {3}},
    };
    expect_tensors(&o, want128, (int)(sizeof want128 / sizeof want128[0]));
}

/* PyTorch's default init: every tensor uniform in ±1/√fan_in with fan_in =
 * weight.size(1)·kh·kw: in·k·k for Conv2d [out, in, k, k], `in` for Linear,
 * but out·k·k for ConvTranspose2d, whose weight is [in, out, k, k]. */
static void test_init_bounds(void **state)
{
    (void)state;
    jvae_model *m = NULL;
    const jvae_model_options o = defaults();
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    const float *p = jvae_model_params(m);
    for (int t = 0; t < jvae_model_param_tensor_count(m); t++) {
        const char *name;
        int ndim;
        int64_t shape[4], offset, numel = 1;
        assert_int_equal(jvae_model_param_info(m, t, &name, &ndim, shape, &offset), JVAE_OK);
        for (int d = 0; d < ndim; d++) numel *= shape[d];
        /* A bias shares its weight's fan-in: look at the weight (t or t − 1). */
        int64_t wshape[4];
        int wdim;
        assert_int_equal(jvae_model_param_info(m, t - (t % 2), NULL, &wdim, wshape, NULL),
                         JVAE_OK);
        const int64_t fan_in = wdim == 2 ? wshape[1] : wshape[1] * wshape[2] * wshape[3];
        const double bound = 1.0 / sqrt((double)fan_in);
        double largest = 0.0, sum = 0.0;
        for (int64_t i = 0; i < numel; i++) {
            largest = fmax(largest, fabs(p[offset + i]));
            sum += p[offset + i];
        }
        assert_true(largest <= bound * (1.0 + 1e-6));
        /* 128+ draws: the largest reaches 0.9·bound except with p = 0.9^128 ≈ 1e-6,
         * and the mean is within 5 standard errors (bound/√(3n)) of 0. */
        if (numel >= 128) {
            assert_true(largest >= 0.9 * bound);
            assert_true(fabs(sum / numel) <= 5.0 * bound / sqrt(3.0 * numel));
        }
    }
    jvae_model_free(m);
}

static void test_same_seed_same_parameters(void **state)
{
    (void)state;
    jvae_model_options o = defaults();
    o.hidden = 16;
    jvae_model *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(jvae_model_create(&a, &o), JVAE_OK);
    assert_int_equal(jvae_model_create(&b, &o), JVAE_OK);
    o.seed = 2;
    assert_int_equal(jvae_model_create(&c, &o), JVAE_OK);
    const size_t bytes = (size_t)jvae_model_param_count(a) * sizeof(float);
    assert_memory_equal(jvae_model_params(a), jvae_model_params(b), bytes);
    assert_memory_not_equal(jvae_model_params(a), jvae_model_params(c), bytes);
    /* Gradients start at zero. */
    for (int64_t i = 0; i < jvae_model_param_count(a); i++)
        assert_true(jvae_model_grads(a)[i] == 0.0f);
    jvae_model_free(a);
    jvae_model_free(b);
    jvae_model_free(c);
}

static void test_memory_queries_and_threads(void **state)
{
    (void)state;
    jvae_model *m = NULL;
    const jvae_model_options o = defaults();
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    size_t params = 0, small = 0, large = 0, infer1 = 0, infer32 = 0, infer1000 = 0;
    assert_int_equal(jvae_model_memory(m, 8, &params, &small), JVAE_OK);
    assert_int_equal(params, 2 * (size_t)jvae_model_param_count(m) * sizeof(float));
    assert_int_equal(jvae_model_memory(m, 64, NULL, &large), JVAE_OK);
    assert_true(small > 0 && large > small);
    assert_int_equal(jvae_model_memory(m, 0, &params, &small), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("max_batch must be >= 1, got 0");
    assert_int_equal(jvae_model_memory(NULL, 8, &params, &small), JVAE_ERR_INVALID_ARGUMENT);
    /* Inference memory grows with the batch up to the chunk, then stays. */
    assert_int_equal(jvae_model_infer_bytes(m, 1, &infer1), JVAE_OK);
    assert_int_equal(jvae_model_infer_bytes(m, 32, &infer32), JVAE_OK);
    assert_int_equal(jvae_model_infer_bytes(m, 1000, &infer1000), JVAE_OK);
    assert_true(infer1 > 0 && infer32 > infer1 && infer1000 == infer32);
    assert_int_equal(jvae_model_infer_bytes(m, 0, &infer1), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_infer_bytes(m, 1, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_infer_bytes(NULL, 1, &infer1), JVAE_ERR_INVALID_ARGUMENT);

    assert_int_equal(jvae_model_reserve(m, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("max_batch must be >= 1, got 0");
    assert_int_equal(jvae_model_reserve(NULL, 4), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_reserve(m, 4), JVAE_OK);
    assert_int_equal(jvae_model_reserve(m, 2), JVAE_OK);

    assert_int_equal(jvae_model_set_threads(m, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("threads must be >= 1, got 0");
    assert_int_equal(jvae_model_set_threads(m, 2), JVAE_OK);
    jvae_model_options got;
    jvae_model_get_options(m, &got);
    assert_int_equal(got.threads, 2);
    assert_int_equal(jvae_model_set_threads(NULL, 1), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_seed(NULL, 1), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_seed(m, 5), JVAE_OK);
    jvae_model_free(m);
}

static void test_blas_threads(void **state)
{
    (void)state;
    const int before = jvae_blas_threads();
    assert_true(before >= 1);
    assert_int_equal(jvae_blas_set_threads(1), JVAE_OK);
    assert_int_equal(jvae_blas_threads(), 1);
    assert_int_equal(jvae_blas_set_threads(0), JVAE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(jvae_last_error(), "threads must be >= 1, got 0"));
    assert_int_equal(jvae_blas_threads(), 1);
    assert_int_equal(jvae_blas_set_threads(before), JVAE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_each_bad_option_is_named),
        cmocka_unit_test(test_loss_options),
        cmocka_unit_test(test_parameter_tensors_32),
        cmocka_unit_test(test_parameter_tensors_64_and_128),
        cmocka_unit_test(test_init_bounds),
        cmocka_unit_test(test_same_seed_same_parameters),
        cmocka_unit_test(test_memory_queries_and_threads),
        cmocka_unit_test(test_blas_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
