/*
 * conv2d_transpose: in (N, in_c, in_h, in_w) -> out (N, out_c, out_h, out_w),
 * weight (in_c, out_c, k_h, k_w) = a matrix (in_c, Q) with Q = out_c·k_h·k_w.
 *
 * It is the adjoint of conv2d's input gradient: every input pixel scatters
 * a weighted kernel into the output. A group of G samples, moved channel-major
 * as X (in_c, G·P) (P = in_h·in_w), makes each pass one GEMM:
 *   forward   col (Q, G·P) = Wᵀ · X, out = bias + col2im(col) (one pass);
 *   backward  col = im2col(dout), dW += X · colᵀ, dX = W · col, din += dX in (G, in_c, P).
 * When P is large (jvae_per_sample_gemms: the single-channel last layer), and
 * for a group of one sample, each sample gets its own GEMMs instead, which
 * read in and accumulate into din where they are and skip both moves:
 *   forward   col_n = Wᵀ · X_n;   backward  dW += X_n · col_nᵀ, din_n += W · col_n.
 * G is as large as keeps col within a cache-sized budget (see im2col.h).
 * Worker threads share the groups as in conv2d.c, with the same per-worker
 * weight gradients summed in thread order.
 * On CPUs with AVX2 and FMA but not AVX-512, the forward skips the GEMM and
 * col2im where conv_direct.h's transposed pass fits (the paper's 4x4/2/1
 * geometry, out_c a multiple of 4) on grids from 16 wide, or 8 wide with at most 32 input channels:
 * each image's X is padded into col and the pass writes the padded copy of
 * its output, which col2im's last step unpads with the bias. The backward skips im2col and both GEMMs where
 * conv_direct.h's weight gradient and forward fit (grids a multiple of 8
 * wide, in_c a multiple of 16): image by image, dout is padded and X moved
 * channels last into col; the weight gradient goes into the worker's
 * (Q, in_c) sums, and dX, which is conv2d's forward of dout, comes from
 * conv_direct.h's forward of the same padded copy.
 * Scratch, per worker: col (Q, G·P) (or one image's X, if it needs more),
 * X or dX (in_c, G·P) unless every GEMM is per sample, and the padded copy
 * of one output image that im2col and col2im work through; then, for
 * backward, one (in_c, Q) weight gradient per worker past the first, each
 * worker's direct weight gradient sums and dX's weight panel, or for the
 * direct forward the transposed pass's panels.
 *
 * On CPUs with AVX-512 the paper's 4x4/2/1 layers on grids of a multiple
 * of 16 positions run on tap strips (conv_strips.h) instead, group by group
 * of images: the forward by output phase from the strips of X (but for
 * layers of fewer than 8 output channels), the backward from the strips of
 * dout, dW against X moved channels last and dX as conv2d's forward.
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
typedef struct transpose_plan {
    jvae_patch_geometry patches; /* the output seen through the grid of input positions */
    jvae_batch_split split;
    int rows; /* Q */
    int per_sample; /* one GEMM per sample, straight from and to the batch layout */
    int transpose; /* forward by conv_direct.h's transposed pass, without col */
    int direct_grad; /* weight gradient by conv_direct.h, from the padded output gradient */
    size_t moved_rows; /* rows of the channel-major copy: in_c, or 0 when nothing moves */
    size_t in_plane, out_plane, in_sample, out_sample, weight_floats;
    size_t front; /* floats of a slice before its padded copy: col and X, or more */
    size_t slice; /* scratch floats of one worker */
} transpose_plan;

/* One worker's part of the scratch. */
typedef struct transpose_slice {
    float *col;           /* (Q, G·P) */
    float *channel_major; /* (in_c, G·P), or nothing when every GEMM is per sample */
    float *padded;        /* jvae_padded_floats(&patches) */
} transpose_slice;

