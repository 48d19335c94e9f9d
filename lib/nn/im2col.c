/* Unfolding patches into GEMM columns and back; see im2col.h for the layouts. */
#include "nn/im2col.h"

#include <string.h>

#include "core/thread_pool.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Floats of one column block, 512 KiB: a quarter of the 2 MiB L2 of the
 * team's AVX-512 machine. Against 64 K (half of the 512 KiB L2 of the Zen 3
 * machine, where half, twice or four times that ran the paper's layers 0 to
 * 3 % slower): training A +9 % and B +3 % with our AVX-512 GEMMs, +0 and +1 %
 * on the AVX2 path (jvae-ab, one thread); 256 K and 512 K were slower. */
#define COLUMN_BUDGET_FLOATS ((size_t)128 * 1024)

jvae_batch_split jvae_split_batch(int batch, size_t rows, size_t plane, int threads)
{
    return jvae_split_batch_within(batch, rows * plane, COLUMN_BUDGET_FLOATS, threads);
}

jvae_batch_split jvae_split_batch_within(int batch, size_t per_sample, size_t budget,
                                         int threads)
{
    jvae_batch_split split;
    size_t group = per_sample > 0 ? budget / per_sample : (size_t)batch;
    const size_t share = ((size_t)batch + (size_t)threads - 1) / (size_t)threads;
    if (group > share) group = share;
    if (group < 1) group = 1;
    split.group = (int)group;
    split.groups = (int)(((size_t)batch + group - 1) / group);
    split.threads = threads < split.groups ? threads : split.groups;
    return split;
}

int jvae_per_sample_gemms(size_t plane, size_t rows, size_t channels)
{
    return plane >= rows && plane >= channels;
}

float *jvae_worker_weight_gradient(float *dweight, float *partials, int worker, size_t floats)
{
    if (worker == 0) return dweight;
    float *partial = partials + (size_t)(worker - 1) * floats;
    memset(partial, 0, floats * sizeof *partial);
    return partial;
}

void jvae_partials_add(float *dweight, const float *partials, int workers, size_t floats)
{
    for (int worker = 1; worker < workers; worker++) {
        const float *partial = partials + (size_t)(worker - 1) * floats;
        for (size_t i = 0; i < floats; i++) dweight[i] += partial[i];
    }
}

