/*
 * Internal to lib/nn: convolution passes computed straight from and into the
 * padded, phase-split images of im2col.h, with no column matrix and no
 * packing of the image side: the conv2d forward (also conv2d_transpose's
 * input gradient), its adjoint, which is both conv2d's input gradient and
 * conv2d_transpose's forward, and the weight gradient of both.
 *
 * Why: through a GEMM, every input value of a 4x4 kernel is written 16 times
 * into the column matrix, and the BLAS then copies that matrix once more into
 * its panels. Here the image is padded once and the kernel reads it where it
 * is. In the phase-split copy, tap (ki, kj) of 8 neighbouring positions of an
 * output row is 8 contiguous floats for any stride, so one unaligned vector
 * load fetches it; the weights come from a small panel packed per call.
 *
 * A register tile is 4 output channels × 3 runs of 8 positions (12 AVX2
 * accumulators). Runs may lie in different rows or images. Each output is
 * one sum over the taps in the order (c, ki, kj), whatever the thread count.
 * The adjoint is computed by output phase, as four 2x2 stride-1
 * convolutions of the padded gradient with the same tile, so that every
 * output value is written once (see conv_direct.c). The weight gradient has
 * a tile of its own, vectorised over output channels (below): its sums run
 * over grid positions, which no 8-float run of an output row could hold.
 */
#ifndef JVAE_NN_CONV_DIRECT_H
#define JVAE_NN_CONV_DIRECT_H

#include <stddef.h>

#include "nn/im2col.h"

/* The kernel exists where GCC or clang target x86-64; elsewhere the GEMM
 * path is the only one, and none of the functions below is built. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define JVAE_DIRECT_CONV 1
#else
#define JVAE_DIRECT_CONV 0
#endif

#if JVAE_DIRECT_CONV

/* Whether jvae_direct_conv can compute a layer of `out_c` output channels
 * over geometry g on this CPU: x86-64 with AVX2 and FMA (checked at run
 * time), output rows a multiple of 8 wide, out_c a multiple of 4, and at
 * most JVAE_DIRECT_MAX_TAPS kernel taps. Otherwise the GEMM path runs. */
#define JVAE_DIRECT_MAX_TAPS 64
int jvae_direct_conv_fits(const jvae_patch_geometry *g, int out_c);

/* panel (out_c / 4, rows, 4) = weight (out_c, rows), four channels interleaved. */
void jvae_direct_conv_pack(float *panel, const float *weight, int out_c, int rows);

/* out (count, out_c, grid_h, grid_w) = bias[o] (0 when bias is NULL) + the
 * convolution of `count` padded images (jvae_pad_images, jvae_padded_floats(g)
 * apart) with the packed weights, then max(·, 0) when `relu`. Only for
 * layers that fit. */
void jvae_direct_conv(float *out, const float *padded, int count, const jvae_patch_geometry *g,
                      const float *panel, int out_c, const float *bias, int relu);

/* The transposed pass, for the paper's geometry only (4x4 kernel, stride 2,
 * padding 1, image sides twice the grid's) and the conditions of
 * jvae_direct_conv_fits with `channels` the image's channels, g->channels.
 * Where it beats the GEMM and col2im is the callers' choice. */
int jvae_direct_transpose_fits(const jvae_patch_geometry *g, int channels);

/* The geometry to pad the gradient (grad_channels, grid_h, grid_w) with
 * (jvae_pad_images) before jvae_direct_transpose: one zero all round. */
jvae_patch_geometry jvae_direct_transpose_grad_geometry(const jvae_patch_geometry *g,
                                                        int grad_channels);

/* panels (4 phases, channels / 4, grad_channels, 4 taps, 4) from weight
 * (grad_channels, channels, 4, 4): a conv's (out_c, in_c, ·) or a transposed
 * conv's (in_c, out_c, ·); as many floats as the weight. */
void jvae_direct_transpose_pack(float *panels, const float *weight, int grad_channels,
                                int channels);

/* The interior of one image's padded copy (what jvae_unpad_image reads; the
 * border is left as it was) = for every tap (c, ki, kj) and grid position,
 * Σ over the gradient's channels of weight × gradient, summed where taps
 * meet: col2im(weightᵀ · grad) without the column matrix. grad_padded is one
 * gradient image padded by jvae_pad_images with
 * jvae_direct_transpose_grad_geometry. */
void jvae_direct_transpose(float *padded, const float *grad_padded, const jvae_patch_geometry *g,
                           const float *panels, int grad_channels);

/* The weight gradient, vectorised over output channels: for each grid
 * position, 16 channels of the gradient (one load each of two vectors) times
 * 6 taps of the padded image (one broadcast each) go into 12 accumulators,
 * and a tile's sum over one image's positions is added once into a
 * (rows, out_c) gradient. No column matrix, no packing, and any grid width.
 * It fits with AVX2 and FMA, out_c a multiple of 16, a grid of a multiple of
 * 8 positions (the moves to channels last go by 8x8 blocks) and at most
 * JVAE_DIRECT_MAX_TAPS taps; where it beats OpenBLAS's GEMM is the callers'
 * choice (conv2d.c, conv2d_transpose.c). */
int jvae_direct_weight_grad_fits(const jvae_patch_geometry *g, int out_c);

/* grad_t (plane, out_c) = grad (out_c, plane), one image, for plane and
 * out_c multiples of 8: the gradient with its channels last. */
void jvae_direct_channels_last(float *grad_t, const float *grad, int out_c, size_t plane);

/* dweight_t (rows, out_c) += Σ over the grid positions of one image of
 * grad_t (plane, out_c) × tap (c, ki, kj) of the image's padded copy
 * (jvae_pad_images with g), for layers that fit. */
void jvae_direct_weight_grad(float *dweight_t, const float *padded, const jvae_patch_geometry *g,
                             const float *grad_t, int out_c);

#endif /* JVAE_DIRECT_CONV */

#endif