static transpose_plan plan_for(const jvae_conv_dims *d, int threads)
{
    transpose_plan p;
    const jvae_patch_geometry g = {d->out_c, d->out_h, d->out_w, d->in_h, d->in_w,
                                   d->k_h,   d->k_w,   d->stride, d->pad};
    p.patches = g;
    p.rows = d->out_c * d->k_h * d->k_w;
    p.in_plane = (size_t)d->in_h * (size_t)d->in_w;
    p.out_plane = (size_t)d->out_h * (size_t)d->out_w;
    p.split = jvae_split_batch(d->batch, (size_t)p.rows, p.in_plane, threads < 1 ? 1 : threads);
    p.in_sample = (size_t)d->in_c * p.in_plane;
    p.out_sample = (size_t)d->out_c * p.out_plane;
    p.weight_floats = (size_t)d->in_c * (size_t)p.rows;
    p.per_sample = jvae_per_sample_gemms(p.in_plane, (size_t)p.rows, (size_t)d->in_c);
    p.moved_rows = p.per_sample || p.split.group == 1 ? 0 : (size_t)d->in_c;
    p.front = ((size_t)p.rows + p.moved_rows) * (size_t)p.split.group * p.in_plane;
#if JVAE_DIRECT_CONV
    /* The padded input of one image goes where col would be. */
    const jvae_patch_geometry input = jvae_direct_transpose_grad_geometry(&g, d->in_c);
    /* On grids from 16 wide, and on 8-wide ones when the GEMM's inner
     * dimension, in_c, is 32 or less: there the GEMM writes col with few
     * products per value (MNIST's 32 -> 32 layer ran at 42 GFLOP/s, against
     * 61 for dSprites' 64 -> 32), and the pass trained the MNIST network 1-4 %
     * faster, while on the 64-channel layer it was 1 % slower. */
    const int pays = g.grid_w >= 16 || d->in_c <= 32;
    /* Where the GEMMs run our AVX-512 kernels, the GEMM path beats these
     * AVX2 kernels on the paper's networks (bench/README.md). */
    const int openblas = !jvae_gemm_avx512();
    p.transpose = openblas && jvae_direct_transpose_fits(&g, d->out_c) && pays &&
                  jvae_padded_floats(&input) <= (size_t)p.rows * p.in_plane;
    /* One image's input, channels last, goes where col would be. dX then
     * comes from the direct forward, so that must fit too (8-wide grids and
     * up). Unlike conv2d's, this pays on 8-wide grids as well: it replaces
     * both GEMMs and im2col, and the weight gradient's GEMM has in_c rows. */
    p.direct_grad = openblas && jvae_direct_weight_grad_fits(&g, d->in_c) &&
                    jvae_direct_conv_fits(&g, d->in_c);
    if (p.direct_grad && p.in_sample > p.front) p.front = p.in_sample;
#else
    p.transpose = p.direct_grad = 0;
#endif
    p.slice = p.front + jvae_padded_floats(&p.patches);
    return p;
}

static transpose_slice slice_of(const transpose_plan *p, float *scratch, int worker)
{
    transpose_slice s;
    const size_t columns = (size_t)p->split.group * p->in_plane;
    s.col = scratch + (size_t)worker * p->slice;
    s.channel_major = s.col + (size_t)p->rows * columns;
    s.padded = s.col + p->front;
    return s;
}

/* ---- AVX-512: passes on tap strips (conv_strips.h) ---- */

/* The paper's 4x4/2/1 geometry on grids of a multiple of 16 positions, on a
 * CPU with AVX-512: both passes fit, and beat the GEMM path on the paper's
 * networks (bench/README.md), but for the forward of a layer of fewer than
 * 8 output channels (the single-channel last one): the phases' tiles are 8
 * output channels, where the GEMM path's are out_c·16 rows. */
static int backward_takes_strips(const jvae_conv_dims *d)
{
    const jvae_patch_geometry g = {d->out_c, d->out_h, d->out_w, d->in_h, d->in_w,
                                   d->k_h,   d->k_w,   d->stride, d->pad};
    return jvae_strips_phases_fit(&g);
}

static int forward_takes_strips(const jvae_conv_dims *d)
{
    return backward_takes_strips(d) && d->out_c >= 8;
}

/* Per worker: the strips of a group of output gradients (seen through the
 * grid of input positions), the inputs channels last, the strips of the
 * inputs (as the phases' 3x3 kernel sees them) and the phases of the
 * outputs; after the slices, the weight panels, the partial weight gradients
 * of the workers past the first and every worker's transposed weight
 * gradient sums. */
typedef struct strip_plan {
    jvae_patch_geometry patches, input;
    jvae_batch_split split;
    size_t strips, input_rows, input_strips, phases; /* floats of one group's */
    size_t slice, panels, weight_floats, in_sample, out_sample;
} strip_plan;

typedef struct strip_slice {
    float *strips, *input_rows, *input_strips, *phases;
} strip_slice;

