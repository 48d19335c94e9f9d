/*
 * Internal layer kernels: plain forward/backward pairs over flat float buffers.
 * They know nothing of JointVAE; lib/model composes them.
 *
 * Dimension legend: N batch, C channels, H/W height/width, K kernel, O/I out/in
 * features. Every buffer is contiguous row-major float32.
 * Conventions (after llm.c): outputs first, then inputs, weights, dims.
 * Backward functions ACCUMULATE (+=) into every gradient buffer they are given,
 * so a model zeroes its gradient block once per step. A NULL input-gradient
 * pointer means "not needed" (e.g. the first layer). Gradients are true dL/dθ.
 * Each fast kernel has a naive `_ref` twin: the tests' oracle.
 * Every kernel is reentrant: calls may run concurrently as long as the buffers
 * they write (outputs, gradients, scratch) are distinct. Nothing allocates.
 */
#ifndef JVAE_NN_H
#define JVAE_NN_H

#include <stddef.h>

#include "core/thread_pool.h"

/* Geometry of a 2-D convolution or transposed convolution.
 * conv2d:  in (N, in_c, in_h, in_w) -> out (N, out_c, out_h, out_w),
 *          weight (out_c, in_c, k_h, k_w), bias (out_c),
 *          out_h = (in_h + 2·pad - k_h) / stride + 1.
 * conv2d_transpose: in (N, in_c, in_h, in_w) -> out (N, out_c, out_h, out_w),
 *          weight (in_c, out_c, k_h, k_w) (PyTorch's ConvTranspose2d layout), bias (out_c),
 *          out_h = (in_h - 1)·stride - 2·pad + k_h. */
typedef struct jvae_conv_dims {
    int batch;
    int in_c, in_h, in_w;
    int out_c, out_h, out_w;
    int k_h, k_w;
    int stride, pad;
} jvae_conv_dims;

/* Fill d for a convolution; returns 0, or -1 when the geometry is invalid:
 * a size, kernel or stride below 1, a negative padding, an output below one
 * pixel, or sizes whose tensors exceed INT_MAX elements or whose scratch (for
 * any thread count) would overflow size_t. d is left untouched on failure.
 * Every kernel below trusts dims made here (changing only `batch` to a value
 * that passes init again is fine). */
int jvae_conv_dims_init(jvae_conv_dims *d, int batch, int in_c, int in_h, int in_w, int out_c,
                        int k_h, int k_w, int stride, int pad);
int jvae_conv_transpose_dims_init(jvae_conv_dims *d, int batch, int in_c, int in_h, int in_w,
                                  int out_c, int k_h, int k_w, int stride, int pad);

/* Floats of scratch memory the fast conv kernels need for dims d, and for the
 * same dims with any smaller batch (the caller owns it; the model reserves it
 * once for its largest batch). The kernels may overwrite all of it;
 * nothing in it survives a call. A few MB at most for the paper's layers at
 * batch 64: the batch is processed in cache-sized groups of samples. */
size_t jvae_conv2d_scratch_floats(const jvae_conv_dims *d);
size_t jvae_conv2d_transpose_scratch_floats(const jvae_conv_dims *d);

void jvae_conv2d_forward(float *out, const float *in, const float *weight, const float *bias,
                         const jvae_conv_dims *d, float *scratch);
void jvae_conv2d_backward(float *din, float *dweight, float *dbias, const float *dout,
                          const float *in, const float *weight, const jvae_conv_dims *d,
                          float *scratch);
void jvae_conv2d_forward_ref(float *out, const float *in, const float *weight, const float *bias,
                             const jvae_conv_dims *d);
void jvae_conv2d_backward_ref(float *din, float *dweight, float *dbias, const float *dout,
                              const float *in, const float *weight, const jvae_conv_dims *d);

void jvae_conv2d_transpose_forward(float *out, const float *in, const float *weight,
                                   const float *bias, const jvae_conv_dims *d, float *scratch);
void jvae_conv2d_transpose_backward(float *din, float *dweight, float *dbias, const float *dout,
                                    const float *in, const float *weight,
                                    const jvae_conv_dims *d, float *scratch);
void jvae_conv2d_transpose_forward_ref(float *out, const float *in, const float *weight,
                                       const float *bias, const jvae_conv_dims *d);
void jvae_conv2d_transpose_backward_ref(float *din, float *dweight, float *dbias,
                                        const float *dout, const float *in, const float *weight,
                                        const jvae_conv_dims *d);

/* Multi-threaded fast conv kernels: the calls above with the batch's sample
 * groups shared by the workers of `pool` (core/thread_pool.h; NULL runs on
 * the caller's thread alone, exactly as the calls above). Size the scratch
 * with the _mt query for the pool's thread count: it holds one work area per
 * thread and, for backward, one weight gradient per extra thread.
 * Results are reproducible bit for bit for a fixed thread count, and differ
 * between thread counts by float rounding only (dweight is summed per
 * thread, then in thread order).
 * GEMMs run inside the workers: with more than one, OpenBLAS's own threading
 * should be 1 (OPENBLAS_NUM_THREADS=1 or openblas_set_num_threads(1)), or the
 * two oversubscribe the cores.
 * Each also fuses the ReLU next to it, which saves a pass over the
 * activations (and the zeroing of din) while the data is still in cache:
 *   forward with relu_out: out = max(0, conv + bias), as jvae_relu_forward;
 *   backward with relu_in: `in` is the output of a ReLU, and din is
 *   OVERWRITTEN with the gradient at that ReLU's input, din = ∂L/∂in where
 *   in > 0, else 0: bit for bit zeroing din, the plain backward, then
 *   jvae_relu_backward_store. With the flags 0 they are the calls above. */
