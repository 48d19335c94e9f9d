/*
 * Internal to lib/nn: the three single-precision matrix products the layers
 * use, row-major, C (m, n) = beta·C + op(A) · op(B) with beta 0 or 1:
 *   nn  A (m, k), B (k, n);   tn  A stored (k, m);   nt  B stored (n, k).
 * beta 0 overwrites C without reading it, as BLAS does.
 *
 * Why our own: the machines we run on have AVX-512, and OpenBLAS is held to
 * its AVX2 kernels there (OPENBLAS_CORETYPE=Haswell: older builds misbehave
 * on AVX-512), which leaves half of each core's multiply-adds unused. Where
 * the CPU has AVX-512F (checked at run time) these run kernels of our own,
 * and elsewhere they are cblas_sgemm.
 *
 * Our kernels read B where it is, with no packed copy, and copy A 8 rows at
 * a time into a small stack panel: the layers' B operands are column
 * matrices and activations that were just written and sit in cache, and
 * their A operands are weights of at most a few hundred KB.
 *   nn, tn  a register tile of 8 rows of C × 48 columns (3 vectors of 16),
 *           each k adding a broadcast of A times a row of B;
 *   nt      a tile of 4 × 6 values of C, each a 16-lane sum along k of A's
 *           and B's rows, added across its lanes at the end.
 * Every value of C is one sum over k in a fixed order whatever its place in
 * a tile, so results do not depend on how a caller cuts C into blocks of
 * rows or columns (the _mt layers and inference's chunks rely on it).
 */
#ifndef JVAE_NN_GEMM_H
#define JVAE_NN_GEMM_H

void jvae_gemm_nn(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                  float beta, float *c, int ldc);
void jvae_gemm_tn(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                  float beta, float *c, int ldc);
void jvae_gemm_nt(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                  float beta, float *c, int ldc);

/* Whether the products above run our AVX-512 kernels on this CPU. */
int jvae_gemm_avx512(void);

#endif
