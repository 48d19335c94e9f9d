/*
 * Inference: encode, decode, latents and prior samples. These calls only read
 * the model; each allocates its own working memory, so any number of threads
 * may run them on one model at once. A call shares its batch among
 * options.threads workers of its own in chunks of at most JVAE_INFER_CHUNK
 * images (and no more than an even share, so that every worker has one):
 * each worker runs whole chunks, with the one-thread kernels, in memory of
 * its own that it reuses chunk by chunk, so memory stays bounded for any
 * batch and no pass waits for another thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fp_mode.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "model/latent.h"
#include "model/model.h"
#include "model/network.h"

#define JVAE_INFER_CHUNK 32

/* How a call on n images is shared: `workers` workers take chunks q,
 * q + workers, ... of `chunk` images. Splitting whole chunks instead of each
 * pass of a chunk spared 2-thread encoding its waits between passes. */
typedef struct infer_split {
    int chunk, workers;
    int64_t chunks;
} infer_split;

static infer_split split_of(const jvae_model *m, int64_t n)
{
    infer_split s;
    const int64_t threads = m->options.threads;
    int64_t chunk = (n + threads - 1) / threads;
    if (chunk > JVAE_INFER_CHUNK) chunk = JVAE_INFER_CHUNK;
    if (chunk < 1) chunk = 1;
    s.chunk = (int)chunk;
    s.chunks = (n + chunk - 1) / chunk;
    s.workers = (int)(threads < s.chunks ? threads : s.chunks);
    if (s.workers < 1) s.workers = 1;
    return s;
}

/* Encoder buffers for a chunk of c images over base (counting only when base
 * is NULL); consecutive stages alternate between two buffers. 0 on overflow. */
static int plan_encode(const jvae_model *m, int c, float *base, jvae_encoder_buffers *b,
                       size_t *floats)
{
    jvae_carver carver = {base, 0, 0};
    const size_t n = (size_t)c;
    const size_t scratch = jvae_network_scratch_floats(m, c, 1);
    float *ping = jvae_carve(&carver, n, jvae_encoder_max_floats(m));
    float *pong = jvae_carve(&carver, n, jvae_encoder_max_floats(m));
    for (int s = 0; s < m->stages; s++) b->act[s] = s % 2 ? pong : ping;
    b->hidden = jvae_carve(&carver, n, (size_t)m->options.hidden);
    b->mu = jvae_carve(&carver, n, (size_t)m->options.n_continuous);
    b->logvar = jvae_carve(&carver, n, (size_t)m->options.n_continuous);
    b->alpha = jvae_carve(&carver, n, (size_t)m->discrete_dim);
    b->head_blocks = jvae_carve(&carver, n, (size_t)m->discrete_dim);
    b->scratch = jvae_carve(&carver, scratch, 1);
    *floats = carver.used;
    return !carver.overflow && scratch > 0;
}

static int plan_decode(const jvae_model *m, int c, float *base, jvae_decoder_buffers *b,
                       size_t *floats)
{
    jvae_carver carver = {base, 0, 0};
    const size_t n = (size_t)c;
    const size_t scratch = jvae_network_scratch_floats(m, c, 1);
    float *ping = jvae_carve(&carver, n, jvae_decoder_max_floats(m));
    float *pong = jvae_carve(&carver, n, jvae_decoder_max_floats(m));
    for (int s = 0; s < m->stages; s++) b->act[s] = s % 2 ? pong : ping;
    b->hidden = jvae_carve(&carver, n, (size_t)m->options.hidden);
    b->features = jvae_carve(&carver, n, JVAE_FEATURES);
    b->scratch = jvae_carve(&carver, scratch, 1);
    *floats = carver.used;
    return !carver.overflow && scratch > 0;
}

