/*
 * conv2d: in (N, in_c, in_h, in_w) -> out (N, out_c, out_h, out_w),
 * weight (out_c, in_c, k_h, k_w) = a matrix (out_c, R) with R = in_c·k_h·k_w.
 *
 * Fast path: a group of G samples is unfolded into one column matrix
 * col (R, G·P) (P = out_h·out_w), so each pass over the group is one GEMM:
 *   forward   Y (out_c, G·P) = W · col, then Y moves to (G, out_c, P) with the bias;
 *   backward  dY (out_c, G·P) from dout, dW += dY · colᵀ, dcol = Wᵀ · dY,
 *             din += col2im(dcol).
 * When P is large (jvae_per_sample_gemms: the single-channel first layer),
 * and for a group of one sample, each sample gets its own GEMMs instead,
 * which read dout and write out where they are and skip both moves:
 *   forward   Y_n = W · col_n into out, prefilled with the bias;
 *   backward  dW += dY_n · col_nᵀ, dcol_n = Wᵀ · dY_n.
 * G is as large as keeps col within a cache-sized budget (see im2col.h): the
 * GEMM then reads col from cache right after it was written, while the small
 * layers still get GEMMs of many samples at once. Worker threads take
 * contiguous blocks of groups (core/thread_pool.h); in backward each worker past the first sums
 * its weight gradient apart, and the partial sums are added in thread order,
 * so a fixed thread count gives the same bits on every run.
 * On CPUs with AVX2 and FMA but not AVX-512 (where the GEMMs are
 * OpenBLAS's), the forward skips the GEMM where conv_direct.h fits (output
 * rows a multiple of 8 wide, out_c a multiple of 4): a group is then as many
 * padded images as the cache budget holds (direct_split), and the kernel reads
 * them where they are; the weights are packed once per call into a panel
 * shared by the workers. Likewise the input gradient skips dcol and col2im
 * where conv_direct.h's transposed pass fits (the paper's 4x4/2/1 geometry,
 * in_c a multiple of 4), on grids from 16 wide: each image's dY is padded into
 * col, which the weight gradient has spent, and the pass writes the padded
 * copy that col2im would have folded. And the weight gradient skips im2col
 * and the GEMM where conv_direct.h's weight gradient fits, on grids from 16
 * wide (out_c a multiple of 16): image by image, the input is padded, dY
 * moved channels last into col, and the kernel adds into the worker's
 * (R, out_c) sums, which join its weight gradient at the end of the pass.
 * Scratch, per worker: col (R, G·P) (or the direct forward's padded images,
 * if they need more, or one image's dY), Y or dY (out_c, G·P) unless every
 * GEMM is per sample, and the padded copy of one input image that im2col and
 * col2im work through; then, for backward, one (out_c, R) weight gradient
 * per worker past the first, the transposed pass's panels and each worker's
 * direct weight gradient sums, or for the direct forward its weight panel.
 *
 * On CPUs with AVX-512 the paper's 4x4/2/1 layers on grids of a multiple
 * of 16 positions take none of the above: every pass runs on tap strips
 * (conv_strips.h), group by group of images, with no column matrix and no
 * moves of the batch layout: the forward straight into out, the weight
 * gradient from the input's strips and dY moved channels last, the input
 * gradient from the strips of dY by output phase.
 */
#include "nn/nn.h"

#include <string.h>

#include "nn/conv_direct.h"
#include "nn/conv_strips.h"
#include "nn/gemm.h"
#include "nn/im2col.h"
#include "nn/strips.h"
#include "nn/tiles.h"

/* The sizes every fast pass needs. */
typedef struct conv_plan {
    jvae_patch_geometry patches;
    jvae_batch_split split;
    jvae_batch_split direct_split; /* of the direct forward: padded images within the budget */
    int rows; /* R */
    int per_sample; /* one GEMM per sample, straight from and to the batch layout */
    int direct; /* forward by conv_direct.h, the group's padded images where col would be */
    int transpose; /* input gradient by conv_direct.h's transposed pass, without dcol */
    int direct_grad; /* weight gradient by conv_direct.h, without col */
    size_t moved_rows; /* rows of the channel-major copy: out_c, or 0 when nothing moves */
    size_t plane, in_sample, out_sample, weight_floats;
    size_t front; /* floats of a slice before its padded copy: col and Y, or more */
    size_t slice; /* scratch floats of one worker */
} conv_plan;

