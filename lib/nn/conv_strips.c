/* Convolution passes on tap strips with the AVX-512 tiles; see conv_strips.h. */
#include "nn/conv_strips.h"

#include "core/cpu.h"
#include "nn/strips.h"
#include "nn/tiles.h"

#define ROWS JVAE_OUTER_ROWS
#define LANES JVAE_LANES

static size_t plane_of(const jvae_patch_geometry *g)
{
    return (size_t)g->grid_h * (size_t)g->grid_w;
}

static int tiles_of(int rows)
{
    return (rows + ROWS - 1) / ROWS;
}

int jvae_strips_fit(const jvae_patch_geometry *g)
{
    return JVAE_TILES && jvae_cpu_isa() == JVAE_ISA_AVX512 && plane_of(g) % LANES == 0 &&
           g->k_h * g->k_w <= JVAE_STRIPS_MAX_TAPS;
}

int jvae_strips_phases_fit(const jvae_patch_geometry *g)
{
    return jvae_strips_fit(g) && g->k_h == 4 && g->k_w == 4 && g->stride == 2 && g->pad == 1 &&
           g->height == 2 * g->grid_h && g->width == 2 * g->grid_w;
}

size_t jvae_strips_panel_floats(int rows, int depth)
{
    return (size_t)tiles_of(rows) * (size_t)depth * ROWS;
}

void jvae_strips_pack(float *panels, const float *weight, int rows, int depth)
{
    for (int t = 0; t < tiles_of(rows); t++)
        for (int k = 0; k < depth; k++)
            for (int r = 0; r < ROWS; r++) {
                const int row = t * ROWS + r;
                *panels++ = row < rows ? weight[(size_t)row * (size_t)depth + (size_t)k] : 0.0f;
            }
}

#if JVAE_TILES

#include <immintrin.h>

#define AVX512_FN __attribute__((target("avx512f")))

/* The tile's 8 bias values, zero past the last row and for no bias. */
static void tile_bias(float dst[ROWS], const float *bias, int first, int rows)
{
    for (int r = 0; r < ROWS; r++) dst[r] = bias != NULL && r < rows ? bias[first + r] : 0.0f;
}

/* Every tile of `out_c` rows over the vectors of `count` images of
 * `plane` positions, runs of 16: vector q of image n reads from
 * in + n·in_image + 16q and writes out + n·out_image + 16q + row·out_step.
 * The row tile is the outer loop, so that its panel stays in the
 * first-level cache while the vectors of every image go by. */
static void outer_over_images(jvae_outer_pass *p, const float *panels, size_t depth, int out_c,
                              const float *bias, const float *in, size_t in_image, float *out,
                              size_t out_image, int count, size_t plane)
{
    const int per_image = (int)(plane / LANES), total = count * per_image;
    float tile_biases[ROWS];
    p->bias = bias != NULL ? tile_biases : NULL;
    for (int t = 0; t < tiles_of(out_c); t++) {
        const int rows = out_c - t * ROWS < ROWS ? out_c - t * ROWS : ROWS;
        p->panel = panels + (size_t)t * depth * ROWS;
        tile_bias(tile_biases, bias, t * ROWS, rows);
        for (int first = 0; first < total; first += JVAE_OUTER_VECTORS) {
            const int vectors =
                total - first < JVAE_OUTER_VECTORS ? total - first : JVAE_OUTER_VECTORS;
            const float *x[JVAE_OUTER_VECTORS];
            float *y[JVAE_OUTER_VECTORS];
            for (int v = 0; v < vectors; v++) {
                const size_t n = (size_t)((first + v) / per_image);
                const size_t at = (size_t)((first + v) % per_image) * LANES;
                x[v] = in + n * in_image + at;
                y[v] = out + n * out_image + (size_t)t * ROWS * p->out_step + at;
            }
            jvae_outer_tile(p, x, y, vectors, LANES, rows);
        }
    }
}

void jvae_strips_forward(float *out, const float *strips, int count,
                         const jvae_patch_geometry *g, const float *panels, int out_c,
                         const float *bias, int relu, int accumulate)
{
    size_t taps[JVAE_STRIPS_MAX_TAPS];
    jvae_strip_taps(g, taps);
    const int tap_count = g->k_h * g->k_w;
    const size_t plane = plane_of(g);
    jvae_outer_pass p = {.taps = taps, .tap_count = tap_count, .channels = g->channels,
                         .channel_step = jvae_strip_channel_floats(g), .out_step = plane,
                         .relu = relu, .accumulate = accumulate};
    outer_over_images(&p, panels, (size_t)g->channels * (size_t)tap_count, out_c, bias, strips,
                      jvae_strip_image_floats(g), out, (size_t)out_c * plane, count, plane);
}

#endif /* JVAE_TILES */

/* ---- the transposed pass, by output phase ---- */

