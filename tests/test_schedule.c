/* Capacity schedules against their closed forms. */
#include <math.h>
#include <string.h>

#include "jointvae/train.h"
#include "test_util.h"

static void assert_close(double actual, double expected, double tolerance)
{
    if (!(fabs(actual - expected) <= tolerance)) {
        print_error("got %.17g, expected %.17g (tolerance %g)\n", actual, expected, tolerance);
        fail();
    }
}

/* The paper's formula, written independently of the library. */
static double linear_closed_form(double c_min, double c_max, int64_t t, int64_t iterations)
{
    return fmin(c_max, (c_max - c_min) * (double)t / (double)iterations + c_min);
}

static void test_linear_matches_closed_form(void **state)
{
    (void)state;
    const struct { double c_min, c_max; int64_t iterations; } cases[] = {
        {0.0, 5.0, 25000}, {0.0, 1.1, 300000}, {0.5, 40.0, 7}, {2.0, 2.0, 10}, {0.0, 10.0, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        jvae_schedule *s = NULL;
        assert_int_equal(jvae_schedule_linear(&s, cases[c].c_min, cases[c].c_max,
                                              cases[c].iterations),
                         JVAE_OK);
        const int64_t T = cases[c].iterations;
        const int64_t probes[] = {1, 2, 3, T / 2, T - 1, T, T + 1, 2 * T, 100 * T + 17,
                                  INT64_MAX};
        for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
            int64_t t = probes[i] < 1 ? 1 : probes[i];
            /* Same expression in double: the values must be bit-equal. */
            assert_true(jvae_schedule_value(s, t) ==
                        linear_closed_form(cases[c].c_min, cases[c].c_max, t, T));
        }
        for (int64_t t = 1; t <= 200; t++)
            assert_true(jvae_schedule_value(s, t) ==
                        linear_closed_form(cases[c].c_min, cases[c].c_max, t, T));
        /* The first update already moves off c_min; the end is exactly c_max. */
        assert_true(jvae_schedule_value(s, T) == cases[c].c_max);
        assert_true(jvae_schedule_value(s, T + 1) == cases[c].c_max);
        jvae_schedule_free(s);
    }
}

static void test_linear_is_monotone_and_pure(void **state)
{
    (void)state;
    jvae_schedule *s = NULL;
    assert_int_equal(jvae_schedule_linear(&s, 0.0, 5.0, 1000), JVAE_OK);
    double previous = jvae_schedule_value(s, 1);
    assert_true(previous > 0.0);
    for (int64_t t = 2; t <= 1500; t++) {
        double value = jvae_schedule_value(s, t);
        assert_true(value >= previous);
        previous = value;
    }
    /* A pure function of t: asking out of order gives the same answers. */
    assert_true(jvae_schedule_value(s, 37) == jvae_schedule_value(s, 37));
    assert_true(jvae_schedule_value(s, 500) == 2.5);
    /* Steps below 0 are clamped so the value never drops under c_min. */
    assert_true(jvae_schedule_value(s, -5) == 0.0);
    jvae_schedule_free(s);
}

static void test_constant(void **state)
{
    (void)state;
    jvae_schedule *s = NULL;
    assert_int_equal(jvae_schedule_constant(&s, 3.25), JVAE_OK);
    const int64_t probes[] = {0, 1, 2, 1000, INT64_MAX};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        assert_true(jvae_schedule_value(s, probes[i]) == 3.25);
    jvae_schedule_free(s);
}

