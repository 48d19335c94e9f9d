/* The custom training loop through the shared library: forward, backward,
 * zero_grad, per-unit KL, their order and argument checks, the loss modes'
 * bookkeeping, and models of every supported size. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jointvae/jointvae.h>

#define assert_error_contains(needle)                                                   \
    do {                                                                                \
        if (strstr(jvae_last_error(), (needle)) == NULL)                                \
            fail_msg("message \"%s\" lacks \"%s\"", jvae_last_error(), (needle));       \
    } while (0)

static jvae_model *make_model(int channels, int side, int dz, int hidden, int batch)
{
    jvae_model_options o;
    jvae_model_options_init(&o);
    o.channels = channels;
    o.height = o.width = side;
    o.n_continuous = dz;
    o.n_discrete = 2;
    o.discrete_sizes[0] = 3;
    o.discrete_sizes[1] = 2;
    o.hidden = hidden;
    o.seed = 11;
    jvae_model *m = NULL;
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    if (batch > 0) assert_int_equal(jvae_model_reserve(m, batch), JVAE_OK);
    return m;
}

static jvae_tensor *make_tensor(int ndim, const int64_t *shape)
{
    jvae_tensor *t = NULL;
    assert_int_equal(jvae_tensor_create(&t, ndim, shape), JVAE_OK);
    return t;
}

static jvae_tensor *images_of(int n, int channels, int side, unsigned seed)
{
    const int64_t shape[4] = {n, channels, side, side};
    jvae_tensor *t = make_tensor(4, shape);
    uint32_t state = seed * 2654435761u + 7u;
    float *px = jvae_tensor_data(t);
    for (int64_t i = 0; i < jvae_tensor_numel(t); i++) {
        state = state * 1664525u + 1013904223u;
        px[i] = (state >> 31) ? (float)(state >> 8) / 16777216.0f : 0.0f;
    }
    return t;
}

static int grads_all_zero(jvae_model *m)
{
    for (int64_t i = 0; i < jvae_model_param_count(m); i++)
        if (jvae_model_grads(m)[i] != 0.0f) return 0;
    return 1;
}

static void test_call_order(void **state)
{
    (void)state;
    jvae_model *m = make_model(1, 32, 2, 8, 0);
    jvae_tensor *x = images_of(2, 1, 32, 1);
    jvae_loss_terms t;
    assert_int_equal(jvae_model_forward(m, x, NULL, NULL, 0, 0, &t), JVAE_ERR_STATE);
    assert_error_contains("no training workspace (call jvae_model_reserve)");
    assert_int_equal(jvae_model_backward(m), JVAE_ERR_STATE);
    assert_error_contains("no forward pass to differentiate");
    float kl[2];
    assert_int_equal(jvae_model_kl_per_unit(m, kl, 2, NULL, 0), JVAE_ERR_STATE);
    assert_error_contains("no successful forward pass yet");

    assert_int_equal(jvae_model_reserve(m, 2), JVAE_OK);
    assert_int_equal(jvae_model_forward(m, x, NULL, NULL, 0, 0, &t), JVAE_OK);
    assert_int_equal(jvae_model_backward(m), JVAE_OK);
    /* One backward per forward. */
    assert_int_equal(jvae_model_backward(m), JVAE_ERR_STATE);
    /* A failed forward leaves nothing to differentiate. */
    assert_int_equal(jvae_model_forward(m, x, NULL, NULL, 0, 0, &t), JVAE_OK);
    jvae_tensor_data(x)[5] = NAN;
    assert_int_equal(jvae_model_forward(m, x, NULL, NULL, 0, 0, &t), JVAE_ERR_NUMERIC);
    assert_error_contains("jvae_model_forward: images[5] is nan");
    assert_int_equal(jvae_model_backward(m), JVAE_ERR_STATE);
    assert_int_equal(jvae_model_kl_per_unit(m, kl, 2, NULL, 0), JVAE_ERR_STATE);
    /* Reserving again (a new size) drops a pending forward too. */
    jvae_tensor_data(x)[5] = 0.5f;
    assert_int_equal(jvae_model_forward(m, x, NULL, NULL, 0, 0, &t), JVAE_OK);
    assert_int_equal(jvae_model_reserve(m, 3), JVAE_OK);
    assert_int_equal(jvae_model_backward(m), JVAE_ERR_STATE);

    assert_int_equal(jvae_model_backward(NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_zero_grad(NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_forward(NULL, x, NULL, NULL, 0, 0, &t), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_kl_per_unit(NULL, kl, 2, NULL, 0), JVAE_ERR_INVALID_ARGUMENT);
    jvae_tensor_free(x);
    jvae_model_free(m);
}

static void test_forward_argument_checks(void **state)
{
    (void)state;
    jvae_model *m = make_model(1, 32, 2, 8, 4);
    jvae_tensor *x = images_of(4, 1, 32, 2), *big = images_of(5, 1, 32, 3);
    jvae_tensor *rgb = images_of(2, 3, 32, 4);
    const int64_t es[2] = {4, 2}, us[2] = {4, 5}, bad_es[2] = {4, 3};
    jvae_tensor *eps = make_tensor(2, es), *uni = make_tensor(2, us), *bad = make_tensor(2, bad_es);
    jvae_loss_terms t;
    jvae_status st;

    assert_int_equal(jvae_model_forward(m, NULL, NULL, NULL, 0, 0, &t), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("images is NULL");
    assert_int_equal(jvae_model_forward(m, big, NULL, NULL, 0, 0, &t), JVAE_ERR_SHAPE);
    assert_error_contains("images: batch of 5 exceeds the reserved batch of 4");
    assert_int_equal(jvae_model_forward(m, rgb, NULL, NULL, 0, 0, &t), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_model_forward: images: expected shape (N, 1, 32, 32), got (2, 3, 32, 32)");
    assert_int_equal(jvae_model_forward(m, x, eps, NULL, 0, 0, &t), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("uniform is NULL but eps is given");
    assert_int_equal(jvae_model_forward(m, x, NULL, uni, 0, 0, &t), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("eps is NULL but uniform is given");
    assert_int_equal(jvae_model_forward(m, x, bad, uni, 0, 0, &t), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_model_forward: eps: expected shape (4, 2), got (4, 3)");
    assert_int_equal(jvae_model_forward(m, x, eps, bad, 0, 0, &t), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_model_forward: uniform: expected shape (4, 5), got (4, 3)");
    jvae_tensor_data(uni)[7] = 1.0f;
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0, 0, &t), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("uniform[7] = 1 is outside [0, 1)");
    jvae_tensor_data(uni)[7] = 0.25f;
    jvae_tensor_data(eps)[1] = INFINITY;
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0, 0, &t), JVAE_ERR_NUMERIC);
    assert_error_contains("eps[1] is inf");
    jvae_tensor_data(eps)[1] = 0.0f;
    st = jvae_model_forward(m, x, eps, uni, -1.0, 0, &t);
    assert_int_equal(st, JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("cap_continuous must be finite and >= 0, got -1");
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0, NAN, &t), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("cap_discrete must be finite and >= 0");
    jvae_tensor_data(x)[3] = 1.5f;
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0, 0, &t), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("images[3] = 1.5 is outside [0, 1]");
    jvae_tensor_data(x)[3] = 1.0f;
    /* terms may be NULL; a smaller batch than reserved is fine. */
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0, 0, NULL), JVAE_OK);
    assert_int_equal(jvae_model_forward(m, x, NULL, NULL, 0, 0, &t), JVAE_OK);
    jvae_tensor_free(x);
    jvae_tensor_free(big);
    jvae_tensor_free(rgb);
    jvae_tensor_free(eps);
    jvae_tensor_free(uni);
    jvae_tensor_free(bad);
    jvae_model_free(m);
}

static void test_noise_from_the_generator_is_reproducible(void **state)
{
    (void)state;
    jvae_model *a = make_model(1, 32, 2, 8, 3), *b = make_model(1, 32, 2, 8, 3);
    jvae_tensor *x = images_of(3, 1, 32, 5);
    jvae_loss_terms ta, tb, tc;
    assert_int_equal(jvae_model_forward(a, x, NULL, NULL, 1, 1, &ta), JVAE_OK);
    assert_int_equal(jvae_model_forward(b, x, NULL, NULL, 1, 1, &tb), JVAE_OK);
    assert_true(ta.total == tb.total);
    /* The next draw differs; reseeding both replays the same stream. */
    assert_int_equal(jvae_model_forward(a, x, NULL, NULL, 1, 1, &tc), JVAE_OK);
    assert_true(tc.total != ta.total);
    assert_int_equal(jvae_model_seed(a, 99), JVAE_OK);
    assert_int_equal(jvae_model_seed(b, 99), JVAE_OK);
    assert_int_equal(jvae_model_forward(a, x, NULL, NULL, 1, 1, &ta), JVAE_OK);
    assert_int_equal(jvae_model_forward(b, x, NULL, NULL, 1, 1, &tb), JVAE_OK);
    assert_true(ta.total == tb.total);
    jvae_tensor_free(x);
    jvae_model_free(a);
    jvae_model_free(b);
}

static void test_terms_and_modes(void **state)
{
    (void)state;
    jvae_model *m = make_model(1, 32, 2, 8, 3);
    jvae_tensor *x = images_of(3, 1, 32, 6);
    const int64_t es[2] = {3, 2}, us[2] = {3, 5};
    jvae_tensor *eps = make_tensor(2, es), *uni = make_tensor(2, us);
    jvae_tensor_fill(uni, 0.5f);
    jvae_loss_terms t;
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0.5, 100.0, &t), JVAE_OK);
    assert_int_equal(t.batch, 3);
    assert_true(t.reconstruction > 0 && t.kl_continuous >= 0 && t.kl_discrete >= 0);
    assert_true(t.capacity_continuous == 0.5);
    /* The discrete capacity is clipped to log 3 + log 2. */
    assert_true(fabs(t.capacity_discrete - log(6.0)) < 1e-12);
    assert_true(fabs(t.capacity_term_continuous - 30 * fabs(t.kl_continuous - 0.5)) < 1e-9);
    assert_true(fabs(t.capacity_term_discrete - 30 * fabs(t.kl_discrete - log(6.0))) < 1e-9);
    assert_true(fabs(t.total - (t.reconstruction + t.capacity_term_continuous +
                                t.capacity_term_discrete)) < 1e-9);
    float cont[2], disc[2];
    assert_int_equal(jvae_model_kl_per_unit(m, cont, 2, disc, 2), JVAE_OK);
    assert_true(fabs(cont[0] + cont[1] - t.kl_continuous) < 1e-6);
    assert_true(fabs(disc[0] + disc[1] - t.kl_discrete) < 1e-6);
    assert_int_equal(jvae_model_kl_per_unit(m, cont, 3, NULL, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("n_continuous must be 2 (the model's continuous latents), got 3");
    assert_int_equal(jvae_model_kl_per_unit(m, NULL, 0, disc, 1), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("n_discrete must be 2 (the model's discrete variables), got 1");
    assert_int_equal(jvae_model_kl_per_unit(m, NULL, 0, NULL, 0), JVAE_OK);

    jvae_loss_options loss;
    jvae_loss_options_init(&loss);
    loss.mode = JVAE_LOSS_BETA_VAE;
    loss.beta = 4.0f;
    assert_int_equal(jvae_model_set_loss(m, &loss), JVAE_OK);
    jvae_loss_terms b;
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0.5, 100.0, &b), JVAE_OK);
    assert_true(b.reconstruction == t.reconstruction && b.kl_continuous == t.kl_continuous);
    assert_true(b.capacity_continuous == 0.0 && b.capacity_discrete == 0.0);
    assert_true(fabs(b.total - (b.reconstruction + 4 * (b.kl_continuous + b.kl_discrete))) < 1e-9);

    loss.mode = JVAE_LOSS_CAPACITY;
    loss.gamma = 10.0f;
    assert_int_equal(jvae_model_set_loss(m, &loss), JVAE_OK);
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0.5, 100.0, &b), JVAE_OK);
    assert_true(b.capacity_continuous == 0.5 && b.capacity_term_discrete == 0.0);
    assert_true(fabs(b.capacity_term_continuous -
                     10 * fabs(b.kl_continuous + b.kl_discrete - 0.5)) < 1e-9);
    jvae_tensor_free(x);
    jvae_tensor_free(eps);
    jvae_tensor_free(uni);
    jvae_model_free(m);
}

