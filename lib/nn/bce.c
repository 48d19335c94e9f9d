/* Binary cross-entropy from logits, the reconstruction loss of binary-ish images. */
#include "nn/nn.h"

#include <math.h>

#if defined(__SSE2__)
#include <emmintrin.h>

/* Σ_k c[k]·x^k, k < count, by Estrin's scheme: pairs, then pairs of pairs
 * with x², x⁴, …; the dependency chain is log2(count) steps deep instead of
 * count, which is what bounds these loops. */
static inline __m128d polynomial(__m128d x, const double *c, int count)
{
    __m128d terms[16];
    int n = 0;
    for (int k = 0; k < count; k += 2, n++) {
        terms[n] = _mm_set1_pd(c[k]);
        if (k + 1 < count) terms[n] = _mm_add_pd(terms[n], _mm_mul_pd(_mm_set1_pd(c[k + 1]), x));
    }
    __m128d power = _mm_mul_pd(x, x);
    while (n > 1) {
        int m = 0;
        for (int i = 0; i < n; i += 2, m++)
            terms[m] = i + 1 < n ? _mm_add_pd(terms[i], _mm_mul_pd(terms[i + 1], power))
                                 : terms[i];
        n = m;
        power = _mm_mul_pd(power, power);
    }
    return terms[0];
}

/* e^y for y ≤ 0, two doubles at a time, to a few ulp: y = n·ln 2 + r with
 * |r| ≤ ln 2 / 2 (ln 2 split in two so that n·ln2_hi is exact), e^r by its
 * Taylor series to r^12 (the next term is below 2e-16 of the sum), and 2^n
 * built in the exponent field. Below −708, where 2^n would leave the normal
 * range, the result is e^−708 ≈ 3e-308: softplus then differs from the true
 * value by less than that. */
static inline __m128d exp_nonpositive(__m128d y)
{
    static const double taylor[] = {1.0,          1.0,           0.5,
                                    1.0 / 6,      1.0 / 24,      1.0 / 120,
                                    1.0 / 720,    1.0 / 5040,    1.0 / 40320,
                                    1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800,
                                    1.0 / 479001600};
    const __m128d ln2_hi = _mm_set1_pd(6.93147180369123816490e-01);
    const __m128d ln2_lo = _mm_set1_pd(1.90821492927058770002e-10);
    y = _mm_max_pd(y, _mm_set1_pd(-708.0));
    const __m128i n = _mm_cvtpd_epi32(_mm_mul_pd(y, _mm_set1_pd(1.4426950408889634)));
    const __m128d nd = _mm_cvtepi32_pd(n);
    const __m128d r = _mm_sub_pd(_mm_sub_pd(y, _mm_mul_pd(nd, ln2_hi)), _mm_mul_pd(nd, ln2_lo));
    const __m128d p = polynomial(r, taylor, (int)(sizeof taylor / sizeof taylor[0]));
    /* n + 1023 ≥ 0 here, so zero-extending the two 32-bit ints is exact. */
    const __m128i biased = _mm_add_epi32(n, _mm_set1_epi32(1023));
    const __m128i two_n = _mm_slli_epi64(_mm_unpacklo_epi32(biased, _mm_setzero_si128()), 52);
    return _mm_mul_pd(p, _mm_castsi128_pd(two_n));
}

/* log1p(e) for e in [0, 1], two at a time, to a few ulp: u = 1 + e rounded,
 * log1p(e) = log u + (e − (u − 1))/u (the second term restores what the
 * rounding of u lost); u = 2^k·m with m in [√½, √2], and
 * log m = 2·atanh(s) = 2s·(1 + s²/3 + s⁴/5 + …), s = (m − 1)/(m + 1), |s| ≤ 0.172,
 * summed to s^20 (the next term is below 3e-17 of the sum). */
static inline __m128d log1p_unit(__m128d e)
{
    const __m128d one = _mm_set1_pd(1.0);
    const __m128d u = _mm_add_pd(one, e);
    const __m128d lost = _mm_div_pd(_mm_sub_pd(e, _mm_sub_pd(u, one)), u);
    const __m128d halve = _mm_cmpgt_pd(u, _mm_set1_pd(1.4142135623730951));
    const __m128d m = _mm_mul_pd(u, _mm_or_pd(_mm_and_pd(halve, _mm_set1_pd(0.5)),
                                              _mm_andnot_pd(halve, one)));
    const __m128d s = _mm_div_pd(_mm_sub_pd(m, one), _mm_add_pd(m, one));
    const __m128d z = _mm_mul_pd(s, s);
    static const double atanh_series[] = {1.0,      1.0 / 3,  1.0 / 5,  1.0 / 7,
                                          1.0 / 9,  1.0 / 11, 1.0 / 13, 1.0 / 15,
                                          1.0 / 17, 1.0 / 19, 1.0 / 21};
    const __m128d p =
        polynomial(z, atanh_series, (int)(sizeof atanh_series / sizeof atanh_series[0]));
    const __m128d log_m = _mm_mul_pd(_mm_add_pd(s, s), p);
    const __m128d k_ln2 = _mm_and_pd(halve, _mm_set1_pd(0.69314718055994530942));
    return _mm_add_pd(_mm_add_pd(k_ln2, log_m), lost);
}

