/*
 * linear: in (N, I) -> out (N, O) = in · Wᵀ + b, weight (O, I), bias (O).
 * Each pass is one GEMM: out = in·Wᵀ, dW += doutᵀ·in, din += dout·W.
 *
 * Threads (the _mt calls): every output value belongs to exactly one worker,
 * so nothing is reduced across workers:
 *   forward   worker w takes a block of batch rows of out;
 *   backward  worker w takes a block of the O bias sums, a block of the O rows
 *             of dW (each still a sum over the whole batch) and a block of
 *             batch rows of din.
 * What changes with the thread count is where the GEMMs are cut, never the
 * terms of a value's sum nor, with OpenBLAS, their order. That needs care:
 * in the row-major calls above these rows are OpenBLAS's N, which its x86
 * kernels take in tiles, and the kernel of a short tail tile rounds
 * differently from the full-tile one, so a cut anywhere but on a tile edge
 * moves rows into other kernels. Measured on OpenBLAS 0.3.21 (GEMMs of 64
 * and 67 rows cut once at every row): the bits stay the same when the cut
 * is on a multiple of 12 rows under the Haswell and Zen kernels (of 8 under
 * Nehalem's, of 4 under Prescott's) and change for most other cuts. So
 * blocks start on multiples of LINEAR_ROW_TILE = 24 rows, and the results
 * are the same bits for every thread count (tests/test_nn_linear.c checks
 * 1, 2 and 3 threads; it also passes under OpenBLAS's SandyBridge, Nehalem,
 * Prescott and Core2 kernels, not under its SkylakeX ones). Another BLAS
 * could make them differ between thread counts by float rounding only; a
 * fixed thread count always gives the same bits. Our AVX-512 products
 * (gemm.h) round a row the same way wherever it is cut.
 * The price is balance: 64 batch rows on two workers are cut 24/40, so the
 * forward and din GEMMs take 62 % of their one-thread time instead of 50 %
 * (dW's 256 or 1024 rows are cut near the middle; with our AVX-512
 * products, 8-row tiles cut 32/32, see LINEAR_ROW_TILE_AVX512); the linear
 * layers are about a tenth of a training step's FLOP. The bias sums are per output, in
 * double, in batch order, whatever the split.
 * Small layers stay on the caller (jvae_linear_workers): below several MFLOP
 * per worker, waking a worker and packing the shared operand again cost
 * more than the GEMM saves.
 */
#include "nn/nn.h"

#include <cblas.h>
#include <string.h>

#include "nn/gemm.h"

/* Row blocks of the _mt kernels start on multiples of this many rows under
 * OpenBLAS. Our AVX-512 products give a row the same bits wherever it is
 * cut, so there the blocks need only keep their 8-row tiles whole: 64 batch
 * rows split 32/32 on two workers. */
#define LINEAR_ROW_TILE 24
#define LINEAR_ROW_TILE_AVX512 8

static int row_tile(void)
{
    return jvae_gemm_avx512() ? LINEAR_ROW_TILE_AVX512 : LINEAR_ROW_TILE;
}

static int tiles_of(int rows)
{
    const int tile = row_tile();
    return rows / tile + (rows % tile != 0);
}

/* Where the block of worker w of `workers` starts: the multiple of the tile
 * nearest to an even share (halfway goes up), at most rows. */
static int block_edge(int rows, int worker, int workers)
{
    if (worker >= workers) return rows;
    const long long even = (long long)rows * worker / workers, tile = row_tile();
    const long long edge = (even + tile / 2) / tile * tile;
    return edge < rows ? (int)edge : rows;
}

/* Worker w's rows [*begin, *end) of `rows`. */
static void row_block(int rows, int worker, int workers, int *begin, int *end)
{
    *begin = block_edge(rows, worker, workers);
    *end = block_edge(rows, worker + 1, workers);
}

