/* Single-precision matrix products; see gemm.h. */
#include "nn/gemm.h"

#include <cblas.h>
#include <stddef.h>

#include "core/cpu.h"
#include "nn/tiles.h"

int jvae_gemm_avx512(void)
{
    return JVAE_TILES && jvae_cpu_isa() == JVAE_ISA_AVX512;
}

#if JVAE_TILES

#define OUTER_COLS (JVAE_OUTER_VECTORS * JVAE_LANES)
/* k per pass of the outer products: the stack panel of A (8 × 512 floats,
 * 16 KB) stays in the first-level cache beside the rows of B it meets. */
#define PANEL_K 512
/* k per pass of the dot products: a tile's 6 rows of B, 24 KB, stay in the
 * first-level cache while the tiles of A's rows go by. */
#define DOT_K 1024

/* C (m, n) (+)= A · B over at most PANEL_K values of k, where A's value at
 * (row r, index kk) is a[r·row_step + kk·k_step]: nn and tn differ only in
 * these steps. Each 8-row block of A is copied into a panel (k, 8), zero past
 * the last row, which every tile of the block's row of C reads. */
static void outer_pass(int m, int n, int k, const float *a, size_t row_step, size_t k_step,
                       const float *b, size_t ldb, int accumulate, float *c, size_t ldc)
{
    float panel[PANEL_K * JVAE_OUTER_ROWS];
    const size_t first_tap = 0;
    jvae_outer_pass p = {.panel = panel, .taps = &first_tap, .tap_count = 1, .channels = k,
                         .channel_step = ldb, .out_step = ldc, .accumulate = accumulate};
    for (int m0 = 0; m0 < m; m0 += JVAE_OUTER_ROWS) {
        const int rows = m - m0 < JVAE_OUTER_ROWS ? m - m0 : JVAE_OUTER_ROWS;
        const float *block = a + (size_t)m0 * row_step;
        for (int kk = 0; kk < k; kk++)
            for (int r = 0; r < JVAE_OUTER_ROWS; r++)
                panel[kk * JVAE_OUTER_ROWS + r] =
                    r < rows ? block[(size_t)r * row_step + (size_t)kk * k_step] : 0.0f;
        for (int n0 = 0; n0 < n; n0 += OUTER_COLS) {
            const int cols = n - n0 < OUTER_COLS ? n - n0 : OUTER_COLS;
            const int vectors = (cols + JVAE_LANES - 1) / JVAE_LANES;
            const float *in[JVAE_OUTER_VECTORS];
            float *out[JVAE_OUTER_VECTORS];
            for (int v = 0; v < vectors; v++) {
                in[v] = b + n0 + v * JVAE_LANES;
                out[v] = c + (size_t)m0 * ldc + (size_t)(n0 + v * JVAE_LANES);
            }
            jvae_outer_tile(&p, in, out, vectors, cols - (vectors - 1) * JVAE_LANES, rows);
        }
    }
}

static void outer(int m, int n, int k, const float *a, size_t row_step, size_t k_step,
                  const float *b, size_t ldb, float beta, float *c, size_t ldc)
{
    if (k == 0 && beta == 0.0f)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + (size_t)j] = 0.0f;
    for (int k0 = 0; k0 < k; k0 += PANEL_K) {
        const int depth = k - k0 < PANEL_K ? k - k0 : PANEL_K;
        outer_pass(m, n, depth, a + (size_t)k0 * k_step, row_step, k_step,
                   b + (size_t)k0 * ldb, ldb, beta != 0.0f || k0 > 0, c, ldc);
    }
}

/* B's tile is the outer loop, so that its rows stay in cache while A's go by. */
static void dot(int m, int n, int k, const float *a, size_t lda, const float *b, size_t ldb,
                float beta, float *c, size_t ldc)
{
    int k0 = 0;
    do {
        const int depth = k - k0 < DOT_K ? k - k0 : DOT_K;
        const jvae_dot_pass p = {.a_step = lda, .length = depth, .images = 1,
                                 .accumulate = beta != 0.0f || k0 > 0};
        for (int j0 = 0; j0 < n; j0 += JVAE_DOT_COLS) {
            const int cols = n - j0 < JVAE_DOT_COLS ? n - j0 : JVAE_DOT_COLS;
            const float *rows_of_b[JVAE_DOT_COLS];
            for (int j = 0; j < JVAE_DOT_COLS; j++)
                rows_of_b[j] = b + (size_t)(j0 + (j < cols ? j : 0)) * ldb + (size_t)k0;
            for (int i0 = 0; i0 < m; i0 += JVAE_DOT_ROWS) {
                const int rows = m - i0 < JVAE_DOT_ROWS ? m - i0 : JVAE_DOT_ROWS;
                jvae_dot_tile(&p, c + (size_t)i0 * ldc + (size_t)j0, ldc,
                              a + (size_t)i0 * lda + (size_t)k0, rows_of_b, rows, cols);
            }
        }
        k0 += depth;
    } while (k0 < k);
}

#endif /* JVAE_TILES */

void jvae_gemm_nn(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                  float beta, float *c, int ldc)
{
#if JVAE_TILES
    if (jvae_gemm_avx512()) {
        outer(m, n, k, a, (size_t)lda, 1, b, (size_t)ldb, beta, c, (size_t)ldc);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, beta,
                c, ldc);
}

void jvae_gemm_tn(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                  float beta, float *c, int ldc)
{
#if JVAE_TILES
    if (jvae_gemm_avx512()) {
        outer(m, n, k, a, 1, (size_t)lda, b, (size_t)ldb, beta, c, (size_t)ldc);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, beta, c,
                ldc);
}

void jvae_gemm_nt(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                  float beta, float *c, int ldc)
{
#if JVAE_TILES
    if (jvae_gemm_avx512()) {
        dot(m, n, k, a, (size_t)lda, b, (size_t)ldb, beta, c, (size_t)ldc);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, lda, b, ldb, beta, c,
                ldc);
}
