#include "metrics/factor_code.h"

#include <math.h>

#include "core/error.h"

jvae_status jvae_factor_code_check(const jvae_factor_code *code, const char *fn)
{
    JVAE_CHECK_NOT_NULL(code, fn);
    if (code->n_factors < 1 || code->n_factors > JVAE_MAX_FACTORS)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: code->n_factors must be 1..%d, got %d",
                         fn, JVAE_MAX_FACTORS, code->n_factors);
    if (code->factor_sizes == NULL)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: code->factor_sizes is NULL", fn);
    for (int f = 0; f < code->n_factors; f++)
        if (code->factor_sizes[f] < 2)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                             "%s: code->factor_sizes[%d] is %d; a factor needs >= 2 classes "
                             "(leave constant factors out)",
                             fn, f, (int)code->factor_sizes[f]);
    if (code->code_dim < 1 || code->code_dim > JVAE_MAX_CODE_DIM)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: code->code_dim must be 1..%d, got %d", fn,
                         JVAE_MAX_CODE_DIM, code->code_dim);
    for (int d = 0; code->code_categories != NULL && d < code->code_dim; d++)
        if (code->code_categories[d] == 1 || code->code_categories[d] < 0 ||
            code->code_categories[d] > JVAE_MAX_CODE_DIM)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                             "%s: code->code_categories[%d] is %d; use 0 (continuous) or 2..%d",
                             fn, d, (int)code->code_categories[d], JVAE_MAX_CODE_DIM);
    for (int d = 0; code->code_kl != NULL && d < code->code_dim; d++)
        if (!isfinite(code->code_kl[d]))
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: code->code_kl[%d] is %g", fn, d,
                             code->code_kl[d]);
    if (code->encode == NULL)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: code->encode is NULL", fn);
    return JVAE_OK;
}

int jvae_factor_code_categories(const jvae_factor_code *code, int d)
{
    return code->code_categories != NULL ? code->code_categories[d] : 0;
}

void jvae_factor_sample(const jvae_factor_code *code, jvae_rng *rng, int32_t *factors, int count)
{
    for (int i = 0; i < count; i++)
        for (int f = 0; f < code->n_factors; f++)
            factors[(size_t)i * (size_t)code->n_factors + (size_t)f] =
                (int32_t)jvae_rng_below(rng, (uint64_t)code->factor_sizes[f]);
}

static jvae_status report(jvae_progress *progress, const char *fn)
{
    if (progress->report == NULL || progress->report(progress->done, progress->total,
                                                     progress->payload) == 0)
        return JVAE_OK;
    return jvae_fail(JVAE_ERR_CANCELLED,
                     "%s: stopped by the progress callback after %lld of %lld images", fn,
                     (long long)progress->done, (long long)progress->total);
}

jvae_status jvae_progress_finish(jvae_progress *progress, const char *fn)
{
    if (progress->done == progress->total) return JVAE_OK;
    progress->done = progress->total;
    return report(progress, fn);
}

jvae_status jvae_factor_encode(const jvae_factor_code *code, const int32_t *factors, int count,
                               float *codes, jvae_progress *progress, const char *fn)
{
    jvae_status st = code->encode(codes, factors, count, code->payload);
    if (st) return st;
    const int dims = code->code_dim;
    for (int i = 0; i < count; i++) {
        for (int d = 0; d < dims; d++) {
            float value = codes[(size_t)i * (size_t)dims + (size_t)d];
            if (!isfinite(value))
                return jvae_fail(JVAE_ERR_NUMERIC, "%s: the encoder wrote %g to dim %d of item %d",
                                 fn, (double)value, d, i);
            int k = jvae_factor_code_categories(code, d);
            if (k > 0 && !(value >= 0.0f && value < (float)k && value == floorf(value)))
                return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                                 "%s: the encoder wrote %g to index dim %d of item %d, which "
                                 "holds a category 0..%d",
                                 fn, (double)value, d, i, k - 1);
        }
    }
    if (progress == NULL) return JVAE_OK;
    progress->done += count;
    return report(progress, fn);
}

double jvae_gini_variance(const int64_t *counts, int categories, int64_t n)
{
    if (n < 2) return 0.0;
    double squares = 0.0;
    for (int k = 0; k < categories; k++) squares += (double)counts[k] * (double)counts[k];
    return ((double)n * (double)n - squares) / (2.0 * (double)n * (double)(n - 1));
}
