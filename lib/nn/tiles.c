/* AVX-512 register tiles; see tiles.h. */
#include "nn/tiles.h"

#if JVAE_TILES

#include <immintrin.h>

/* Full unrolling keeps a tile's accumulators in registers: without it GCC
 * stores them back to the stack at every step. */
#define UNROLL _Pragma("GCC unroll 24")
#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE static inline __attribute__((target("avx512f"), always_inline))

AVX512_INLINE __mmask16 first_lanes(int count)
{
    return count >= JVAE_LANES ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1u);
}

/* acc[r][v] += panel row r × the vectors at x[v] + o, v < vectors. */
AVX512_INLINE void outer_step(__m512 acc[JVAE_OUTER_ROWS][JVAE_OUTER_VECTORS], const float *w,
                              const float *const x[JVAE_OUTER_VECTORS], size_t o,
                              const int vectors, __mmask16 last)
{
    __m512 in[JVAE_OUTER_VECTORS];
    UNROLL for (int v = 0; v < vectors; v++)
        in[v] = v == vectors - 1 ? _mm512_maskz_loadu_ps(last, x[v] + o)
                                 : _mm512_loadu_ps(x[v] + o);
    UNROLL for (int r = 0; r < JVAE_OUTER_ROWS; r++) {
        const __m512 a = _mm512_set1_ps(w[r]);
        UNROLL for (int v = 0; v < vectors; v++) acc[r][v] = _mm512_fmadd_ps(a, in[v], acc[r][v]);
    }
}

/* The tile with `vectors` fixed at compile time in each inlined copy, and
 * the loop over taps dropped when there is one (a GEMM's). */
AVX512_INLINE void outer(const jvae_outer_pass *p, const float *const in[], float *const out[],
                         const int vectors, int lanes, int rows)
{
    __m512 acc[JVAE_OUTER_ROWS][JVAE_OUTER_VECTORS];
    const __mmask16 last = first_lanes(lanes);
    UNROLL for (int r = 0; r < JVAE_OUTER_ROWS; r++)
        UNROLL for (int v = 0; v < vectors; v++) acc[r][v] = _mm512_setzero_ps();
    const float *w = p->panel;
    const float *x[JVAE_OUTER_VECTORS];
    UNROLL for (int v = 0; v < JVAE_OUTER_VECTORS; v++) x[v] = in[v < vectors ? v : 0];
    const int channels = p->channels, tap_count = p->tap_count;
    const size_t step = p->channel_step;
    if (tap_count == 1) {
        UNROLL for (int v = 0; v < vectors; v++) x[v] += p->taps[0];
        for (int c = 0; c < channels; c++, w += JVAE_OUTER_ROWS) {
            outer_step(acc, w, x, 0, vectors, last);
            UNROLL for (int v = 0; v < vectors; v++) x[v] += step;
        }
    } else {
        for (int c = 0; c < channels; c++) {
            for (int t = 0; t < tap_count; t++, w += JVAE_OUTER_ROWS)
                outer_step(acc, w, x, p->taps[t], vectors, last);
            UNROLL for (int v = 0; v < vectors; v++) x[v] += step;
        }
    }
    /* Constant indices only: an array indexed at run time lives on the stack. */
    UNROLL for (int r = 0; r < JVAE_OUTER_ROWS; r++) {
        if (r >= rows) break;
        UNROLL for (int v = 0; v < vectors; v++) {
            const __mmask16 mask = v == vectors - 1 ? last : (__mmask16)0xFFFF;
            float *dst = out[v] + (size_t)r * p->out_step;
            __m512 sum = acc[r][v];
            if (p->accumulate) sum = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, dst), sum);
            if (p->bias != NULL) sum = _mm512_add_ps(sum, _mm512_set1_ps(p->bias[r]));
            if (p->relu) sum = _mm512_max_ps(sum, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(dst, mask, sum);
        }
    }
}