/* Two pixels of softplus(x) − t·x = max(x, 0) − t·x + log1p(e^−|x|): exp
 * never overflows and log never sees 0, for any finite logit; a NaN logit
 * stays NaN through t·x. */
static inline __m128d pixel_terms(__m128d x, __m128d t)
{
    const __m128d abs_x = _mm_andnot_pd(_mm_set1_pd(-0.0), x);
    const __m128d linear = _mm_sub_pd(_mm_max_pd(x, _mm_setzero_pd()), _mm_mul_pd(t, x));
    return _mm_add_pd(linear, log1p_unit(exp_nonpositive(_mm_sub_pd(_mm_setzero_pd(), abs_x))));
}

/* low += the terms of pixels 0 and 1 of xs, high += those of pixels 2 and 3. */
static inline void add_four_pixels(__m128d *low, __m128d *high, __m128 xs, __m128 ts)
{
    *low = _mm_add_pd(*low, pixel_terms(_mm_cvtps_pd(xs), _mm_cvtps_pd(ts)));
    *high = _mm_add_pd(*high, pixel_terms(_mm_cvtps_pd(_mm_movehl_ps(xs, xs)),
                                          _mm_cvtps_pd(_mm_movehl_ps(ts, ts))));
}

/* Σ_p softplus(x) − t·x over one image, in double: two double lanes for each
 * half of four pixels, added in a fixed order, so one image always gives the
 * same bits. The last pixels (fewer than four) go through the same terms with
 * zero padding, masked out of the sum. */
static double image_sum(const float *x, const float *t, size_t pixels)
{
    __m128d low = _mm_setzero_pd(), high = _mm_setzero_pd();
    size_t p = 0;
    for (; p + 4 <= pixels; p += 4)
        add_four_pixels(&low, &high, _mm_loadu_ps(x + p), _mm_loadu_ps(t + p));
    double lanes[4];
    _mm_storeu_pd(lanes, low);
    _mm_storeu_pd(lanes + 2, high);
    if (p < pixels) {
        float xs[4] = {0}, ts[4] = {0};
        for (size_t i = 0; p + i < pixels; i++) {
            xs[i] = x[p + i];
            ts[i] = t[p + i];
        }
        __m128d tail_low = _mm_setzero_pd(), tail_high = _mm_setzero_pd();
        add_four_pixels(&tail_low, &tail_high, _mm_loadu_ps(xs), _mm_loadu_ps(ts));
        double tail[4];
        _mm_storeu_pd(tail, tail_low);
        _mm_storeu_pd(tail + 2, tail_high);
        for (size_t i = 0; p + i < pixels; i++) lanes[i] += tail[i];
    }
    return (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
}
#else
/* Σ_p softplus(x) − t·x over one image, in double. */
static double image_sum(const float *x, const float *t, size_t pixels)
{
    double sum = 0.0;
    for (size_t p = 0; p < pixels; p++) {
        /* softplus(x) − t·x = max(x, 0) − t·x + log1p(e^−|x|): exp never
         * overflows and log never sees 0, for any finite logit. */
        const double xv = x[p];
        sum += fmax(xv, 0.0) - (double)t[p] * xv + log1p(exp(-fabs(xv)));
    }
    return sum;
}
#endif

void jvae_bce_logits_image_sums(double *sums, const float *logits, const float *targets, int n,
                                size_t pixels)
{
    for (int i = 0; i < n; i++)
        sums[i] = image_sum(logits + (size_t)i * pixels, targets + (size_t)i * pixels, pixels);
}

double jvae_bce_logits_forward(float *per_image, const float *logits, const float *targets,
                               int n, size_t pixels)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const double sum =
            image_sum(logits + (size_t)i * pixels, targets + (size_t)i * pixels, pixels);
        if (per_image != NULL) per_image[i] = (float)sum;
        total += sum;
    }
    return total;
}

void jvae_bce_logits_backward(float *dlogits, const float *logits, const float *targets,
                              size_t count, float scale)
{
    for (size_t i = 0; i < count; i++) {
        const float x = logits[i];
        float s;
        if (x >= 0.0f) {
            s = 1.0f / (1.0f + expf(-x));
        } else {
            const float e = expf(x);
            s = e / (1.0f + e);
        }
        dlogits[i] += scale * (s - targets[i]);
    }
}
