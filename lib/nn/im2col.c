/* Unfolding patches into GEMM columns and back; see im2col.h for the layouts. */
#include "nn/im2col.h"

#include <string.h>

/* Floats of one column block: half of a 512 KiB L2, leaving room for the
 * GEMM's packed panels. */
#define COLUMN_BUDGET_FLOATS ((size_t)64 * 1024)

jvae_batch_split jvae_split_batch(int batch, size_t rows, size_t plane, int threads)
{
    jvae_batch_split split;
    const size_t per_sample = rows * plane;
    size_t group = per_sample > 0 ? COLUMN_BUDGET_FLOATS / per_sample : (size_t)batch;
    const size_t share = ((size_t)batch + (size_t)threads - 1) / (size_t)threads;
    if (group > share) group = share;
    if (group < 1) group = 1;
    split.group = (int)group;
    split.groups = (int)(((size_t)batch + group - 1) / group);
    split.threads = threads < split.groups ? threads : split.groups;
    return split;
}

/* The padded, phase-split copy of one image: padded row y (image row y − pad)
 * holds `stride` phases of `phase_w` values; padded column x (image column
 * x − pad) sits in phase x mod stride at x / stride. */
typedef struct padded_layout {
    size_t height;  /* H + 2·pad */
    size_t phase_w; /* ⌈(W + 2·pad) / stride⌉ */
    size_t row;     /* floats of one padded row: stride·phase_w */
} padded_layout;

static padded_layout layout_of(const jvae_patch_geometry *g)
{
    padded_layout l;
    const size_t s = (size_t)g->stride;
    l.height = (size_t)g->height + 2 * (size_t)g->pad;
    l.phase_w = ((size_t)g->width + 2 * (size_t)g->pad + s - 1) / s;
    l.row = s * l.phase_w;
    return l;
}

size_t jvae_padded_floats(const jvae_patch_geometry *g)
{
    const padded_layout l = layout_of(g);
    return (size_t)g->channels * l.height * l.row;
}

/* Start of the run of grid_w values that tap (ki, kj) of channel c reads at
 * grid row 0; grid row gy is s padded rows further on. */
static size_t tap_offset(const padded_layout *l, const jvae_patch_geometry *g, int c, int ki,
                         int kj)
{
    return ((size_t)c * l->height + (size_t)ki) * l->row + (size_t)(kj % g->stride) * l->phase_w +
           (size_t)(kj / g->stride);
}

/* The image columns x ≡ phase − pad (mod stride), 0 ≤ x < W, of one phase:
 * the first, how many, and where the first lands in the phase's run. */
typedef struct phase_columns {
    int first, count;
    size_t start;
} phase_columns;

static phase_columns columns_of_phase(const jvae_patch_geometry *g, int phase)
{
    phase_columns p;
    const int s = g->stride;
    p.first = ((phase - g->pad) % s + s) % s;
    p.count = p.first < g->width ? (g->width - 1 - p.first) / s + 1 : 0;
    p.start = ((size_t)p.first + (size_t)g->pad) / (size_t)s;
    return p;
}

/* padded = zero padding around the image, columns dealt out to the phases. */
static void pad_image(float *padded, const float *image, const jvae_patch_geometry *g,
                      const padded_layout *l)
{
    const int s = g->stride;
    memset(padded, 0, (size_t)g->channels * l->height * l->row * sizeof *padded);
    for (int phase = 0; phase < s; phase++) {
        const phase_columns p = columns_of_phase(g, phase);
        for (int c = 0; c < g->channels; c++)
            for (int y = 0; y < g->height; y++) {
                const float *src = image + ((size_t)c * g->height + y) * g->width + p.first;
                float *run = padded + ((size_t)c * l->height + (size_t)(y + g->pad)) * l->row +
                             (size_t)phase * l->phase_w + p.start;
                if (s == 1) {
                    memcpy(run, src, (size_t)p.count * sizeof *run);
                } else if (s == 2) { /* the paper's stride: a constant the compiler vectorizes */
                    for (int j = 0; j < p.count; j++) run[j] = src[2 * j];
                } else {
                    for (int j = 0; j < p.count; j++) run[j] = src[(size_t)j * s];
                }
            }
    }
}

/* image += the interior of padded (the padding is dropped). */
static void unpad_add(float *image, const float *padded, const jvae_patch_geometry *g,
                      const padded_layout *l)
{
    const int s = g->stride;
    for (int phase = 0; phase < s; phase++) {
        const phase_columns p = columns_of_phase(g, phase);
        for (int c = 0; c < g->channels; c++)
            for (int y = 0; y < g->height; y++) {
                float *dst = image + ((size_t)c * g->height + y) * g->width + p.first;
                const float *run = padded +
                                   ((size_t)c * l->height + (size_t)(y + g->pad)) * l->row +
                                   (size_t)phase * l->phase_w + p.start;
                if (s == 2) {
                    for (int j = 0; j < p.count; j++) dst[2 * j] += run[j];
                } else {
                    for (int j = 0; j < p.count; j++) dst[(size_t)j * s] += run[j];
                }
            }
    }
}

/* dst (rows, width), contiguous = rows runs of src that start `step` apart. */
static inline void copy_fixed(float *restrict dst, const float *restrict src, int rows, int width,
                              size_t step)
{
    for (int r = 0; r < rows; r++, src += step, dst += width)
        for (int x = 0; x < width; x++) dst[x] = src[x];
}