/* Allocate `workers` copies of the floats a plan asks for. */
static jvae_status allocate_plan(const char *fn, int planned, size_t floats, int workers,
                                 float **out)
{
    size_t all, bytes;
    if (!planned || !jvae_mul_ok(floats, (size_t)workers, &all) ||
        !jvae_mul_ok(all, sizeof(float), &bytes))
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: the working memory size overflows", fn);
    *out = malloc(bytes);
    if (*out == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", fn, bytes);
    return JVAE_OK;
}

/* The call's own workers (NULL for one), so concurrent calls never share a
 * pool. A call on one chunk gets none: starting the helpers cost more than
 * they could gain (encoding one MNIST image took 140 us on 1 thread and 235
 * us on 2, nearly all of the difference in thread creation). */
static jvae_status make_pool(const char *fn, const infer_split *split, jvae_pool **out)
{
    *out = NULL;
    return split->workers > 1 ? jvae_pool_create(out, split->workers, fn) : JVAE_OK;
}

jvae_status jvae_model_infer_bytes(const jvae_model *model, int batch, size_t *bytes)
{
    static const char *fn = "jvae_model_infer_bytes";
    JVAE_CHECK_NOT_NULL(model, fn);
    JVAE_CHECK_NOT_NULL(bytes, fn);
    if (batch < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: batch must be >= 1, got %d", fn, batch);
    jvae_encoder_buffers enc;
    jvae_decoder_buffers dec;
    size_t enc_floats, dec_floats, all, most;
    const infer_split split = split_of(model, batch);
    if (!plan_encode(model, split.chunk, NULL, &enc, &enc_floats) ||
        !plan_decode(model, split.chunk, NULL, &dec, &dec_floats) ||
        !jvae_mul_ok(enc_floats > dec_floats ? enc_floats : dec_floats, (size_t)split.workers,
                     &all) ||
        !jvae_mul_ok(all, sizeof(float), &most))
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: the working memory size overflows", fn);
    *bytes = most;
    return JVAE_OK;
}

/* Every value finite, else NUMERIC naming the tensor and the index. */
static jvae_status expect_finite(const char *fn, const char *what, const jvae_tensor *t)
{
    /* The scan that vectorises (a loop that returns at the first bad value
     * does not): 2 % of encoding a batch otherwise. */
    const size_t i = jvae_pool_first_non_finite(NULL, t->data, t->numel);
    if (i < t->numel)
        return jvae_fail(JVAE_ERR_NUMERIC, "%s: %s[%zu] is %g", fn, what, i, (double)t->data[i]);
    return JVAE_OK;
}

/* A (n, cols) tensor check with the caller's name in the message. */
static jvae_status expect_matrix(const char *fn, const char *what, const jvae_tensor *t,
                                 int64_t n, int64_t cols)
{
    if (t == NULL) return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, what);
    char label[96];
    snprintf(label, sizeof label, "%s: %s", fn, what);
    const int64_t shape[2] = {n, cols};
    return jvae_tensor_expect(t, label, 2, shape);
}

static jvae_status expect_images(const char *fn, const jvae_model *m, const jvae_tensor *t,
                                 int64_t n)
{
    if (t == NULL) return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: images is NULL", fn);
    char label[96];
    snprintf(label, sizeof label, "%s: images", fn);
    const int64_t shape[4] = {n, m->options.channels, m->options.height, m->options.width};
    return jvae_tensor_expect(t, label, 4, shape);
}

/* Copy rows [0, n) of a (n, cols) block into rows [row, row + n) of dst. */
static void put_rows(jvae_tensor *dst, int64_t row, const float *src, int n, int cols)
{
    if (dst == NULL || cols == 0) return;
    memcpy(dst->data + (size_t)row * cols, src, (size_t)n * cols * sizeof(float));
}

/* What the workers of one encoding call share. */
typedef struct encode_job {
    const jvae_model *m;
    const float *images;
    int64_t n;
    infer_split split;
    float *block;  /* split.workers working areas of `floats` each */
    size_t floats;
    jvae_tensor *mu, *logvar, *alpha;
} encode_job;

static void encode_worker(void *context, int worker, int workers)
{
    const encode_job *j = context;
    const jvae_model *m = j->m;
    jvae_encoder_buffers b;
    size_t floats;
    plan_encode(m, j->split.chunk, j->block + (size_t)worker * j->floats, &b, &floats);
    b.pool = NULL;
    const size_t pixels = (size_t)m->options.channels * m->options.height *
                          (size_t)m->options.width;
    const int dz = m->options.n_continuous, width = m->discrete_dim;
    for (int64_t q = worker; q < j->split.chunks; q += workers) {
        const int64_t start = q * j->split.chunk;
        const int count = (int)(j->n - start < j->split.chunk ? j->n - start : j->split.chunk);
        jvae_encoder_forward(m, count, j->images + (size_t)start * pixels, &b);
        put_rows(j->mu, start, b.mu, count, dz);
        put_rows(j->logvar, start, b.logvar, count, dz);
        put_rows(j->alpha, start, b.alpha, count, width);
    }
}

static jvae_status encode_flushed(const jvae_model *model, const jvae_tensor *images,
                                  jvae_tensor *mu, jvae_tensor *logvar, jvae_tensor *alpha)
{
    static const char *fn = "jvae_encode";
    JVAE_CHECK_NOT_NULL(model, fn);
    jvae_status st = expect_images(fn, model, images, -1);
    if (st) return st;
    const int64_t n = images->shape[0];
    const int dz = model->options.n_continuous, width = model->discrete_dim;
    if (dz == 0) mu = logvar = NULL;
    if (width == 0) alpha = NULL;
    if ((mu != NULL && (st = expect_matrix(fn, "mu", mu, n, dz))) ||
        (logvar != NULL && (st = expect_matrix(fn, "logvar", logvar, n, dz))) ||
        (alpha != NULL && (st = expect_matrix(fn, "alpha", alpha, n, width))) ||
        (st = expect_finite(fn, "images", images)))
        return st;

    const infer_split split = split_of(model, n);
    jvae_encoder_buffers unused;
    size_t floats;
    float *block = NULL;
    const int planned = plan_encode(model, split.chunk, NULL, &unused, &floats);
    if ((st = allocate_plan(fn, planned, floats, split.workers, &block))) return st;
    encode_job job = {.m = model, .images = images->data, .n = n, .split = split, .block = block,
                      .floats = floats, .mu = mu, .logvar = logvar, .alpha = alpha};
    jvae_pool *pool = NULL;
    if ((st = make_pool(fn, &split, &pool))) {
        free(block);
        return st;
    }
    jvae_pool_run(pool, split.workers, encode_worker, &job);
    jvae_pool_free(pool);
    free(block);
    return JVAE_OK;
}

jvae_status jvae_encode(const jvae_model *model, const jvae_tensor *images, jvae_tensor *mu,
                        jvae_tensor *logvar, jvae_tensor *alpha)
{
    const jvae_fp_mode fp = jvae_fp_enter();
    const jvae_status st = encode_flushed(model, images, mu, logvar, alpha);
    jvae_fp_leave(fp);
    return st;
}

/* Inputs of the latent calls: mu (N, Dz) when Dz > 0, alpha (N, ΣK) with
 * values in [0, 1] when ΣK > 0, latent (N, L). */
static jvae_status check_latent_inputs(const char *fn, const jvae_model *m, const jvae_tensor *mu,
                                       const jvae_tensor *logvar, int need_logvar,
                                       const jvae_tensor *alpha, const jvae_tensor *latent)
{
    jvae_status st;
    if ((st = expect_matrix(fn, "latent", latent, -1, m->latent_dim))) return st;
    const int64_t n = latent->shape[0];
    if (m->options.n_continuous > 0) {
        if ((st = expect_matrix(fn, "mu", mu, n, m->options.n_continuous)) ||
            (st = expect_finite(fn, "mu", mu)))
            return st;
        if (need_logvar && ((st = expect_matrix(fn, "logvar", logvar, n, m->options.n_continuous)) ||
                            (st = expect_finite(fn, "logvar", logvar))))
            return st;
    }
    if (m->discrete_dim > 0) {
        if ((st = expect_matrix(fn, "alpha", alpha, n, m->discrete_dim)) ||
            (st = expect_finite(fn, "alpha", alpha)))
            return st;
        for (size_t i = 0; i < alpha->numel; i++)
            if (alpha->data[i] < 0.0f || alpha->data[i] > 1.0f)
                return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                                 "%s: alpha[%zu] = %g is not a probability", fn, i,
                                 (double)alpha->data[i]);
    }
    return JVAE_OK;
}