/* Least work, in FLOP, that pays for one more worker. On the team's 2-core
 * Zen 3 machine a pool round trip (an empty task on 2 threads) costs 13 us
 * with both cores idle, and a worker saves at most half of a GEMM, less with
 * 24-row blocks: a 64x20 -> 256 forward (0.66 MFLOP, 12 us on one
 * thread) took 23 us on two workers and a 64x256 -> 64 one (2 MFLOP) 43 us
 * against 28, while a 32x1024 -> 256 forward (17 MFLOP) went from 245 to 207
 * us and the batch-64 1024 <-> 256 layers gained 1.3x forward and 1.5x
 * backward. So only GEMMs of several MFLOP per worker are split: here the
 * two 1024 <-> 256 layers, not the latent-side ones. */
#define LINEAR_MIN_FLOP_PER_WORKER 8e6

int jvae_linear_workers(double flop, int rows, int threads)
{
    const double affordable = flop / LINEAR_MIN_FLOP_PER_WORKER;
    int workers = threads;
    if (affordable < workers) workers = (int)affordable;
    if (workers > tiles_of(rows)) workers = tiles_of(rows);
    return workers < 1 ? 1 : workers;
}

/* Under OpenBLAS, batches of at most this many rows go through one
 * matrix-vector product per row. Its GEMM packs the whole weight first,
 * whatever the rows: the model's 1024 -> 256 forward took 103 us for one row
 * through sgemm and 18 through sgemv, 90 and 73 for four rows, 118 and 147
 * for eight (OpenBLAS 0.3.21, one thread). That is half of encoding one
 * image. Our AVX-512 products pack nothing, and keep a row's bits the same
 * for every batch size, which inference's chunks rely on. */
#define LINEAR_GEMV_ROWS 4

/* The forward by one GEMM. Workers call it on their blocks however few rows
 * a block has: the sgemv path is for whole batches of a few rows, so that a
 * row's bits never depend on the thread count. */
static void forward_gemm(float *out, const float *in, const float *weight, const float *bias,
                         int n, int in_features, int out_features)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out_features; o++) out[(size_t)i * out_features + o] = bias[o];
    jvae_gemm_nt(n, out_features, in_features, in, in_features, weight, in_features, 1.0f, out,
                 out_features);
}

void jvae_linear_forward(float *out, const float *in, const float *weight, const float *bias,
                         int n, int in_features, int out_features)
{
    if (n > LINEAR_GEMV_ROWS || jvae_gemm_avx512()) {
        forward_gemm(out, in, weight, bias, n, in_features, out_features);
        return;
    }
    for (int i = 0; i < n; i++) {
        float *row = out + (size_t)i * out_features;
        memcpy(row, bias, (size_t)out_features * sizeof *row);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, out_features, in_features, 1.0f, weight,
                    in_features, in + (size_t)i * in_features, 1, 1.0f, row, 1);
    }
}

void jvae_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                          const float *in, const float *weight, int n, int in_features,
                          int out_features)
{
    for (int o = 0; o < out_features; o++) {
        double sum = 0.0; /* a column sum over the batch, in double like every bias sum */
        for (int i = 0; i < n; i++) sum += dout[(size_t)i * out_features + o];
        dbias[o] += (float)sum;
    }
    jvae_gemm_tn(out_features, in_features, n, dout, out_features, in, in_features, 1.0f, dweight,
                 in_features);
    if (din == NULL) return;
    jvae_gemm_nn(n, in_features, out_features, dout, out_features, weight, in_features, 1.0f, din,
                 in_features);
}

/* Everything the workers of one pass share. */
typedef struct linear_job {
    float *out, *din, *dweight, *dbias;
    const float *in, *dout, *weight, *bias;
    int n, in_features, out_features;
} linear_job;

static void forward_worker(void *context, int worker, int workers)
{
    const linear_job *j = context;
    int begin, end;
    row_block(j->n, worker, workers, &begin, &end);
    if (begin == end) return;
    forward_gemm(j->out + (size_t)begin * j->out_features, j->in + (size_t)begin * j->in_features,
                 j->weight, j->bias, end - begin, j->in_features, j->out_features);
}

