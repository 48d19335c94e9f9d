/* Mutual Information Gap (Chen et al. 2018) with disentanglement_lib's
 * settings (docs/metrics.md §3). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "metrics/factor_code.h"

jvae_status jvae_mig_options_init(jvae_mig_options *options)
{
    JVAE_CHECK_NOT_NULL(options, "jvae_mig_options_init");
    memset(options, 0, sizeof *options);
    options->version = JVAE_MIG_OPTIONS_VERSION;
    options->images = 10000;
    options->bins = 20;
    options->encode_batch = 256;
    options->seed = 0;
    return JVAE_OK;
}

/* Bin of every item in code dim d: equal-width bins between min and max for a
 * continuous dim (numpy.histogram's edges, the maximum in the last bin), the
 * index itself for an index dim. Returns the number of bins. */
static int discretise(int32_t *bins_out, const float *codes, int64_t n, int dims, int d,
                      int categories, int bins)
{
    if (categories > 0) {
        for (int64_t i = 0; i < n; i++) bins_out[i] = (int32_t)codes[(size_t)i * dims + d];
        return categories;
    }
    double low = INFINITY, high = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double x = codes[(size_t)i * dims + d];
        low = fmin(low, x);
        high = fmax(high, x);
    }
    for (int64_t i = 0; i < n; i++) {
        double x = codes[(size_t)i * dims + d];
        int b = high > low ? (int)floor((x - low) / (high - low) * bins) : 0;
        bins_out[i] = b >= bins ? bins - 1 : b;
    }
    return bins;
}

/* Plug-in mutual information (nats) of two labelings, from their joint
 * counts; joint must hold na·nb zeros. */
static double mutual_information(const int32_t *a, int na, const int32_t *b, int nb, int64_t n,
                                 int64_t *joint, int64_t *count_a, int64_t *count_b)
{
    memset(joint, 0, (size_t)na * (size_t)nb * sizeof *joint);
    memset(count_a, 0, (size_t)na * sizeof *count_a);
    memset(count_b, 0, (size_t)nb * sizeof *count_b);
    for (int64_t i = 0; i < n; i++) {
        joint[(size_t)a[i] * (size_t)nb + (size_t)b[i]]++;
        count_a[a[i]]++;
        count_b[b[i]]++;
    }
    double mi = 0.0, total = (double)n;
    for (int x = 0; x < na; x++)
        for (int y = 0; y < nb; y++) {
            int64_t c = joint[(size_t)x * (size_t)nb + (size_t)y];
            if (c == 0) continue;
            mi += (double)c / total *
                  log((double)c * total / ((double)count_a[x] * (double)count_b[y]));
        }
    return mi > 0.0 ? mi : 0.0; /* rounding can leave −1e-17 for independent labels */
}

static double entropy(const int32_t *labels, int classes, int64_t n, int64_t *counts)
{
    memset(counts, 0, (size_t)classes * sizeof *counts);
    for (int64_t i = 0; i < n; i++) counts[labels[i]]++;
    double h = 0.0;
    for (int k = 0; k < classes; k++)
        if (counts[k] > 0) h -= (double)counts[k] / (double)n * log((double)counts[k] / (double)n);
    return h;
}

