/* Internal: drawing factors and encoding them through a jvae_factor_code,
 * shared by FactorVAE and MIG. */
#ifndef JVAE_METRICS_FACTOR_CODE_H
#define JVAE_METRICS_FACTOR_CODE_H

#include "core/rng.h"
#include "jointvae/metrics.h"

/* Check every field of code (messages name the field). */
jvae_status jvae_factor_code_check(const jvae_factor_code *code, const char *fn);

/* Category count of code dim d (0: continuous). */
int jvae_factor_code_categories(const jvae_factor_code *code, int d);

/* factors (count, n_factors): each factor uniform over its classes. */
void jvae_factor_sample(const jvae_factor_code *code, jvae_rng *rng, int32_t *factors, int count);

/* Images a metric has encoded out of the total it will encode, for the
 * caller's callback (report may be NULL). */
typedef struct jvae_progress {
    jvae_progress_fn report;
    void *payload;
    int64_t done, total;
} jvae_progress;

/* Report done = total, for a metric that finished with fewer images than it
 * planned (FactorVAE with nothing left after pruning casts no votes). */
jvae_status jvae_progress_finish(jvae_progress *progress, const char *fn);

/* Call code->encode and check its output: NUMERIC for NaN/Inf, INVALID_ARGUMENT
 * for an index dim holding something other than an integer in 0..K−1; then
 * count the images in progress (may be NULL): CANCELLED when its callback
 * asks to stop. */
jvae_status jvae_factor_encode(const jvae_factor_code *code, const int32_t *factors, int count,
                               float *codes, jvae_progress *progress, const char *fn);

/* Images the FactorVAE metric will encode with these settings: the variance
 * items plus (train_votes + eval_votes)·L. Checks code and options first.
 * Errors: as jvae_factorvae_score's checks, OVERFLOW (more than 2^31 factor
 * combinations with variance_images 0, or either part past 2^60 images). */
jvae_status jvae_factorvae_images(int64_t *images, const jvae_factor_code *code,
                                  const jvae_factorvae_options *options, const char *fn);

/* The progress of `total` images reported to checked options' callback (none
 * for version 1 options, which predate it). */
jvae_progress jvae_factorvae_progress(const jvae_factorvae_options *options, int64_t total);

/* jvae_factorvae_score with its encoded images counted into progress (set up
 * by the caller, whose own images may come before). */
jvae_status jvae_factorvae_score_counted(jvae_factorvae_result *out, const jvae_factor_code *code,
                                         const jvae_factorvae_options *options,
                                         jvae_progress *progress, const char *fn);

/* Gini variance of count labels given their per-category counts (K values):
 * (N² − Σ n_k²) / (2·N·(N − 1)); 0 for N < 2. */
double jvae_gini_variance(const int64_t *counts, int categories, int64_t n);

#endif