AVX512 void jvae_outer_tile(const jvae_outer_pass *p, const float *const in[],
                            float *const out[], int vectors, int lanes, int rows)
{
    if (vectors == 3)
        outer(p, in, out, 3, lanes, rows);
    else if (vectors == 2)
        outer(p, in, out, 2, lanes, rows);
    else
        outer(p, in, out, 1, lanes, rows);
}

/* The 16 lanes of each of v0..v7 added up: 8 sums, each one fixed tree over
 * its own lanes wherever it sits among the eight. */
AVX512_INLINE __m256 lane_sums8(__m512 v0, __m512 v1, __m512 v2, __m512 v3, __m512 v4,
                                __m512 v5, __m512 v6, __m512 v7)
{
    const __m512 v[8] = {v0, v1, v2, v3, v4, v5, v6, v7};
    __m512 pair[4], quad[2];
    UNROLL for (int i = 0; i < 4; i++) /* blocks: input 2i's (0+2, 1+3), 2i+1's (0+2, 1+3) */
        pair[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44),
                                _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE));
    UNROLL for (int i = 0; i < 2; i++) /* block b: input 4i + b, 4 lanes */
        quad[i] = _mm512_add_ps(_mm512_shuffle_f32x4(pair[2 * i], pair[2 * i + 1], 0x88),
                                _mm512_shuffle_f32x4(pair[2 * i], pair[2 * i + 1], 0xDD));
    /* Block b: lanes 0-1 input b, lanes 2-3 input 4 + b; then one lane each. */
    const __m512 half = _mm512_add_ps(_mm512_shuffle_ps(quad[0], quad[1], 0x44),
                                      _mm512_shuffle_ps(quad[0], quad[1], 0xEE));
    const __m512 whole = _mm512_add_ps(half, _mm512_shuffle_ps(half, half, 0xB1));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 2, 6, 10, 14, 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_castps512_ps256(_mm512_permutexvar_ps(order, whole));
}

#define DOT_TILE (JVAE_DOT_ROWS * JVAE_DOT_COLS)

/* 16 floats from p, or only the lanes of `mask` (the others zero) when not
 * `whole`: the masked load costs a third of the dot tile's speed if used
 * for every step. */
AVX512_INLINE __m512 load(const float *p, int whole, __mmask16 mask)
{
    return whole ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(mask, p);
}

/* acc[i·6 + j] += the 16 lanes from x of a[i] × b[j]. */
AVX512_INLINE void dot_step(__m512 acc[DOT_TILE], const float *const a[JVAE_DOT_ROWS],
                            const float *const b[JVAE_DOT_COLS], size_t x, int whole,
                            __mmask16 mask)
{
    __m512 u[JVAE_DOT_ROWS];
    UNROLL for (int i = 0; i < JVAE_DOT_ROWS; i++) u[i] = load(a[i] + x, whole, mask);
    UNROLL for (int j = 0; j < JVAE_DOT_COLS; j++) {
        const __m512 y = load(b[j] + x, whole, mask);
        UNROLL for (int i = 0; i < JVAE_DOT_ROWS; i++)
            acc[i * JVAE_DOT_COLS + j] = _mm512_fmadd_ps(u[i], y, acc[i * JVAE_DOT_COLS + j]);
    }
}

