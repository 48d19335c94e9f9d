/* The encoder and decoder passes, composed from nn's kernels. */
#include "model/network.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "model/latent.h"

jvae_conv_dims jvae_stage_dims(const jvae_conv_layer *layer, int n)
{
    jvae_conv_dims d = layer->dims;
    d.batch = n;
    return d;
}

size_t jvae_stage_floats(const jvae_conv_layer *layer)
{
    return (size_t)layer->dims.out_c * (size_t)layer->dims.out_h * (size_t)layer->dims.out_w;
}

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

size_t jvae_encoder_max_floats(const jvae_model *m)
{
    size_t most = max_size(JVAE_FEATURES, (size_t)m->options.hidden);
    for (int s = 0; s < m->stages; s++) most = max_size(most, jvae_stage_floats(&m->encoder[s]));
    return most;
}

size_t jvae_decoder_max_floats(const jvae_model *m)
{
    size_t most = max_size(JVAE_FEATURES, (size_t)m->options.hidden);
    most = max_size(most, (size_t)m->latent_dim);
    for (int s = 0; s < m->stages; s++) most = max_size(most, jvae_stage_floats(&m->decoder[s]));
    return most;
}

size_t jvae_network_scratch_floats(const jvae_model *m, int n, int threads)
{
    size_t most = 0;
    for (int s = 0; s < m->stages; s++) {
        const jvae_conv_dims *e = &m->encoder[s].dims, *d = &m->decoder[s].dims;
        jvae_conv_dims check;
        if (jvae_conv_dims_init(&check, n, e->in_c, e->in_h, e->in_w, e->out_c, e->k_h, e->k_w,
                                e->stride, e->pad) != 0 ||
            jvae_conv_transpose_dims_init(&check, n, d->in_c, d->in_h, d->in_w, d->out_c,
                                          d->k_h, d->k_w, d->stride, d->pad) != 0)
            return 0;
        const jvae_conv_dims enc = jvae_stage_dims(&m->encoder[s], n);
        const jvae_conv_dims dec = jvae_stage_dims(&m->decoder[s], n);
        most = max_size(most, jvae_conv2d_scratch_floats_mt(&enc, threads));
        most = max_size(most, jvae_conv2d_transpose_scratch_floats_mt(&dec, threads));
    }
    return most;
}

float *jvae_carve(jvae_carver *c, size_t count, size_t times)
{
    size_t floats, padded, end;
    if (!jvae_mul_ok(count, times, &floats) || !jvae_add_ok(floats, 15, &padded) ||
        !jvae_add_ok(c->used, padded / 16 * 16, &end)) {
        c->overflow = 1;
        return NULL;
    }
    float *piece = c->base != NULL ? c->base + c->used : NULL;
    c->used = end;
    return piece;
}

/* Below this many values a pass stays on the caller: waking a worker costs
 * microseconds, a pass of 32 K values about as much. */
#define PARALLEL_MIN_VALUES ((size_t)32 * 1024)

void jvae_aligned_block(size_t total, int worker, int workers, size_t *begin, size_t *count)
{
    const size_t units = (total + 15) / 16;
    const size_t first = units * (size_t)worker / (size_t)workers * 16;
    size_t last = units * ((size_t)worker + 1) / (size_t)workers * 16;
    if (last > total) last = total;
    *begin = first < last ? first : last;
    *count = last - *begin;
}

int jvae_pool_value_workers(const jvae_pool *pool, size_t count)
{
    return count < PARALLEL_MIN_VALUES ? 1 : jvae_pool_threads(pool);
}

/* Passes that only stream memory (zeroing, the finiteness scan) take a
 * fraction of a nanosecond a value, so they need far more values than a
 * computing pass to pay for a pool round trip (13 us with idle cores): a
 * megabyte. */
#define STREAMING_MIN_VALUES ((size_t)256 * 1024)

static int streaming_workers(const jvae_pool *pool, size_t count)
{
    return count < STREAMING_MIN_VALUES ? 1 : jvae_pool_threads(pool);
}

typedef struct elementwise_job {
    float *out;
    const float *a, *b, *c;
    size_t count;
    float scale;
    void (*unary)(float *out, const float *in, size_t count); /* for unary_worker */
} elementwise_job;

/* out = unary(a), the job's operation, over this worker's block. */
static void unary_worker(void *context, int worker, int workers)
{
    const elementwise_job *j = context;
    size_t begin, count;
    jvae_aligned_block(j->count, worker, workers, &begin, &count);
    j->unary(j->out + begin, j->a + begin, count);
}

static void zero_worker(void *context, int worker, int workers)
{
    const elementwise_job *j = context;
    size_t begin, count;
    jvae_aligned_block(j->count, worker, workers, &begin, &count);
    memset(j->out + begin, 0, count * sizeof *j->out);
}

void jvae_pool_zero(jvae_pool *pool, float *out, size_t count)
{
    elementwise_job job = {.out = out, .count = count};
    jvae_pool_run(pool, streaming_workers(pool, count), zero_worker, &job);
}