/* The official scaling reports the reconstruction as the BCE sum over N·C
 * (1/C of the true per-image sum) and backpropagates total/(H·W). */
static void test_official_scaling_rgb(void **state)
{
    (void)state;
    jvae_model *m = make_model(3, 32, 2, 8, 2);
    jvae_tensor *x = images_of(2, 3, 32, 7);
    const int64_t es[2] = {2, 2}, us[2] = {2, 5};
    jvae_tensor *eps = make_tensor(2, es), *uni = make_tensor(2, us);
    jvae_tensor_fill(uni, 0.3f);
    jvae_loss_terms plain, official;
    assert_int_equal(jvae_model_zero_grad(m), JVAE_OK);
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0, 0, &plain), JVAE_OK);
    assert_int_equal(jvae_model_backward(m), JVAE_OK);
    const int64_t count = jvae_model_param_count(m);
    float *g_plain = malloc((size_t)count * sizeof(float));
    assert_non_null(g_plain);
    memcpy(g_plain, jvae_model_grads(m), (size_t)count * sizeof(float));

    jvae_loss_options loss;
    jvae_loss_options_init(&loss);
    loss.official_scaling = 1;
    loss.gamma_continuous = loss.gamma_discrete = 0.0f; /* reconstruction alone */
    assert_int_equal(jvae_model_set_loss(m, &loss), JVAE_OK);
    assert_int_equal(jvae_model_zero_grad(m), JVAE_OK);
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0, 0, &official), JVAE_OK);
    assert_int_equal(jvae_model_backward(m), JVAE_OK);
    assert_true(fabs(official.reconstruction * 3 - plain.reconstruction) <
                1e-9 * plain.reconstruction);
    assert_true(official.total == official.reconstruction);
    /* Reconstruction-only gradients: official = plain_recon / (C·H·W), and
     * plain also has the γ = 30 capacity terms, so compare the decoder's last
     * bias, which only the reconstruction reaches. */
    const char *name;
    int64_t offset;
    const int last = jvae_model_param_tensor_count(m) - 1;
    assert_int_equal(jvae_model_param_info(m, last, &name, NULL, NULL, &offset), JVAE_OK);
    assert_string_equal(name, "features_to_img.4.bias");
    for (int c = 0; c < 3; c++) {
        const double want = g_plain[offset + c] / (3.0 * 1024.0);
        /* Float gradients summed over 2048 values each: rel 1e-5. */
        assert_true(fabs(jvae_model_grads(m)[offset + c] - want) <= 1e-5 * fabs(want) + 1e-12);
    }
    free(g_plain);
    jvae_tensor_free(x);
    jvae_tensor_free(eps);
    jvae_tensor_free(uni);
    jvae_model_free(m);
}