void jvae_weight_sums_add(float *dweight, const float *sums, int rows, int depth)
{
    for (int o = 0; o < rows; o++)
        for (int r = 0; r < depth; r++)
            dweight[(size_t)o * (size_t)depth + (size_t)r] +=
                sums[(size_t)r * (size_t)rows + (size_t)o];
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

/* One padded row of a stride-2 copy: the image row's even columns go to one
 * phase and its odd columns to the other (which is which depends on the
 * padding); `evens` and `odds` point at the first value of each run. SSE2
 * splits four pairs at a time where the compiler would move one value. */
static inline void deal_pairs(float *restrict evens, float *restrict odds,
                              const float *restrict src, int width)
{
    int j = 0;
#if defined(__SSE2__)
    for (; 2 * j + 8 <= width; j += 4) {
        const __m128 a = _mm_loadu_ps(src + 2 * j), b = _mm_loadu_ps(src + 2 * j + 4);
        _mm_storeu_ps(evens + j, _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm_storeu_ps(odds + j, _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
    }
#endif
    for (; 2 * j + 1 < width; j++) {
        evens[j] = src[2 * j];
        odds[j] = src[2 * j + 1];
    }
    if (2 * j < width) evens[j] = src[2 * j];
}

/* The adjoint of deal_pairs: dst (one image row) = the two runs,
 * interleaved, added to what dst holds when `accumulate`, else to `bias`. */
static inline void gather_pairs(float *restrict dst, const float *restrict evens,
                                const float *restrict odds, int width, int accumulate,
                                float bias)
{
    int j = 0;
#if defined(__SSE2__)
    const __m128 b = _mm_set1_ps(bias);
    for (; 2 * j + 8 <= width; j += 4) {
        const __m128 e = _mm_loadu_ps(evens + j), o = _mm_loadu_ps(odds + j);
        float *d = dst + 2 * j;
        const __m128 lo = accumulate ? _mm_loadu_ps(d) : b;
        const __m128 hi = accumulate ? _mm_loadu_ps(d + 4) : b;
        _mm_storeu_ps(d, _mm_add_ps(lo, _mm_unpacklo_ps(e, o)));
        _mm_storeu_ps(d + 4, _mm_add_ps(hi, _mm_unpackhi_ps(e, o)));
    }
#endif
    for (; 2 * j + 1 < width; j++) {
        dst[2 * j] = (accumulate ? dst[2 * j] : bias) + evens[j];
        dst[2 * j + 1] = (accumulate ? dst[2 * j + 1] : bias) + odds[j];
    }
    if (2 * j < width) dst[2 * j] = (accumulate ? dst[2 * j] : bias) + evens[j];
}

/* padded = zero padding around the image, columns dealt out to the phases.
 * One memset of the whole copy: zeroing only the border costs more than it
 * saves on the paper's images, whose rows are 4 to 64 values long. */
static void pad_image(float *padded, const float *image, const jvae_patch_geometry *g,
                      const padded_layout *l)
{
    const int s = g->stride;
    memset(padded, 0, (size_t)g->channels * l->height * l->row * sizeof *padded);
    const phase_columns even = columns_of_phase(g, g->pad % s);
    const phase_columns odd = columns_of_phase(g, (g->pad + 1) % s);
    for (int c = 0; c < g->channels; c++)
        for (int y = 0; y < g->height; y++) {
            const float *src = image + ((size_t)c * g->height + y) * g->width;
            float *row = padded + ((size_t)c * l->height + (size_t)(y + g->pad)) * l->row;
            if (s == 1) {
                memcpy(row + g->pad, src, (size_t)g->width * sizeof *row);
            } else if (s == 2) { /* the paper's stride */
                deal_pairs(row + (size_t)(g->pad % 2) * l->phase_w + even.start,
                           row + (size_t)((g->pad + 1) % 2) * l->phase_w + odd.start, src,
                           g->width);
            } else {
                for (int phase = 0; phase < s; phase++) {
                    const phase_columns p = columns_of_phase(g, phase);
                    float *run = row + (size_t)phase * l->phase_w + p.start;
                    for (int j = 0; j < p.count; j++) run[j] = src[p.first + (size_t)j * s];
                }
            }
        }
}

void jvae_pad_images(float *padded, const float *images, int count,
                     const jvae_patch_geometry *g)
{
    const padded_layout l = layout_of(g);
    const size_t image_floats = (size_t)g->channels * g->height * g->width;
    const size_t padded_floats = (size_t)g->channels * l.height * l.row;
    for (int n = 0; n < count; n++)
        pad_image(padded + (size_t)n * padded_floats, images + (size_t)n * image_floats, g, &l);
}

jvae_padded_steps jvae_padded_taps(const jvae_patch_geometry *g, size_t *taps)
{
    const padded_layout l = layout_of(g);
    const size_t s = (size_t)g->stride;
    for (int ki = 0; ki < g->k_h; ki++)
        for (int kj = 0; kj < g->k_w; kj++)
            taps[ki * g->k_w + kj] =
                (size_t)ki * l.row + ((size_t)kj % s) * l.phase_w + (size_t)kj / s;
    const jvae_padded_steps steps = {l.height * l.row, s * l.row};
    return steps;
}

/* image += the interior of padded when `accumulate`, else image = bias[c]
 * + the interior, or 0 + the interior when bias is NULL (the padding is
 * dropped either way). */
static void unpad(float *image, const float *padded, int accumulate, const float *bias,
                  const jvae_patch_geometry *g, const padded_layout *l)
{
    const int s = g->stride;
    const phase_columns even = columns_of_phase(g, g->pad % s);
    const phase_columns odd = columns_of_phase(g, (g->pad + 1) % s);
    for (int c = 0; c < g->channels; c++) {
        const float b = bias == NULL ? 0.0f : bias[c];
        for (int y = 0; y < g->height; y++) {
            float *dst = image + ((size_t)c * g->height + y) * g->width;
            const float *row =
                padded + ((size_t)c * l->height + (size_t)(y + g->pad)) * l->row;
            if (s == 2) {
                gather_pairs(dst, row + (size_t)(g->pad % 2) * l->phase_w + even.start,
                             row + (size_t)((g->pad + 1) % 2) * l->phase_w + odd.start, g->width,
                             accumulate, b);
            } else {
                for (int phase = 0; phase < s; phase++) {
                    const phase_columns p = columns_of_phase(g, phase);
                    const float *run = row + (size_t)phase * l->phase_w + p.start;
                    for (int j = 0; j < p.count; j++) {
                        float *d = dst + p.first + (size_t)j * s;
                        *d = (accumulate ? *d : b) + run[j];
                    }
                }
            }
        }
    }
}

void jvae_unpad_image(float *image, const float *padded, int accumulate, const float *bias,
                      const jvae_patch_geometry *g)
{
    const padded_layout l = layout_of(g);
    unpad(image, padded, accumulate, bias, g, &l);
}

/* The taps of every channel of one image, in the order of the column
 * matrix's rows (c, ki, kj): tap (ki, kj) covers the runs of grid_w values
 * that start in phase kj mod s at index kj / s of padded rows ki + s·gy.
 * unfold_taps copies them into col rows (grid_h, grid_w) `ld` apart,
 * fold_taps adds col rows into them. Inlined with constant grid sizes (see
 * unfold_image), each tap becomes a few straight vector moves. */
static inline void unfold_taps(float *restrict col, size_t ld, const float *restrict padded,
                               const jvae_patch_geometry *g, const padded_layout *l, int grid_h,
                               int grid_w)
{
    const size_t step = (size_t)g->stride * l->row; /* padded floats per grid row */
    for (int c = 0; c < g->channels; c++)
        for (int ki = 0; ki < g->k_h; ki++) {
            const float *first = padded + ((size_t)c * l->height + (size_t)ki) * l->row;
            int phase = 0;
            size_t index = 0;
            for (int kj = 0; kj < g->k_w; kj++, col += ld) {
                const float *run = first + (size_t)phase * l->phase_w + index;
                for (int gy = 0; gy < grid_h; gy++, run += step)
                    for (int x = 0; x < grid_w; x++) col[gy * grid_w + x] = run[x];
                if (++phase == g->stride) {
                    phase = 0;
                    index++;
                }
            }
        }
}

static inline void fold_taps(float *restrict padded, const float *restrict col, size_t ld,
                             const jvae_patch_geometry *g, const padded_layout *l, int grid_h,
                             int grid_w)
{
    const size_t step = (size_t)g->stride * l->row;
    for (int c = 0; c < g->channels; c++)
        for (int ki = 0; ki < g->k_h; ki++) {
            float *first = padded + ((size_t)c * l->height + (size_t)ki) * l->row;
            int phase = 0;
            size_t index = 0;
            for (int kj = 0; kj < g->k_w; kj++, col += ld) {
                float *run = first + (size_t)phase * l->phase_w + index;
                for (int gy = 0; gy < grid_h; gy++, run += step)
                    for (int x = 0; x < grid_w; x++) run[x] += col[gy * grid_w + x];
                if (++phase == g->stride) {
                    phase = 0;
                    index++;
                }
            }
        }
}

/* The paper's grids (4 to 32 wide, square) as constants: the runs of the
 * small ones are one or two vectors long, and with the loops unrolled they
 * move twice as fast. */
static void unfold_image(float *col, size_t ld, const float *padded, const jvae_patch_geometry *g,
                         const padded_layout *l)
{
    const int h = g->grid_h, w = g->grid_w;
    if (h == 4 && w == 4)
        unfold_taps(col, ld, padded, g, l, 4, 4);
    else if (h == 8 && w == 8)
        unfold_taps(col, ld, padded, g, l, 8, 8);
    else if (w == 16)
        unfold_taps(col, ld, padded, g, l, h, 16);
    else if (w == 32)
        unfold_taps(col, ld, padded, g, l, h, 32);
    else
        unfold_taps(col, ld, padded, g, l, h, w);
}

static void fold_image(float *padded, const float *col, size_t ld, const jvae_patch_geometry *g,
                       const padded_layout *l)
{
    const int h = g->grid_h, w = g->grid_w;
    if (h == 4 && w == 4)
        fold_taps(padded, col, ld, g, l, 4, 4);
    else if (h == 8 && w == 8)
        fold_taps(padded, col, ld, g, l, 8, 8);
    else if (w == 16)
        fold_taps(padded, col, ld, g, l, h, 16);
    else if (w == 32)
        fold_taps(padded, col, ld, g, l, h, 32);
    else
        fold_taps(padded, col, ld, g, l, h, w);
}

void jvae_im2col(float *col, const float *images, int count, const jvae_patch_geometry *g,
                 float *padded)
{
    const padded_layout l = layout_of(g);
    const size_t image_floats = (size_t)g->channels * g->height * g->width;
    const size_t grid_plane = (size_t)g->grid_h * (size_t)g->grid_w;
    const size_t ld = (size_t)count * grid_plane; /* one row of col */
    for (int n = 0; n < count; n++) {
        pad_image(padded, images + (size_t)n * image_floats, g, &l);
        unfold_image(col + (size_t)n * grid_plane, ld, padded, g, &l);
    }
}

/* jvae_col2im_add when `accumulate`, else images = bias[c] (0 when bias is
 * NULL) + folded col. */
static void col2im(float *images, const float *col, int accumulate, const float *bias, int count,
                   const jvae_patch_geometry *g, float *padded)
{
    const padded_layout l = layout_of(g);
    const size_t image_floats = (size_t)g->channels * g->height * g->width;
    const size_t grid_plane = (size_t)g->grid_h * (size_t)g->grid_w;
    const size_t ld = (size_t)count * grid_plane;
    for (int n = 0; n < count; n++) {
        memset(padded, 0, jvae_padded_floats(g) * sizeof *padded);
        fold_image(padded, col + (size_t)n * grid_plane, ld, g, &l);
        unpad(images + (size_t)n * image_floats, padded, accumulate, bias, g, &l);
    }
}

void jvae_col2im_add(float *images, const float *col, int count, const jvae_patch_geometry *g,
                     float *padded)
{
    col2im(images, col, 1, NULL, count, g, padded);
}

void jvae_col2im_bias(float *images, const float *col, const float *bias, int count,
                      const jvae_patch_geometry *g, float *padded)
{
    col2im(images, col, 0, bias, count, g, padded);
}

void jvae_col2im_store(float *images, const float *col, int count, const jvae_patch_geometry *g,
                       float *padded)
{
    col2im(images, col, 0, NULL, count, g, padded);
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

/* dst (count, channels, plane) = (accumulate ? dst : 0) + src (channels, count·plane). */
static void channel_major_to_batch(float *dst, const float *src, int count, int channels,
                                   size_t plane, int accumulate)
{
    for (int n = 0; n < count; n++) {
        for (int c = 0; c < channels; c++) {
            float *d = dst + ((size_t)n * channels + c) * plane;
            const float *s = src + ((size_t)c * count + n) * plane;
            for (size_t i = 0; i < plane; i++) d[i] = (accumulate ? d[i] : 0.0f) + s[i];
        }
    }
}

void jvae_channel_major_to_batch_add(float *dst, const float *src, int count, int channels,
                                     size_t plane)
{
    channel_major_to_batch(dst, src, count, channels, plane, 1);
}

void jvae_channel_major_to_batch_store(float *dst, const float *src, int count, int channels,
                                       size_t plane)
{
    channel_major_to_batch(dst, src, count, channels, plane, 0);
}

enum { SUM_LANES = 8, SUM_BLOCK = 64 };

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "core/cpu.h"

/* The sums of channels [c, c + 4) of one sample, each channel's 8 lanes one
 * AVX-512 vector and the four channels' additions side by side: the same
 * sequence of additions per lane as the plain loop, four times as many in
 * flight. */
__attribute__((target("avx512f"))) static void add_four_planes(double sums[][SUM_LANES],
                                                               const float *g, size_t plane)
{
    __m512d acc[4];
    for (int k = 0; k < 4; k++) acc[k] = _mm512_loadu_pd(sums[k]);
    size_t i = 0;
    for (; i + SUM_LANES <= plane; i += SUM_LANES)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm512_add_pd(acc[k],
                                   _mm512_cvtps_pd(_mm256_loadu_ps(g + (size_t)k * plane + i)));
    for (int k = 0; k < 4; k++) _mm512_storeu_pd(sums[k], acc[k]);
    for (; i < plane; i++)
        for (int k = 0; k < 4; k++) sums[k][i % SUM_LANES] += g[(size_t)k * plane + i];
}
#endif

void jvae_channel_sums_add(float *dbias, const float *grad, int count, int channels, size_t plane,
                           int worker, int workers)
{
    /* Eight independent double sums per channel: one chain of dependent
     * additions would make this pass latency-bound (it is as long as the
     * layer's output). Channels go in blocks, each block's sums side by side,
     * so that the pass reads grad in its own order, sample after sample,
     * rather than one plane per sample a whole image apart; each channel's
     * sequence of additions is the same either way. */
    double lane[SUM_BLOCK][SUM_LANES];
    int first, last;
    jvae_pool_block(channels, worker, workers, &first, &last);
    int wide = 0;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    wide = jvae_cpu_isa() == JVAE_ISA_AVX512;
#endif
    for (int block = first; block < last; block += SUM_BLOCK) {
        const int end = last - block < SUM_BLOCK ? last : block + SUM_BLOCK;
        memset(lane, 0, sizeof lane);
        for (int n = 0; n < count; n++) {
            int c = block;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
            if (wide)
                for (; c + 4 <= end; c += 4)
                    add_four_planes(lane + (c - block), grad + ((size_t)n * channels + c) * plane,
                                    plane);
#endif
            for (; c < end; c++) {
                const float *g = grad + ((size_t)n * channels + c) * plane;
                double *sum = lane[c - block];
                size_t i = 0;
                for (; i + SUM_LANES <= plane; i += SUM_LANES)
                    for (int k = 0; k < SUM_LANES; k++) sum[k] += g[i + k];
                for (; i < plane; i++) sum[i % SUM_LANES] += g[i];
            }
        }
        for (int c = block; c < end; c++) {
            double total = 0.0;
            for (int k = 0; k < SUM_LANES; k++) total += lane[c - block][k];
            dbias[c] += (float)total;
        }
    }
}
