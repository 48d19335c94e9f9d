/* ReLU and sigmoid (lib/nn/activation.c): gradients against finite
 * differences, accumulation, in-place forward, and the extremes. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "nn/nn.h"
#include "test_util.h"

#define COUNT 64

typedef struct activation_case {
    void (*forward)(float *, const float *, size_t);
    float in[COUNT], out[COUNT], r[COUNT]; /* r: dout and the weights of L = Σ r·out */
    float din[COUNT];
} activation_case;

static double weighted_output_loss(void *payload)
{
    activation_case *c = payload;
    c->forward(c->out, c->in, COUNT);
    double sum = 0.0;
    for (size_t i = 0; i < COUNT; i++) sum += (double)c->r[i] * c->out[i];
    return sum;
}

/* ReLU is piecewise linear: away from 0 the central difference is exact up to
 * the rounding of one output (an ulp of ≲ 3, 2.4e-7) over 2h = 0.02, so
 * ≲ 2.4e-5; abs 1e-4 + rel 1e-4. Inputs within 2h of the kink are skipped. */
static const double RELU_STEP = 0.01;

static int near_relu_kink(size_t index, void *payload)
{
    const activation_case *c = payload;
    return fabs(c->in[index]) < 2.0 * RELU_STEP;
}

static void test_relu_gradient(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 11);
    activation_case c = {.forward = jvae_relu_forward};
    test_fill_uniform(&rng, c.in, COUNT, -3.0f, 3.0f);
    test_fill_uniform(&rng, c.r, COUNT, -1.0f, 1.0f);
    jvae_relu_forward(c.out, c.in, COUNT);
    memset(c.din, 0, sizeof c.din);
    jvae_relu_backward(c.din, c.r, c.out, COUNT);
    const gradcheck_options options = {
        .step = RELU_STEP, .abs_tol = 1e-4, .rel_tol = 1e-4, .skip_point = near_relu_kink};
    const gradcheck_report report =
        gradcheck_assert("relu", c.in, COUNT, c.din, weighted_output_loss, &c, &options);
    assert_true(report.checked >= COUNT / 2);
}

/* Sigmoid is smooth: the central difference errs by h²/6·|σ'''| ≤ 1e-4/6·0.13
 * ≈ 2e-6 with h = 0.01, plus one output's rounding (6e-8) over 2h = 0.02,
 * ≈ 3e-6; the analytic σ(1 − σ) carries a few ulps of 0.25. abs 5e-5 + rel
 * 1e-4 is an order of magnitude above both. */
static void test_sigmoid_gradient(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 12);
    activation_case c = {.forward = jvae_sigmoid_forward};
    test_fill_uniform(&rng, c.in, COUNT, -6.0f, 6.0f);
    test_fill_uniform(&rng, c.r, COUNT, -1.0f, 1.0f);
    jvae_sigmoid_forward(c.out, c.in, COUNT);
    memset(c.din, 0, sizeof c.din);
    jvae_sigmoid_backward(c.din, c.r, c.out, COUNT);
    const gradcheck_options options = {.step = 0.01, .abs_tol = 5e-5, .rel_tol = 1e-4};
    gradcheck_assert("sigmoid", c.in, COUNT, c.din, weighted_output_loss, &c, &options);
}

static void test_relu_values_and_accumulation(void **state)
{
    (void)state;
    float x[6] = {-2.0f, -0.0f, 0.0f, 0.5f, 3.0f, NAN};
    jvae_relu_forward(x, x, 6); /* in place */
    assert_true(x[0] == 0.0f && x[1] == 0.0f && x[2] == 0.0f);
    assert_true(x[3] == 0.5f && x[4] == 3.0f);
    assert_true(isnan(x[5])); /* NaN is propagated, not hidden */
    const float dout[5] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
    float din[5] = {10.0f, 10.0f, 10.0f, 10.0f, 10.0f};
    jvae_relu_backward(din, dout, x, 5);
    const float expected[5] = {10.0f, 10.0f, 10.0f, 14.0f, 15.0f};
    assert_memory_equal(din, expected, sizeof expected);
}