void jvae_pool_relu_forward(jvae_pool *pool, float *out, const float *in, size_t count)
{
    elementwise_job job = {.out = out, .a = in, .count = count, .unary = jvae_relu_forward};
    jvae_pool_run(pool, jvae_pool_value_workers(pool, count), unary_worker, &job);
}

static void relu_backward_store_worker(void *context, int worker, int workers)
{
    const elementwise_job *j = context;
    size_t begin, count;
    jvae_aligned_block(j->count, worker, workers, &begin, &count);
    jvae_relu_backward_store(j->out + begin, j->a + begin, j->b + begin, count);
}

void jvae_pool_relu_backward_store(jvae_pool *pool, float *din, const float *dout,
                                   const float *out, size_t count)
{
    elementwise_job job = {.out = din, .a = dout, .b = out, .count = count};
    jvae_pool_run(pool, jvae_pool_value_workers(pool, count), relu_backward_store_worker, &job);
}

void jvae_pool_sigmoid_forward(jvae_pool *pool, float *out, const float *in, size_t count)
{
    elementwise_job job = {.out = out, .a = in, .count = count, .unary = jvae_sigmoid_forward};
    jvae_pool_run(pool, jvae_pool_value_workers(pool, count), unary_worker, &job);
}

static void bce_backward_worker(void *context, int worker, int workers)
{
    const elementwise_job *j = context;
    size_t begin, count;
    jvae_aligned_block(j->count, worker, workers, &begin, &count);
    jvae_bce_logits_backward(j->out + begin, j->a + begin, j->b + begin, count, j->scale);
}

void jvae_pool_bce_logits_backward(jvae_pool *pool, float *dlogits, const float *logits,
                                   const float *targets, size_t count, float scale)
{
    elementwise_job job = {.out = dlogits, .a = logits, .b = targets, .count = count,
                           .scale = scale};
    jvae_pool_run(pool, jvae_pool_value_workers(pool, count), bce_backward_worker, &job);
}

/* Images whose BCE sums one pool run computes: their doubles wait on the
 * caller's stack (2 KB) to be added in image order. */
#define BCE_CHUNK_IMAGES 256
/* A BCE value costs tens of nanoseconds (double exp and log1p), so a few
 * thousand of them outweigh a worker's wake-up. */
#define BCE_MIN_VALUES_PER_WORKER ((size_t)4096)

typedef struct bce_forward_job {
    double *sums;
    const float *logits, *targets;
    int n;
    size_t pixels;
} bce_forward_job;

static void bce_forward_worker(void *context, int worker, int workers)
{
    const bce_forward_job *j = context;
    int begin, end;
    jvae_pool_block(j->n, worker, workers, &begin, &end);
    jvae_bce_logits_image_sums(j->sums + begin, j->logits + (size_t)begin * j->pixels,
                               j->targets + (size_t)begin * j->pixels, end - begin, j->pixels);
}

double jvae_pool_bce_logits_forward(jvae_pool *pool, float *per_image, const float *logits,
                                    const float *targets, int n, size_t pixels)
{
    double sums[BCE_CHUNK_IMAGES];
    double total = 0.0;
    for (int first = 0; first < n; first += BCE_CHUNK_IMAGES) {
        const int count = n - first < BCE_CHUNK_IMAGES ? n - first : BCE_CHUNK_IMAGES;
        const size_t affordable = (size_t)count * pixels / BCE_MIN_VALUES_PER_WORKER;
        int workers = jvae_pool_threads(pool);
        if ((size_t)workers > affordable) workers = affordable < 1 ? 1 : (int)affordable;
        if (workers > count) workers = count;
        bce_forward_job job = {.sums = sums, .logits = logits + (size_t)first * pixels,
                               .targets = targets + (size_t)first * pixels, .n = count,
                               .pixels = pixels};
        jvae_pool_run(pool, workers, bce_forward_worker, &job);
        for (int i = 0; i < count; i++) {
            if (per_image != NULL) per_image[first + i] = (float)sums[i];
            total += sums[i];
        }
    }
    return total;
}

/* The scan uses at most this many workers: a few already read memory as
 * fast as it comes, and their results fit on the caller's stack. */
#define SCAN_MAX_WORKERS 64

typedef struct scan_job {
    const float *values;
    size_t count;
    size_t first_bad[SCAN_MAX_WORKERS]; /* per worker; count when its block is finite */
} scan_job;

/* Values a scan tests at once before it looks for which one was bad. */
#define SCAN_CHUNK 1024

/* Whether any of count values is NaN or ±Inf (all exponent bits set): an OR
 * of integer tests, which the compiler vectorises, unlike a loop that stops
 * at the first hit. */
static int any_non_finite(const float *values, size_t count)
{
    uint32_t any = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        any |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return any != 0;
}

