/*
 * Internal to lib/nn: the GEMM layouts of the fast convolution kernels.
 *
 * A patch geometry describes `count` images (count, C, H, W) seen through a
 * grid of (grid_h, grid_w) kernel positions: position (gy, gx) covers image
 * rows gy·stride − pad + ki (0 ≤ ki < k_h) and columns gx·stride − pad + kj.
 * conv2d reads its input this way (grid = output); conv2d_transpose writes
 * its output this way (grid = input), which is why both share one unfolding.
 *
 * The column matrix of `count` images is (C·k_h·k_w, count·grid_h·grid_w),
 * row-major: row (c, ki, kj), column (n, gy, gx). Taps outside the image are
 * zero in im2col and dropped by col2im, so col2im is exactly im2col's adjoint.
 *
 * Both go through a padded copy of one image at a time whose columns are
 * split by phase (column mod stride): (C, H + 2·pad, stride, ⌈(W + 2·pad)/stride⌉).
 * Every kernel tap then reads or writes a contiguous run of grid_w values,
 * with no bounds test, however large the stride.
 */
#ifndef JVAE_NN_IM2COL_H
#define JVAE_NN_IM2COL_H

#include <stddef.h>

typedef struct jvae_patch_geometry {
    int channels, height, width; /* of each image */
    int grid_h, grid_w;          /* kernel positions */
    int k_h, k_w, stride, pad;
} jvae_patch_geometry;

/* Floats of the padded, phase-split work copy of one image (see above). */
size_t jvae_padded_floats(const jvae_patch_geometry *g);

/* The padded copies of `count` images (count, C, H, W), one after another,
 * jvae_padded_floats(g) floats each. */
void jvae_pad_images(float *padded, const float *images, int count,
                     const jvae_patch_geometry *g);

/* image (C, H, W) += the interior of one padded copy when `accumulate`,
 * else image = bias[c] + the interior (0 + the interior when bias is NULL):
 * the last step of col2im, for a copy filled some other way. */
void jvae_unpad_image(float *image, const float *padded, int accumulate, const float *bias,
                      const jvae_patch_geometry *g);

/* Where a padded copy keeps its values: tap (ki, kj) of grid position
 * (gy, gx) in channel c is at c·channel + taps[ki·k_w + kj] + gy·grid_row + gx,
 * so the taps of neighbouring positions in a grid row are contiguous. Fills
 * taps (k_h·k_w values). */
typedef struct jvae_padded_steps {
    size_t channel, grid_row;
} jvae_padded_steps;
jvae_padded_steps jvae_padded_taps(const jvae_patch_geometry *g, size_t *taps);

/* col (C·k_h·k_w, count·grid_h·grid_w) = unfolded images (count, C, H, W);
 * padded: jvae_padded_floats(g) floats of work memory. */
void jvae_im2col(float *col, const float *images, int count, const jvae_patch_geometry *g,
                 float *padded);

/* images (count, C, H, W) += folded col (C·k_h·k_w, count·grid_h·grid_w);
 * padded: jvae_padded_floats(g) floats of work memory. */
void jvae_col2im_add(float *images, const float *col, int count, const jvae_patch_geometry *g,
                     float *padded);

/* images (count, C, H, W) = bias[c] + folded col: jvae_col2im_add into
 * images filled with the bias, bit for bit, in one pass fewer. */
void jvae_col2im_bias(float *images, const float *col, const float *bias, int count,
                      const jvae_patch_geometry *g, float *padded);

/* images (count, C, H, W) = folded col: jvae_col2im_add into zeroed images,
 * bit for bit, without the zeroing pass. */
void jvae_col2im_store(float *images, const float *col, int count, const jvae_patch_geometry *g,
                       float *padded);

/* dst (channels, count·plane) = src (count, channels, plane): the batch moves
 * inside the channel so that one GEMM spans every image. */
void jvae_batch_to_channel_major(float *dst, const float *src, int count, int channels,
                                 size_t plane);

/* dst (count, channels, plane) = src (channels, count·plane) + bias[channel]. */
void jvae_channel_major_to_batch_bias(float *dst, const float *src, const float *bias, int count,
                                      int channels, size_t plane);

/* dst (count, channels, plane) += src (channels, count·plane). */
void jvae_channel_major_to_batch_add(float *dst, const float *src, int count, int channels,
                                     size_t plane);

/* dst (count, channels, plane) = src (channels, count·plane): _add into a
 * zeroed dst, bit for bit (a −0 becomes +0), without the zeroing pass. */
void jvae_channel_major_to_batch_store(float *dst, const float *src, int count, int channels,
                                       size_t plane);

/* dbias[c] += Σ over images and plane of grad (count, channels, plane), for
 * worker `worker`'s block of the channels (core/thread_pool.h's
 * jvae_pool_block of `workers`), summed in double so that large batches lose
 * no low bits. Each channel's sum is one fixed sequence of additions, so the
 * bits do not depend on the worker count. */
void jvae_channel_sums_add(float *dbias, const float *grad, int count, int channels, size_t plane,
                           int worker, int workers);

/* How a fast conv kernel splits its batch: groups of `group` samples (the
 * last one may be smaller) handed out to `threads` workers in contiguous
 * blocks. A group is as large as keeps one column matrix of rows × (G·plane)
 * floats within a budget that stays in cache, so that the GEMM reads what
 * im2col just wrote, but no larger than an even share of the batch per
 * worker; threads never exceeds groups. */
typedef struct jvae_batch_split {
    int group, groups, threads;
} jvae_batch_split;

jvae_batch_split jvae_split_batch(int batch, size_t rows, size_t plane, int threads);

/* The same split for samples of per_sample floats of work memory each and a
 * budget of `budget` floats per group. */
jvae_batch_split jvae_split_batch_within(int batch, size_t per_sample, size_t budget,
                                         int threads);

/* The weight gradients that workers past the first accumulate apart in a
 * backward pass, (workers − 1, floats), added into dweight in worker order
 * after the pass, so a fixed thread count gives the same bits.
 * jvae_worker_weight_gradient is what worker `worker` sums into: dweight
 * itself for the first, else its own partial, which it zeroes (each worker
 * clears its own so that no thread waits on one serial memset). */
float *jvae_worker_weight_gradient(float *dweight, float *partials, int worker, size_t floats);
void jvae_partials_add(float *dweight, const float *partials, int workers, size_t floats);

/* dweight (rows, depth) += sums (depth, rows): the weight gradient of the
 * kernels that sum it channels last (conv_direct.h's, conv_strips.h's). */
void jvae_weight_sums_add(float *dweight, const float *sums, int rows, int depth);

/* Whether a fast conv kernel should run one GEMM per sample, reading and
 * writing the batch layout in place, rather than one GEMM per group through
 * channel-major copies. A sample's GEMMs span (rows, plane) and
 * (channels, plane) against a (channels, rows) weight matrix: when the plane
 * is the largest of the three, as in the single-channel layers at either end
 * of the network, the layout moves (one more pass over the layer's largest
 * tensor) cost more than repacking the weights per sample. */
int jvae_per_sample_gemms(size_t plane, size_t rows, size_t channels);

#endif