static void test_backward_accumulates_and_zero_grad(void **state)
{
    (void)state;
    jvae_model *m = make_model(1, 32, 2, 8, 2);
    jvae_tensor *x = images_of(2, 1, 32, 8);
    const int64_t es[2] = {2, 2}, us[2] = {2, 5};
    jvae_tensor *eps = make_tensor(2, es), *uni = make_tensor(2, us);
    jvae_tensor_fill(uni, 0.7f);
    jvae_tensor_fill(eps, 0.1f);
    assert_true(grads_all_zero(m));
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0, 0, NULL), JVAE_OK);
    assert_int_equal(jvae_model_backward(m), JVAE_OK);
    assert_false(grads_all_zero(m));
    const int64_t count = jvae_model_param_count(m);
    float *once = malloc((size_t)count * sizeof(float));
    assert_non_null(once);
    memcpy(once, jvae_model_grads(m), (size_t)count * sizeof(float));
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 0, 0, NULL), JVAE_OK);
    assert_int_equal(jvae_model_backward(m), JVAE_OK);
    /* The second backward adds the same gradient again. Not bit for bit: the
     * GEMMs add their K-blocks into the existing sum in a different order,
     * so allow float rounding of the sums (1e-5 relative, plus 1e-6 of the
     * largest gradient for entries that nearly cancel). */
    double largest = 0.0;
    for (int64_t i = 0; i < count; i++) largest = fmax(largest, fabs(once[i]));
    for (int64_t i = 0; i < count; i++)
        assert_true(fabs(jvae_model_grads(m)[i] - 2.0 * once[i]) <=
                    1e-5 * fabs(2.0 * once[i]) + 1e-6 * largest);
    assert_int_equal(jvae_model_zero_grad(m), JVAE_OK);
    assert_true(grads_all_zero(m));
    free(once);
    jvae_tensor_free(x);
    jvae_tensor_free(eps);
    jvae_tensor_free(uni);
    jvae_model_free(m);
}

