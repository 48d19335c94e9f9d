/* Tap strips of images; see strips.h. */
#include "nn/strips.h"

#include "core/cpu.h"

/* Floats of a group's work memory: a quarter of a 2 MiB second-level cache. */
#define STRIPS_BUDGET_FLOATS ((size_t)128 * 1024)

jvae_batch_split jvae_split_strips(int batch, size_t per_image, int threads)
{
    return jvae_split_batch_within(batch, per_image, STRIPS_BUDGET_FLOATS, threads);
}

static size_t strip_rows(const jvae_patch_geometry *g)
{
    return (size_t)g->grid_h + (size_t)(g->k_h - 1) / (size_t)g->stride;
}

/* Rounded up to whole cache lines of 16 floats, so that every strip starts
 * on one: the vector stores of the fill and the loads of the tiles' taps at
 * row 0 then never straddle two lines. No pass reads the rounding. */
size_t jvae_strip_floats(const jvae_patch_geometry *g)
{
    return (strip_rows(g) * (size_t)g->grid_w + 15) / 16 * 16;
}

size_t jvae_strip_channel_floats(const jvae_patch_geometry *g)
{
    return (size_t)g->stride * (size_t)g->k_w * jvae_strip_floats(g);
}

size_t jvae_strip_image_floats(const jvae_patch_geometry *g)
{
    return (size_t)g->channels * jvae_strip_channel_floats(g);
}

void jvae_strip_taps(const jvae_patch_geometry *g, size_t *taps)
{
    const size_t s = (size_t)g->stride, strip = jvae_strip_floats(g);
    for (int ki = 0; ki < g->k_h; ki++)
        for (int kj = 0; kj < g->k_w; kj++)
            taps[ki * g->k_w + kj] = ((size_t)ki % s * (size_t)g->k_w + (size_t)kj) * strip +
                                     (size_t)ki / s * (size_t)g->grid_w;
}

/* strip row = image row's values at columns start + x·stride (x < w), zero
 * outside the image's `width` columns: the plain loop, for any stride. */