/* The bit-level ReLU kernels against the plain float definitions, on every
 * special value: ±0, ±inf, NaNs of both signs, denormals. The storing
 * backward must equal zeroing then accumulating bit for bit (−0 gradients
 * become +0 in both). */
static void test_relu_special_values(void **state)
{
    (void)state;
    enum { N = 12 };
    const float specials[N] = {-2.0f, -0.0f, 0.0f, 0.5f, INFINITY, -INFINITY, NAN, -NAN,
                               1e-45f, -1e-45f, FLT_MAX, -FLT_MAX};
    float out[N], din_store[N], din_acc[N];
    jvae_relu_forward(out, specials, N);
    for (int i = 0; i < N; i++) {
        const float x = specials[i];
        if (isnan(x)) {
            assert_true(isnan(out[i]));
        } else {
            const float want = x < 0.0f ? 0.0f : x;
            assert_memory_equal(&out[i], &want, sizeof want);
        }
    }
    /* Every gradient value against every forward output value. */
    for (int g = 0; g < N; g++) {
        float dout[N];
        for (int i = 0; i < N; i++) dout[i] = specials[g];
        memset(din_acc, 0, sizeof din_acc);
        jvae_relu_backward(din_acc, dout, specials, N);
        for (int i = 0; i < N; i++) din_store[i] = 123.0f;
        jvae_relu_backward_store(din_store, dout, specials, N);
        for (int i = 0; i < N; i++) {
            const float want = specials[i] > 0.0f ? 0.0f + dout[i] : 0.0f;
            if (isnan(want)) {
                assert_true(isnan(din_store[i]) && isnan(din_acc[i]));
            } else {
                assert_memory_equal(&din_store[i], &want, sizeof want);
                assert_memory_equal(&din_acc[i], &want, sizeof want);
            }
        }
    }
}

static void test_sigmoid_extremes_and_accumulation(void **state)
{
    (void)state;
    float x[8] = {0.0f, 100.0f, -100.0f, 1000.0f, -1000.0f, -80.0f, 30.0f, -30.0f};
    jvae_sigmoid_forward(x, x, 8); /* in place */
    for (int i = 0; i < 8; i++) assert_true(isfinite(x[i]) && x[i] >= 0.0f && x[i] <= 1.0f);
    assert_true(x[0] == 0.5f);
    assert_true(x[1] == 1.0f && x[3] == 1.0f);
    assert_true(x[2] > 0.0f && x[2] < 1e-40f); /* e^−100, a denormal, not 0 − rounding */
    assert_true(x[4] == 0.0f);
    /* e^−80 is a normal float: the stable branch keeps it to a few ulps. */
    assert_true(fabs(x[5] - exp(-80.0)) <= 1e-6 * exp(-80.0));
    assert_true(fabs(x[7] - 1.0 / (1.0 + exp(30.0))) <= 1e-6 * exp(-30.0));
    const float dout[3] = {1.0f, 1.0f, 1.0f};
    float din[3] = {1.0f, 1.0f, 0.0f};
    jvae_sigmoid_backward(din, dout, x, 3);
    assert_true(din[0] == 1.25f);                /* 1 + 0.5·0.5 */
    assert_true(din[1] == 1.0f);                 /* saturated: σ' = 0 exactly */
    assert_true(din[2] > 0.0f && din[2] < 1e-40f); /* σ'(−100) ≈ e^−100, finite */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_gradient),
        cmocka_unit_test(test_sigmoid_gradient),
        cmocka_unit_test(test_relu_values_and_accumulation),
        cmocka_unit_test(test_relu_special_values),
        cmocka_unit_test(test_sigmoid_extremes_and_accumulation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