/* One worker's part of the scratch. */
typedef struct conv_slice {
    float *col;           /* (R, G·P) */
    float *channel_major; /* (out_c, G·P), or nothing when every GEMM is per sample */
    float *padded;        /* jvae_padded_floats(&patches) */
} conv_slice;

static conv_plan plan_for(const jvae_conv_dims *d, int threads)
{
    conv_plan p;
    const jvae_patch_geometry g = {d->in_c, d->in_h, d->in_w, d->out_h, d->out_w,
                                   d->k_h,  d->k_w,  d->stride, d->pad};
    p.patches = g;
    p.rows = d->in_c * d->k_h * d->k_w;
    p.plane = (size_t)d->out_h * (size_t)d->out_w;
    p.split = jvae_split_batch(d->batch, (size_t)p.rows, p.plane, threads < 1 ? 1 : threads);
    p.in_sample = (size_t)d->in_c * d->in_h * d->in_w;
    p.out_sample = (size_t)d->out_c * p.plane;
    p.weight_floats = (size_t)d->out_c * (size_t)p.rows;
    p.per_sample = jvae_per_sample_gemms(p.plane, (size_t)p.rows, (size_t)d->out_c);
    p.moved_rows = p.per_sample || p.split.group == 1 ? 0 : (size_t)d->out_c;
    const size_t padded = jvae_padded_floats(&p.patches);
    p.front = ((size_t)p.rows + p.moved_rows) * (size_t)p.split.group * p.plane;
    p.direct_split = jvae_split_batch(d->batch, padded, 1, threads < 1 ? 1 : threads);
#if JVAE_DIRECT_CONV
    /* Where the GEMMs run our AVX-512 kernels, the GEMM path beats these
     * AVX2 kernels on the paper's networks (bench/README.md). */
    const int openblas = !jvae_gemm_avx512();
    p.direct = openblas && jvae_direct_conv_fits(&p.patches, d->out_c);
    /* The padded gradient of one image goes where col was. */
    const jvae_patch_geometry grad = jvae_direct_transpose_grad_geometry(&g, d->out_c);
    /* Only from 16-wide grids: on the 8-wide ones the GEMM path was as fast
     * (one image's 8 runs fill three tiles, the last by two thirds), and
     * taking them cost 1 % of a 2-thread training step of the MNIST network. */
    p.transpose = openblas && jvae_direct_transpose_fits(&g, d->in_c) && g.grid_w >= 16 &&
                  jvae_padded_floats(&grad) <= (size_t)p.rows * p.plane;
    /* One image's gradient, channels last, goes where col would be. Only
     * from 16-wide grids: on the 8-wide ones OpenBLAS's GEMM, whose inner
     * dimension spans a group of images, was as fast or faster. */
    p.direct_grad =
        openblas && jvae_direct_weight_grad_fits(&p.patches, d->out_c) && g.grid_w >= 16;
    if (p.direct_grad && p.out_sample > p.front) p.front = p.out_sample;
#else
    p.direct = p.transpose = p.direct_grad = 0;
#endif
    p.slice = p.front + padded;
    if (p.direct && (size_t)p.direct_split.group * padded > p.slice)
        p.slice = (size_t)p.direct_split.group * padded;
    return p;
}

static conv_slice slice_of(const conv_plan *p, float *scratch, int worker)
{
    conv_slice s;
    const size_t columns = (size_t)p->split.group * p->plane;
    s.col = scratch + (size_t)worker * p->slice;
    s.channel_major = s.col + (size_t)p->rows * columns;
    s.padded = s.col + p->front;
    return s;
}

/* ---- AVX-512: every pass on tap strips (conv_strips.h) ---- */

/* The paper's 4x4/2/1 geometry on grids of a multiple of 16 positions, on a
 * CPU with AVX-512: the forward, the weight gradient and the input gradient
 * all fit, and they beat the GEMM path on every layer of the paper's
 * networks (bench/README.md). */
