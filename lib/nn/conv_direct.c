/* Direct convolution passes over padded images: the forward and its adjoint;
 * see conv_direct.h. */
#include "nn/conv_direct.h"

#if JVAE_DIRECT_CONV

#include <immintrin.h>

#include "core/cpu.h"

#define TILE_CHANNELS 4
#define RUN 8  /* positions per vector */
#define RUNS 3 /* vectors per tile */

static const float no_bias[TILE_CHANNELS] = {0.0f, 0.0f, 0.0f, 0.0f};

void jvae_direct_conv_pack(float *panel, const float *weight, int out_c, int rows)
{
    for (int t = 0; t < out_c / TILE_CHANNELS; t++)
        for (int k = 0; k < rows; k++)
            for (int r = 0; r < TILE_CHANNELS; r++)
                *panel++ = weight[(size_t)(t * TILE_CHANNELS + r) * (size_t)rows + (size_t)k];
}

int jvae_direct_conv_fits(const jvae_patch_geometry *g, int out_c)
{
    return jvae_cpu_isa() >= JVAE_ISA_AVX2 && g->grid_w % RUN == 0 && out_c % TILE_CHANNELS == 0 &&
           g->k_h * g->k_w <= JVAE_DIRECT_MAX_TAPS;
}

/* What every tile of a call shares. */
typedef struct direct_layer {
    const float *panel; /* of the tile's four channels: (rows, 4) */
    const size_t *taps;
    int tap_count, channels;
    size_t channel; /* floats between the channels of a padded image */
    size_t plane;   /* floats between output channels */
    const float *bias; /* of the tile's four channels */
    int relu;
} direct_layer;

__attribute__((target("avx2,fma"))) static inline void store_run(float *dst, __m256 sum,
                                                                  float bias, int relu)
{
    __m256 v = _mm256_add_ps(sum, _mm256_set1_ps(bias));
    if (relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
    _mm256_storeu_ps(dst, v);
}

/* out[o][·] of the first `runs` runs = bias + Σ over taps of panel × input.
 * A run past `runs` reads run 0 again and is not stored. */
__attribute__((target("avx2,fma"))) static void tile(const direct_layer *l,
                                                     const float *const in[RUNS],
                                                     float *const out[RUNS], int runs)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    const float *w = l->panel;
    const float *r0 = in[0], *r1 = runs > 1 ? in[1] : in[0], *r2 = runs > 2 ? in[2] : in[0];
    for (int c = 0; c < l->channels; c++) {
        for (int k = 0; k < l->tap_count; k++, w += TILE_CHANNELS) {
            const size_t o = l->taps[k];
            const __m256 x0 = _mm256_loadu_ps(r0 + o), x1 = _mm256_loadu_ps(r1 + o),
                         x2 = _mm256_loadu_ps(r2 + o);
            __m256 a = _mm256_broadcast_ss(w);
            c00 = _mm256_fmadd_ps(a, x0, c00);
            c01 = _mm256_fmadd_ps(a, x1, c01);
            c02 = _mm256_fmadd_ps(a, x2, c02);
            a = _mm256_broadcast_ss(w + 1);
            c10 = _mm256_fmadd_ps(a, x0, c10);
            c11 = _mm256_fmadd_ps(a, x1, c11);
            c12 = _mm256_fmadd_ps(a, x2, c12);
            a = _mm256_broadcast_ss(w + 2);
            c20 = _mm256_fmadd_ps(a, x0, c20);
            c21 = _mm256_fmadd_ps(a, x1, c21);
            c22 = _mm256_fmadd_ps(a, x2, c22);
            a = _mm256_broadcast_ss(w + 3);
            c30 = _mm256_fmadd_ps(a, x0, c30);
            c31 = _mm256_fmadd_ps(a, x1, c31);
            c32 = _mm256_fmadd_ps(a, x2, c32);
        }
        r0 += l->channel;
        r1 += l->channel;
        r2 += l->channel;
    }
    const size_t p = l->plane;
    const float *b = l->bias;
    store_run(out[0], c00, b[0], l->relu);
    store_run(out[0] + p, c10, b[1], l->relu);
    store_run(out[0] + 2 * p, c20, b[2], l->relu);
    store_run(out[0] + 3 * p, c30, b[3], l->relu);
    if (runs < 2) return;
    store_run(out[1], c01, b[0], l->relu);
    store_run(out[1] + p, c11, b[1], l->relu);
    store_run(out[1] + 2 * p, c21, b[2], l->relu);
    store_run(out[1] + 3 * p, c31, b[3], l->relu);
    if (runs < 3) return;
    store_run(out[2], c02, b[0], l->relu);
    store_run(out[2] + p, c12, b[1], l->relu);
    store_run(out[2] + 2 * p, c22, b[2], l->relu);
    store_run(out[2] + 3 * p, c32, b[3], l->relu);
}

