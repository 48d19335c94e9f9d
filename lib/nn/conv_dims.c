/* Geometry of conv2d and conv2d_transpose: validated once, trusted by the
 * kernels; and the scratch rule both share across batch sizes. */
#include "nn/nn.h"

#include <limits.h>

#include "core/error.h"

/* *out = a·b·c·e, or 0 when that overflows size_t. */
static int product4_ok(size_t a, size_t b, size_t c, size_t e, size_t *out)
{
    size_t ab, abc;
    return jvae_mul_ok(a, b, &ab) && jvae_mul_ok(ab, c, &abc) && jvae_mul_ok(abc, e, out);
}

/* Floats of the padded, phase-split work copy of one image (im2col.h). */
static int padded_ok(size_t channels, size_t height, size_t width, size_t stride, size_t pad,
                     size_t *floats)
{
    size_t twice_pad, padded_h, padded_w, rounded_w, row, plane;
    if (!jvae_mul_ok(pad, 2, &twice_pad) || !jvae_add_ok(height, twice_pad, &padded_h) ||
        !jvae_add_ok(width, twice_pad, &padded_w) ||
        !jvae_add_ok(padded_w, stride - 1, &rounded_w))
        return 0;
    return jvae_mul_ok(stride, rounded_w / stride, &row) && jvae_mul_ok(padded_h, row, &plane) &&
           jvae_mul_ok(channels, plane, floats);
}

/* Every tensor a kernel touches must index with int GEMM dimensions, and the
 * scratch of any thread count must fit in size_t bytes. With G samples per
 * group and T ≤ ⌈N/G⌉ workers, the scratch (conv2d.c) is at most
 *   T·(R + C_other)·G·P + T·padded + (T − 1)·weight
 *   ≤ 2·N·P·(R + C_other) + N·(padded + weight),
 * where conv2d unfolds its input over the output grid (R = in_c·k_h·k_w,
 * P = out_h·out_w) and the transpose its output over the input grid. The
 * direct kernels (conv_direct.h) add at most G_d padded images to each of at
 * most min(N, threads) slices, with G_d ≤ ⌈N/threads⌉, so fewer than 2·N
 * padded images: hence 3·padded per sample below. Weight-sized buffers: the
 * partial gradients of the workers past the first, one weight panel, and
 * the direct weight gradient's sums of each worker, at most 2·min(N, threads)
 * in all: hence 2·weight per sample. */
static int sizes_ok(const jvae_conv_dims *d, int transposed)
{
    size_t in_count, out_count, weight_count, padded;
    if (!product4_ok((size_t)d->batch, (size_t)d->in_c, (size_t)d->in_h, (size_t)d->in_w,
                     &in_count) ||
        !product4_ok((size_t)d->batch, (size_t)d->out_c, (size_t)d->out_h, (size_t)d->out_w,
                     &out_count) ||
        !product4_ok((size_t)d->in_c, (size_t)d->out_c, (size_t)d->k_h, (size_t)d->k_w,
                     &weight_count))
        return 0;
    if (in_count > INT_MAX || out_count > INT_MAX || weight_count > INT_MAX) return 0;
    /* Bounded by the counts above, so these products cannot overflow. */
    const size_t kernel = (size_t)d->k_h * (size_t)d->k_w;
    const size_t col_rows = (size_t)(transposed ? d->out_c : d->in_c) * kernel;
    const size_t other_rows = (size_t)(transposed ? d->in_c : d->out_c);
    const size_t grid = transposed ? (size_t)d->in_h * (size_t)d->in_w
                                   : (size_t)d->out_h * (size_t)d->out_w;
    const int image_c = transposed ? d->out_c : d->in_c;
    const int image_h = transposed ? d->out_h : d->in_h;
    const int image_w = transposed ? d->out_w : d->in_w;
    if (!padded_ok((size_t)image_c, (size_t)image_h, (size_t)image_w, (size_t)d->stride,
                   (size_t)d->pad, &padded))
        return 0;
    size_t batch_grid, columns, padded_copies, per_sample, samples, total, bytes;
    return jvae_mul_ok((size_t)d->batch, grid, &batch_grid) &&
           jvae_mul_ok(2 * batch_grid, col_rows + other_rows, &columns) &&
           jvae_mul_ok(padded, 3, &padded_copies) &&
           jvae_add_ok(padded_copies, 2 * weight_count, &per_sample) &&
           jvae_mul_ok((size_t)d->batch, per_sample, &samples) &&
           jvae_add_ok(columns, samples, &total) && jvae_mul_ok(total, sizeof(float), &bytes);
}

static int all_positive(int batch, int in_c, int in_h, int in_w, int out_c, int k_h, int k_w,
                        int stride)
{
    return batch > 0 && in_c > 0 && in_h > 0 && in_w > 0 && out_c > 0 && k_h > 0 && k_w > 0 &&
           stride > 0;
}

int jvae_conv_dims_init(jvae_conv_dims *d, int batch, int in_c, int in_h, int in_w, int out_c,
                        int k_h, int k_w, int stride, int pad)
{
    if (d == NULL || !all_positive(batch, in_c, in_h, in_w, out_c, k_h, k_w, stride) || pad < 0)
        return -1;
    /* In long long: 2·pad may overflow int, and a negative span must not be
     * truncated towards zero into a bogus output row. */
    const long long span_h = (long long)in_h + 2LL * pad - k_h;
    const long long span_w = (long long)in_w + 2LL * pad - k_w;
    if (span_h < 0 || span_w < 0) return -1;
    const long long out_h = span_h / stride + 1, out_w = span_w / stride + 1;
    if (out_h > INT_MAX || out_w > INT_MAX) return -1;
    const jvae_conv_dims dims = {batch, in_c, in_h, in_w, out_c, (int)out_h, (int)out_w,
                                 k_h,   k_w,  stride, pad};
    if (!sizes_ok(&dims, 0)) return -1;
    *d = dims;
    return 0;
}

int jvae_conv_transpose_dims_init(jvae_conv_dims *d, int batch, int in_c, int in_h, int in_w,
                                  int out_c, int k_h, int k_w, int stride, int pad)
{
    if (d == NULL || !all_positive(batch, in_c, in_h, in_w, out_c, k_h, k_w, stride) || pad < 0)
        return -1;
    const long long out_h = ((long long)in_h - 1) * stride - 2LL * pad + k_h;
    const long long out_w = ((long long)in_w - 1) * stride - 2LL * pad + k_w;
    if (out_h < 1 || out_w < 1 || out_h > INT_MAX || out_w > INT_MAX) return -1;
    const jvae_conv_dims dims = {batch, in_c, in_h, in_w, out_c, (int)out_h, (int)out_w,
                                 k_h,   k_w,  stride, pad};
    if (!sizes_ok(&dims, 1)) return -1;
    *d = dims;
    return 0;
}

size_t jvae_most_scratch_floats(const jvae_conv_dims *d, int threads,
                                size_t (*need)(const jvae_conv_dims *d, int threads))
{
    jvae_conv_dims smaller = *d;
    size_t most = 0;
    for (smaller.batch = 1; smaller.batch <= d->batch; smaller.batch++) {
        const size_t floats = need(&smaller, threads);
        if (floats > most) most = floats;
    }
    return most;
}