static int takes_strips(const jvae_conv_dims *d)
{
    const jvae_patch_geometry g = {d->in_c, d->in_h, d->in_w, d->out_h, d->out_w,
                                   d->k_h,  d->k_w,  d->stride, d->pad};
    return jvae_strips_phases_fit(&g);
}

/* Per worker: the strips of a group of input images and of their output
 * gradients (as the phases' 3x3 kernel sees them), their phases (one input
 * gradient's worth each) and their output gradients channels last; after
 * the slices, the weight panels, and in backward the
 * partial weight gradients of the workers past the first and every worker's
 * transposed weight gradient sums. */
typedef struct strip_plan {
    jvae_patch_geometry patches, grad;
    jvae_batch_split split;
    size_t strips, grad_strips, phases, grad_rows; /* floats of one group's */
    size_t slice, panels, weight_floats, in_sample, out_sample;
} strip_plan;

typedef struct strip_slice {
    float *strips, *grad_strips, *phases, *grad_rows;
} strip_slice;

static strip_plan strip_plan_for(const jvae_conv_dims *d, int threads)
{
    strip_plan p;
    const jvae_patch_geometry g = {d->in_c, d->in_h, d->in_w, d->out_h, d->out_w,
                                   d->k_h,  d->k_w,  d->stride, d->pad};
    p.patches = g;
    p.grad = jvae_strips_phase_geometry(&g, d->out_c);
    p.in_sample = (size_t)d->in_c * d->in_h * d->in_w;
    p.out_sample = (size_t)d->out_c * d->out_h * d->out_w;
    p.weight_floats = (size_t)d->out_c * d->in_c * d->k_h * d->k_w;
    const size_t strips = jvae_strip_image_floats(&g), grad = jvae_strip_image_floats(&p.grad);
    p.split = jvae_split_strips(d->batch, strips + grad + p.in_sample + p.out_sample,
                                threads < 1 ? 1 : threads);
    p.strips = (size_t)p.split.group * strips;
    p.grad_strips = (size_t)p.split.group * grad;
    p.phases = (size_t)p.split.group * p.in_sample;
    p.grad_rows = (size_t)p.split.group * p.out_sample;
    p.slice = p.strips + p.grad_strips + p.phases + p.grad_rows;
    const size_t forward = jvae_strips_panel_floats(d->out_c, d->in_c * d->k_h * d->k_w);
    const size_t backward = jvae_strips_phase_panel_floats(d->out_c, d->in_c);
    p.panels = forward > backward ? forward : backward;
    return p;
}

#if JVAE_TILES
static strip_slice strip_slice_of(const strip_plan *p, float *scratch, int worker)
{
    strip_slice s;
    s.strips = scratch + (size_t)worker * p->slice;
    s.grad_strips = s.strips + p->strips;
    s.phases = s.grad_strips + p->grad_strips;
    s.grad_rows = s.phases + p->phases;
    return s;
}
#endif

static size_t strip_scratch_floats(const jvae_conv_dims *d, int threads)
{
    const strip_plan p = strip_plan_for(d, threads);
    const size_t workers = (size_t)p.split.threads;
    return workers * p.slice + p.panels + (2 * workers - 1) * p.weight_floats;
}

static size_t scratch_floats_at(const jvae_conv_dims *d, int threads)
{
    if (takes_strips(d)) return strip_scratch_floats(d, threads);
    const conv_plan p = plan_for(d, threads);
    /* After the slices: backward's partial weight gradients, the transposed
     * pass's panels and each worker's direct weight gradient sums, or the
     * direct forward's weight panel. */
    const size_t workers = (size_t)p.split.threads;
    const size_t direct_workers = p.direct ? (size_t)p.direct_split.threads : 0;
    const size_t slices = workers > direct_workers ? workers : direct_workers;
    const size_t grad_sums = p.direct_grad ? workers : 0;
    const size_t backward = (workers - 1 + (size_t)p.transpose + grad_sums) * p.weight_floats;
    const size_t forward = p.direct ? p.weight_floats : 0;
    return slices * p.slice + (backward > forward ? backward : forward);
}

