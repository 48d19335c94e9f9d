/* Binary cross-entropy from logits (lib/nn/bce.c): the gradient against finite
 * differences, the value against the naive formula and, over the whole float
 * range, against libm in long double; stability at |x| = 100, and the
 * pool-parallel forward (lib/model/network.c) against the serial one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "model/network.h"
#include "nn/nn.h"
#include "test_util.h"

#define IMAGES 3
#define PIXELS 20
#define COUNT (IMAGES * PIXELS)

typedef struct bce_case {
    float logits[COUNT], targets[COUNT];
} bce_case;

static double bce_loss(void *payload)
{
    const bce_case *c = payload;
    return jvae_bce_logits_forward(NULL, c->logits, c->targets, IMAGES, PIXELS);
}

/* The loss is computed in double from float logits, so only the central
 * difference's truncation matters: h²/6·|softplus'''| ≤ 1e-4/6·0.1 ≈ 2e-6 with
 * h = 0.01. The analytic σ(x) − t is float (a few ulps of 1). abs 2e-5 + rel
 * 1e-4 covers both tenfold; a sign or scale error errs by O(0.1). Targets
 * include soft values, not only 0 and 1. */
static void test_gradient(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 21);
    bce_case c;
    test_fill_uniform(&rng, c.logits, COUNT, -6.0f, 6.0f);
    test_fill_uniform(&rng, c.targets, COUNT, 0.0f, 1.0f);
    for (int i = 0; i < COUNT; i += 3) c.targets[i] = (float)(i % 2); /* some hard targets */
    float grad[COUNT] = {0};
    jvae_bce_logits_backward(grad, c.logits, c.targets, COUNT, 1.0f);
    const gradcheck_options options = {.step = 0.01, .abs_tol = 2e-5, .rel_tol = 1e-4};
    gradcheck_assert("bce logits", c.logits, COUNT, grad, bce_loss, &c, &options);
}

/* Backward scales and accumulates: dlogits += scale·(σ(x) − t), exactly the
 * float arithmetic of one multiply-add per value (2 ulps: rel 1e-6). */
static void test_backward_scale_accumulates(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 22);
    bce_case c;
    test_fill_uniform(&rng, c.logits, COUNT, -4.0f, 4.0f);
    test_fill_uniform(&rng, c.targets, COUNT, 0.0f, 1.0f);
    float start[COUNT], grad[COUNT], unit[COUNT] = {0}, expected[COUNT];
    test_fill_uniform(&rng, start, COUNT, -1.0f, 1.0f);
    memcpy(grad, start, sizeof grad);
    jvae_bce_logits_backward(unit, c.logits, c.targets, COUNT, 1.0f);
    jvae_bce_logits_backward(grad, c.logits, c.targets, COUNT, 0.25f);
    for (int i = 0; i < COUNT; i++) expected[i] = start[i] + 0.25f * unit[i];
    gradcheck_assert_close("bce scaled", grad, expected, COUNT, 1e-7, 1e-6);
}

/* On moderate logits the naive −[t·log σ + (1 − t)·log(1 − σ)] in double is
 * accurate to ~1e-15 relative, like the stable form: per-image sums are
 * returned as float (rel 1e-6), the total in double (rel 1e-12). */
static void test_value_matches_naive_formula(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 23);
    bce_case c;
    test_fill_uniform(&rng, c.logits, COUNT, -5.0f, 5.0f);
    test_fill_uniform(&rng, c.targets, COUNT, 0.0f, 1.0f);
    float per_image[IMAGES];
    const double total = jvae_bce_logits_forward(per_image, c.logits, c.targets, IMAGES, PIXELS);
    double expected_total = 0.0;
    for (int i = 0; i < IMAGES; i++) {
        double expected = 0.0;
        for (int p = 0; p < PIXELS; p++) {
            const double x = c.logits[i * PIXELS + p], t = c.targets[i * PIXELS + p];
            const double s = 1.0 / (1.0 + exp(-x));
            expected -= t * log(s) + (1.0 - t) * log(1.0 - s);
        }
        assert_true(fabs(per_image[i] - expected) <= 1e-6 * expected);
        expected_total += expected;
    }
    assert_true(fabs(total - expected_total) <= 1e-12 * expected_total);
    /* per_image may be NULL. */
    assert_true(jvae_bce_logits_forward(NULL, c.logits, c.targets, IMAGES, PIXELS) == total);
}

/* At |x| = 100 the naive form takes log 0 even in double (σ(100) rounds to 1),
 * giving Inf or NaN; the stable form is finite and exact: 100·(1 − t) for
 * x = 100 and 100·t for x = −100, plus log1p(e^−100) ≈ 4e-44. */
static void test_stable_at_large_logits(void **state)
{
    (void)state;
    const float logits[6] = {100.0f, 100.0f, -100.0f, -100.0f, 100.0f, -1000.0f};
    const float targets[6] = {1.0f, 0.0f, 0.0f, 1.0f, 0.5f, 0.25f};
    const double expected[6] = {0.0, 100.0, 0.0, 100.0, 50.0, 250.0};
    float per_image[6];
    const double total = jvae_bce_logits_forward(per_image, logits, targets, 6, 1);
    double expected_total = 0.0;
    for (int i = 0; i < 6; i++) {
        assert_true(isfinite(per_image[i]));
        assert_true(fabs(per_image[i] - expected[i]) <= 1e-6 * (1.0 + expected[i]));
        expected_total += expected[i];
    }
    assert_true(isfinite(total));
    assert_true(fabs(total - expected_total) <= 1e-12 * expected_total);
    /* dL/dx = σ(x) − t: 0, 1, ≈0, −1, 0.5, −0.25. */
    const float expected_grad[6] = {0.0f, 1.0f, 0.0f, -1.0f, 0.5f, -0.25f};
    float grad[6] = {0};
    jvae_bce_logits_backward(grad, logits, targets, 6, 1.0f);
    for (int i = 0; i < 6; i++) assert_true(isfinite(grad[i]));
    gradcheck_assert_close("bce grad at |x| >= 100", grad, expected_grad, 6, 1e-30, 1e-7);
}