static void scan_worker(void *context, int worker, int workers)
{
    scan_job *j = context;
    size_t begin, count;
    jvae_aligned_block(j->count, worker, workers, &begin, &count);
    j->first_bad[worker] = j->count;
    for (size_t chunk = begin; chunk < begin + count; chunk += SCAN_CHUNK) {
        const size_t left = begin + count - chunk;
        const size_t size = left < SCAN_CHUNK ? left : SCAN_CHUNK;
        if (!any_non_finite(j->values + chunk, size)) continue;
        for (size_t i = chunk; i < chunk + size; i++)
            if (!isfinite(j->values[i])) {
                j->first_bad[worker] = i;
                return;
            }
    }
}

size_t jvae_pool_first_non_finite(jvae_pool *pool, const float *values, size_t count)
{
    scan_job job = {.values = values, .count = count};
    int workers = streaming_workers(pool, count);
    if (workers > SCAN_MAX_WORKERS) workers = SCAN_MAX_WORKERS;
    jvae_pool_run(pool, workers, scan_worker, &job);
    /* Blocks are in index order, so the first worker that found one has the lowest. */
    for (int w = 0; w < workers; w++)
        if (job.first_bad[w] < count) return job.first_bad[w];
    return count;
}

void jvae_encoder_forward(const jvae_model *m, int n, const float *images,
                          const jvae_encoder_buffers *b)
{
    const float *in = images;
    for (int s = 0; s < m->stages; s++) {
        const jvae_conv_layer *layer = &m->encoder[s];
        const jvae_conv_dims d = jvae_stage_dims(layer, n);
        jvae_conv2d_forward_mt(b->act[s], in, jvae_layer_weight(m, m->params, layer->tensor),
                               jvae_layer_bias(m, m->params, layer->tensor), 1, &d, b->scratch,
                               b->pool);
        in = b->act[s];
    }
    /* (n, 64, 4, 4) read as (n, F): the channel-major flatten of features.view(N, -1). */
    const jvae_linear_layer *h = &m->to_hidden;
    jvae_linear_forward_mt(b->hidden, in, jvae_layer_weight(m, m->params, h->tensor),
                           jvae_layer_bias(m, m->params, h->tensor), n, h->in, h->out, b->pool);
    jvae_pool_relu_forward(b->pool, b->hidden, b->hidden, (size_t)n * h->out);

    if (m->options.n_continuous > 0) {
        const jvae_linear_layer *mean = &m->mean, *log_var = &m->log_var;
        jvae_linear_forward_mt(b->mu, b->hidden, jvae_layer_weight(m, m->params, mean->tensor),
                               jvae_layer_bias(m, m->params, mean->tensor), n, mean->in,
                               mean->out, b->pool);
        jvae_linear_forward_mt(b->logvar, b->hidden,
                               jvae_layer_weight(m, m->params, log_var->tensor),
                               jvae_layer_bias(m, m->params, log_var->tensor), n, log_var->in,
                               log_var->out, b->pool);
    }
    for (int v = 0; v < m->options.n_discrete; v++) {
        const jvae_linear_layer *a = &m->alpha[v];
        float *logits = b->head_blocks + (size_t)n * m->disc_offset[v]; /* (n, K_v) */
        jvae_linear_forward_mt(logits, b->hidden, jvae_layer_weight(m, m->params, a->tensor),
                               jvae_layer_bias(m, m->params, a->tensor), n, a->in, a->out,
                               b->pool);
        jvae_softmax_rows_forward(b->alpha + m->disc_offset[v], m->discrete_dim, logits, a->out,
                                  n, a->out);
    }
}

void jvae_decoder_forward(const jvae_model *m, int n, const float *latent,
                          const jvae_decoder_buffers *b)
{
    const jvae_linear_layer *l0 = &m->latent_to_hidden, *l2 = &m->hidden_to_features;
    jvae_linear_forward_mt(b->hidden, latent, jvae_layer_weight(m, m->params, l0->tensor),
                           jvae_layer_bias(m, m->params, l0->tensor), n, l0->in, l0->out,
                           b->pool);
    jvae_pool_relu_forward(b->pool, b->hidden, b->hidden, (size_t)n * l0->out);
    jvae_linear_forward_mt(b->features, b->hidden, jvae_layer_weight(m, m->params, l2->tensor),
                           jvae_layer_bias(m, m->params, l2->tensor), n, l2->in, l2->out,
                           b->pool);
    jvae_pool_relu_forward(b->pool, b->features, b->features, (size_t)n * l2->out);
    const float *in = b->features; /* viewed as (n, 64, 4, 4) */
    for (int s = 0; s < m->stages; s++) {
        const jvae_conv_layer *layer = &m->decoder[s];
        const jvae_conv_dims d = jvae_stage_dims(layer, n);
        /* Every stage but the last (the logits) ends in a ReLU. */
        jvae_conv2d_transpose_forward_mt(b->act[s], in,
                                         jvae_layer_weight(m, m->params, layer->tensor),
                                         jvae_layer_bias(m, m->params, layer->tensor),
                                         s < m->stages - 1, &d, b->scratch, b->pool);
        in = b->act[s];
    }
}
