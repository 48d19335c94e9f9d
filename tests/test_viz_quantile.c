/* Φ⁻¹ and the traversal values. */
#include <math.h>
#include <string.h>

#include "test_util.h"

#include "jointvae/viz.h"

static void test_reference_values(void **state)
{
    (void)state;
    /* The task's anchor, and values of torch.special.ndtri in float64 (an
     * independent implementation, Cephes). 1e-9 absolute is the accuracy the
     * traversal pictures need; the refinement in fact reaches ~1e-15. */
    assert_true(fabs(jvae_normal_quantile(0.05) - -1.6448536269514729) < 1e-9);
    assert_true(fabs(jvae_normal_quantile(0.95) - 1.644853626951472) < 1e-9);
    assert_true(jvae_normal_quantile(0.5) == 0.0);
    assert_true(fabs(jvae_normal_quantile(0.3) - -0.5244005127080409) < 1e-12);
    assert_true(fabs(jvae_normal_quantile(0.02425) - -1.972961051311885) < 1e-12);
    assert_true(fabs(jvae_normal_quantile(0.97575) - 1.972961051311885) < 1e-12);
    assert_true(fabs(jvae_normal_quantile(1e-10) - -6.361340902404056) < 1e-11);
    assert_true(fabs(jvae_normal_quantile(1e-300) - -37.0470962993612) < 1e-9);
    assert_true(isinf(jvae_normal_quantile(0.0)) && jvae_normal_quantile(0.0) < 0);
    assert_true(isinf(jvae_normal_quantile(1.0)) && jvae_normal_quantile(1.0) > 0);
    assert_true(isnan(jvae_normal_quantile(-0.1)));
    assert_true(isnan(jvae_normal_quantile(1.5)));
    assert_true(isnan(jvae_normal_quantile(NAN)));
}

static void test_inverts_the_cdf(void **state)
{
    (void)state;
    /* Φ(Φ⁻¹(p)) = p within a few ulps of p across both tails and the centre:
     * 1e-14 relative allows for erfc's own rounding. */
    for (int i = 1; i < 2000; i++) {
        double p = i / 2000.0;
        double x = jvae_normal_quantile(p);
        double back = x <= 0 ? 0.5 * erfc(-x / sqrt(2.0)) : 1.0 - 0.5 * erfc(x / sqrt(2.0));
        assert_true(fabs(back - p) <= 1e-14 * fmax(p, 1e-3));
    }
    for (double p = 1e-15; p < 0.01; p *= 3.7) {
        double x = jvae_normal_quantile(p);
        assert_true(fabs(0.5 * erfc(-x / sqrt(2.0)) - p) <= 1e-13 * p);
    }
}

static void test_traversal_values(void **state)
{
    (void)state;
    double values[10];
    assert_int_equal(jvae_traversal_values(values, 10, 0.05, 0.95), JVAE_OK);
    assert_true(fabs(values[0] - -1.6448536269514729) < 1e-9);
    assert_true(fabs(values[9] - 1.6448536269514729) < 1e-9);
    for (int i = 0; i < 10; i++) {
        double q = i == 9 ? 0.95 : 0.05 + i * ((0.95 - 0.05) / 9);
        assert_true(values[i] == jvae_normal_quantile(q));
        assert_true(fabs(values[i] + values[9 - i]) < 1e-12); /* symmetric quantiles */
        if (i > 0) assert_true(values[i] > values[i - 1]);
    }
    double single;
    assert_int_equal(jvae_traversal_values(&single, 1, 0.2, 0.8), JVAE_OK);
    assert_true(single == jvae_normal_quantile(0.2));

    assert_int_equal(jvae_traversal_values(NULL, 3, 0.05, 0.95), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("values is NULL");
    assert_int_equal(jvae_traversal_values(values, 0, 0.05, 0.95), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("count must be >= 1");
    assert_int_equal(jvae_traversal_values(values, 3, 0.0, 0.95), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_traversal_values(values, 3, 0.5, 0.5), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_traversal_values(values, 3, 0.05, 1.0), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_traversal_values(values, 3, NAN, 0.9), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("0 < low < high < 1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_values),
        cmocka_unit_test(test_inverts_the_cdf),
        cmocka_unit_test(test_traversal_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