jvae_status jvae_latent_deterministic(const jvae_model *model, const jvae_tensor *mu,
                                      const jvae_tensor *alpha, jvae_tensor *latent)
{
    static const char *fn = "jvae_latent_deterministic";
    JVAE_CHECK_NOT_NULL(model, fn);
    jvae_status st = check_latent_inputs(fn, model, mu, NULL, 0, alpha, latent);
    if (st) return st;
    const int dz = model->options.n_continuous, width = model->discrete_dim;
    const int cols = model->latent_dim;
    for (int64_t i = 0; i < latent->shape[0]; i++) {
        float *row = latent->data + (size_t)i * cols;
        memset(row, 0, (size_t)cols * sizeof(float));
        if (dz > 0) memcpy(row, mu->data + (size_t)i * dz, (size_t)dz * sizeof(float));
        for (int v = 0; v < model->options.n_discrete; v++) {
            const int off = model->disc_offset[v];
            const float *a = alpha->data + (size_t)i * width + off;
            row[dz + off + jvae_argmax_first(a, model->options.discrete_sizes[v])] = 1.0f;
        }
    }
    return JVAE_OK;
}

static jvae_status latent_sample_flushed(const jvae_model *model, const jvae_tensor *mu,
                                         const jvae_tensor *logvar, const jvae_tensor *alpha,
                                         uint64_t seed, jvae_tensor *latent)
{
    static const char *fn = "jvae_latent_sample";
    JVAE_CHECK_NOT_NULL(model, fn);
    jvae_status st = check_latent_inputs(fn, model, mu, logvar, 1, alpha, latent);
    if (st) return st;
    const int dz = model->options.n_continuous, width = model->discrete_dim;
    const int cols = model->latent_dim;
    float *noise = malloc((size_t)cols * sizeof(float)); /* one row: eps (Dz), uniform (ΣK) */
    if (noise == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %d floats", fn, cols);
    jvae_rng rng;
    jvae_rng_seed(&rng, seed);
    for (int64_t i = 0; i < latent->shape[0]; i++) {
        float *row = latent->data + (size_t)i * cols;
        jvae_draw_latent_noise(&rng, noise, dz, noise + dz, width);
        if (dz > 0)
            jvae_reparam_forward(row, cols, mu->data + (size_t)i * dz,
                                 logvar->data + (size_t)i * dz, noise, 1, dz);
        for (int v = 0; v < model->options.n_discrete; v++) {
            const int off = model->disc_offset[v];
            jvae_gumbel_softmax_forward(row + dz + off, cols,
                                        alpha->data + (size_t)i * width + off, noise + dz + off,
                                        width, 1, model->options.discrete_sizes[v],
                                        model->options.temperature);
        }
    }
    free(noise);
    return JVAE_OK;
}

jvae_status jvae_latent_sample(const jvae_model *model, const jvae_tensor *mu,
                               const jvae_tensor *logvar, const jvae_tensor *alpha,
                               uint64_t seed, jvae_tensor *latent)
{
    const jvae_fp_mode fp = jvae_fp_enter();
    const jvae_status st = latent_sample_flushed(model, mu, logvar, alpha, seed, latent);
    jvae_fp_leave(fp);
    return st;
}

/* What the workers of one decoding call share. */
typedef struct decode_job {
    const jvae_model *m;
    const float *latent;
    int64_t n;
    infer_split split;
    float *block; /* split.workers working areas of `floats` each */
    size_t floats;
    float *images;
} decode_job;

static void decode_worker(void *context, int worker, int workers)
{
    const decode_job *j = context;
    const jvae_model *m = j->m;
    jvae_decoder_buffers b;
    size_t floats;
    plan_decode(m, j->split.chunk, j->block + (size_t)worker * j->floats, &b, &floats);
    b.pool = NULL;
    const size_t pixels = (size_t)m->options.channels * m->options.height *
                          (size_t)m->options.width;
    for (int64_t q = worker; q < j->split.chunks; q += workers) {
        const int64_t start = q * j->split.chunk;
        const int count = (int)(j->n - start < j->split.chunk ? j->n - start : j->split.chunk);
        jvae_decoder_forward(m, count, j->latent + (size_t)start * m->latent_dim, &b);
        jvae_pool_sigmoid_forward(NULL, j->images + (size_t)start * pixels,
                                  b.act[m->stages - 1], (size_t)count * pixels);
    }
}

static jvae_status decode_rows_flushed(const char *fn, const jvae_model *m, const float *latent,
                                       int64_t n, float *images)
{
    const infer_split split = split_of(m, n);
    jvae_decoder_buffers unused;
    size_t floats;
    float *block = NULL;
    const int planned = plan_decode(m, split.chunk, NULL, &unused, &floats);
    jvae_status st = allocate_plan(fn, planned, floats, split.workers, &block);
    if (st) return st;
    decode_job job = {.m = m, .latent = latent, .n = n, .split = split, .block = block,
                      .floats = floats, .images = images};
    jvae_pool *pool = NULL;
    if ((st = make_pool(fn, &split, &pool))) {
        free(block);
        return st;
    }
    jvae_pool_run(pool, split.workers, decode_worker, &job);
    jvae_pool_free(pool);
    free(block);
    return JVAE_OK;
}

/* latent (n, L) → images (n, C, H, W) in [0, 1], chunk by chunk, with
 * denormals flushed (core/fp_mode.h). */
static jvae_status decode_rows(const char *fn, const jvae_model *m, const float *latent,
                               int64_t n, float *images)
{
    const jvae_fp_mode fp = jvae_fp_enter();
    const jvae_status st = decode_rows_flushed(fn, m, latent, n, images);
    jvae_fp_leave(fp);
    return st;
}

jvae_status jvae_decode(const jvae_model *model, const jvae_tensor *latent, jvae_tensor *images)
{
    static const char *fn = "jvae_decode";
    JVAE_CHECK_NOT_NULL(model, fn);
    jvae_status st = expect_matrix(fn, "latent", latent, -1, model->latent_dim);
    if (st) return st;
    const int64_t n = latent->shape[0];
    if ((st = expect_images(fn, model, images, n)) || (st = expect_finite(fn, "latent", latent)))
        return st;
    return decode_rows(fn, model, latent->data, n, images->data);
}

static jvae_status sample_prior_flushed(const jvae_model *model, uint64_t seed,
                                        const int *fixed_categories, jvae_tensor *latent,
                                        jvae_tensor *images)
{
    static const char *fn = "jvae_sample_prior";
    JVAE_CHECK_NOT_NULL(model, fn);
    jvae_status st = expect_matrix(fn, "latent", latent, -1, model->latent_dim);
    if (st) return st;
    const int64_t n = latent->shape[0];
    if (images != NULL && (st = expect_images(fn, model, images, n))) return st;
    const int dz = model->options.n_continuous, nd = model->options.n_discrete;
    if (fixed_categories != NULL)
        for (int v = 0; v < nd; v++)
            if (fixed_categories[v] >= model->options.discrete_sizes[v])
                return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                                 "%s: fixed_categories[%d] = %d is outside 0..%d (negative "
                                 "draws it at random)",
                                 fn, v, fixed_categories[v],
                                 model->options.discrete_sizes[v] - 1);
    jvae_rng rng;
    jvae_rng_seed(&rng, seed);
    const int cols = model->latent_dim;
    for (int64_t i = 0; i < n; i++) {
        float *row = latent->data + (size_t)i * cols;
        memset(row, 0, (size_t)cols * sizeof(float));
        for (int j = 0; j < dz; j++) row[j] = jvae_rng_normal(&rng);
        /* Every variable is drawn even when fixed, so fixing one leaves the
         * others' samples unchanged. */
        for (int v = 0; v < nd; v++) {
            int category = (int)jvae_rng_below(&rng, (uint64_t)model->options.discrete_sizes[v]);
            if (fixed_categories != NULL && fixed_categories[v] >= 0)
                category = fixed_categories[v];
            row[dz + model->disc_offset[v] + category] = 1.0f;
        }
    }
    if (images == NULL) return JVAE_OK;
    return decode_rows(fn, model, latent->data, n, images->data);
}

jvae_status jvae_sample_prior(const jvae_model *model, uint64_t seed,
                              const int *fixed_categories, jvae_tensor *latent,
                              jvae_tensor *images)
{
    const jvae_fp_mode fp = jvae_fp_enter();
    const jvae_status st = sample_prior_flushed(model, seed, fixed_categories, latent, images);
    jvae_fp_leave(fp);
    return st;
}