static void test_non_finite_loss_and_gradient(void **state)
{
    (void)state;
    jvae_model *m = make_model(1, 32, 2, 8, 2);
    jvae_tensor *x = images_of(2, 1, 32, 9);
    const char *name;
    int64_t offset;
    /* A huge log-variance bias: exp(logvar) overflows the continuous KL. */
    assert_int_equal(jvae_model_param_info(m, 11, &name, NULL, NULL, &offset), JVAE_OK);
    assert_string_equal(name, "fc_log_var.bias");
    jvae_model_params(m)[offset] = 1e30f;
    jvae_loss_terms t;
    assert_int_equal(jvae_model_forward(m, x, NULL, NULL, 0, 0, &t), JVAE_ERR_NUMERIC);
    assert_error_contains("jvae_model_forward: the loss is not finite");
    assert_int_equal(jvae_model_backward(m), JVAE_ERR_STATE);
    jvae_tensor_free(x);
    jvae_model_free(m);
}

/* options.threads runs the conv kernels on that many OpenMP threads: results
 * repeat bit for bit for a thread count and differ across counts only by the
 * order of float sums (weight gradients are summed per thread). */
static void gradient_with_threads(jvae_model *m, int threads, const jvae_tensor *x,
                                  const jvae_tensor *eps, const jvae_tensor *uni, float *out,
                                  double *total)
{
    jvae_loss_terms t;
    assert_int_equal(jvae_model_set_threads(m, threads), JVAE_OK);
    assert_int_equal(jvae_model_zero_grad(m), JVAE_OK);
    assert_int_equal(jvae_model_forward(m, x, eps, uni, 1, 1, &t), JVAE_OK);
    assert_int_equal(jvae_model_backward(m), JVAE_OK);
    memcpy(out, jvae_model_grads(m), (size_t)jvae_model_param_count(m) * sizeof(float));
    *total = t.total;
}

