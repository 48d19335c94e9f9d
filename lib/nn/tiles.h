/*
 * Internal to lib/nn: the AVX-512 register tiles that our matrix products
 * (gemm.h) and convolution passes (conv_strips.h) are made of. A tile only
 * multiplies and adds; where its operands lie is its caller's business, told
 * by base pointers and offsets, so one tile serves a GEMM over a matrix and a
 * convolution over the image where it is.
 *
 * The outer tile: 8 rows × up to 3 vectors of 16 columns of an output,
 *   out[v][r·out_step + l] (+)= Σ over c < channels, t < tap_count of
 *       panel[(c·tap_count + t)·8 + r] × in[v][c·channel_step + taps[t] + l]
 * for lanes l, then + bias[r], then max(·, 0) with relu. Each product adds a
 * broadcast weight times a vector of 16 consecutive floats; with
 * tap_count 1 and channel_step ldb it is a GEMM's tile.
 *
 * The dot tile: 4 × 6 values, each a sum along a run of floats over images,
 *   c[i·ldc + j] (+)= Σ over n < images, x < length of
 *       a[i·a_step + n·a_image + x] × b[j][n·b_image + x],
 * vectorised along x and added across the vector's lanes at the end: the
 * products A·Bᵀ of the linear forward and of the GEMM path.
 *
 * The gradient tile (below): up to 24 broadcast values of strip runs times
 * 1 to 4 vectors of channels-last values, summed along the runs: the weight
 * gradients of the passes on strips, with no sums across lanes.
 *
 * Every output value is one sum in a fixed order whatever the tile it falls
 * in (rows, columns and lanes past an edge are computed on repeated or zero
 * inputs and not stored), so results do not depend on how a caller cuts its
 * output into tiles. The tiles exist where GCC or clang target x86-64 and run
 * only where jvae_cpu_isa() is JVAE_ISA_AVX512.
 */
#ifndef JVAE_NN_TILES_H
#define JVAE_NN_TILES_H

#include <stddef.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define JVAE_TILES 1
#else
#define JVAE_TILES 0
#endif

#define JVAE_LANES 16
#define JVAE_OUTER_ROWS 8
#define JVAE_OUTER_VECTORS 3
#define JVAE_DOT_ROWS 4
#define JVAE_DOT_COLS 6

#if JVAE_TILES

/* What the outer tiles of one pass share. */
typedef struct jvae_outer_pass {
    const float *panel; /* (channels·tap_count, 8): the tile's rows, zero past the last */
    const size_t *taps; /* tap_count offsets */
    int tap_count, channels;
    size_t channel_step;
    size_t out_step;    /* floats between the tile's rows in the output */
    const float *bias;  /* the tile's 8 row values, or NULL */
    int relu;           /* max(·, 0) after the bias */
    int accumulate;     /* add into the output instead of overwriting it */
} jvae_outer_pass;

/* One outer tile of `vectors` (1 to 3) vectors, the last holding `lanes`
 * (1 to 16) columns, storing its first `rows` (1 to 8) rows. */
void jvae_outer_tile(const jvae_outer_pass *p, const float *const in[], float *const out[],
                     int vectors, int lanes, int rows);

/* What the dot tiles of one pass share. */
typedef struct jvae_dot_pass {
    size_t a_step;           /* floats between the tile's rows of A */
    size_t a_image, b_image; /* floats between images, for A and for every b[j] */
    int length, images;
    int accumulate;          /* add into c instead of overwriting it */
} jvae_dot_pass;

/* One dot tile storing rows < rows (1 to 4) and columns j < cols (1 to 6);
 * b[j] for j ≥ cols must be readable (repeat b[0]). */
void jvae_dot_tile(const jvae_dot_pass *p, float *c, size_t ldc, const float *a,
                   const float *const b[JVAE_DOT_COLS], int rows, int cols);

/* What the gradient tiles of one pass share: the third tile,
 *   sums[t][v·16 + l] += Σ over n < images, x < length of
 *       runs[t][n·run_image + x] × y[n·y_image + x·y_step + v·16 + l],
 * a broadcast from each of up to 24 runs times `vectors` vectors of a row of
 * y: the weight gradient, vectorised over the channels of y (which must be
 * channels last) and summed along the runs with no sums across lanes. */
typedef struct jvae_grad_pass {
    size_t run_image, y_step, y_image;
    int length, images;
    size_t sums_step; /* floats between the tile's rows of sums */
} jvae_grad_pass;

/* The most runs a gradient tile takes for 1 to 4 vectors: 24 accumulators. */
#define JVAE_GRAD_RUNS(vectors) (24 / (vectors))

/* One gradient tile of `vectors` (1 to 4) vectors, the last holding `lanes`
 * (1 to 16) channels, and `count` (1 to JVAE_GRAD_RUNS(vectors)) runs,
 * adding into sums. */
void jvae_grad_tile(const jvae_grad_pass *p, float *sums, const float *const runs[],
                    const float *y, int count, int vectors, int lanes);

#endif /* JVAE_TILES */

#endif