/* Image row 2u + 1 − py, column 2v + 1 − px (padding 1) receives tap
 * (py + 2a, px + 2b) of grid position (u + 1 − py − a, v + 1 − px − b) for
 * a, b ∈ {0, 1}. Seen by a 3x3 stride-1 kernel with padding 1, which reads
 * grid row u + ki − 1 at position u, that is tap (2 − py − a, 2 − px − b)
 * of position (u, v): phase (py, px) of the image is a convolution of four
 * of the nine taps of the grid side's strips. */
#define PHASES 4
#define PHASE_TAPS 4

jvae_patch_geometry jvae_strips_phase_geometry(const jvae_patch_geometry *g, int grad_channels)
{
    const jvae_patch_geometry phase = {grad_channels, g->grid_h, g->grid_w, g->grid_h,
                                       g->grid_w,     3,         3,         1,
                                       1};
    return phase;
}

size_t jvae_strips_phase_panel_floats(int grad_channels, int channels)
{
    return PHASES * jvae_strips_panel_floats(channels, grad_channels * PHASE_TAPS);
}

void jvae_strips_phase_pack(float *panels, const float *weight, int grad_channels,
                            int channels)
{
    for (int phase = 0; phase < PHASES; phase++) {
        const int py = phase / 2, px = phase % 2;
        for (int t = 0; t < tiles_of(channels); t++)
            for (int o = 0; o < grad_channels; o++)
                for (int tap = 0; tap < PHASE_TAPS; tap++)
                    for (int r = 0; r < ROWS; r++) {
                        const int c = t * ROWS + r;
                        const int ki = py + 2 * (tap / 2), kj = px + 2 * (tap % 2);
                        *panels++ = c < channels
                                        ? weight[(((size_t)o * (size_t)channels + (size_t)c) * 4 +
                                                  (size_t)ki) * 4 + (size_t)kj]
                                        : 0.0f;
                    }
    }
}

#if JVAE_TILES

/* The epilogue of `to` on 16 image values x at d (lanes of `lanes`), the
 * gate's values at gate when there is one. */
static inline __attribute__((target("avx512f"), always_inline)) void finish(
    float *d, __m512 x, __mmask16 lanes, const jvae_phase_output *to, float bias,
    const float *gate)
{
    const __m512i one = _mm512_set1_epi32(1), sign = _mm512_set1_epi32((int)0x80000001u);
    const __m512i infinity = _mm512_set1_epi32(0x7f800000);
    x = _mm512_add_ps(to->accumulate ? _mm512_maskz_loadu_ps(lanes, d) : _mm512_set1_ps(bias), x);
    if (to->relu) { /* zero the negative finite values and −inf, as jvae_relu_forward */
        const __mmask16 negative = _mm512_cmplt_epu32_mask(
            _mm512_sub_epi32(_mm512_castps_si512(x), sign), infinity);
        x = _mm512_mask_mov_ps(x, negative, _mm512_setzero_ps());
    }
    if (gate != NULL) { /* keep where the gate is > 0 (positive or +inf), as relu_gate */
        const __m512i g = _mm512_castps_si512(_mm512_maskz_loadu_ps(lanes, gate));
        x = _mm512_maskz_mov_ps(_mm512_cmplt_epu32_mask(_mm512_sub_epi32(g, one), infinity), x);
    }
    _mm512_mask_storeu_ps(d, lanes, x);
}

/* images = the phases interleaved, with the epilogue of `to`: image row
 * 2u + q holds phases (1 − q, 1) in its even columns and (1 − q, 0) in its
 * odd ones, at row u. Sixteen (or, on grids narrower than 16, eight) columns
 * of each phase at a time. */
static AVX512_FN void interleave(float *images, const float *phases, int count, int channels,
                                 int height, int w, const jvae_phase_output *to)
{
    const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i high =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const size_t plane = (size_t)(height / 2) * (size_t)w;
    for (int n = 0; n < count; n++)
        for (int c = 0; c < channels; c++) {
            const size_t at = ((size_t)n * channels + (size_t)c) * PHASES * plane;
            const float *channel = phases + at;
            const float *gate = to->gate != NULL ? to->gate + at : NULL;
            const float b = !to->accumulate && to->bias != NULL ? to->bias[c] : 0.0f;
            for (int y = 0; y < height; y++) {
                const int py = 1 - y % 2;
                const float *evens = channel + (size_t)(py * 2 + 1) * plane + (size_t)(y / 2) * w;
                const float *odds = channel + (size_t)(py * 2) * plane + (size_t)(y / 2) * w;
                const size_t row = at + (size_t)y * 2 * (size_t)w;
                float *dst = images + row;
                const float *gate_row = gate != NULL ? to->gate + row : NULL;
                int v = 0;
                for (; v + 16 <= w; v += 16) {
                    const __m512 e = _mm512_loadu_ps(evens + v), o = _mm512_loadu_ps(odds + v);
                    finish(dst + 2 * v, _mm512_permutex2var_ps(e, low, o), 0xFFFF, to, b,
                           gate_row != NULL ? gate_row + 2 * v : NULL);
                    finish(dst + 2 * v + 16, _mm512_permutex2var_ps(e, high, o), 0xFFFF, to, b,
                           gate_row != NULL ? gate_row + 2 * v + 16 : NULL);
                }
                for (; v < w; v += 8) {
                    const int left = w - v < 8 ? w - v : 8;
                    const __mmask16 half = (__mmask16)((1u << left) - 1u);
                    const __m512 x = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(half, evens + v),
                                                            low,
                                                            _mm512_maskz_loadu_ps(half, odds + v));
                    finish(dst + 2 * v, x, (__mmask16)((1u << (2 * left)) - 1u), to, b,
                           gate_row != NULL ? gate_row + 2 * v : NULL);
                }
            }
        }
}