/* The channel tile is the outer loop, so that its panel (rows × 4 floats)
 * stays in the first-level cache while the runs of every image of the group
 * pass by; the other order measured no better on the paper's layers. */
void jvae_direct_conv(float *out, const float *padded, int count, const jvae_patch_geometry *g,
                      const float *panel, int out_c, const float *bias, int relu)
{
    size_t taps[JVAE_DIRECT_MAX_TAPS];
    const jvae_padded_steps steps = jvae_padded_taps(g, taps);
    const int tap_count = g->k_h * g->k_w;
    const size_t rows = (size_t)g->channels * (size_t)tap_count;
    const size_t plane = (size_t)g->grid_h * (size_t)g->grid_w;
    const size_t padded_floats = jvae_padded_floats(g);
    const int runs_per_row = g->grid_w / RUN;
    const int runs_per_image = g->grid_h * runs_per_row;
    const int total = count * runs_per_image;
    direct_layer l = {.taps = taps, .tap_count = tap_count, .channels = g->channels,
                      .channel = steps.channel, .plane = plane, .relu = relu};
    for (int t = 0; t < out_c / TILE_CHANNELS; t++) {
        l.panel = panel + (size_t)t * rows * TILE_CHANNELS;
        l.bias = bias != NULL ? bias + t * TILE_CHANNELS : no_bias;
        for (int first = 0; first < total; first += RUNS) {
            const float *in[RUNS];
            float *dst[RUNS];
            const int runs = total - first < RUNS ? total - first : RUNS;
            for (int v = 0; v < runs; v++) {
                const int n = (first + v) / runs_per_image, r = (first + v) % runs_per_image;
                const size_t gy = (size_t)(r / runs_per_row), gx = (size_t)(r % runs_per_row) * RUN;
                in[v] = padded + (size_t)n * padded_floats + gy * steps.grid_row + gx;
                dst[v] = out + ((size_t)n * (size_t)out_c + (size_t)t * TILE_CHANNELS) * plane +
                         gy * (size_t)g->grid_w + gx;
            }
            tile(&l, in, dst, runs);
        }
    }
}

/* The transposed pass of the paper's geometry (4x4 kernel, stride 2, padding
 * 1, image sides twice the grid's), by output phase: padded row 2y' + py,
 * column 2x' + px receives tap (py + 2a, px + 2b) of grid position
 * (y' − a, x' − b) for a, b ∈ {0, 1}. Each phase is thus a 2x2 stride-1
 * convolution of the gradient, zero-padded by one, with a quarter of the
 * weights, and the forward tile computes it: its runs are 8 values of one
 * phase's run in the padded image, written once each. */
#define PHASE_TAPS 4

int jvae_direct_transpose_fits(const jvae_patch_geometry *g, int channels)
{
    return jvae_direct_conv_fits(g, channels) && g->k_h == 4 && g->k_w == 4 && g->stride == 2 &&
           g->pad == 1 && g->height == 2 * g->grid_h && g->width == 2 * g->grid_w;
}

jvae_patch_geometry jvae_direct_transpose_grad_geometry(const jvae_patch_geometry *g,
                                                        int grad_channels)
{
    const jvae_patch_geometry padded = {grad_channels, g->grid_h, g->grid_w, g->grid_h + 1,
                                        g->grid_w + 1, 2, 2, 1, 1};
    return padded;
}

void jvae_direct_transpose_pack(float *panels, const float *weight, int grad_channels,
                                int channels)
{
    const size_t phase_floats = (size_t)grad_channels * (size_t)channels * PHASE_TAPS;
    for (int phase = 0; phase < 4; phase++) {
        const int py = phase / 2, px = phase % 2;
        float *panel = panels + (size_t)phase * phase_floats;
        for (int t = 0; t < channels / TILE_CHANNELS; t++)
            for (int o = 0; o < grad_channels; o++)
                for (int tap = 0; tap < PHASE_TAPS; tap++)
                    for (int r = 0; r < TILE_CHANNELS; r++) {
                        const int c = t * TILE_CHANNELS + r;
                        const int ki = py + 2 * (tap / 2), kj = px + 2 * (tap % 2);
                        *panel++ = weight[(((size_t)o * (size_t)channels + (size_t)c) * 4 +
                                           (size_t)ki) * 4 + (size_t)kj];
                    }
    }
}