/* rows runs of dst that start `step` apart += src (rows, width), contiguous. */
static inline void add_fixed(float *restrict dst, const float *restrict src, int rows, int width,
                             size_t step)
{
    for (int r = 0; r < rows; r++, dst += step, src += width)
        for (int x = 0; x < width; x++) dst[x] += src[x];
}

/* The runs are one grid row long, 4 to 32 values in the paper's layers: a
 * constant width turns each into a few vector moves instead of a loop with
 * a tail, which doubles the speed of the narrow grids. */
static void copy_runs(float *dst, const float *src, int rows, int width, size_t step)
{
    switch (width) {
    case 4: copy_fixed(dst, src, rows, 4, step); break;
    case 8: copy_fixed(dst, src, rows, 8, step); break;
    case 16: copy_fixed(dst, src, rows, 16, step); break;
    case 32: copy_fixed(dst, src, rows, 32, step); break;
    default: copy_fixed(dst, src, rows, width, step); break;
    }
}

static void add_runs(float *dst, const float *src, int rows, int width, size_t step)
{
    switch (width) {
    case 4: add_fixed(dst, src, rows, 4, step); break;
    case 8: add_fixed(dst, src, rows, 8, step); break;
    case 16: add_fixed(dst, src, rows, 16, step); break;
    case 32: add_fixed(dst, src, rows, 32, step); break;
    default: add_fixed(dst, src, rows, width, step); break;
    }
}

void jvae_im2col(float *col, const float *images, int count, const jvae_patch_geometry *g,
                 float *padded)
{
    const padded_layout l = layout_of(g);
    const size_t image_floats = (size_t)g->channels * g->height * g->width;
    const size_t grid_plane = (size_t)g->grid_h * (size_t)g->grid_w;
    const size_t ld = (size_t)count * grid_plane; /* one row of col */
    const size_t grid_step = (size_t)g->stride * l.row; /* padded floats per grid row */
    for (int n = 0; n < count; n++) {
        pad_image(padded, images + (size_t)n * image_floats, g, &l);
        float *row = col + (size_t)n * grid_plane;
        for (int c = 0; c < g->channels; c++)
            for (int ki = 0; ki < g->k_h; ki++)
                for (int kj = 0; kj < g->k_w; kj++, row += ld)
                    copy_runs(row, padded + tap_offset(&l, g, c, ki, kj), g->grid_h, g->grid_w,
                              grid_step);
    }
}

void jvae_col2im_add(float *images, const float *col, int count, const jvae_patch_geometry *g,
                     float *padded)
{
    const padded_layout l = layout_of(g);
    const size_t image_floats = (size_t)g->channels * g->height * g->width;
    const size_t grid_plane = (size_t)g->grid_h * (size_t)g->grid_w;
    const size_t ld = (size_t)count * grid_plane;
    const size_t grid_step = (size_t)g->stride * l.row;
    for (int n = 0; n < count; n++) {
        memset(padded, 0, jvae_padded_floats(g) * sizeof *padded);
        const float *row = col + (size_t)n * grid_plane;
        for (int c = 0; c < g->channels; c++)
            for (int ki = 0; ki < g->k_h; ki++)
                for (int kj = 0; kj < g->k_w; kj++, row += ld)
                    add_runs(padded + tap_offset(&l, g, c, ki, kj), row, g->grid_h, g->grid_w,
                             grid_step);
        unpad_add(images + (size_t)n * image_floats, padded, g, &l);
    }
}

void jvae_batch_to_channel_major(float *dst, const float *src, int count, int channels,
                                 size_t plane)
{
    for (int c = 0; c < channels; c++)
        for (int n = 0; n < count; n++)
            memcpy(dst + ((size_t)c * count + n) * plane,
                   src + ((size_t)n * channels + c) * plane, plane * sizeof *dst);
}

void jvae_channel_major_to_batch_bias(float *dst, const float *src, const float *bias, int count,
                                      int channels, size_t plane)
{
    for (int n = 0; n < count; n++) {
        for (int c = 0; c < channels; c++) {
            float *d = dst + ((size_t)n * channels + c) * plane;
            const float *s = src + ((size_t)c * count + n) * plane;
            const float b = bias[c];
            for (size_t i = 0; i < plane; i++) d[i] = s[i] + b;
        }
    }
}

void jvae_channel_major_to_batch_add(float *dst, const float *src, int count, int channels,
                                     size_t plane)
{
    for (int n = 0; n < count; n++) {
        for (int c = 0; c < channels; c++) {
            float *d = dst + ((size_t)n * channels + c) * plane;
            const float *s = src + ((size_t)c * count + n) * plane;
            for (size_t i = 0; i < plane; i++) d[i] += s[i];
        }
    }
}

void jvae_channel_sums_add(float *dbias, const float *grad, int count, int channels, size_t plane)
{
    /* Eight independent double sums: one chain of dependent additions would
     * make this pass latency-bound (it is as long as the layer's output). */
    enum { LANES = 8 };
    for (int c = 0; c < channels; c++) {
        double lane[LANES] = {0.0};
        for (int n = 0; n < count; n++) {
            const float *g = grad + ((size_t)n * channels + c) * plane;
            size_t i = 0;
            for (; i + LANES <= plane; i += LANES)
                for (int k = 0; k < LANES; k++) lane[k] += g[i + k];
            for (; i < plane; i++) lane[i % LANES] += g[i];
        }
        double sum = 0.0;
        for (int k = 0; k < LANES; k++) sum += lane[k];
        dbias[c] += (float)sum;
    }
}