static void test_piecewise(void **state)
{
    (void)state;
    int64_t steps[] = {10, 20, 40, 41};
    double values[] = {1.0, 3.0, 2.0, 8.0};
    jvae_schedule *s = NULL;
    assert_int_equal(jvae_schedule_piecewise(&s, steps, values, 4), JVAE_OK);
    /* The arrays are copied. */
    steps[0] = 999;
    values[0] = 999.0;
    const int64_t knots[] = {10, 20, 40, 41};
    const double knot_values[] = {1.0, 3.0, 2.0, 8.0};
    for (int i = 0; i < 4; i++) assert_true(jvae_schedule_value(s, knots[i]) == knot_values[i]);
    /* Constant outside the points. */
    assert_true(jvae_schedule_value(s, 1) == 1.0);
    assert_true(jvae_schedule_value(s, INT64_MIN) == 1.0);
    assert_true(jvae_schedule_value(s, 42) == 8.0);
    assert_true(jvae_schedule_value(s, INT64_MAX) == 8.0);
    /* Linear between points, compared with the interpolation formula; the
     * library computes the same expression, so 1e-12 only absorbs a possibly
     * different association of the same three double operations. */
    for (int seg = 0; seg < 3; seg++) {
        for (int64_t t = knots[seg]; t <= knots[seg + 1]; t++) {
            double fraction = (double)(t - knots[seg]) / (double)(knots[seg + 1] - knots[seg]);
            double expected =
                knot_values[seg] + (knot_values[seg + 1] - knot_values[seg]) * fraction;
            assert_close(jvae_schedule_value(s, t), expected, 1e-12);
        }
    }
    jvae_schedule_free(s);

    int64_t one_step[] = {5};
    double one_value[] = {0.75};
    assert_int_equal(jvae_schedule_piecewise(&s, one_step, one_value, 1), JVAE_OK);
    assert_true(jvae_schedule_value(s, 1) == 0.75);
    assert_true(jvae_schedule_value(s, 100) == 0.75);
    jvae_schedule_free(s);
}

typedef struct recorder {
    int64_t last_step;
    int calls;
} recorder;

static double record_and_square(int64_t step, void *payload)
{
    recorder *r = payload;
    r->last_step = step;
    r->calls++;
    return (double)step * (double)step;
}

static void test_callback_gets_step_and_payload(void **state)
{
    (void)state;
    recorder r = {0, 0};
    jvae_schedule *s = NULL;
    assert_int_equal(jvae_schedule_callback(&s, record_and_square, &r), JVAE_OK);
    assert_true(jvae_schedule_value(s, 12) == 144.0);
    assert_int_equal(r.last_step, 12);
    assert_true(jvae_schedule_value(s, 3) == 9.0);
    assert_int_equal(r.last_step, 3);
    assert_int_equal(r.calls, 2);
    jvae_schedule_free(s);
}

static void test_validation(void **state)
{
    (void)state;
    jvae_schedule *s = (jvae_schedule *)&s; /* must be reset to NULL on failure */
    assert_int_equal(jvae_schedule_linear(NULL, 0, 1, 1), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("out is NULL");
    assert_int_equal(jvae_schedule_linear(&s, 0, 1, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_null(s);
    assert_error_contains("iterations must be >= 1, got 0");
    assert_int_equal(jvae_schedule_linear(&s, NAN, 1, 10), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("c_min must be finite");
    assert_int_equal(jvae_schedule_linear(&s, 0, INFINITY, 10), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("c_max must be finite");
    assert_int_equal(jvae_schedule_linear(&s, 5, 1, 10), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("c_max (1) must be >= c_min (5)");
    assert_int_equal(jvae_schedule_linear(&s, -1, 1, 10), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("c_min must be >= 0");
    assert_int_equal(jvae_schedule_constant(&s, -0.5), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("value must be >= 0");

    int64_t steps[] = {1, 5, 5};
    double values[] = {0, 1, 2};
    assert_int_equal(jvae_schedule_piecewise(&s, steps, values, 3), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("steps[2] = 5 follows steps[1] = 5");
    assert_int_equal(jvae_schedule_piecewise(&s, steps, values, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("count must be >= 1");
    assert_int_equal(jvae_schedule_piecewise(&s, NULL, values, 2), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("steps is NULL");
    double bad_values[] = {0, NAN};
    assert_int_equal(jvae_schedule_piecewise(&s, steps, bad_values, 2),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("values[1] must be finite");
    assert_int_equal(jvae_schedule_callback(&s, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("fn is NULL");
    assert_null(s);

    assert_true(isnan(jvae_schedule_value(NULL, 1)));
    jvae_schedule_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_matches_closed_form),
        cmocka_unit_test(test_linear_is_monotone_and_pure),
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_piecewise),
        cmocka_unit_test(test_callback_gets_step_and_payload),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