size_t jvae_conv2d_scratch_floats_mt(const jvae_conv_dims *d, int threads)
{
    return jvae_most_scratch_floats(d, threads, scratch_floats_at);
}

size_t jvae_conv2d_scratch_floats(const jvae_conv_dims *d)
{
    return jvae_conv2d_scratch_floats_mt(d, 1);
}

static void forward_group(float *out, const float *in, const float *weight, const float *bias,
                          int relu_out, const jvae_conv_dims *d, const conv_plan *p,
                          const conv_slice *s, int first)
{
    const int count = d->batch - first < p->split.group ? d->batch - first : p->split.group;
    const int columns = count * (int)p->plane;
    float *y = out + first * p->out_sample; /* (count, out_c, P) */
    jvae_im2col(s->col, in + first * p->in_sample, count, &p->patches, s->padded);
    if (p->per_sample || count == 1) { /* each Y_n (out_c, P) is a sample's output already */
        for (int n = 0; n < count; n++) {
            float *y_n = y + n * p->out_sample;
            for (int o = 0; o < d->out_c; o++)
                for (size_t i = 0; i < p->plane; i++) y_n[o * p->plane + i] = bias[o];
            jvae_gemm_nn(d->out_c, (int)p->plane, p->rows, weight, p->rows, s->col + n * p->plane,
                         columns, 1.0f, y_n, (int)p->plane);
        }
    } else {
        jvae_gemm_nn(d->out_c, columns, p->rows, weight, p->rows, s->col, columns, 0.0f,
                     s->channel_major, columns);
        jvae_channel_major_to_batch_bias(y, s->channel_major, bias, count, d->out_c, p->plane);
    }
    /* While the group's output is still in cache. */
    if (relu_out) jvae_relu_forward(y, y, (size_t)count * p->out_sample);
}

/* Everything a worker needs, shared by all of them. */
typedef struct conv_job {
    float *out, *din, *dweight, *dbias, *partials, *grad_sums;
    const float *in, *dout, *weight, *bias, *panel;
    int relu_out, relu_in;
    const jvae_conv_dims *d;
    const conv_plan *p;
    float *scratch;
} conv_job;

static void forward_worker(void *context, int worker, int workers)
{
    const conv_job *j = context;
    const conv_plan *p = j->p;
    const conv_slice s = slice_of(p, j->scratch, worker);
    int begin, end;
#if JVAE_DIRECT_CONV
    if (p->direct) {
        /* Each output is one sum whatever the grouping, so the workers take
         * even blocks of images rather than of groups, which split 64
         * images in groups of 6 into 36 and 28. */
        jvae_pool_block(j->d->batch, worker, workers, &begin, &end);
        for (int first = begin; first < end; first += p->direct_split.group) {
            const int count = end - first < p->direct_split.group ? end - first
                                                                  : p->direct_split.group;
            jvae_pad_images(s.col, j->in + first * p->in_sample, count, &p->patches);
            jvae_direct_conv(j->out + first * p->out_sample, s.col, count, &p->patches, j->panel,
                             j->d->out_c, j->bias, j->relu_out);
        }
        return;
    }
#endif
    jvae_pool_block(p->split.groups, worker, workers, &begin, &end);
    for (int group = begin; group < end; group++)
        forward_group(j->out, j->in, j->weight, j->bias, j->relu_out, j->d, p, &s,
                      group * p->split.group);
}

#if JVAE_TILES
/* Everything the workers of a pass on strips share. */
typedef struct strip_job {
    float *out, *din, *dweight, *dbias, *partials, *sums;
    const float *in, *dout, *bias, *panels;
    int relu_out, relu_in;
    const jvae_conv_dims *d;
    const strip_plan *p;
    float *scratch;
} strip_job;

/* Each output is one sum whatever the grouping: workers take even blocks of
 * images, in groups. */