void jvae_direct_transpose(float *padded, const float *grad_padded, const jvae_patch_geometry *g,
                           const float *panels, int grad_channels)
{
    const jvae_patch_geometry gg = jvae_direct_transpose_grad_geometry(g, grad_channels);
    size_t grad_taps[PHASE_TAPS]; /* of the 2x2 kernel on the padded gradient, at (0, 0) */
    const jvae_padded_steps grad_steps = jvae_padded_taps(&gg, grad_taps);
    size_t image_taps[JVAE_DIRECT_MAX_TAPS];
    const jvae_padded_steps steps = jvae_padded_taps(g, image_taps);
    /* Position (y', x') of phase (py, px) reads the padded gradient at
     * (y' + 1 − a, x' + 1 − b): tap (a, b) sits at offset tap (1 − a, 1 − b)
     * of the 2x2 kernel placed at (y', x'). */
    const size_t taps[PHASE_TAPS] = {grad_taps[3], grad_taps[2], grad_taps[1], grad_taps[0]};
    const size_t row = steps.grid_row / 2;                /* floats of one padded row */
    const size_t phase_w = image_taps[1] - image_taps[0]; /* kj = 1 is the next phase */
    const int runs_per_row = g->grid_w / RUN;
    const int total = g->grid_h * runs_per_row;
    const size_t phase_floats = (size_t)grad_channels * (size_t)g->channels * PHASE_TAPS;
    direct_layer l = {.taps = taps, .tap_count = PHASE_TAPS, .channels = grad_channels,
                      .channel = grad_steps.channel, .plane = steps.channel, .bias = no_bias};
    for (int phase = 0; phase < 4; phase++) {
        const int py = phase / 2, px = phase % 2;
        /* The interior: padded rows 1 .. 2·grid_h and columns likewise, so
         * phase 0 starts at index 1 and phase 1 at index 0. */
        const size_t first_y = py == 0 ? 1 : 0, first_x = px == 0 ? 1 : 0;
        for (int t = 0; t < g->channels / TILE_CHANNELS; t++) {
            l.panel = panels + (size_t)phase * phase_floats +
                      (size_t)t * (size_t)grad_channels * PHASE_TAPS * TILE_CHANNELS;
            float *channel_tile = padded + (size_t)t * TILE_CHANNELS * steps.channel;
            for (int first = 0; first < total; first += RUNS) {
                const float *in[RUNS];
                float *out[RUNS];
                const int runs = total - first < RUNS ? total - first : RUNS;
                for (int v = 0; v < runs; v++) {
                    const size_t y = first_y + (size_t)((first + v) / runs_per_row);
                    const size_t x = first_x + (size_t)((first + v) % runs_per_row) * RUN;
                    in[v] = grad_padded + y * grad_steps.grid_row + x;
                    out[v] = channel_tile + (2 * y + (size_t)py) * row + (size_t)px * phase_w + x;
                }
                tile(&l, in, out, runs);
            }
        }
    }
}

/* ---- the weight gradient ---- */

#define GRAD_VECTORS 2 /* of 8 output channels each */
#define GRAD_TAPS 6

int jvae_direct_weight_grad_fits(const jvae_patch_geometry *g, int out_c)
{
    const long plane = (long)g->grid_h * g->grid_w;
    return jvae_cpu_isa() >= JVAE_ISA_AVX2 && out_c % (GRAD_VECTORS * 8) == 0 && plane % 8 == 0 &&
           g->k_h * g->k_w <= JVAE_DIRECT_MAX_TAPS;
}

/* 8 rows of 8 floats, `from` apart, into 8 columns, `to` apart. */
__attribute__((target("avx2,fma"))) static void transpose8(float *dst, size_t to,
                                                           const float *src, size_t from)
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (size_t)i * from);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + (size_t)i * to, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(dst + (size_t)(i + 4) * to, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}