static void test_threads(void **state)
{
    (void)state;
    jvae_model *m = make_model(1, 32, 2, 8, 6);
    jvae_tensor *x = images_of(6, 1, 32, 12);
    const int64_t es[2] = {6, 2}, us[2] = {6, 5};
    jvae_tensor *eps = make_tensor(2, es), *uni = make_tensor(2, us);
    jvae_tensor_fill(uni, 0.4f);
    const size_t count = (size_t)jvae_model_param_count(m);
    float *one = malloc(count * sizeof(float)), *two = malloc(count * sizeof(float));
    float *again = malloc(count * sizeof(float));
    assert_true(one != NULL && two != NULL && again != NULL);
    double t1, t2, t2_again;
    size_t ws1 = 0, ws2 = 0;
    assert_int_equal(jvae_model_memory(m, 6, NULL, &ws1), JVAE_OK);
    gradient_with_threads(m, 1, x, eps, uni, one, &t1);
    /* set_threads re-sizes the reservation: the kernels keep a work area per thread. */
    gradient_with_threads(m, 2, x, eps, uni, two, &t2);
    assert_int_equal(jvae_model_memory(m, 6, NULL, &ws2), JVAE_OK);
    assert_true(ws2 > ws1);
    gradient_with_threads(m, 2, x, eps, uni, again, &t2_again);
    assert_memory_equal(two, again, count * sizeof(float));
    assert_true(t2 == t2_again);
    /* Across counts: float rounding of sums (1e-5 relative, plus 1e-6 of the
     * largest value for entries that nearly cancel). */
    assert_true(fabs(t1 - t2) <= 1e-6 * fabs(t1));
    double largest = 0.0;
    for (size_t i = 0; i < count; i++) largest = fmax(largest, fabs(one[i]));
    for (size_t i = 0; i < count; i++)
        assert_true(fabs(one[i] - two[i]) <= 1e-5 * fabs(one[i]) + 1e-6 * largest);
    free(one);
    free(two);
    free(again);
    jvae_tensor_free(x);
    jvae_tensor_free(eps);
    jvae_tensor_free(uni);
    jvae_model_free(m);
}