static void strip_forward_worker(void *context, int worker, int workers)
{
    const strip_job *j = context;
    const strip_plan *p = j->p;
    const strip_slice s = strip_slice_of(p, j->scratch, worker);
    int begin, end;
    jvae_pool_block(j->d->batch, worker, workers, &begin, &end);
    for (int first = begin; first < end; first += p->split.group) {
        const int count = end - first < p->split.group ? end - first : p->split.group;
        jvae_strips_fill(s.strips, j->in + first * p->in_sample, count, &p->patches);
        jvae_strips_forward(j->out + first * p->out_sample, s.strips, count, &p->patches,
                            j->panels, j->d->out_c, j->bias, j->relu_out, 0);
    }
}

/* Workers take even blocks of images, in groups, each summing its own
 * weight gradient: blocks of whole groups split the MNIST network's 64
 * images 36/28 on its 64-channel 8x8 layer and 40/24 on its first transposed
 * one. */
static void strip_backward_worker(void *context, int worker, int workers)
{
    const strip_job *j = context;
    const strip_plan *p = j->p;
    const jvae_conv_dims *d = j->d;
    const strip_slice s = strip_slice_of(p, j->scratch, worker);
    const size_t plane = (size_t)d->out_h * d->out_w;
    const int rows = d->in_c * d->k_h * d->k_w;
    float *sums = j->sums + (size_t)worker * p->weight_floats; /* (R, out_c) */
    memset(sums, 0, p->weight_floats * sizeof *sums);
    jvae_channel_sums_add(j->dbias, j->dout, d->batch, d->out_c, plane, worker, workers);
    int begin, end;
    jvae_pool_block(d->batch, worker, workers, &begin, &end);
    for (int first = begin; first < end; first += p->split.group) {
        const int count = end - first < p->split.group ? end - first : p->split.group;
        const float *x = j->in + first * p->in_sample, *dy = j->dout + first * p->out_sample;
        jvae_strips_fill(s.strips, x, count, &p->patches);
        jvae_strips_channels_last(s.grad_rows, dy, count, d->out_c, plane);
        jvae_strips_weight_grad(sums, s.grad_rows, d->out_c, s.strips, count, &p->patches);
        if (j->din == NULL) continue;
        float *dx = j->din + first * p->in_sample;
        jvae_strips_fill(s.grad_strips, dy, count, &p->grad);
        /* With relu_in, `in` is the ReLU's output that gates din. */
        const jvae_phase_output to = {.accumulate = !j->relu_in, .gate = j->relu_in ? x : NULL};
        jvae_strips_phases(dx, s.grad_strips, count, &p->patches, j->panels, d->out_c, s.phases,
                           &to);
    }
    float *dw = jvae_worker_weight_gradient(j->dweight, j->partials, worker, p->weight_floats);
    jvae_weight_sums_add(dw, sums, d->out_c, rows);
}
#endif

void jvae_conv2d_forward_mt(float *out, const float *in, const float *weight, const float *bias,
                            int relu_out, const jvae_conv_dims *d, float *scratch,
                            jvae_pool *pool)
{
#if JVAE_TILES
    if (takes_strips(d)) {
        const strip_plan p = strip_plan_for(d, jvae_pool_threads(pool));
        const int workers = p.split.threads;
        float *panels = scratch + (size_t)workers * p.slice;
        jvae_strips_pack(panels, weight, d->out_c, d->in_c * d->k_h * d->k_w);
        strip_job job = {.out = out, .in = in, .bias = bias, .panels = panels,
                         .relu_out = relu_out, .d = d, .p = &p, .scratch = scratch};
        jvae_pool_run(pool, workers, strip_forward_worker, &job);
        return;
    }
#endif
    const conv_plan p = plan_for(d, jvae_pool_threads(pool));
    const int workers = p.direct ? p.direct_split.threads : p.split.threads;
    float *panel = scratch + (size_t)workers * p.slice;
#if JVAE_DIRECT_CONV
    if (p.direct) jvae_direct_conv_pack(panel, weight, d->out_c, p.rows);
#endif
    conv_job job = {.out = out, .in = in, .weight = weight, .bias = bias, .panel = panel,
                    .relu_out = relu_out, .d = d, .p = &p, .scratch = scratch};
    jvae_pool_run(pool, workers, forward_worker, &job);
}

void jvae_conv2d_forward(float *out, const float *in, const float *weight, const float *bias,
                         const jvae_conv_dims *d, float *scratch)
{
    jvae_conv2d_forward_mt(out, in, weight, bias, 0, d, scratch, NULL);
}