static strip_plan strip_plan_for(const jvae_conv_dims *d, int threads)
{
    strip_plan p;
    const jvae_patch_geometry g = {d->out_c, d->out_h, d->out_w, d->in_h, d->in_w,
                                   d->k_h,   d->k_w,   d->stride, d->pad};
    p.patches = g;
    p.input = jvae_strips_phase_geometry(&g, d->in_c);
    p.in_sample = (size_t)d->in_c * d->in_h * d->in_w;
    p.out_sample = (size_t)d->out_c * d->out_h * d->out_w;
    const int rows = d->out_c * d->k_h * d->k_w;
    p.weight_floats = (size_t)d->in_c * (size_t)rows;
    const size_t strips = jvae_strip_image_floats(&g), input = jvae_strip_image_floats(&p.input);
    p.split = jvae_split_strips(d->batch, strips + p.in_sample + input + p.out_sample,
                                threads < 1 ? 1 : threads);
    p.strips = (size_t)p.split.group * strips;
    p.input_rows = (size_t)p.split.group * p.in_sample;
    p.input_strips = (size_t)p.split.group * input;
    p.phases = (size_t)p.split.group * p.out_sample;
    p.slice = p.strips + p.input_rows + p.input_strips + p.phases;
    const size_t forward = jvae_strips_phase_panel_floats(d->in_c, d->out_c);
    const size_t backward = jvae_strips_panel_floats(d->in_c, rows);
    p.panels = forward > backward ? forward : backward;
    return p;
}

#if JVAE_TILES
static strip_slice strip_slice_of(const strip_plan *p, float *scratch, int worker)
{
    strip_slice s;
    s.strips = scratch + (size_t)worker * p->slice;
    s.input_rows = s.strips + p->strips;
    s.input_strips = s.input_rows + p->input_rows;
    s.phases = s.input_strips + p->input_strips;
    return s;
}
#endif

static size_t strip_scratch_floats(const jvae_conv_dims *d, int threads)
{
    const strip_plan p = strip_plan_for(d, threads);
    const size_t workers = (size_t)p.split.threads;
    return workers * p.slice + p.panels + (2 * workers - 1) * p.weight_floats;
}

static size_t gemm_scratch_floats(const jvae_conv_dims *d, int threads)
{
    const transpose_plan p = plan_for(d, threads);
    /* After the slices: backward's partial weight gradients, each worker's
     * direct weight gradient sums and dX's panel for the direct forward, or
     * the forward's panels for the transposed pass. */
    const size_t workers = (size_t)p.split.threads;
    const size_t backward = workers - 1 + (p.direct_grad ? workers + 1 : 0);
    const size_t shared = backward > (size_t)p.transpose ? backward : (size_t)p.transpose;
    return workers * p.slice + shared * p.weight_floats;
}

static size_t scratch_floats_at(const jvae_conv_dims *d, int threads)
{
    if (!backward_takes_strips(d)) return gemm_scratch_floats(d, threads);
    const size_t strips = strip_scratch_floats(d, threads);
    if (forward_takes_strips(d)) return strips;
    const size_t gemm = gemm_scratch_floats(d, threads);
    return gemm > strips ? gemm : strips;
}

size_t jvae_conv2d_transpose_scratch_floats_mt(const jvae_conv_dims *d, int threads)
{
    return jvae_most_scratch_floats(d, threads, scratch_floats_at);
}

size_t jvae_conv2d_transpose_scratch_floats(const jvae_conv_dims *d)
{
    return jvae_conv2d_transpose_scratch_floats_mt(d, 1);
}

