/* Internal: walk the first items of a data set in batches and encode them —
 * the common loop of the metrics that take a model and a data set. */
#ifndef JVAE_METRICS_ENCODING_H
#define JVAE_METRICS_ENCODING_H

#include "jointvae/data.h"
#include "jointvae/model.h"

typedef struct jvae_encoding_walk {
    const char *fn;
    const jvae_model *model;
    const jvae_dataset *data;
    int64_t total, next;
    int64_t stride; /* walk item k is data item k·stride, so a subset spreads over the set */
    int batch, n_continuous, discrete_dim, label_count;
    int64_t *indices;         /* (batch) */
    jvae_tensor *images;      /* (batch, C, H, W) */
    float *mu_data;           /* (batch, Dz) of the current batch; NULL when Dz = 0 */
    float *logvar_data;       /* (batch, Dz); NULL when Dz = 0 */
    float *alpha_data;        /* (batch, ΣK); NULL when ΣK = 0 */
    int32_t *labels;          /* (batch, label_count); NULL without labels */
} jvae_encoding_walk;

/* Number of items to use: min(size, max_images), or size when max_images is 0.
 * Errors: INVALID_ARGUMENT (max_images < 0, batch < 1, empty data set). */
jvae_status jvae_encoding_count(const char *fn, const jvae_dataset *data, int64_t max_images,
                                int batch, int64_t *count);

/* Prepare to encode items 0 .. total−1 of data, `batch` at a time. walk must
 * be zeroed before (so jvae_encoding_walk_end is safe after any failure).
 * Errors: SHAPE (data set images are not the model's shape), OUT_OF_MEMORY. */
jvae_status jvae_encoding_walk_begin(jvae_encoding_walk *walk, const char *fn,
                                     const jvae_model *model, const jvae_dataset *data,
                                     int64_t total, int batch);

/* Read and encode the next batch; *count receives its size (0 at the end).
 * Errors: those of jvae_dataset_read_batch and jvae_encode. */
jvae_status jvae_encoding_walk_next(jvae_encoding_walk *walk, int *count);

void jvae_encoding_walk_end(jvae_encoding_walk *walk);

/* Add the KL of `count` encodings to sums (Dz + n_discrete values, unit
 * order): continuous −0.5·(1 + logvar − μ² − exp(logvar)), discrete
 * log K − H(α). mu/logvar (count, Dz), alpha (count, ΣK); either may be NULL
 * when its part is empty. */
void jvae_kl_accumulate(double *sums, const jvae_model_options *options, const float *mu,
                        const float *logvar, const float *alpha, int count);

#endif