/* dweight += dY · colᵀ over the group, through im2col and OpenBLAS. */
static void gemm_weight_grad(float *dweight, const float *dy, const float *in,
                             const jvae_conv_dims *d, const conv_plan *p, const conv_slice *s,
                             int first, int count)
{
    const int columns = count * (int)p->plane;
    jvae_im2col(s->col, in + first * p->in_sample, count, &p->patches, s->padded);
    if (p->per_sample || count == 1) {
        for (int n = 0; n < count; n++)
            jvae_gemm_nt(d->out_c, p->rows, (int)p->plane, dy + n * p->out_sample, (int)p->plane,
                         s->col + n * p->plane, columns, 1.0f, dweight, p->rows);
    } else {
        jvae_batch_to_channel_major(s->channel_major, dy, count, d->out_c, p->plane);
        jvae_gemm_nt(d->out_c, p->rows, columns, s->channel_major, columns, s->col, columns, 1.0f,
                     dweight, p->rows);
    }
}

static void backward_group(float *din, float *dweight, float *grad_sums, const float *dout,
                           const float *in, const float *weight, const float *panels,
                           int relu_in, const jvae_conv_dims *d, const conv_plan *p,
                           const conv_slice *s, int first)
{
    const int count = d->batch - first < p->split.group ? d->batch - first : p->split.group;
    const int columns = count * (int)p->plane;
    const int plane = (int)p->plane;
    const float *dy = dout + first * p->out_sample; /* (count, out_c, P) */
    const int by_sample = p->per_sample || count == 1; /* dY_n (out_c, P) straight from dout */
#if JVAE_DIRECT_CONV
    if (p->direct_grad) { /* one image at a time, into the worker's (R, out_c) sums */
        for (int n = 0; n < count; n++) {
            jvae_pad_images(s->padded, in + (first + n) * p->in_sample, 1, &p->patches);
            jvae_direct_channels_last(s->col, dy + n * p->out_sample, d->out_c, p->plane);
            jvae_direct_weight_grad(grad_sums, s->padded, &p->patches, s->col, d->out_c);
        }
    } else {
        gemm_weight_grad(dweight, dy, in, d, p, s, first, count);
    }
#else
    (void)grad_sums;
    gemm_weight_grad(dweight, dy, in, d, p, s, first, count);
#endif
    if (din == NULL) return;
    float *dx = din + first * p->in_sample;
#if JVAE_DIRECT_CONV
    if (p->transpose) { /* col is spent: it holds one padded gradient image at a time */
        const jvae_patch_geometry grad = jvae_direct_transpose_grad_geometry(&p->patches,
                                                                            d->out_c);
        for (int n = 0; n < count; n++) {
            jvae_pad_images(s->col, dy + n * p->out_sample, 1, &grad);
            jvae_direct_transpose(s->padded, s->col, &p->patches, panels, d->out_c);
            jvae_unpad_image(dx + n * p->in_sample, s->padded, !relu_in, NULL, &p->patches);
        }
        if (relu_in)
            jvae_relu_backward_in_place(dx, in + first * p->in_sample,
                                        (size_t)count * p->in_sample);
        return;
    }
#else
    (void)panels;
#endif
    /* col is spent: reuse it for dcol (R, G·P). The direct weight gradient
     * left dY in the batch layout only. */
    if (!by_sample && p->direct_grad)
        jvae_batch_to_channel_major(s->channel_major, dy, count, d->out_c, p->plane);
    if (by_sample)
        for (int n = 0; n < count; n++)
            jvae_gemm_tn(p->rows, plane, d->out_c, weight, p->rows, dy + n * p->out_sample, plane,
                         0.0f, s->col + n * p->plane, columns);
    else
        jvae_gemm_tn(p->rows, columns, d->out_c, weight, p->rows, s->channel_major, columns, 0.0f,
                     s->col, columns);
    if (!relu_in) {
        jvae_col2im_add(dx, s->col, count, &p->patches, s->padded);
        return;
    }
    jvae_col2im_store(dx, s->col, count, &p->patches, s->padded);
    jvae_relu_backward_in_place(dx, in + first * p->in_sample, (size_t)count * p->in_sample);
}

