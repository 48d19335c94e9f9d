/*
 * Internal: the encoder and decoder passes of the model over a batch of n
 * images, on buffers the caller provides (the training workspace, or the
 * per-call memory of an inference call). Nothing here allocates. The conv
 * kernels run on the buffers' pool, so scratch must be sized for its thread
 * count.
 * Legend as in model/model.h.
 */
#ifndef JVAE_MODEL_NETWORK_H
#define JVAE_MODEL_NETWORK_H

#include "model/model.h"

/* Buffers of one encoder pass. act[s] receives stage s's output after ReLU;
 * inference may point consecutive stages at two alternating buffers. */
typedef struct jvae_encoder_buffers {
    float *act[JVAE_MAX_STAGES]; /* (n, c_s, h_s, w_s) */
    float *hidden;               /* (n, Hd) */
    float *mu, *logvar;          /* (n, Dz); unused when Dz = 0 */
    float *alpha;                /* (n, ΣK) probabilities; unused when ΣK = 0 */
    float *head_blocks;          /* ΣK·n: the alpha logits, variable by variable */
    float *scratch;              /* jvae_network_scratch_floats(m, n, pool's threads) */
    jvae_pool *pool;             /* the conv kernels' workers; NULL for one thread */
} jvae_encoder_buffers;

/* Buffers of one decoder pass; act[S − 1] receives the logits (n, C, H, W). */
typedef struct jvae_decoder_buffers {
    float *hidden;               /* (n, Hd) */
    float *features;             /* (n, F) */
    float *act[JVAE_MAX_STAGES]; /* (n, c_s, h_s, w_s) */
    float *scratch;
    jvae_pool *pool;
} jvae_decoder_buffers;

/* images (n, C, H, W) → the encoder buffers. */
void jvae_encoder_forward(const jvae_model *m, int n, const float *images,
                          const jvae_encoder_buffers *b);
/* latent (n, L) → the decoder buffers, logits last. */
void jvae_decoder_forward(const jvae_model *m, int n, const float *latent,
                          const jvae_decoder_buffers *b);

/* The geometry of a conv stage for a batch of n. */
jvae_conv_dims jvae_stage_dims(const jvae_conv_layer *layer, int n);

/* Floats per image of a stage's output. */
size_t jvae_stage_floats(const jvae_conv_layer *layer);

/* Largest per-image activation of the encoder and of the decoder (including
 * the F features and the Hd hidden vectors). */
size_t jvae_encoder_max_floats(const jvae_model *m);
size_t jvae_decoder_max_floats(const jvae_model *m);

/* Scratch floats any conv kernel of the model needs for a batch of n on
 * `threads` threads, forward or backward; 0 when the batch makes a geometry
 * overflow (see nn's dims_init). */
size_t jvae_network_scratch_floats(const jvae_model *m, int n, int threads);

/* Element-wise passes shared by the pool's workers in contiguous blocks
 * (NULL pool: the caller alone). Each value's result is the same whichever
 * worker computes it, so the bits do not depend on the thread count. Same
 * contracts as the nn kernels of the same names. */
void jvae_pool_relu_forward(jvae_pool *pool, float *out, const float *in, size_t count);
void jvae_pool_relu_backward_store(jvae_pool *pool, float *din, const float *dout,
                                   const float *out, size_t count);
void jvae_pool_sigmoid_forward(jvae_pool *pool, float *out, const float *in, size_t count);
/* out[0 .. count) = 0, split only from 256 K values (1 MB) on. */
void jvae_pool_zero(jvae_pool *pool, float *out, size_t count);
void jvae_pool_bce_logits_backward(jvae_pool *pool, float *dlogits, const float *logits,
                                   const float *targets, size_t count, float scale);

/* jvae_bce_logits_forward with the images shared by the pool's workers: each
 * image's double sum is computed whole by one worker, and the caller adds them
 * in image order, so per_image and the total are the same bits for any thread
 * count (and equal jvae_bce_logits_forward's). */
double jvae_pool_bce_logits_forward(jvae_pool *pool, float *per_image, const float *logits,
                                    const float *targets, int n, size_t pixels);

/* The lowest i < count with values[i] NaN or ±Inf, or count when all are
 * finite; from 256 K values on, the pool's workers scan contiguous blocks. */
size_t jvae_pool_first_non_finite(jvae_pool *pool, const float *values, size_t count);

/* Workers an element-wise pass over count values uses: 1 below 32 K values
 * (waking a worker costs about as much as such a pass), else all of the
 * pool's. */
int jvae_pool_value_workers(const jvae_pool *pool, size_t count);

/* Worker w's block [*begin, *begin + *count) of `total` values split over
 * `workers`: block edges fall on multiples of 16 values, so every block but
 * the last stays vector-aligned, and blocks are in worker order. */
void jvae_aligned_block(size_t total, int worker, int workers, size_t *begin, size_t *count);

/* Bump allocator over one block: carve() hands out 16-float aligned pieces,
 * counting only when base is NULL; overflow latches. */
typedef struct jvae_carver {
    float *base;
    size_t used;
    int overflow;
} jvae_carver;

float *jvae_carve(jvae_carver *c, size_t count, size_t times);

#endif
