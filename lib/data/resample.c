/* Separable 8-bit resampling, following Pillow's Resample.c step for step so
 * that BILINEAR results are identical to Image.resize(…, Image.BILINEAR). */
#include "data/resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* PIL's bilinear_filter: the triangle of support 1. */
static double triangle(double x)
{
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* PIL's precompute_coeffs with the BILINEAR filter: centres at
 * (o + 0.5)·scale, the triangle widened by the scale when shrinking, bounds
 * rounded by truncation as PIL does ((int)(x + 0.5)), weights normalised. */
static void bilinear_taps(double *weights, int *first, int *count, int in_size, int out_size,
                          int taps)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale;
    double inverse = 1.0 / filterscale;
    for (int o = 0; o < out_size; o++) {
        double center = (o + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        int hi = (int)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in_size) hi = in_size;
        double *w = weights + (size_t)o * taps;
        double sum = 0.0;
        for (int x = 0; x < hi - lo; x++) {
            w[x] = triangle((x + lo - center + 0.5) * inverse);
            sum += w[x];
        }
        for (int x = 0; x < hi - lo; x++)
            if (sum != 0.0) w[x] /= sum;
        first[o] = lo;
        count[o] = hi - lo;
    }
}

/* Exact area coverage: output pixel o covers [o·s, (o + 1)·s) of the source,
 * s = in/out; each source pixel weighs its overlap with that interval. */
static void area_taps(double *weights, int *first, int *count, int in_size, int out_size,
                      int taps)
{
    for (int o = 0; o < out_size; o++) {
        double a = (double)o * in_size / out_size;
        double b = (double)(o + 1) * in_size / out_size;
        int lo = (int)floor(a);
        int hi = (int)ceil(b);
        if (hi > in_size) hi = in_size;
        double *w = weights + (size_t)o * taps;
        double sum = 0.0;
        for (int x = lo; x < hi; x++) {
            double overlap = fmin(x + 1.0, b) - fmax((double)x, a);
            w[x - lo] = overlap > 0.0 ? overlap : 0.0;
            sum += w[x - lo];
        }
        for (int x = 0; x < hi - lo; x++) w[x] /= sum;
        first[o] = lo;
        count[o] = hi - lo;
    }
}

static jvae_status axis_init(jvae_resample_axis *axis, int in_size, int out_size,
                             jvae_resize_filter filter)
{
    if (filter == JVAE_RESIZE_AUTO)
        filter = out_size < in_size ? JVAE_RESIZE_AREA : JVAE_RESIZE_BILINEAR;
    /* Upper bounds on taps: PIL's ksize for the triangle; for the area, an
     * interval of length s meets at most ceil(s) + 1 pixels. */
    double scale = (double)in_size / out_size;
    int taps = filter == JVAE_RESIZE_AREA ? (int)ceil(scale) + 1
                                          : (int)ceil(scale < 1.0 ? 1.0 : scale) * 2 + 1;
    size_t cells;
    if (!jvae_mul_ok((size_t)out_size, (size_t)taps, &cells) ||
        cells > SIZE_MAX / sizeof(double))
        return jvae_fail(JVAE_ERR_OVERFLOW, "resample: %d taps for %d pixels overflow", taps,
                         out_size);
    double *weights = calloc(cells, sizeof *weights);
    axis->first = malloc((size_t)out_size * sizeof *axis->first);
    axis->count = malloc((size_t)out_size * sizeof *axis->count);
    axis->weights = malloc(cells * sizeof *axis->weights);
    if (weights == NULL || axis->first == NULL || axis->count == NULL || axis->weights == NULL) {
        free(weights);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "resample: cannot allocate %zu weights", cells);
    }
    axis->in_size = in_size;
    axis->out_size = out_size;
    axis->taps = taps;
    if (filter == JVAE_RESIZE_AREA)
        area_taps(weights, axis->first, axis->count, in_size, out_size, taps);
    else
        bilinear_taps(weights, axis->first, axis->count, in_size, out_size, taps);
    /* PIL's normalize_coeffs_8bpc: round half away from zero to fixed point. */
    for (size_t i = 0; i < cells; i++) {
        double w = weights[i] * (1 << JVAE_RESAMPLE_PRECISION);
        axis->weights[i] = (int32_t)(w < 0 ? w - 0.5 : w + 0.5);
    }
    free(weights);
    return JVAE_OK;
}

static void axis_release(jvae_resample_axis *axis)
{
    free(axis->first);
    free(axis->count);
    free(axis->weights);
    memset(axis, 0, sizeof *axis);
}

jvae_status jvae_resample_plan_init(jvae_resample_plan *plan, int in_w, int in_h, int out_w,
                                    int out_h, jvae_resize_filter filter)
{
    memset(plan, 0, sizeof *plan);
    jvae_status status = axis_init(&plan->x, in_w, out_w, filter);
    if (status == JVAE_OK) status = axis_init(&plan->y, in_h, out_h, filter);
    if (status) jvae_resample_plan_release(plan);
    return status;
}

void jvae_resample_plan_release(jvae_resample_plan *plan)
{
    axis_release(&plan->x);
    axis_release(&plan->y);
}

size_t jvae_resample_scratch_bytes(const jvae_resample_plan *plan, int channels)
{
    return (size_t)plan->x.out_size * (size_t)plan->y.in_size * (size_t)channels;
}

/* PIL's clip8: drop the fraction, clamp to a byte. */
static uint8_t clip8(int32_t sum)
{
    int32_t value = sum >> JVAE_RESAMPLE_PRECISION;
    if (value < 0) return 0;
    if (value > 255) return 255;
    return (uint8_t)value;
}

void jvae_resample_u8(const jvae_resample_plan *plan, uint8_t *out, const uint8_t *in,
                      size_t in_stride, int channels, uint8_t *scratch)
{
    const jvae_resample_axis *ax = &plan->x, *ay = &plan->y;
    const int32_t half = 1 << (JVAE_RESAMPLE_PRECISION - 1);
    size_t mid_stride = (size_t)ax->out_size * (size_t)channels;
    /* horizontal: in (in_h, in_w, ch) -> scratch (in_h, out_w, ch) */
    for (int y = 0; y < ay->in_size; y++) {
        const uint8_t *row = in + (size_t)y * in_stride;
        uint8_t *dst = scratch + (size_t)y * mid_stride;
        for (int o = 0; o < ax->out_size; o++) {
            const int32_t *w = ax->weights + (size_t)o * ax->taps;
            const uint8_t *src = row + (size_t)ax->first[o] * (size_t)channels;
            for (int c = 0; c < channels; c++) {
                int32_t sum = half;
                for (int k = 0; k < ax->count[o]; k++) sum += src[k * channels + c] * w[k];
                dst[o * channels + c] = clip8(sum);
            }
        }
    }
    /* vertical: scratch (in_h, out_w, ch) -> out (out_h, out_w, ch) */
    for (int o = 0; o < ay->out_size; o++) {
        const int32_t *w = ay->weights + (size_t)o * ay->taps;
        const uint8_t *src = scratch + (size_t)ay->first[o] * mid_stride;
        uint8_t *dst = out + (size_t)o * mid_stride;
        for (size_t i = 0; i < mid_stride; i++) {
            int32_t sum = half;
            for (int k = 0; k < ay->count[o]; k++) sum += src[(size_t)k * mid_stride + i] * w[k];
            dst[i] = clip8(sum);
        }
    }
}
