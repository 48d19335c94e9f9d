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

/* Call code->encode and check its output: NUMERIC for NaN/Inf, INVALID_ARGUMENT
 * for an index dim holding something other than an integer in 0..K−1. */
jvae_status jvae_factor_encode(const jvae_factor_code *code, const int32_t *factors, int count,
                               float *codes, const char *fn);

/* Gini variance of count labels given their per-category counts (K values):
 * (N² − Σ n_k²) / (2·N·(N − 1)); 0 for N < 2. */
double jvae_gini_variance(const int64_t *counts, int categories, int64_t n);

#endif