static void forward_group(float *out, const float *in, const float *weight, const float *panel,
                          const float *bias, int relu_out, const jvae_conv_dims *d,
                          const transpose_plan *p, const transpose_slice *s, int first)
{
    const int count = d->batch - first < p->split.group ? d->batch - first : p->split.group;
    const int columns = count * (int)p->in_plane;
    float *y = out + first * p->out_sample; /* (count, out_c, out_h·out_w) */
    const float *x = in + first * p->in_sample; /* (count, in_c, P) */
#if JVAE_DIRECT_CONV
    if (p->transpose) { /* col holds one padded input image at a time */
        const jvae_patch_geometry input = jvae_direct_transpose_grad_geometry(&p->patches,
                                                                             d->in_c);
        for (int n = 0; n < count; n++) {
            jvae_pad_images(s->col, x + n * p->in_sample, 1, &input);
            jvae_direct_transpose(s->padded, s->col, &p->patches, panel, d->in_c);
            jvae_unpad_image(y + n * p->out_sample, s->padded, 0, bias, &p->patches);
        }
        if (relu_out) jvae_relu_forward(y, y, (size_t)count * p->out_sample);
        return;
    }
#else
    (void)panel;
#endif
    if (p->per_sample || count == 1) { /* X_n (in_c, P) straight from in */
        for (int n = 0; n < count; n++)
            jvae_gemm_tn(p->rows, (int)p->in_plane, d->in_c, weight, p->rows, x + n * p->in_sample,
                         (int)p->in_plane, 0.0f, s->col + n * p->in_plane, columns);
    } else {
        jvae_batch_to_channel_major(s->channel_major, x, count, d->in_c, p->in_plane);
        jvae_gemm_tn(p->rows, columns, d->in_c, weight, p->rows, s->channel_major, columns, 0.0f,
                     s->col, columns);
    }
    jvae_col2im_bias(y, s->col, bias, count, &p->patches, s->padded);
    /* While the group's output is still in cache. */
    if (relu_out) jvae_relu_forward(y, y, (size_t)count * p->out_sample);
}

/* Everything a worker needs, shared by all of them. */
typedef struct transpose_job {
    float *out, *din, *dweight, *dbias, *partials, *grad_sums;
    const float *in, *dout, *weight, *bias, *panel;
    int relu_out, relu_in;
    const jvae_conv_dims *d;
    const transpose_plan *p;
    float *scratch;
} transpose_job;

static void forward_worker(void *context, int worker, int workers)
{
    const transpose_job *j = context;
    const transpose_slice s = slice_of(j->p, j->scratch, worker);
    int begin, end;
    jvae_pool_block(j->p->split.groups, worker, workers, &begin, &end);
    for (int group = begin; group < end; group++)
        forward_group(j->out, j->in, j->weight, j->panel, j->bias, j->relu_out, j->d, j->p, &s,
                      group * j->p->split.group);
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
        float *y = j->out + first * p->out_sample;
        jvae_strips_fill(s.input_strips, j->in + first * p->in_sample, count, &p->input);
        const jvae_phase_output to = {.bias = j->bias, .relu = j->relu_out};
        jvae_strips_phases(y, s.input_strips, count, &p->patches, j->panels, j->d->in_c, s.phases,
                           &to);
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
    const size_t in_plane = (size_t)d->in_h * d->in_w;
    const int rows = d->out_c * d->k_h * d->k_w;
    float *sums = j->sums + (size_t)worker * p->weight_floats; /* (Q, in_c) */
    memset(sums, 0, p->weight_floats * sizeof *sums);
    jvae_channel_sums_add(j->dbias, j->dout, d->batch, d->out_c, (size_t)d->out_h * d->out_w,
                          worker, workers);
    int begin, end;
    jvae_pool_block(d->batch, worker, workers, &begin, &end);
    for (int first = begin; first < end; first += p->split.group) {
        const int count = end - first < p->split.group ? end - first : p->split.group;
        const float *x = j->in + first * p->in_sample;
        jvae_strips_fill(s.strips, j->dout + first * p->out_sample, count, &p->patches);
        jvae_strips_channels_last(s.input_rows, x, count, d->in_c, in_plane);
        jvae_strips_weight_grad(sums, s.input_rows, d->in_c, s.strips, count, &p->patches);
        if (j->din == NULL) continue;
        /* dX is conv2d's forward of dout with the weight (in_c, Q). */
        float *dx = j->din + first * p->in_sample;
        jvae_strips_forward(dx, s.strips, count, &p->patches, j->panels, d->in_c, NULL, 0,
                            !j->relu_in);
        if (j->relu_in) jvae_relu_backward_in_place(dx, x, (size_t)count * p->in_sample);
    }
    float *dw = jvae_worker_weight_gradient(j->dweight, j->partials, worker, p->weight_floats);
    jvae_weight_sums_add(dw, sums, d->in_c, rows);
}
#endif