/* The value's own exp and log1p (vectorised) against libm's in long double,
 * pixel by pixel (one-pixel images) and in images of 1 to 9 pixels (every
 * tail length of the four-pixel loop): logits from 1e-30 to 750 in
 * magnitude, both signs, ±0, targets 0, 1 and soft. Each sum is within 1e-14
 * of the reference (a few ulp of double), plus 1e-300 absolute for the
 * logits past −708 where e^−|x| is cut at e^−708. A float-precision or
 * wrong-branch log1p errs by 1e-8 or more. */
static void test_value_exact_over_range(void **state)
{
    (void)state;
    enum { COUNT_X = 4000 };
    float *logits = malloc(COUNT_X * sizeof *logits), *targets = malloc(COUNT_X * sizeof *targets);
    double *sums = malloc(COUNT_X * sizeof *sums);
    assert_true(logits && targets && sums);
    for (int i = 0; i < COUNT_X; i++) {
        const double magnitude = pow(10.0, -30.0 + 32.875 * (double)(i / 2) / (COUNT_X / 2));
        logits[i] = (float)(i % 2 ? -magnitude : magnitude);
        targets[i] = (float)(i % 3) * 0.5f;
    }
    logits[0] = 0.0f;
    logits[1] = -0.0f;
    for (int pixels = 1; pixels <= 9; pixels++) {
        const int images = COUNT_X / pixels;
        jvae_bce_logits_image_sums(sums, logits, targets, images, (size_t)pixels);
        for (int n = 0; n < images; n++) {
            long double expected = 0.0L;
            for (int p = 0; p < pixels; p++) {
                const long double x = logits[n * pixels + p], t = targets[n * pixels + p];
                expected += (x > 0 ? x : 0) - t * x + log1pl(expl(-fabsl(x)));
            }
            const double error = fabs(sums[n] - (double)expected);
            if (!(error <= 1e-14 * (double)expected + 1e-300))
                fail_msg("pixels %d image %d: %.17g, expected %.17Lg", pixels, n, sums[n],
                         expected);
        }
    }
    free(logits);
    free(targets);
    free(sums);
}

/* The per-image sums and the pool-parallel forward give the serial forward's
 * very bits, total and per image, for no pool and pools of 2 and 3 workers:
 * each image's sum is one worker's, and the caller adds them in image order.
 * Batches: one image; 7 large images (split among workers); 300 small ones
 * (more than one chunk of 256 images, the first split, the rest not). */
static void test_pool_forward_same_bits(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 24);
    const struct {
        int n;
        size_t pixels;
    } batches[] = {{1, 4096}, {7, 4096}, {300, 64}};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        const int n = batches[b].n;
        const size_t pixels = batches[b].pixels, count = (size_t)n * pixels;
        float *logits = malloc(count * sizeof *logits);
        float *targets = malloc(count * sizeof *targets);
        float *serial = malloc((size_t)n * sizeof *serial);
        float *shared = malloc((size_t)n * sizeof *shared);
        double *sums = malloc((size_t)n * sizeof *sums);
        assert_true(logits && targets && serial && shared && sums);
        test_fill_uniform(&rng, logits, count, -8.0f, 8.0f);
        test_fill_uniform(&rng, targets, count, 0.0f, 1.0f);
        const double total = jvae_bce_logits_forward(serial, logits, targets, n, pixels);
        jvae_bce_logits_image_sums(sums, logits, targets, n, pixels);
        double added = 0.0;
        for (int i = 0; i < n; i++) {
            assert_true((float)sums[i] == serial[i]);
            added += sums[i];
        }
        assert_true(added == total);
        for (int threads = 1; threads <= 3; threads++) {
            jvae_pool *pool = NULL;
            if (threads > 1) assert_int_equal(jvae_pool_create(&pool, threads, "bce"), JVAE_OK);
            memset(shared, 0xff, (size_t)n * sizeof *shared);
            const double pooled =
                jvae_pool_bce_logits_forward(pool, shared, logits, targets, n, pixels);
            assert_memory_equal(&pooled, &total, sizeof total);
            assert_memory_equal(shared, serial, (size_t)n * sizeof *shared);
            assert_true(jvae_pool_bce_logits_forward(pool, NULL, logits, targets, n, pixels) ==
                        total);
            jvae_pool_free(pool);
        }
        free(logits);
        free(targets);
        free(serial);
        free(shared);
        free(sums);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient),
        cmocka_unit_test(test_backward_scale_accumulates),
        cmocka_unit_test(test_value_matches_naive_formula),
        cmocka_unit_test(test_stable_at_large_logits),
        cmocka_unit_test(test_value_exact_over_range),
        cmocka_unit_test(test_pool_forward_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