static void fill_row(float *dst, const float *row, int width, int start, int stride, int w)
{
    for (int x = 0; x < w; x++) {
        const int col = start + x * stride;
        dst[x] = col >= 0 && col < width ? row[col] : 0.0f;
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define AVX512_INLINE static inline __attribute__((target("avx512f"), always_inline))

/* The lanes of 16 columns from `first` that lie inside [0, width). */
AVX512_INLINE __mmask16 inside(int first, int width)
{
    const int lo = first < 0 ? -first : 0, hi = width - first < 16 ? width - first : 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/* One image's strips for strides 1 and 2, by vectors: each strip row is a
 * masked load of the image row (stride 1), or two and their even lanes. The
 * masks depend on the column tap and the chunk only, not on the row. */
static __attribute__((target("avx512f"))) void fill_image_avx512(float *dst, const float *image,
                                                                 const jvae_patch_geometry *g)
{
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                            28, 30);
    const int s = g->stride, rows = (int)strip_rows(g), w = g->grid_w, width = g->width;
    const int height = g->height, pad = g->pad, channels = g->channels, k_w = g->k_w;
    const size_t strip = jvae_strip_floats(g);
    const __mmask16 tail = w % 16 == 0 ? (__mmask16)0xFFFF : (__mmask16)((1u << (w % 16)) - 1u);
    for (int c = 0; c < channels; c++) {
        const float *channel = image + (size_t)c * (size_t)height * (size_t)width;
        for (int ph = 0; ph < s; ph++)
            for (int kj = 0; kj < k_w; kj++)
                for (int x = 0; x < w; x += 16) {
                    const int first = kj - pad + x * s;
                    const __mmask16 lo = inside(first, width), hi = inside(first + 16, width);
                    const __mmask16 store = w - x >= 16 ? (__mmask16)0xFFFF : tail;
                    float *out = dst + (size_t)(ph * k_w + kj) * strip + x;
                    for (int r = 0; r < rows; r++, out += w) {
                        const int y = r * s + ph - pad;
                        if (y < 0 || y >= height) {
                            _mm512_mask_storeu_ps(out, store, _mm512_setzero_ps());
                            continue;
                        }
                        const float *row = channel + (size_t)y * (size_t)width;
                        __m512 v = first < 0 ? _mm512_maskz_expandloadu_ps(lo, row)
                                             : _mm512_maskz_loadu_ps(lo, row + first);
                        if (s == 2)
                            v = _mm512_permutex2var_ps(
                                v, evens, _mm512_maskz_loadu_ps(hi, row + first + 16));
                        _mm512_mask_storeu_ps(out, store, v);
                    }
                }
        dst += (size_t)s * (size_t)k_w * strip;
    }
}

/* The two geometries of the paper's layers, on grids 4, 8 or 16 wide, fill
 * whole vectors: a vector holds 16 / w consecutive rows of a strip, and
 * every strip row of a channel is a permutation of a window of 32 (the 4x4
 * stride-2 kernel) or 16 (the phases' 3x3 stride-1 kernel) floats of the
 * image that the vector's rows read; the window is loaded once and serves
 * each column tap. */
static int paper_window(const jvae_patch_geometry *g)
{
    const int w = g->grid_w;
    if (w != 4 && w != 8 && w != 16) return 0;
    if (g->k_h == 4 && g->k_w == 4 && g->stride == 2 && g->pad == 1)
        return g->width == 2 * w && g->height == 2 * g->grid_h;
    if (g->k_h == 3 && g->k_w == 3 && g->stride == 1 && g->pad == 1)
        return g->width == w && g->height == g->grid_h;
    return 0;
}

/* For column tap kj, lane l of a vector of rows of width w: row l / w of
 * the window (each `span` floats), column (l mod w)·stride + kj − 1; lanes
 * whose column falls in the padding are zero. */
static inline __attribute__((target("avx512f"), always_inline)) void window_lanes(
    __m512i *index, __mmask16 *inside, int w, int span, int stride, int kj)
{
    int lanes[16];
    unsigned mask = 0;
    for (int l = 0; l < 16; l++) {
        const int col = (l % w) * stride + kj - 1;
        lanes[l] = col >= 0 && col < span ? (l / w) * span + col : 0;
        if (col >= 0 && col < span) mask |= 1u << l;
    }
    *index = _mm512_loadu_si512(lanes);
    *inside = (__mmask16)mask;
}

/* One image's strips in the geometries of paper_window, with the grid width
 * w, the stride s and the column taps k_w fixed at compile time in each
 * inlined copy (the loops over a window's rows and parts, and their masks,
 * cost more than the loads and stores when left to run time). */
static inline __attribute__((target("avx512f"), always_inline)) void fill_windows(
    float *dst, const float *image, int channels, int height, int rows, size_t strip,
    const int w, const int s, const int k_w)
{
    const int width = w * s, per_vector = 16 / w;
    const int span = w * s; /* floats of one image row in the window */
    __m512i index[4];
    __mmask16 inside[4];
    for (int kj = 0; kj < k_w; kj++) window_lanes(&index[kj], &inside[kj], w, span, s, kj);
    for (int c = 0; c < channels; c++) {
        const float *channel = image + (size_t)c * (size_t)height * (size_t)width;
        for (int ph = 0; ph < s; ph++)
            for (int r0 = 0; r0 < rows; r0 += per_vector) {
                /* The window: rows y_i = (r0 + i)·s + ph − 1 of the image,
                 * span floats each, zero outside the image. */
                __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
                for (int i = 0; i < per_vector; i++) {
                    const int y = (r0 + i) * s + ph - 1;
                    if (y < 0 || y >= height) continue;
                    const float *row = channel + (size_t)y * (size_t)width;
                    const int at = i * span; /* where the row starts in the window */
                    for (int part = 0; part < span; part += 16) {
                        const int lane = (at + part) % 16;
                        const int count = span - part < 16 ? span - part : 16;
                        const __mmask16 m = (__mmask16)(((1u << count) - 1u) << lane);
                        /* A row that starts mid-vector is expanded into its
                         * lanes, so that no address before it is formed. */
                        if (at + part < 16)
                            lo = lane == 0 ? _mm512_mask_loadu_ps(lo, m, row + part)
                                           : _mm512_mask_expandloadu_ps(lo, m, row + part);
                        else
                            hi = lane == 0 ? _mm512_mask_loadu_ps(hi, m, row + part)
                                           : _mm512_mask_expandloadu_ps(hi, m, row + part);
                    }
                }
                const int left = (rows - r0) * w;
                const __mmask16 store =
                    left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
                for (int kj = 0; kj < k_w; kj++) {
                    const __m512 v = _mm512_maskz_permutex2var_ps(inside[kj], lo, index[kj], hi);
                    _mm512_mask_storeu_ps(dst + (size_t)(ph * k_w + kj) * strip + (size_t)r0 * w,
                                          store, v);
                }
            }
        dst += (size_t)s * (size_t)k_w * strip;
    }
}

static __attribute__((target("avx512f"))) void fill_image_windows(float *dst, const float *image,
                                                                  const jvae_patch_geometry *g)
{
    const int c = g->channels, h = g->height, rows = (int)strip_rows(g);
    const size_t strip = jvae_strip_floats(g);
    if (g->stride == 2) {
        if (g->grid_w == 4) fill_windows(dst, image, c, h, rows, strip, 4, 2, 4);
        if (g->grid_w == 8) fill_windows(dst, image, c, h, rows, strip, 8, 2, 4);
        if (g->grid_w == 16) fill_windows(dst, image, c, h, rows, strip, 16, 2, 4);
    } else {
        if (g->grid_w == 4) fill_windows(dst, image, c, h, rows, strip, 4, 1, 3);
        if (g->grid_w == 8) fill_windows(dst, image, c, h, rows, strip, 8, 1, 3);
        if (g->grid_w == 16) fill_windows(dst, image, c, h, rows, strip, 16, 1, 3);
    }
}
#endif

void jvae_strips_fill(float *strips, const float *images, int count,
                      const jvae_patch_geometry *g)
{
    const int s = g->stride, rows = (int)strip_rows(g), w = g->grid_w;
    const size_t image_floats = (size_t)g->channels * g->height * g->width;
    for (int n = 0; n < count; n++) {
        float *dst = strips + (size_t)n * jvae_strip_image_floats(g);
        const float *image = images + (size_t)n * image_floats;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if ((s == 1 || s == 2) && jvae_cpu_isa() == JVAE_ISA_AVX512) {
            if (paper_window(g))
                fill_image_windows(dst, image, g);
            else
                fill_image_avx512(dst, image, g);
            continue;
        }
#endif
        const size_t strip = jvae_strip_floats(g);
        for (int c = 0; c < g->channels; c++) {
            const float *channel = image + (size_t)c * g->height * g->width;
            for (int ph = 0; ph < s; ph++)
                for (int kj = 0; kj < g->k_w; kj++) {
                    float *run = dst + (size_t)((c * s + ph) * g->k_w + kj) * strip;
                    for (int r = 0; r < rows; r++, run += w) {
                        const int y = r * s + ph - g->pad;
                        if (y < 0 || y >= g->height)
                            for (int x = 0; x < w; x++) run[x] = 0.0f;
                        else
                            fill_row(run, channel + (size_t)y * g->width, g->width, kj - g->pad,
                                     s, w);
                    }
                }
        }
    }
}