void jvae_conv2d_transpose_forward_mt(float *out, const float *in, const float *weight,
                                      const float *bias, int relu_out, const jvae_conv_dims *d,
                                      float *scratch, jvae_pool *pool)
{
#if JVAE_TILES
    if (forward_takes_strips(d)) {
        const strip_plan p = strip_plan_for(d, jvae_pool_threads(pool));
        float *panels = scratch + (size_t)p.split.threads * p.slice;
        jvae_strips_phase_pack(panels, weight, d->in_c, d->out_c);
        strip_job job = {.out = out, .in = in, .bias = bias, .panels = panels,
                         .relu_out = relu_out, .d = d, .p = &p, .scratch = scratch};
        jvae_pool_run(pool, p.split.threads, strip_forward_worker, &job);
        return;
    }
#endif
    const transpose_plan p = plan_for(d, jvae_pool_threads(pool));
    float *panel = scratch + (size_t)p.split.threads * p.slice;
#if JVAE_DIRECT_CONV
    if (p.transpose) jvae_direct_transpose_pack(panel, weight, d->in_c, d->out_c);
#endif
    transpose_job job = {.out = out, .in = in, .weight = weight, .bias = bias, .panel = panel,
                         .relu_out = relu_out, .d = d, .p = &p, .scratch = scratch};
    jvae_pool_run(pool, p.split.threads, forward_worker, &job);
}

void jvae_conv2d_transpose_forward(float *out, const float *in, const float *weight,
                                   const float *bias, const jvae_conv_dims *d, float *scratch)
{
    jvae_conv2d_transpose_forward_mt(out, in, weight, bias, 0, d, scratch, NULL);
}

static void backward_group(float *din, float *dweight, float *grad_sums, const float *dout,
                           const float *in, const float *weight, const float *panel,
                           int relu_in, const jvae_conv_dims *d, const transpose_plan *p,
                           const transpose_slice *s, int first)
{
    const int count = d->batch - first < p->split.group ? d->batch - first : p->split.group;
    const int columns = count * (int)p->in_plane;
    const int plane = (int)p->in_plane;
    const int by_sample = p->per_sample || count == 1; /* X_n, dX_n (in_c, P) in the batch */
    const float *x = in + first * p->in_sample; /* (count, in_c, P) */
    float *dx = din == NULL ? NULL : din + first * p->in_sample;
#if JVAE_DIRECT_CONV
    if (p->direct_grad) {
        /* One image at a time: the weight gradient into the worker's (Q, in_c)
         * sums, then dX as conv2d's direct forward of the same padded output
         * gradient: no column matrix. */
        for (int n = 0; n < count; n++) {
            jvae_pad_images(s->padded, dout + (first + n) * p->out_sample, 1, &p->patches);
            jvae_direct_channels_last(s->col, x + n * p->in_sample, d->in_c, p->in_plane);
            jvae_direct_weight_grad(grad_sums, s->padded, &p->patches, s->col, d->in_c);
            if (dx == NULL) continue;
            float *dx_n = dx + n * p->in_sample;
            if (relu_in) {
                jvae_direct_conv(dx_n, s->padded, 1, &p->patches, panel, d->in_c, NULL, 0);
            } else {
                jvae_direct_conv(s->col, s->padded, 1, &p->patches, panel, d->in_c, NULL, 0);
                for (size_t i = 0; i < p->in_sample; i++) dx_n[i] += s->col[i];
            }
        }
        if (dx != NULL && relu_in) jvae_relu_backward_in_place(dx, x, (size_t)count * p->in_sample);
        return;
    }
#else
    (void)grad_sums;
    (void)panel;
#endif
    jvae_im2col(s->col, dout + first * p->out_sample, count, &p->patches, s->padded);
    if (by_sample) {
        for (int n = 0; n < count; n++)
            jvae_gemm_nt(d->in_c, p->rows, plane, x + n * p->in_sample, plane,
                         s->col + n * p->in_plane, columns, 1.0f, dweight, p->rows);
        if (dx == NULL) return;
        for (int n = 0; n < count; n++)
            jvae_gemm_nn(d->in_c, plane, p->rows, weight, p->rows, s->col + n * p->in_plane,
                         columns, relu_in ? 0.0f : 1.0f, dx + n * p->in_sample, plane);
    } else {
        jvae_batch_to_channel_major(s->channel_major, x, count, d->in_c, p->in_plane);
        jvae_gemm_nt(d->in_c, p->rows, columns, s->channel_major, columns, s->col, columns, 1.0f,
                     dweight, p->rows);
        if (dx == NULL) return;
        /* X is spent: reuse its buffer for dX (in_c, G·P). */
        jvae_gemm_nn(d->in_c, columns, p->rows, weight, p->rows, s->col, columns, 0.0f,
                     s->channel_major, columns);
        if (relu_in)
            jvae_channel_major_to_batch_store(dx, s->channel_major, count, d->in_c, p->in_plane);
        else
            jvae_channel_major_to_batch_add(dx, s->channel_major, count, d->in_c, p->in_plane);
    }
    if (relu_in) jvae_relu_backward_in_place(dx, x, (size_t)count * p->in_sample);
}