void jvae_direct_channels_last(float *grad_t, const float *grad, int out_c, size_t plane)
{
    for (int o = 0; o < out_c; o += 8)
        for (size_t p = 0; p < plane; p += 8)
            transpose8(grad_t + p * (size_t)out_c + (size_t)o, (size_t)out_c,
                       grad + (size_t)o * plane + p, plane);
}

__attribute__((target("avx2,fma"))) static inline void add_into(float *dst, __m256 v)
{
    _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_loadu_ps(dst), v));
}

/* dweight_t rows [first, first + count) (count ≤ 6), channels [o, o + 16).
 * A tap past `count` repeats tap 0 and is not stored. */
__attribute__((target("avx2,fma"))) static void grad_tile(float *dweight_t,
                                                          const float *padded,
                                                          const size_t tap[GRAD_TAPS], int count,
                                                          const jvae_patch_geometry *g,
                                                          size_t grid_row, const float *grad_t,
                                                          int out_c)
{
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
    __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
    const float *d = grad_t;
    for (int gy = 0; gy < g->grid_h; gy++) {
        const float *row = padded + (size_t)gy * grid_row;
        const float *x0 = row + tap[0], *x1 = row + tap[1], *x2 = row + tap[2];
        const float *x3 = row + tap[3], *x4 = row + tap[4], *x5 = row + tap[5];
        for (int gx = 0; gx < g->grid_w; gx++, d += out_c) {
            const __m256 w0 = _mm256_loadu_ps(d), w1 = _mm256_loadu_ps(d + 8);
            __m256 x = _mm256_broadcast_ss(x0 + gx);
            a00 = _mm256_fmadd_ps(w0, x, a00);
            a01 = _mm256_fmadd_ps(w1, x, a01);
            x = _mm256_broadcast_ss(x1 + gx);
            a10 = _mm256_fmadd_ps(w0, x, a10);
            a11 = _mm256_fmadd_ps(w1, x, a11);
            x = _mm256_broadcast_ss(x2 + gx);
            a20 = _mm256_fmadd_ps(w0, x, a20);
            a21 = _mm256_fmadd_ps(w1, x, a21);
            x = _mm256_broadcast_ss(x3 + gx);
            a30 = _mm256_fmadd_ps(w0, x, a30);
            a31 = _mm256_fmadd_ps(w1, x, a31);
            x = _mm256_broadcast_ss(x4 + gx);
            a40 = _mm256_fmadd_ps(w0, x, a40);
            a41 = _mm256_fmadd_ps(w1, x, a41);
            x = _mm256_broadcast_ss(x5 + gx);
            a50 = _mm256_fmadd_ps(w0, x, a50);
            a51 = _mm256_fmadd_ps(w1, x, a51);
        }
    }
    const __m256 sums[GRAD_TAPS][GRAD_VECTORS] = {{a00, a01}, {a10, a11}, {a20, a21},
                                                  {a30, a31}, {a40, a41}, {a50, a51}};
    for (int j = 0; j < count; j++) {
        add_into(dweight_t + (size_t)j * (size_t)out_c, sums[j][0]);
        add_into(dweight_t + (size_t)j * (size_t)out_c + 8, sums[j][1]);
    }
}

void jvae_direct_weight_grad(float *dweight_t, const float *padded, const jvae_patch_geometry *g,
                             const float *grad_t, int out_c)
{
    size_t taps[JVAE_DIRECT_MAX_TAPS];
    const jvae_padded_steps steps = jvae_padded_taps(g, taps);
    const int tap_count = g->k_h * g->k_w;
    const int rows = g->channels * tap_count;
    /* The channel tile is the outer loop: its gradient, plane × 16 floats,
     * stays in the first-level cache while the taps go by. */
    for (int o = 0; o < out_c; o += GRAD_VECTORS * 8)
        for (int first = 0; first < rows; first += GRAD_TAPS) {
            const int count = rows - first < GRAD_TAPS ? rows - first : GRAD_TAPS;
            size_t tap[GRAD_TAPS];
            for (int j = 0; j < GRAD_TAPS; j++) {
                const int r = first + (j < count ? j : 0);
                tap[j] = (size_t)(r / tap_count) * steps.channel + taps[r % tap_count];
            }
            grad_tile(dweight_t + (size_t)first * (size_t)out_c + (size_t)o, padded, tap, count,
                      g, steps.grid_row, grad_t + o, out_c);
        }
}

#endif
