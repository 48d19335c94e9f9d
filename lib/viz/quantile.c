/* Φ⁻¹ and the traversal values built on it. */
#include <math.h>

#include "core/error.h"
#include "jointvae/viz.h"

/* Acklam's rational approximation of Φ⁻¹ on (0, 0.5] (relative error below
 * 1.15e-9), the start of the Halley step below. */
static double acklam_lower(double p)
{
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                -2.759285104469687e+02, 1.383577518672690e+02,
                                -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                -1.556989798598866e+02, 6.680131188771972e+01,
                                -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                -2.400758277161838e+00, -2.549732539343734e+00,
                                4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01,
                                2.445134137142996e+00, 3.754408661907416e+00};
    const double p_low = 0.02425;
    if (p < p_low) {
        double q = sqrt(-2.0 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

double jvae_normal_quantile(double p)
{
    if (!(p >= 0.0 && p <= 1.0)) return NAN;
    if (p == 0.0) return -INFINITY;
    if (p == 1.0) return INFINITY;
    /* Work in the lower half, where Φ(x) = erfc(−x/√2)/2 has no cancellation;
     * 1 − p is exact for p >= 0.5 (Sterbenz), so the upper half mirrors it. */
    if (p > 0.5) return -jvae_normal_quantile(1.0 - p);
    double x = acklam_lower(p);
    /* One Halley step on Φ(x) − p: the error goes from ~1e-9 to rounding. */
    double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
    double u = e * sqrt(2.0 * 3.14159265358979323846) * exp(0.5 * x * x);
    return x - u / (1.0 + 0.5 * x * u);
}

jvae_status jvae_traversal_values(double *values, int count, double quantile_low,
                                  double quantile_high)
{
    static const char fn[] = "jvae_traversal_values";
    JVAE_CHECK_NOT_NULL(values, fn);
    if (count < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: count must be >= 1, got %d", fn, count);
    if (!(quantile_low > 0.0 && quantile_low < quantile_high && quantile_high < 1.0))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: quantiles must satisfy 0 < low < high < 1, got %g and %g", fn,
                         quantile_low, quantile_high);
    /* numpy.linspace's arithmetic: start + i·step, the last point exactly stop. */
    double step = count > 1 ? (quantile_high - quantile_low) / (count - 1) : 0.0;
    for (int i = 0; i < count; i++) {
        double q = (count > 1 && i == count - 1) ? quantile_high : quantile_low + i * step;
        values[i] = jvae_normal_quantile(q);
    }
    return JVAE_OK;
}