static void backward_worker(void *context, int worker, int workers)
{
    const transpose_job *j = context;
    const transpose_slice s = slice_of(j->p, j->scratch, worker);
    const transpose_plan *p = j->p;
    float *dw = jvae_worker_weight_gradient(j->dweight, j->partials, worker, p->weight_floats);
    float *sums = NULL;
    if (p->direct_grad) {
        sums = j->grad_sums + (size_t)worker * p->weight_floats;
        memset(sums, 0, p->weight_floats * sizeof *sums);
    }
    jvae_channel_sums_add(j->dbias, j->dout, j->d->batch, j->d->out_c, p->out_plane, worker,
                          workers);
    int begin, end;
    jvae_pool_block(p->split.groups, worker, workers, &begin, &end);
    for (int group = begin; group < end; group++)
        backward_group(j->din, dw, sums, j->dout, j->in, j->weight, j->panel, j->relu_in, j->d,
                       p, &s, group * p->split.group);
#if JVAE_DIRECT_CONV
    if (p->direct_grad) jvae_weight_sums_add(dw, sums, j->d->in_c, p->rows);
#endif
}

void jvae_conv2d_transpose_backward_mt(float *din, float *dweight, float *dbias,
                                       const float *dout, const float *in, const float *weight,
                                       int relu_in, const jvae_conv_dims *d, float *scratch,
                                       jvae_pool *pool)
{
#if JVAE_TILES
    if (backward_takes_strips(d)) {
        const strip_plan p = strip_plan_for(d, jvae_pool_threads(pool));
        const int workers = p.split.threads;
        float *panels = scratch + (size_t)workers * p.slice;
        float *partials = panels + p.panels; /* (workers − 1, in_c, Q) */
        float *sums = partials + (size_t)(workers - 1) * p.weight_floats; /* (workers, Q, in_c) */
        if (din != NULL) jvae_strips_pack(panels, weight, d->in_c, d->out_c * d->k_h * d->k_w);
        strip_job job = {.din = din, .dweight = dweight, .dbias = dbias, .partials = partials,
                         .sums = sums, .in = in, .dout = dout, .panels = panels,
                         .relu_in = relu_in, .d = d, .p = &p, .scratch = scratch};
        jvae_pool_run(pool, workers, strip_backward_worker, &job);
        jvae_partials_add(dweight, partials, workers, p.weight_floats);
        return;
    }
#endif
    const transpose_plan p = plan_for(d, jvae_pool_threads(pool));
    const int workers = p.split.threads;
    float *partials = scratch + (size_t)workers * p.slice; /* (workers − 1, in_c, Q) */
    float *grad_sums = partials + (size_t)(workers - 1) * p.weight_floats; /* (workers, Q, in_c) */
    float *panel = grad_sums + (size_t)workers * p.weight_floats; /* dX's, by the direct forward */
#if JVAE_DIRECT_CONV
    if (p.direct_grad && din != NULL) jvae_direct_conv_pack(panel, weight, d->in_c, p.rows);
#endif
    transpose_job job = {.din = din, .dweight = dweight, .dbias = dbias, .partials = partials,
                         .grad_sums = grad_sums, .panel = panel,
                         .in = in, .dout = dout, .weight = weight, .relu_in = relu_in,
                         .d = d, .p = &p, .scratch = scratch};
    jvae_pool_run(pool, workers, backward_worker, &job);
    jvae_partials_add(dweight, partials, workers, p.weight_floats);
}

void jvae_conv2d_transpose_backward(float *din, float *dweight, float *dbias, const float *dout,
                                    const float *in, const float *weight,
                                    const jvae_conv_dims *d, float *scratch)
{
    jvae_conv2d_transpose_backward_mt(din, dweight, dbias, dout, in, weight, 0, d, scratch, NULL);
}

/* ---- naive twins: direct loops in the gather form, summed in double ---- */

