/* The finite-difference checker itself (tests/support/gradcheck.c): it must
 * pass a right gradient and catch a wrong one, a NaN, and skip kinks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "test_util.h"

#define COUNT 16

/* L(x) = Σ c_i·sin(x_i) + Σ |x_i − kink| (the kink term only when enabled). */
typedef struct smooth_case {
    float x[COUNT];
    double c[COUNT];
    int with_kink;
    int calls;
} smooth_case;

static double loss(void *payload)
{
    smooth_case *s = payload;
    s->calls++;
    double sum = 0.0;
    for (int i = 0; i < COUNT; i++) {
        sum += s->c[i] * sin((double)s->x[i]);
        if (s->with_kink) sum += fabs((double)s->x[i]);
    }
    return sum;
}

static void gradient(const smooth_case *s, float *grad)
{
    for (int i = 0; i < COUNT; i++) {
        grad[i] = (float)(s->c[i] * cos((double)s->x[i]));
        if (s->with_kink) grad[i] += s->x[i] > 0.0f ? 1.0f : -1.0f;
    }
}

static void setup_case(smooth_case *s, uint64_t seed)
{
    jvae_rng rng;
    jvae_rng_seed(&rng, seed);
    memset(s, 0, sizeof *s);
    test_fill_uniform(&rng, s->x, COUNT, -2.0f, 2.0f);
    for (int i = 0; i < COUNT; i++) s->c[i] = jvae_rng_uniform_range(&rng, -1.0f, 1.0f);
}

/* Truncation h²/6 ≈ 2e-7 at h = 1e-3, float analytic ≈ 6e-8: abs 1e-5. */
static const gradcheck_options OPTIONS = {.step = 1e-3, .abs_tol = 1e-5, .rel_tol = 1e-5};

static void test_passes_right_gradient_and_restores_x(void **state)
{
    (void)state;
    smooth_case s;
    setup_case(&s, 1);
    float before[COUNT], grad[COUNT];
    memcpy(before, s.x, sizeof before);
    gradient(&s, grad);
    const gradcheck_report r = gradcheck_assert("sin", s.x, COUNT, grad, loss, &s, &OPTIONS);
    assert_int_equal(r.checked, COUNT);
    assert_int_equal(r.skipped, 0);
    assert_true(r.worst_ratio <= 1.0);
    assert_int_equal(s.calls, 2 * COUNT);
    assert_memory_equal(s.x, before, sizeof before);
}

static void test_catches_wrong_gradient(void **state)
{
    (void)state;
    smooth_case s;
    setup_case(&s, 2);
    float grad[COUNT];
    gradient(&s, grad);
    grad[5] += 1e-4f; /* five times abs 1e-5 + rel 1e-5 of a gradient ≤ 1 */
    const gradcheck_report r =
        gradcheck_run("sin, one wrong", s.x, COUNT, grad, loss, &s, &OPTIONS);
    assert_int_equal(r.checked, COUNT);
    assert_int_equal(r.mismatches, 1);
    assert_int_equal(r.worst_index, 5);
    assert_true(r.worst_ratio > 1.0);
}

static void test_rejects_non_finite(void **state)
{
    (void)state;
    smooth_case s;
    setup_case(&s, 3);
    float grad[COUNT];
    gradient(&s, grad);
    grad[2] = NAN;
    grad[9] = INFINITY;
    gradcheck_report r = gradcheck_run("sin, NaN", s.x, COUNT, grad, loss, &s, &OPTIONS);
    assert_int_equal(r.mismatches, 2);
    assert_true(isinf(r.worst_ratio));

    gradient(&s, grad);
    s.x[4] = INFINITY; /* sin(∞) is NaN: every loss evaluation is NaN */
    r = gradcheck_run("sin, NaN loss", s.x, COUNT, grad, loss, &s, &OPTIONS);
    assert_int_equal(r.mismatches, COUNT);
}

static int skip_even(size_t index, void *payload)
{
    (void)payload;
    return index % 2 == 0;
}

static void test_skips_kinks(void **state)
{
    (void)state;
    smooth_case s;
    setup_case(&s, 4);
    s.with_kink = 1;
    s.x[3] = 0.0f;    /* on the kink of |x| */
    s.x[7] = 2.0e-4f; /* within h of it */
    float grad[COUNT];
    gradient(&s, grad);
    /* Without kink detection both points mismatch (the slope of |x| jumps by 2). */
    gradcheck_report r = gradcheck_run("abs, no detection", s.x, COUNT, grad, loss, &s, &OPTIONS);
    assert_int_equal(r.mismatches, 2);
    /* Slopes of a smooth point differ by h·|L''| ≲ 1e-3; a kink by ≈ 2. */
    gradcheck_options detect = OPTIONS;
    detect.kink_tol = 0.1;
    r = gradcheck_assert("abs, kinks skipped", s.x, COUNT, grad, loss, &s, &detect);
    assert_int_equal(r.skipped, 2);
    assert_int_equal(r.checked, COUNT - 2);

    gradcheck_options predicate = OPTIONS;
    predicate.skip_point = skip_even;
    s.x[3] = 1.0f; /* odd indices must be smooth now */
    s.x[7] = 1.0f;
    gradient(&s, grad);
    grad[4] = 1e3f; /* wrong but skipped */
    r = gradcheck_assert("abs, even skipped", s.x, COUNT, grad, loss, &s, &predicate);
    assert_int_equal(r.skipped, COUNT / 2);
}

static void test_samples_a_subset(void **state)
{
    (void)state;
    smooth_case s;
    setup_case(&s, 5);
    float grad[COUNT];
    gradient(&s, grad);
    gradcheck_options sampled = OPTIONS;
    sampled.max_points = 5;
    sampled.seed = 99;
    s.calls = 0;
    gradcheck_report r = gradcheck_assert("sin, sampled", s.x, COUNT, grad, loss, &s, &sampled);
    assert_int_equal(r.checked, 5);
    assert_int_equal(s.calls, 10);
    /* Every index is wrong: all five sampled points are caught. */
    for (int i = 0; i < COUNT; i++) grad[i] += 1.0f;
    r = gradcheck_run("sin, sampled wrong", s.x, COUNT, grad, loss, &s, &sampled);
    assert_int_equal(r.mismatches, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passes_right_gradient_and_restores_x),
        cmocka_unit_test(test_catches_wrong_gradient),
        cmocka_unit_test(test_rejects_non_finite),
        cmocka_unit_test(test_skips_kinks),
        cmocka_unit_test(test_samples_a_subset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
