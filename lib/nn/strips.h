/*
 * Internal to lib/nn: the tap strips of an image, the layout that lets a
 * vector of 16 neighbouring kernel positions load each tap's values with one
 * load, whatever the grid's width (conv_strips.h computes on it).
 *
 * An image (C, H, W) seen through a grid of (grid_h, grid_w) kernel
 * positions (im2col.h's patch geometry): position (gy, gx), tap (ki, kj)
 * reads image row gy·stride − pad + ki, column gx·stride − pad + kj. For
 * each channel c, row phase ph (0 ≤ ph < stride) and column tap kj, the strip
 * (c, ph, kj) is a matrix of grid_h + (k_h − 1) / stride rows of grid_w values,
 *   strip[r][x] = image[c][r·stride + ph − pad][x·stride + kj − pad]
 * (0 outside the image). A channel's strips lie in the order (ph, kj), each
 * rounded up to whole cache lines of 16 floats, and an image's channels one
 * after another. Tap (ki, kj) of every position of the grid is then
 * the contiguous run of grid_h·grid_w floats of strip (c, ki mod stride, kj)
 * that starts at row ki / stride: runs cross the grid's rows, so a vector of
 * 16 positions covers two rows of an 8-wide grid, or a whole 4x4 one.
 *
 * Against im2col's column matrix, which holds each of the k_h·k_w taps of
 * every position, the strips share the values of taps that differ by a
 * multiple of the stride in ki: half its size for the paper's 4x4 stride-2
 * kernels, about twice the image.
 */
#ifndef JVAE_NN_STRIPS_H
#define JVAE_NN_STRIPS_H

#include <stddef.h>

#include "nn/im2col.h"

/* The most kernel taps the strips functions take. */
#define JVAE_STRIPS_MAX_TAPS 64

/* Floats of one strip, of one channel's strips, and of one image's. */
size_t jvae_strip_floats(const jvae_patch_geometry *g);
size_t jvae_strip_channel_floats(const jvae_patch_geometry *g);
size_t jvae_strip_image_floats(const jvae_patch_geometry *g);

/* taps[ki·k_w + kj] = where the run of tap (ki, kj) starts within a
 * channel's strips (add c · jvae_strip_channel_floats for channel c). */
void jvae_strip_taps(const jvae_patch_geometry *g, size_t *taps);

/* How a pass on strips splits its batch: groups of images whose work memory
 * (per_image floats each: their strips and whatever goes with them) stays
 * within a budget that the second-level cache holds, as jvae_split_batch. */
jvae_batch_split jvae_split_strips(int batch, size_t per_image, int threads);

/* The strips of `count` images (count, C, H, W), one image's after another
 * (by vector loads and shuffles for strides 1 and 2 on CPUs with AVX-512). */
void jvae_strips_fill(float *strips, const float *images, int count,
                      const jvae_patch_geometry *g);

#endif