void jvae_linear_forward_mt(float *out, const float *in, const float *weight, const float *bias,
                            int n, int in_features, int out_features, jvae_pool *pool)
{
    const double flop = 2.0 * n * in_features * out_features;
    const int workers = jvae_linear_workers(flop, n, jvae_pool_threads(pool));
    if (workers == 1) {
        jvae_linear_forward(out, in, weight, bias, n, in_features, out_features);
        return;
    }
    linear_job job = {.out = out, .in = in, .weight = weight, .bias = bias, .n = n,
                      .in_features = in_features, .out_features = out_features};
    jvae_pool_run(pool, workers, forward_worker, &job);
}

static void backward_worker(void *context, int worker, int workers)
{
    const linear_job *j = context;
    const int n = j->n, in_f = j->in_features, out_f = j->out_features;
    int begin, end;
    /* Outputs [begin, end): their bias sums and their rows of dW. */
    row_block(out_f, worker, workers, &begin, &end);
    for (int o = begin; o < end; o++) {
        double sum = 0.0;
        for (int i = 0; i < n; i++) sum += j->dout[(size_t)i * out_f + o];
        j->dbias[o] += (float)sum;
    }
    if (begin < end)
        jvae_gemm_tn(end - begin, in_f, n, j->dout + begin, out_f, j->in, in_f, 1.0f,
                     j->dweight + (size_t)begin * in_f, in_f);
    if (j->din == NULL) return;
    /* Batch rows [begin, end) of din. */
    row_block(n, worker, workers, &begin, &end);
    if (begin < end)
        jvae_gemm_nn(end - begin, in_f, out_f, j->dout + (size_t)begin * out_f, out_f, j->weight,
                     in_f, 1.0f, j->din + (size_t)begin * in_f, in_f);
}

void jvae_linear_backward_mt(float *din, float *dweight, float *dbias, const float *dout,
                             const float *in, const float *weight, int n, int in_features,
                             int out_features, jvae_pool *pool)
{
    const double flop = (din != NULL ? 4.0 : 2.0) * n * in_features * out_features;
    const int workers = jvae_linear_workers(flop, out_features, jvae_pool_threads(pool));
    if (workers == 1) {
        jvae_linear_backward(din, dweight, dbias, dout, in, weight, n, in_features,
                             out_features);
        return;
    }
    linear_job job = {.din = din, .dweight = dweight, .dbias = dbias, .in = in, .dout = dout,
                      .weight = weight, .n = n, .in_features = in_features,
                      .out_features = out_features};
    jvae_pool_run(pool, workers, backward_worker, &job);
}

void jvae_linear_forward_ref(float *out, const float *in, const float *weight, const float *bias,
                             int n, int in_features, int out_features)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out_features; o++) {
            double sum = bias[o];
            for (int k = 0; k < in_features; k++)
                sum += (double)in[(size_t)i * in_features + k] *
                       weight[(size_t)o * in_features + k];
            out[(size_t)i * out_features + o] = (float)sum;
        }
}

void jvae_linear_backward_ref(float *din, float *dweight, float *dbias, const float *dout,
                              const float *in, const float *weight, int n, int in_features,
                              int out_features)
{
    for (int o = 0; o < out_features; o++) {
        double bias_sum = 0.0;
        for (int i = 0; i < n; i++) bias_sum += dout[(size_t)i * out_features + o];
        dbias[o] += (float)bias_sum;
        for (int k = 0; k < in_features; k++) {
            double sum = 0.0;
            for (int i = 0; i < n; i++)
                sum += (double)dout[(size_t)i * out_features + o] * in[(size_t)i * in_features + k];
            dweight[(size_t)o * in_features + k] += (float)sum;
        }
    }
    if (din == NULL) return;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < in_features; k++) {
            double sum = 0.0;
            for (int o = 0; o < out_features; o++)
                sum += (double)dout[(size_t)i * out_features + o] *
                       weight[(size_t)o * in_features + k];
            din[(size_t)i * in_features + k] += (float)sum;
        }
}