AVX512 void jvae_dot_tile(const jvae_dot_pass *p, float *c, size_t ldc, const float *a,
                          const float *const b[JVAE_DOT_COLS], int rows, int cols)
{
    const float *ar[JVAE_DOT_ROWS], *br[JVAE_DOT_COLS];
    UNROLL for (int i = 0; i < JVAE_DOT_ROWS; i++)
        ar[i] = a + (i < rows ? (size_t)i * p->a_step : 0);
    UNROLL for (int j = 0; j < JVAE_DOT_COLS; j++) br[j] = b[j];
    __m512 acc[DOT_TILE];
    UNROLL for (int t = 0; t < DOT_TILE; t++) acc[t] = _mm512_setzero_ps();
    const size_t whole = (size_t)(p->length / JVAE_LANES) * JVAE_LANES;
    const __mmask16 tail = first_lanes(p->length % JVAE_LANES);
    for (int n = 0; n < p->images; n++) {
        size_t x = 0;
        for (; x < whole; x += JVAE_LANES) dot_step(acc, ar, br, x, 1, 0);
        if (tail != 0) dot_step(acc, ar, br, x, 0, tail);
        UNROLL for (int i = 0; i < JVAE_DOT_ROWS; i++) ar[i] += p->a_image;
        UNROLL for (int j = 0; j < JVAE_DOT_COLS; j++) br[j] += p->b_image;
    }
    float sums[DOT_TILE];
    UNROLL for (int t = 0; t < DOT_TILE; t += 8)
        _mm256_storeu_ps(sums + t, lane_sums8(acc[t], acc[t + 1], acc[t + 2], acc[t + 3],
                                              acc[t + 4], acc[t + 5], acc[t + 6], acc[t + 7]));
    for (int i = 0; i < rows; i++, c += ldc)
        for (int j = 0; j < cols; j++)
            c[j] = (p->accumulate ? c[j] : 0.0f) + sums[i * JVAE_DOT_COLS + j];
}

/* The gradient tile with `vectors` fixed and its runs at most 24 / vectors;
 * runs past `count` repeat run 0 and are not stored. */
AVX512_INLINE void grad(const jvae_grad_pass *p, float *sums, const float *const runs[],
                        const float *y, int count, const int vectors, int lanes)
{
    enum { MOST = 24 };
    const int most = MOST / vectors;
    const __mmask16 last = first_lanes(lanes);
    __m512 acc[MOST];
    const float *r[MOST];
    UNROLL for (int t = 0; t < MOST; t++) {
        acc[t] = _mm512_setzero_ps();
        r[t] = t < most ? runs[t < count ? t : 0] : runs[0];
    }
    for (int n = 0; n < p->images; n++) {
        const float *yp = y + (size_t)n * p->y_image;
        for (int x = 0; x < p->length; x++, yp += p->y_step) {
            __m512 v[4];
            UNROLL for (int k = 0; k < vectors; k++)
                v[k] = k == vectors - 1 ? _mm512_maskz_loadu_ps(last, yp + k * JVAE_LANES)
                                        : _mm512_loadu_ps(yp + k * JVAE_LANES);
            UNROLL for (int t = 0; t < most; t++) {
                const __m512 b = _mm512_set1_ps(r[t][x]);
                UNROLL for (int k = 0; k < vectors; k++)
                    acc[t * vectors + k] = _mm512_fmadd_ps(b, v[k], acc[t * vectors + k]);
            }
        }
        UNROLL for (int t = 0; t < most; t++) r[t] += p->run_image;
    }
    UNROLL for (int t = 0; t < most; t++) {
        if (t >= count) break;
        UNROLL for (int k = 0; k < vectors; k++) {
            const __mmask16 mask = k == vectors - 1 ? last : (__mmask16)0xFFFF;
            float *dst = sums + (size_t)t * p->sums_step + (size_t)k * JVAE_LANES;
            _mm512_mask_storeu_ps(
                dst, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, dst), acc[t * vectors + k]));
        }
    }
}

AVX512 void jvae_grad_tile(const jvae_grad_pass *p, float *sums, const float *const runs[],
                           const float *y, int count, int vectors, int lanes)
{
    if (vectors == 4)
        grad(p, sums, runs, y, count, 4, lanes);
    else if (vectors == 3)
        grad(p, sums, runs, y, count, 3, lanes);
    else if (vectors == 2)
        grad(p, sums, runs, y, count, 2, lanes);
    else
        grad(p, sums, runs, y, count, 1, lanes);
}

#endif /* JVAE_TILES */