void jvae_strips_phases(float *images, const float *grad_strips, int count,
                        const jvae_patch_geometry *g, const float *panels, int grad_channels,
                        float *phases, const jvae_phase_output *to)
{
    const jvae_patch_geometry pg = jvae_strips_phase_geometry(g, grad_channels);
    size_t grid_taps[9];
    jvae_strip_taps(&pg, grid_taps);
    const size_t plane = plane_of(g);
    const int channels = g->channels;
    const size_t depth = (size_t)grad_channels * PHASE_TAPS;
    for (int phase = 0; phase < PHASES; phase++) {
        const int py = phase / 2, px = phase % 2;
        size_t taps[PHASE_TAPS];
        for (int tap = 0; tap < PHASE_TAPS; tap++)
            taps[tap] = grid_taps[(2 - tap / 2 - py) * 3 + (2 - tap % 2 - px)];
        jvae_outer_pass p = {.taps = taps, .tap_count = PHASE_TAPS, .channels = grad_channels,
                             .channel_step = jvae_strip_channel_floats(&pg),
                             .out_step = PHASES * plane};
        const float *phase_panels =
            panels + (size_t)phase * jvae_strips_panel_floats(channels, (int)depth);
        outer_over_images(&p, phase_panels, depth, channels, NULL, grad_strips,
                          jvae_strip_image_floats(&pg), phases + (size_t)phase * plane,
                          (size_t)channels * PHASES * plane, count, plane);
    }
    interleave(images, phases, count, channels, g->height, g->grid_w, to);
}

/* 16 rows of 16 floats, `from` apart, into 16 columns, `to` apart. */
static AVX512_FN void transpose16(float *dst, size_t to, const float *src, size_t from)
{
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (size_t)i * from);
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xDD);
        }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
    }
    for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + (size_t)i * to, r[i]);
}

void jvae_strips_channels_last(float *dst, const float *src, int count, int rows, size_t plane)
{
    const size_t n_rows = (size_t)rows, whole = n_rows / LANES * LANES;
    for (int n = 0; n < count; n++) {
        const float *s = src + (size_t)n * n_rows * plane;
        float *d = dst + (size_t)n * n_rows * plane;
        for (size_t p = 0; p < plane; p += LANES) {
            for (size_t r = 0; r < whole; r += LANES)
                transpose16(d + p * n_rows + r, n_rows, s + r * plane + p, plane);
            for (size_t r = whole; r < n_rows; r++)
                for (size_t q = p; q < p + LANES; q++) d[q * n_rows + r] = s[r * plane + q];
        }
    }
}

void jvae_strips_weight_grad(float *sums, const float *rows_cl, int rows, const float *strips,
                             int count, const jvae_patch_geometry *g)
{
    size_t taps[JVAE_STRIPS_MAX_TAPS];
    jvae_strip_taps(g, taps);
    const int tap_count = g->k_h * g->k_w, depth = g->channels * tap_count;
    const size_t plane = plane_of(g), channel_floats = jvae_strip_channel_floats(g);
    const jvae_grad_pass p = {.run_image = jvae_strip_image_floats(g), .y_step = (size_t)rows,
                              .y_image = plane * (size_t)rows, .length = (int)plane,
                              .images = count, .sums_step = (size_t)rows};
    enum { MOST_VECTORS = 4 };
    for (int o = 0; o < rows; o += MOST_VECTORS * LANES) {
        const int left = rows - o;
        const int vectors =
            left >= MOST_VECTORS * LANES ? MOST_VECTORS : (left + LANES - 1) / LANES;
        const int last = left - (vectors - 1) * LANES, lanes = last < LANES ? last : LANES;
        const int most = JVAE_GRAD_RUNS(vectors);
        /* The channels' block is the outer loop: its rows of rows_cl stay in
         * cache while the runs of every tap go by. */
        for (int first = 0; first < depth; first += most) {
            const int runs_here = depth - first < most ? depth - first : most;
            const float *runs[24];
            for (int j = 0; j < runs_here; j++) {
                const int r = first + j;
                runs[j] = strips + (size_t)(r / tap_count) * channel_floats + taps[r % tap_count];
            }
            jvae_grad_tile(&p, sums + (size_t)first * (size_t)rows + (size_t)o, runs, rows_cl + o,
                           runs_here, vectors, lanes);
        }
    }
}

#endif /* JVAE_TILES */