static jvae_status check_inputs(const char *fn, const float *codes, int64_t n, int dims,
                                const int32_t *categories, const int32_t *factors, int nf,
                                const int32_t *sizes, int bins)
{
    if (n < 2) return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: n must be >= 2, got %lld", fn, (long long)n);
    if (bins < 2 || bins > JVAE_MAX_CODE_DIM)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: bins must be 2..%d, got %d", fn,
                         JVAE_MAX_CODE_DIM, bins);
    if (dims < 1 || dims > JVAE_MAX_CODE_DIM || nf < 1 || nf > JVAE_MAX_FACTORS)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: code_dim must be 1..%d and n_factors 1..%d, got %d and %d", fn,
                         JVAE_MAX_CODE_DIM, JVAE_MAX_FACTORS, dims, nf);
    for (int f = 0; f < nf; f++)
        if (sizes[f] < 1 || sizes[f] > JVAE_MAX_CODE_DIM)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: factor_sizes[%d] is %d", fn, f,
                             (int)sizes[f]);
    for (int d = 0; categories != NULL && d < dims; d++)
        if (categories[d] < 0 || categories[d] == 1 || categories[d] > JVAE_MAX_CODE_DIM)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                             "%s: code_categories[%d] is %d; use 0 (continuous) or 2..%d", fn, d,
                             (int)categories[d], JVAE_MAX_CODE_DIM);
    for (int64_t i = 0; i < n; i++) {
        for (int f = 0; f < nf; f++) {
            int32_t v = factors[(size_t)i * nf + f];
            if (v < 0 || v >= sizes[f])
                return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                                 "%s: item %lld has class %d of factor %d, which has %d", fn,
                                 (long long)i, (int)v, f, (int)sizes[f]);
        }
        for (int d = 0; d < dims; d++) {
            float x = codes[(size_t)i * dims + d];
            int k = categories != NULL ? categories[d] : 0;
            if (k == 0 && !isfinite(x))
                return jvae_fail(JVAE_ERR_NUMERIC, "%s: item %lld holds %g in code dim %d", fn,
                                 (long long)i, (double)x, d);
            if (k > 0 && !(x >= 0.0f && x < (float)k && x == floorf(x)))
                return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                                 "%s: item %lld holds %g in index dim %d of %d categories", fn,
                                 (long long)i, (double)x, d, k);
        }
    }
    return JVAE_OK;
}

jvae_status jvae_mig_from_codes(double *mig, double *per_factor, const float *codes, int64_t n,
                                int code_dim, const int32_t *code_categories,
                                const int32_t *factors, int n_factors,
                                const int32_t *factor_sizes, int bins)
{
    static const char fn[] = "jvae_mig_from_codes";
    JVAE_CHECK_NOT_NULL(mig, fn);
    JVAE_CHECK_NOT_NULL(codes, fn);
    JVAE_CHECK_NOT_NULL(factors, fn);
    JVAE_CHECK_NOT_NULL(factor_sizes, fn);
    jvae_status st = check_inputs(fn, codes, n, code_dim, code_categories, factors, n_factors,
                                  factor_sizes, bins);
    if (st) return st;
    int widest = bins;
    for (int d = 0; code_categories != NULL && d < code_dim; d++)
        if (code_categories[d] > widest) widest = code_categories[d];
    int largest_factor = 1;
    for (int f = 0; f < n_factors; f++)
        if (factor_sizes[f] > largest_factor) largest_factor = factor_sizes[f];
    int32_t *code_bins = malloc((size_t)n * sizeof *code_bins);
    int32_t *factor_labels = malloc((size_t)n * (size_t)n_factors * sizeof *factor_labels);
    int64_t *joint = malloc((size_t)widest * (size_t)largest_factor * sizeof *joint);
    int64_t *count_a = malloc((size_t)widest * sizeof *count_a);
    int64_t *count_b = malloc((size_t)largest_factor * sizeof *count_b);
    double *information = malloc((size_t)code_dim * (size_t)n_factors * sizeof *information);
    double *gaps = malloc((size_t)n_factors * sizeof *gaps);
    if (!code_bins || !factor_labels || !joint || !count_a || !count_b || !information || !gaps)
        st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate for %lld items", fn,
                       (long long)n);
    if (st == JVAE_OK) {
        /* factor-major copies, so each factor's labels are contiguous */
        for (int f = 0; f < n_factors; f++)
            for (int64_t i = 0; i < n; i++)
                factor_labels[(size_t)f * (size_t)n + (size_t)i] = factors[(size_t)i * n_factors + f];
        for (int d = 0; d < code_dim; d++) {
            int k = code_categories != NULL ? code_categories[d] : 0;
            int nb = discretise(code_bins, codes, n, code_dim, d, k, bins);
            for (int f = 0; f < n_factors; f++)
                information[(size_t)d * n_factors + f] =
                    mutual_information(code_bins, nb, factor_labels + (size_t)f * (size_t)n,
                                       factor_sizes[f], n, joint, count_a, count_b);
        }
        double sum = 0.0;
        for (int f = 0; f < n_factors; f++) {
            double h = entropy(factor_labels + (size_t)f * (size_t)n, factor_sizes[f], n, count_b);
            double first = 0.0, second = 0.0;
            for (int d = 0; d < code_dim; d++) {
                double m = information[(size_t)d * n_factors + f];
                if (m > first) {
                    second = first;
                    first = m;
                } else if (m > second) {
                    second = m;
                }
            }
            /* A factor constant in the sample has nothing to be informative about. */
            gaps[f] = h > 0.0 ? (first - second) / h : 0.0;
            sum += gaps[f];
        }
        *mig = sum / n_factors;
        if (per_factor != NULL) memcpy(per_factor, gaps, (size_t)n_factors * sizeof *gaps);
    }
    free(code_bins);
    free(factor_labels);
    free(joint);
    free(count_a);
    free(count_b);
    free(information);
    free(gaps);
    return st;
}

