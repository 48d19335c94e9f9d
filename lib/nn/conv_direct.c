/* Direct conv2d forward over padded images; see conv_direct.h. */
#include "nn/conv_direct.h"

#if JVAE_DIRECT_CONV

#include <immintrin.h>

#define TILE_CHANNELS 4
#define RUN 8  /* positions per vector */
#define RUNS 3 /* vectors per tile */

void jvae_direct_conv_pack(float *panel, const float *weight, int out_c, int rows)
{
    for (int t = 0; t < out_c / TILE_CHANNELS; t++)
        for (int k = 0; k < rows; k++)
            for (int r = 0; r < TILE_CHANNELS; r++)
                *panel++ = weight[(size_t)(t * TILE_CHANNELS + r) * (size_t)rows + (size_t)k];
}

int jvae_direct_conv_fits(const jvae_patch_geometry *g, int out_c)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           g->grid_w % RUN == 0 && out_c % TILE_CHANNELS == 0 &&
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

/* The channel tile is the outer loop: its panel (rows × 4 floats) stays in
 * the first-level cache while the runs of every image of the group pass by,
 * which ran 5 to 20 % faster than the other order on the paper's layers. */
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
        l.bias = bias + t * TILE_CHANNELS;
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

#endif