/* Offset of [i0][i1][i2][i3] in a contiguous (·, n1, n2, n3) array. */
static size_t at4(int i0, int i1, int i2, int i3, int n1, int n2, int n3)
{
    return (((size_t)i0 * n1 + i1) * n2 + i2) * n3 + i3;
}

/* Input position along one axis whose tap k lands on output position o, or
 * -1 when none does. */
static int input_of_tap(int o, int k, int stride, int pad, int in_size)
{
    const int t = o + pad - k;
    if (t < 0 || t % stride != 0 || t / stride >= in_size) return -1;
    return t / stride;
}

void jvae_conv2d_transpose_forward_ref(float *out, const float *in, const float *weight,
                                       const float *bias, const jvae_conv_dims *d)
{
    for (int n = 0; n < d->batch; n++)
        for (int o = 0; o < d->out_c; o++)
            for (int oy = 0; oy < d->out_h; oy++)
                for (int ox = 0; ox < d->out_w; ox++) {
                    double sum = bias[o];
                    for (int ki = 0; ki < d->k_h; ki++) {
                        const int y = input_of_tap(oy, ki, d->stride, d->pad, d->in_h);
                        if (y < 0) continue;
                        for (int kj = 0; kj < d->k_w; kj++) {
                            const int x = input_of_tap(ox, kj, d->stride, d->pad, d->in_w);
                            if (x < 0) continue;
                            for (int c = 0; c < d->in_c; c++)
                                sum += (double)in[at4(n, c, y, x, d->in_c, d->in_h, d->in_w)] *
                                       weight[at4(c, o, ki, kj, d->out_c, d->k_h, d->k_w)];
                        }
                    }
                    out[at4(n, o, oy, ox, d->out_c, d->out_h, d->out_w)] = (float)sum;
                }
}

void jvae_conv2d_transpose_backward_ref(float *din, float *dweight, float *dbias,
                                        const float *dout, const float *in, const float *weight,
                                        const jvae_conv_dims *d)
{
    for (int o = 0; o < d->out_c; o++) {
        double sum = 0.0;
        for (int n = 0; n < d->batch; n++)
            for (int oy = 0; oy < d->out_h; oy++)
                for (int ox = 0; ox < d->out_w; ox++)
                    sum += dout[at4(n, o, oy, ox, d->out_c, d->out_h, d->out_w)];
        dbias[o] += (float)sum;
    }
    for (int c = 0; c < d->in_c; c++)
        for (int o = 0; o < d->out_c; o++)
            for (int ki = 0; ki < d->k_h; ki++)
                for (int kj = 0; kj < d->k_w; kj++) {
                    double sum = 0.0;
                    for (int n = 0; n < d->batch; n++)
                        for (int y = 0; y < d->in_h; y++) {
                            const int oy = y * d->stride - d->pad + ki;
                            if (oy < 0 || oy >= d->out_h) continue;
                            for (int x = 0; x < d->in_w; x++) {
                                const int ox = x * d->stride - d->pad + kj;
                                if (ox < 0 || ox >= d->out_w) continue;
                                sum += (double)in[at4(n, c, y, x, d->in_c, d->in_h, d->in_w)] *
                                       dout[at4(n, o, oy, ox, d->out_c, d->out_h, d->out_w)];
                            }
                        }
                    dweight[at4(c, o, ki, kj, d->out_c, d->k_h, d->k_w)] += (float)sum;
                }
    if (din == NULL) return;
    for (int n = 0; n < d->batch; n++)
        for (int c = 0; c < d->in_c; c++)
            for (int y = 0; y < d->in_h; y++)
                for (int x = 0; x < d->in_w; x++) {
                    double sum = 0.0;
                    for (int o = 0; o < d->out_c; o++)
                        for (int ki = 0; ki < d->k_h; ki++) {
                            const int oy = y * d->stride - d->pad + ki;
                            if (oy < 0 || oy >= d->out_h) continue;
                            for (int kj = 0; kj < d->k_w; kj++) {
                                const int ox = x * d->stride - d->pad + kj;
                                if (ox < 0 || ox >= d->out_w) continue;
                                sum += (double)dout[at4(n, o, oy, ox, d->out_c, d->out_h,
                                                        d->out_w)] *
                                       weight[at4(c, o, ki, kj, d->out_c, d->k_h, d->k_w)];
                            }
                        }
                    din[at4(n, c, y, x, d->in_c, d->in_h, d->in_w)] += (float)sum;
                }
}
