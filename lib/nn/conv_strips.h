/*
 * Internal to lib/nn: convolution passes on tap strips (strips.h) with the
 * AVX-512 tiles of tiles.h, for CPUs that have AVX-512 (jvae_cpu_isa()).
 *
 * Why: a vector of 16 grid positions is one load per tap from the strips on
 * any grid of a multiple of 16 positions, 4x4 included, so every layer of the
 * paper's networks computes on full vectors with no column matrix, and the
 * outputs come out in the batch layout (N, C, P) with no moves:
 *   forward   out (o, p) = bias + Σ over (c, ki, kj) of weight × strip run
 *             (conv2d's forward; conv2d_transpose's input gradient, with the
 *             output gradient's strips);
 *   phases    the transposed pass of the paper's 4x4 stride-2 kernel, by
 *             output phase: each phase of the image (rows and columns of one
 *             parity) is four taps of a 3x3 stride-1 convolution of the grid
 *             side's image, taken from its strips (conv2d's input gradient,
 *             conv2d_transpose's forward), then interleaved into the image;
 *   weights   dW (rows, c·k_h·k_w) += Σ over images and positions of a
 *             strip run's value × a vector of the grid side's channels
 *             (both weight gradients).
 * Each output value of the forward and phase passes is one sum over its taps
 * in a fixed order, so it does not depend on how the batch is split.
 */
#ifndef JVAE_NN_CONV_STRIPS_H
#define JVAE_NN_CONV_STRIPS_H

#include <stddef.h>

#include "nn/im2col.h"

/* Whether the passes run for the geometry g on this CPU: AVX-512, a grid of
 * a multiple of 16 positions, at most JVAE_STRIPS_MAX_TAPS taps; and for
 * jvae_strips_phases, the paper's geometry (4x4 kernel, stride 2, padding 1,
 * image sides twice the grid's). Where they pay is the callers' choice. */
int jvae_strips_fit(const jvae_patch_geometry *g);
int jvae_strips_phases_fit(const jvae_patch_geometry *g);

/* Floats of the panels of jvae_strips_pack: rows rounded up to tiles of 8. */
size_t jvae_strips_panel_floats(int rows, int depth);

/* panels (⌈rows / 8⌉, depth, 8) = weight (rows, depth), 8 rows interleaved,
 * zero past the last row. */
void jvae_strips_pack(float *panels, const float *weight, int rows, int depth);

/* out (count, out_c, P) = (accumulate ? out : 0) + bias[o] (0 when bias is
 * NULL) + the convolution of `count` images' strips (jvae_strips_fill with
 * g) with the packed weight (out_c, C·k_h·k_w), then max(·, 0) when relu. */
void jvae_strips_forward(float *out, const float *strips, int count,
                         const jvae_patch_geometry *g, const float *panels, int out_c,
                         const float *bias, int relu, int accumulate);

/* The geometry of the grid side's image strips for jvae_strips_phases: the
 * (grad_channels, grid_h, grid_w) image seen by a 3x3 kernel of stride 1 and
 * padding 1. */
jvae_patch_geometry jvae_strips_phase_geometry(const jvae_patch_geometry *g, int grad_channels);

/* Floats of jvae_strips_phase_pack's panels: four phases' of (channels,
 * grad_channels·4). */
size_t jvae_strips_phase_panel_floats(int grad_channels, int channels);

/* The panels of the four phases from weight (grad_channels, channels, 4, 4):
 * a conv's (out_c, in_c, ·) or a transposed conv's (in_c, out_c, ·). */
void jvae_strips_phase_pack(float *panels, const float *weight, int grad_channels,
                            int channels);

/* What jvae_strips_phases does with each value v of the pass: images += v
 * when accumulate, else images = bias[c] + v (0 + v when bias is NULL),
 * then max(·, 0) as jvae_relu_forward when relu, or v kept only where gate
 * (a ReLU's output, shaped as images) is > 0, as jvae_relu_backward_in_place,
 * when gate is not NULL. */
typedef struct jvae_phase_output {
    int accumulate;
    const float *bias;
    int relu;
    const float *gate;
} jvae_phase_output;

/* images (count, channels, H, W) receive, as `to` says, the transposed pass
 * of `count` grid-side images of grad_channels, given as their strips
 * (jvae_strips_fill with jvae_strips_phase_geometry): for every tap
 * (c, ki, kj) and grid position, Σ over the grid side's channels of
 * weight × value, summed where taps meet. panels from jvae_strips_phase_pack;
 * phases: count · channels · H · W floats of work memory. */
void jvae_strips_phases(float *images, const float *grad_strips, int count,
                        const jvae_patch_geometry *g, const float *panels, int grad_channels,
                        float *phases, const jvae_phase_output *to);

/* dst (count, P, rows) = src (count, rows, P): the grid side's tensor
 * channels last, as jvae_strips_weight_grad reads it. */
void jvae_strips_channels_last(float *dst, const float *src, int count, int rows, size_t plane);

/* sums (C·k_h·k_w, rows) += Σ over the `count` images n and the grid
 * positions p of tap (c, ki, kj) of image n's strips at p × rows_cl[n][p][·],
 * rows_cl the grid side's tensor channels last: the weight gradient of a
 * conv (rows its out_c) or transposed conv (rows its in_c), transposed. Each
 * sum runs over the images and positions in order, one vector of channels at
 * a time, with no sums across lanes. */
void jvae_strips_weight_grad(float *sums, const float *rows_cl, int rows, const float *strips,
                             int count, const jvae_patch_geometry *g);

#endif