size_t jvae_conv2d_scratch_floats_mt(const jvae_conv_dims *d, int threads);
size_t jvae_conv2d_transpose_scratch_floats_mt(const jvae_conv_dims *d, int threads);
/* The most scratch `need` asks for over every batch from 1 to d->batch: a
 * smaller batch can split into more, smaller groups and so keep more workers
 * (and their weight-gradient partials) busy than the full one. */
size_t jvae_most_scratch_floats(const jvae_conv_dims *d, int threads,
                                size_t (*need)(const jvae_conv_dims *d, int threads));
void jvae_conv2d_forward_mt(float *out, const float *in, const float *weight, const float *bias,
                            int relu_out, const jvae_conv_dims *d, float *scratch,
                            jvae_pool *pool);
void jvae_conv2d_backward_mt(float *din, float *dweight, float *dbias, const float *dout,
                             const float *in, const float *weight, int relu_in,
                             const jvae_conv_dims *d, float *scratch, jvae_pool *pool);
void jvae_conv2d_transpose_forward_mt(float *out, const float *in, const float *weight,
                                      const float *bias, int relu_out, const jvae_conv_dims *d,
                                      float *scratch, jvae_pool *pool);
void jvae_conv2d_transpose_backward_mt(float *din, float *dweight, float *dbias,
                                       const float *dout, const float *in, const float *weight,
                                       int relu_in, const jvae_conv_dims *d, float *scratch,
                                       jvae_pool *pool);

/* linear: in (N, I) -> out (N, O) = in · weightᵀ + bias; weight (O, I), bias (O). */
void jvae_linear_forward(float *out, const float *in, const float *weight, const float *bias,
                         int n, int in_features, int out_features);
void jvae_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                          const float *in, const float *weight, int n, int in_features,
                          int out_features);
void jvae_linear_forward_ref(float *out, const float *in, const float *weight, const float *bias,
                             int n, int in_features, int out_features);
void jvae_linear_backward_ref(float *din, float *dweight, float *dbias, const float *dout,
                              const float *in, const float *weight, int n, int in_features,
                              int out_features);
/* The calls above shared by the workers of `pool` (NULL: the caller alone),
 * with no scratch: forward splits the batch rows, backward the outputs (bias
 * sums and dW rows) and the batch rows of din, in blocks of whole 24-row
 * tiles (8-row ones where the products are our AVX-512 kernels, gemm.h).
 * With one worker they are the calls above. Each value is one
 * worker's, and with OpenBLAS (single-threaded, as for the conv _mt kernels)
 * the bits do not depend on the thread count (see linear.c). */
void jvae_linear_forward_mt(float *out, const float *in, const float *weight, const float *bias,
                            int n, int in_features, int out_features, jvae_pool *pool);
void jvae_linear_backward_mt(float *din, float *dweight, float *dbias, const float *dout,
                             const float *in, const float *weight, int n, int in_features,
                             int out_features, jvae_pool *pool);
/* Workers the _mt calls use for `flop` floating-point operations split over
 * `rows` rows (forward: n, backward: out_features) on a pool of `threads`:
 * at most one per row tile (above) and one per 8 MFLOP, at least 1. */
int jvae_linear_workers(double flop, int rows, int threads);

/* Element-wise activations over count values; forward may run in place.
 * Backward takes the forward OUTPUT and accumulates din += dout · f'(·).
 * ReLU passes a NaN through (as PyTorch does) rather than hiding it; sigmoid
 * never overflows (exp only sees −|x|) and keeps tiny values for x ≪ 0. */
void jvae_relu_forward(float *out, const float *in, size_t count);
void jvae_relu_backward(float *din, const float *dout, const float *out, size_t count);
/* The one exception to accumulation: din = dout · f'(·), overwriting din, for a
 * gradient buffer that nothing else adds into (it saves zeroing it first, and
 * equals that bit for bit). */
void jvae_relu_backward_store(float *din, const float *dout, const float *out, size_t count);
/* grad = grad · f'(·) in place: jvae_relu_backward_store with din = dout. */
void jvae_relu_backward_in_place(float *grad, const float *out, size_t count);
void jvae_sigmoid_forward(float *out, const float *in, size_t count);
void jvae_sigmoid_backward(float *din, const float *dout, const float *out, size_t count);

/* Binary cross-entropy from logits x against targets t in [0, 1], summed over the
 * `pixels` values of each of n images: per_image[i] = Σ_p softplus(x) − t·x,
 * computed stably (max(x,0) − t·x + log1p(exp(−|x|))). Returns Σ_i per_image[i]
 * in double. per_image may be NULL.
 * Backward: dlogits += scale · (sigmoid(x) − t) for every value. */
double jvae_bce_logits_forward(float *per_image, const float *logits, const float *targets,
                               int n, size_t pixels);
/* The per-image sums of the forward above, in double: sums[i] for each of the
 * n images (the forward returns them added in image order). */
void jvae_bce_logits_image_sums(double *sums, const float *logits, const float *targets, int n,
                                size_t pixels);
void jvae_bce_logits_backward(float *dlogits, const float *logits, const float *targets,
                              size_t count, float scale);

#endif