jvae_status jvae_mig_score(double *mig, double *per_factor, const jvae_factor_code *code,
                           const jvae_mig_options *options)
{
    static const char fn[] = "jvae_mig_score";
    JVAE_CHECK_NOT_NULL(mig, fn);
    JVAE_CHECK_NOT_NULL(options, fn);
    jvae_status st = jvae_factor_code_check(code, fn);
    if (st) return st;
    if (options->version < 1 || options->version > JVAE_MIG_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION, "%s: options version %u, this library knows 1..%u",
                         fn, options->version, JVAE_MIG_OPTIONS_VERSION);
    if (options->images < 2 || options->images > INT32_MAX || options->encode_batch < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: images must be 2..2^31-1 and encode_batch >= 1, got %lld and %d",
                         fn, (long long)options->images, options->encode_batch);
    const int64_t n = options->images;
    const int dims = code->code_dim, nf = code->n_factors;
    size_t code_floats, factor_count;
    if (!jvae_mul_ok((size_t)n, (size_t)dims, &code_floats) ||
        !jvae_mul_ok((size_t)n, (size_t)nf, &factor_count) ||
        code_floats > SIZE_MAX / sizeof(float))
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: %lld items of %d dims is too large", fn,
                         (long long)n, dims);
    float *codes = malloc(code_floats * sizeof *codes);
    int32_t *factors = malloc(factor_count * sizeof *factors);
    if (codes == NULL || factors == NULL)
        st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate for %lld items", fn,
                       (long long)n);
    jvae_progress progress = {NULL, NULL, 0, n};
    if (options->version >= 2) { /* version 1 ends before the callback's fields */
        progress.report = options->progress;
        progress.payload = options->progress_payload;
    }
    jvae_rng rng;
    jvae_rng_seed(&rng, options->seed);
    if (st == JVAE_OK) jvae_factor_sample(code, &rng, factors, (int)n);
    for (int64_t done = 0; st == JVAE_OK && done < n;) {
        int count = n - done < options->encode_batch ? (int)(n - done) : options->encode_batch;
        st = jvae_factor_encode(code, factors + (size_t)done * nf, count,
                                codes + (size_t)done * dims, &progress, fn);
        done += count;
    }
    if (st == JVAE_OK)
        st = jvae_mig_from_codes(mig, per_factor, codes, n, dims, code->code_categories, factors,
                                 nf, code->factor_sizes, options->bins);
    free(codes);
    free(factors);
    return st;
}