static void backward_worker(void *context, int worker, int workers)
{
    const conv_job *j = context;
    const conv_plan *p = j->p;
    const conv_slice s = slice_of(p, j->scratch, worker);
    float *dw = jvae_worker_weight_gradient(j->dweight, j->partials, worker, p->weight_floats);
    float *sums = NULL;
    if (p->direct_grad) {
        sums = j->grad_sums + (size_t)worker * p->weight_floats;
        memset(sums, 0, p->weight_floats * sizeof *sums);
    }
    jvae_channel_sums_add(j->dbias, j->dout, j->d->batch, j->d->out_c, p->plane, worker,
                          workers);
    int begin, end;
    jvae_pool_block(p->split.groups, worker, workers, &begin, &end);
    for (int group = begin; group < end; group++)
        backward_group(j->din, dw, sums, j->dout, j->in, j->weight, j->panel, j->relu_in, j->d, p,
                       &s, group * p->split.group);
#if JVAE_DIRECT_CONV
    if (p->direct_grad) jvae_weight_sums_add(dw, sums, j->d->out_c, p->rows);
#endif
}

void jvae_conv2d_backward_mt(float *din, float *dweight, float *dbias, const float *dout,
                             const float *in, const float *weight, int relu_in,
                             const jvae_conv_dims *d, float *scratch, jvae_pool *pool)
{
#if JVAE_TILES
    if (takes_strips(d)) {
        const strip_plan p = strip_plan_for(d, jvae_pool_threads(pool));
        const int workers = p.split.threads;
        float *panels = scratch + (size_t)workers * p.slice;
        float *partials = panels + p.panels; /* (workers − 1, out_c, R) */
        float *sums = partials + (size_t)(workers - 1) * p.weight_floats; /* (workers, R, out_c) */
        if (din != NULL) jvae_strips_phase_pack(panels, weight, d->out_c, d->in_c);
        strip_job job = {.din = din, .dweight = dweight, .dbias = dbias, .partials = partials,
                         .sums = sums,
                         .in = in, .dout = dout, .panels = panels, .relu_in = relu_in, .d = d,
                         .p = &p, .scratch = scratch};
        jvae_pool_run(pool, workers, strip_backward_worker, &job);
        jvae_partials_add(dweight, partials, workers, p.weight_floats);
        return;
    }
#endif
    const conv_plan p = plan_for(d, jvae_pool_threads(pool));
    const int workers = p.split.threads;
    float *partials = scratch + (size_t)workers * p.slice; /* (workers − 1, out_c, R) */
    float *panel = partials + (size_t)(workers - 1) * p.weight_floats;
    float *grad_sums = panel + (size_t)p.transpose * p.weight_floats; /* (workers, R, out_c) */
#if JVAE_DIRECT_CONV
    if (p.transpose && din != NULL) jvae_direct_transpose_pack(panel, weight, d->out_c, d->in_c);
#endif
    conv_job job = {.din = din, .dweight = dweight, .dbias = dbias, .partials = partials,
                    .grad_sums = grad_sums, .in = in, .dout = dout, .weight = weight,
                    .panel = panel, .relu_in = relu_in, .d = d, .p = &p, .scratch = scratch};
    jvae_pool_run(pool, workers, backward_worker, &job);
    jvae_partials_add(dweight, partials, workers, p.weight_floats);
}

void jvae_conv2d_backward(float *din, float *dweight, float *dbias, const float *dout,
                          const float *in, const float *weight, const jvae_conv_dims *d,
                          float *scratch)
{
    jvae_conv2d_backward_mt(din, dweight, dbias, dout, in, weight, 0, d, scratch, NULL);
}

/* ---- naive twins: direct loops in the gather form, summed in double ---- */

/* Offset of [i0][i1][i2][i3] in a contiguous (·, n1, n2, n3) array. */
static size_t at4(int i0, int i1, int i2, int i3, int n1, int n2, int n3)
{
    return (((size_t)i0 * n1 + i1) * n2 + i2) * n3 + i3;
}

