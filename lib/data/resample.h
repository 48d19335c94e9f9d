/* Internal: separable resampling of 8-bit images, bit-exact with Pillow's
 * ImagingResample (src/libImaging/Resample.c) for its BILINEAR filter.
 *
 * Each axis gets a table of taps: output pixel o reads source pixels
 * first[o] .. first[o] + count[o] − 1 with weights normalised to sum 1, stored
 * as fixed point with JVAE_RESAMPLE_PRECISION fractional bits (PIL's
 * PRECISION_BITS = 32 − 8 − 2). A resize is a horizontal pass into an 8-bit
 * intermediate (out_w x in_h) then a vertical pass, each rounding as PIL does:
 * (2^21 + Σ pixel·weight) >> 22, clamped to 0..255. */
#ifndef JVAE_DATA_RESAMPLE_H
#define JVAE_DATA_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "jointvae/data.h"

#define JVAE_RESAMPLE_PRECISION 22

typedef struct jvae_resample_axis {
    int in_size, out_size;
    int taps;         /* stride of `weights`: the largest count */
    int *first;       /* (out_size) */
    int *count;       /* (out_size) */
    int32_t *weights; /* (out_size, taps) fixed point */
} jvae_resample_axis;

typedef struct jvae_resample_plan {
    jvae_resample_axis x, y;
} jvae_resample_plan;

/* Plan a resize of in_w x in_h to out_w x out_h (all >= 1) with `filter`
 * (AUTO resolves per axis: AREA when that axis shrinks, BILINEAR otherwise).
 * Returns JVAE_OK or OUT_OF_MEMORY/OVERFLOW (message set, plan zeroed). */
jvae_status jvae_resample_plan_init(jvae_resample_plan *plan, int in_w, int in_h, int out_w,
                                    int out_h, jvae_resize_filter filter);
void jvae_resample_plan_release(jvae_resample_plan *plan);

/* Bytes of scratch jvae_resample_u8 needs: out_w · in_h · channels. */
size_t jvae_resample_scratch_bytes(const jvae_resample_plan *plan, int channels);

/* in (in_h rows of in_w pixels, `channels` interleaved bytes each, rows
 * in_stride bytes apart) -> out (out_h, out_w, channels), packed. */
void jvae_resample_u8(const jvae_resample_plan *plan, uint8_t *out, const uint8_t *in,
                      size_t in_stride, int channels, uint8_t *scratch);

#endif