/* Every supported size builds, trains one step and runs inference. */
static void run_size(int channels, int side)
{
    jvae_model *m = make_model(channels, side, 3, 16, 2);
    jvae_tensor *x = images_of(2, channels, side, (unsigned)side);
    jvae_loss_terms t;
    assert_int_equal(jvae_model_zero_grad(m), JVAE_OK);
    assert_int_equal(jvae_model_forward(m, x, NULL, NULL, 1, 1, &t), JVAE_OK);
    /* At init the decoder outputs ≈ 0.5 everywhere: recon ≈ C·H·W·ln 2 per image
     * (within 10 % for these images, whatever the weights). */
    const double per_image = channels * side * side * log(2.0);
    assert_true(fabs(t.reconstruction - per_image) < 0.1 * per_image);
    assert_int_equal(jvae_model_backward(m), JVAE_OK);
    assert_false(grads_all_zero(m));
    const int64_t ms[2] = {2, 3}, as[2] = {2, 5}, ls[2] = {2, 8};
    jvae_tensor *mu = make_tensor(2, ms), *alpha = make_tensor(2, as), *z = make_tensor(2, ls);
    jvae_tensor *out = images_of(2, channels, side, 0);
    assert_int_equal(jvae_encode(m, x, mu, NULL, alpha), JVAE_OK);
    assert_int_equal(jvae_latent_deterministic(m, mu, alpha, z), JVAE_OK);
    assert_int_equal(jvae_decode(m, z, out), JVAE_OK);
    for (int64_t i = 0; i < jvae_tensor_numel(out); i++)
        assert_true(jvae_tensor_data(out)[i] >= 0.0f && jvae_tensor_data(out)[i] <= 1.0f);
    jvae_tensor_free(mu);
    jvae_tensor_free(alpha);
    jvae_tensor_free(z);
    jvae_tensor_free(out);
    jvae_tensor_free(x);
    jvae_model_free(m);
}

static void test_sizes_32_64_128(void **state)
{
    (void)state;
    run_size(1, 32);
    run_size(1, 64);
    run_size(3, 128);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_order),
        cmocka_unit_test(test_forward_argument_checks),
        cmocka_unit_test(test_noise_from_the_generator_is_reproducible),
        cmocka_unit_test(test_terms_and_modes),
        cmocka_unit_test(test_official_scaling_rgb),
        cmocka_unit_test(test_backward_accumulates_and_zero_grad),
        cmocka_unit_test(test_non_finite_loss_and_gradient),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_sizes_32_64_128),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