void jvae_conv2d_forward_ref(float *out, const float *in, const float *weight, const float *bias,
                             const jvae_conv_dims *d)
{
    for (int n = 0; n < d->batch; n++)
        for (int o = 0; o < d->out_c; o++)
            for (int y = 0; y < d->out_h; y++)
                for (int x = 0; x < d->out_w; x++) {
                    double sum = bias[o];
                    for (int c = 0; c < d->in_c; c++)
                        for (int ki = 0; ki < d->k_h; ki++) {
                            const int iy = y * d->stride - d->pad + ki;
                            if (iy < 0 || iy >= d->in_h) continue;
                            for (int kj = 0; kj < d->k_w; kj++) {
                                const int ix = x * d->stride - d->pad + kj;
                                if (ix < 0 || ix >= d->in_w) continue;
                                sum += (double)in[at4(n, c, iy, ix, d->in_c, d->in_h, d->in_w)] *
                                       weight[at4(o, c, ki, kj, d->in_c, d->k_h, d->k_w)];
                            }
                        }
                    out[at4(n, o, y, x, d->out_c, d->out_h, d->out_w)] = (float)sum;
                }
}

/* Output position along one axis that tap k of input position i belongs to,
 * or -1 when no output position reads i through tap k. */
static int output_of_tap(int i, int k, int stride, int pad, int out_size)
{
    const int t = i + pad - k;
    if (t < 0 || t % stride != 0 || t / stride >= out_size) return -1;
    return t / stride;
}

void jvae_conv2d_backward_ref(float *din, float *dweight, float *dbias, const float *dout,
                              const float *in, const float *weight, const jvae_conv_dims *d)
{
    for (int o = 0; o < d->out_c; o++) {
        double sum = 0.0;
        for (int n = 0; n < d->batch; n++)
            for (int y = 0; y < d->out_h; y++)
                for (int x = 0; x < d->out_w; x++)
                    sum += dout[at4(n, o, y, x, d->out_c, d->out_h, d->out_w)];
        dbias[o] += (float)sum;
    }
    for (int o = 0; o < d->out_c; o++)
        for (int c = 0; c < d->in_c; c++)
            for (int ki = 0; ki < d->k_h; ki++)
                for (int kj = 0; kj < d->k_w; kj++) {
                    double sum = 0.0;
                    for (int n = 0; n < d->batch; n++)
                        for (int y = 0; y < d->out_h; y++) {
                            const int iy = y * d->stride - d->pad + ki;
                            if (iy < 0 || iy >= d->in_h) continue;
                            for (int x = 0; x < d->out_w; x++) {
                                const int ix = x * d->stride - d->pad + kj;
                                if (ix < 0 || ix >= d->in_w) continue;
                                sum += (double)dout[at4(n, o, y, x, d->out_c, d->out_h, d->out_w)] *
                                       in[at4(n, c, iy, ix, d->in_c, d->in_h, d->in_w)];
                            }
                        }
                    dweight[at4(o, c, ki, kj, d->in_c, d->k_h, d->k_w)] += (float)sum;
                }
    if (din == NULL) return;
    for (int n = 0; n < d->batch; n++)
        for (int c = 0; c < d->in_c; c++)
            for (int iy = 0; iy < d->in_h; iy++)
                for (int ix = 0; ix < d->in_w; ix++) {
                    double sum = 0.0;
                    for (int ki = 0; ki < d->k_h; ki++) {
                        const int y = output_of_tap(iy, ki, d->stride, d->pad, d->out_h);
                        if (y < 0) continue;
                        for (int kj = 0; kj < d->k_w; kj++) {
                            const int x = output_of_tap(ix, kj, d->stride, d->pad, d->out_w);
                            if (x < 0) continue;
                            for (int o = 0; o < d->out_c; o++)
                                sum += (double)dout[at4(n, o, y, x, d->out_c, d->out_h, d->out_w)] *
                                       weight[at4(o, c, ki, kj, d->in_c, d->k_h, d->k_w)];
                        }
                    }
                    din[at4(n, c, iy, ix, d->in_c, d->in_h, d->in_w)] += (float)sum;
                }
}
