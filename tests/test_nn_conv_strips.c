/*
 * The tap strips (lib/nn/strips.c) and the AVX-512 convolution passes on them
 * (lib/nn/conv_strips.c). On any CPU: the strips' layout against their
 * definition, value by value, for strides 1 to 3, kernels 1x1 to 5x3,
 * paddings 0 to 2, grids of any width and grids that reach past the image;
 * the taps' runs against the image values they read; the weight panels'
 * layout; the batch split's budget; and which geometries the passes fit.
 * Where the CPU has AVX-512 (and JVAE_MAX_ISA allows it): the channels-last
 * transposition exactly, and the forward, phase and weight-gradient passes
 * against the naive twins of nn.h, on geometries that reach partial row
 * tiles, vectors drawn from different images, the one-tap and 64-tap
 * kernels, partial and multiple blocks of channels, and runs per tile that
 * do not divide the depth.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "gradcheck.h"
#include "nn/conv_strips.h"
#include "nn/im2col.h"
#include "nn/nn.h"
#include "nn/strips.h"
#include "nn/tiles.h"
#include "test_util.h"

/* Floats past the end of every output buffer, set to GUARD_VALUE: a pass
 * that writes past what the contract gives it fails in a release build too,
 * where no sanitizer watches the heap. */
#define GUARD 64
#define GUARD_VALUE 1234.5f

static float *alloc_floats(size_t count)
{
    float *p = calloc(count > 0 ? count : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

/* count floats, then GUARD floats of GUARD_VALUE. */
static float *alloc_guarded(size_t count)
{
    float *p = alloc_floats(count + GUARD);
    for (size_t i = 0; i < GUARD; i++) p[count + i] = GUARD_VALUE;
    return p;
}

static void assert_guard(const char *name, const float *p, size_t count)
{
    for (size_t i = 0; i < GUARD; i++)
        if (p[count + i] != GUARD_VALUE) {
            print_message("%s: float %zu past the end was overwritten (%g)\n", name, i,
                          (double)p[count + i]);
            fail();
        }
}

static void fill_nan(float *p, size_t count)
{
    for (size_t i = 0; i < count; i++) p[i] = NAN;
}

static void describe(char *dst, size_t size, const char *what, const jvae_patch_geometry *g,
                     int count)
{
    snprintf(dst, size, "%s: n%d c%d %dx%d grid %dx%d k%dx%d s%d p%d", what, count, g->channels,
             g->height, g->width, g->grid_h, g->grid_w, g->k_h, g->k_w, g->stride, g->pad);
}

/* image[c][y][x] of one (C, H, W) image, 0 outside it: what a strip holds. */
static float image_value(const float *image, const jvae_patch_geometry *g, int c, int y, int x)
{
    if (y < 0 || y >= g->height || x < 0 || x >= g->width) return 0.0f;
    return image[((size_t)c * (size_t)g->height + (size_t)y) * (size_t)g->width + (size_t)x];
}

/* ---- the layout, on any CPU ---- */

/* Every value of count images' strips against strips.h's definition, and
 * every tap's run against the image values it reads. The strips of a channel
 * lie in the order (ph, kj), as the taps and jvae_strip_channel_floats
 * (stride·k_w strips) say; the test checks the taps against that order too. */
static void check_fill(const jvae_patch_geometry *g, int count, jvae_rng *rng)
{
    char name[200];
    describe(name, sizeof name, "strips", g, count);
    const int s = g->stride, k_w = g->k_w, w = g->grid_w;
    const int rows = g->grid_h + (g->k_h - 1) / s;
    const size_t strip = jvae_strip_floats(g), channel = jvae_strip_channel_floats(g);
    const size_t image_strips = jvae_strip_image_floats(g);
    /* Each strip starts on a cache line: its rows, rounded up to 16 floats. */
    assert_int_equal(strip, ((size_t)rows * (size_t)w + 15) / 16 * 16);
    assert_int_equal(channel, (size_t)s * (size_t)k_w * strip);
    assert_int_equal(image_strips, (size_t)g->channels * channel);

    const size_t image_floats = (size_t)g->channels * (size_t)g->height * (size_t)g->width;
    const size_t total = image_strips * (size_t)count;
    float *images = alloc_floats(image_floats * (size_t)count);
    float *strips = alloc_guarded(total);
    /* Values away from 0, so that a real value read where padding belongs (or
     * the reverse) shows; NaN in the strips, so that any value the fill
     * leaves unwritten shows. */
    test_fill_uniform(rng, images, image_floats * (size_t)count, 0.5f, 1.5f);
    fill_nan(strips, total);
    jvae_strips_fill(strips, images, count, g);
    assert_guard(name, strips, total);

    for (int n = 0; n < count; n++) {
        const float *image = images + (size_t)n * image_floats;
        const float *mine = strips + (size_t)n * image_strips;
        for (int c = 0; c < g->channels; c++)
            for (int ph = 0; ph < s; ph++)
                for (int kj = 0; kj < k_w; kj++)
                    for (int r = 0; r < rows; r++)
                        for (int x = 0; x < w; x++) {
                            const size_t at = (size_t)c * channel +
                                              (size_t)(ph * k_w + kj) * strip +
                                              (size_t)r * (size_t)w + (size_t)x;
                            const float want =
                                image_value(image, g, c, r * s + ph - g->pad, x * s + kj - g->pad);
                            if (mine[at] != want) {
                                print_message("%s: image %d strip (c%d, ph%d, kj%d) row %d col "
                                              "%d: got %g, want %g\n",
                                              name, n, c, ph, kj, r, x, (double)mine[at],
                                              (double)want);
                                fail();
                            }
                        }
    }

    size_t taps[JVAE_STRIPS_MAX_TAPS];
    assert_true(g->k_h * g->k_w <= JVAE_STRIPS_MAX_TAPS);
    jvae_strip_taps(g, taps);
    const size_t plane = (size_t)g->grid_h * (size_t)w;
    for (int ki = 0; ki < g->k_h; ki++)
        for (int kj = 0; kj < k_w; kj++) {
            const size_t tap = taps[ki * k_w + kj];
            /* strip (ki mod stride, kj) from row ki / stride, and the whole
             * run inside the channel's strips */
            assert_int_equal(tap, (size_t)((ki % s) * k_w + kj) * strip +
                                      (size_t)(ki / s) * (size_t)w);
            assert_true(tap + plane <= channel);
            for (int n = 0; n < count; n++)
                for (int c = 0; c < g->channels; c++) {
                    const float *run =
                        strips + (size_t)n * image_strips + (size_t)c * channel + tap;
                    const float *image = images + (size_t)n * image_floats;
                    for (size_t p = 0; p < plane; p++) {
                        const int gy = (int)(p / (size_t)w), gx = (int)(p % (size_t)w);
                        const float want = image_value(image, g, c, gy * s - g->pad + ki,
                                                       gx * s - g->pad + kj);
                        if (run[p] != want) {
                            print_message("%s: image %d channel %d tap (%d, %d) position (%d, "
                                          "%d): got %g, want %g\n",
                                          name, n, c, ki, kj, gy, gx, (double)run[p],
                                          (double)want);
                            fail();
                        }
                    }
                }
        }
    free(images);
    free(strips);
}

static void test_fill_layout(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 301);
    /* {channels, height, width, grid_h, grid_w, k_h, k_w, stride, pad}; the
     * grid is the conv's output unless said otherwise. Strides 1 and 2 take
     * the vector fill on AVX-512, stride 3 the plain loop everywhere. */
    const jvae_patch_geometry cases[] = {
        /* stride 1 */
        {2, 8, 8, 8, 8, 3, 3, 1, 1},     /* 3x3, one partial chunk of 8 */
        {3, 12, 20, 12, 20, 1, 1, 1, 0}, /* 1x1, a chunk of 16 and one of 4 */
        {2, 10, 34, 8, 32, 3, 3, 1, 0},  /* 32 wide: two whole chunks */
        {2, 12, 9, 12, 11, 5, 3, 1, 2},  /* 5x3, padding 2, 11 wide */
        {1, 6, 15, 7, 16, 4, 4, 1, 2},   /* 4x4, padding 2, a whole chunk */
        /* stride 2 */
        {1, 8, 8, 4, 4, 4, 4, 2, 1},     /* the paper's 4x4 grid */
        {3, 32, 32, 16, 16, 4, 4, 2, 1}, /* the paper's 16x16 grid */
        {2, 64, 48, 32, 24, 4, 4, 2, 1}, /* non-square, 24 wide */
        {2, 10, 14, 5, 7, 4, 4, 2, 1},   /* 5x7 grid */
        {2, 9, 13, 5, 7, 1, 1, 2, 0},    /* 1x1: phase 1's strips are read by no tap */
        {3, 16, 16, 7, 8, 5, 3, 2, 1},   /* 5x3 */
        {2, 17, 33, 8, 16, 3, 3, 2, 0},  /* 3x3, no padding */
        {2, 10, 10, 8, 16, 4, 4, 2, 2},  /* a grid reaching far past the image: zeros */
        /* stride 3 */
        {2, 20, 14, 6, 4, 4, 4, 3, 0},
        {1, 48, 48, 16, 16, 3, 3, 3, 1},
        {2, 17, 23, 5, 7, 5, 3, 3, 2},
        {2, 16, 16, 6, 6, 3, 3, 3, 1}, /* the last row and column read padding */
        {1, 7, 8, 5, 7, 4, 4, 3, 2},   /* a grid reaching far past the image */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_fill(&cases[i], 3, &rng);
}

/* jvae_strips_pack's panels (⌈rows / 8⌉, depth, 8), value by value. */
static void test_pack_layout(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 302);
    const int shapes[][2] = {{1, 5}, {8, 16}, {12, 48}, {17, 9}, {24, 3}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int rows = shapes[i][0], depth = shapes[i][1], tiles = (rows + 7) / 8;
        const size_t floats = jvae_strips_panel_floats(rows, depth);
        assert_int_equal(floats, (size_t)tiles * (size_t)depth * 8);
        float *weight = alloc_floats((size_t)rows * (size_t)depth);
        float *panels = alloc_guarded(floats);
        test_fill_uniform(&rng, weight, (size_t)rows * (size_t)depth, 0.5f, 1.5f);
        fill_nan(panels, floats);
        jvae_strips_pack(panels, weight, rows, depth);
        assert_guard("pack", panels, floats);
        for (int t = 0; t < tiles; t++)
            for (int k = 0; k < depth; k++)
                for (int r = 0; r < 8; r++) {
                    const int row = t * 8 + r;
                    const float want = row < rows ? weight[(size_t)row * depth + (size_t)k] : 0.0f;
                    const float got = panels[((size_t)t * depth + (size_t)k) * 8 + (size_t)r];
                    if (got != want) {
                        print_message("pack %dx%d: tile %d depth %d row %d: got %g, want %g\n",
                                      rows, depth, t, k, r, (double)got, (double)want);
                        fail();
                    }
                }
        free(weight);
        free(panels);
    }
}

/* ---- the batch split, on any CPU ---- */

static void check_split(int batch, size_t per_image, int threads, size_t budget)
{
    const jvae_batch_split s = jvae_split_strips(batch, per_image, threads);
    const size_t share = ((size_t)batch + (size_t)threads - 1) / (size_t)threads;
    const size_t group = (size_t)s.group;
    if (s.group < 1 || s.groups < 1 || s.threads < 1 ||
        /* within the budget, unless one image alone exceeds it */
        (group * per_image > budget && s.group != 1) ||
        /* no larger than an even share of the batch per worker */
        group > share ||
        /* as large as both allow */
        (group < share && (group + 1) * per_image <= budget) ||
        /* the groups cover the batch, the last one not empty */
        (size_t)s.groups * group < (size_t)batch ||
        (size_t)(s.groups - 1) * group >= (size_t)batch ||
        /* every worker has a group, and no more workers than asked for */
        s.threads > s.groups || s.threads > threads ||
        (s.threads < threads && s.threads != s.groups)) {
        print_message("split of %d images of %zu floats for %d threads (budget %zu): group %d, "
                      "groups %d, threads %d\n",
                      batch, per_image, threads, budget, s.group, s.groups, s.threads);
        fail();
    }
}

static void test_split_strips(void **state)
{
    (void)state;
    /* The budget, as the split of a huge batch of one-float images on one
     * thread implies it: it must hold the strips of a few of the paper's
     * middle layers' images, and stay well inside a 2 MiB cache. */
    const size_t budget = (size_t)jvae_split_strips(1 << 30, 1, 1).group;
    const jvae_patch_geometry middle = {32, 32, 32, 16, 16, 4, 4, 2, 1};
    const jvae_patch_geometry large = {64, 64, 64, 32, 32, 4, 4, 2, 1};
    const size_t middle_floats = jvae_strip_image_floats(&middle);
    const size_t large_floats = jvae_strip_image_floats(&large);
    assert_true(budget >= middle_floats);
    assert_true(budget * sizeof(float) <= (size_t)2 << 20);
    assert_true(large_floats > budget); /* so that the case below is one over the budget */
    const size_t sizes[] = {1, 100, 1000, budget / 3, middle_floats, budget, budget + 1,
                            large_floats};
    const int batches[] = {1, 2, 5, 64, 100, 1000};
    const int threads[] = {1, 2, 3, 8, 64, 200};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
            for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++)
                check_split(batches[b], sizes[i], threads[t], budget);
    /* one image over the budget: groups of one, one per image */
    const jvae_batch_split over = jvae_split_strips(7, large_floats, 4);
    assert_int_equal(over.group, 1);
    assert_int_equal(over.groups, 7);
    assert_int_equal(over.threads, 4);
}

/* ---- which geometries the passes take ---- */

static void test_fit(void **state)
{
    (void)state;
    const jvae_patch_geometry paper[] = {
        {1, 8, 8, 4, 4, 4, 4, 2, 1}, {32, 16, 16, 8, 8, 4, 4, 2, 1},
        {32, 64, 64, 32, 32, 4, 4, 2, 1}, {3, 12, 16, 6, 8, 4, 4, 2, 1}};
    const jvae_patch_geometry others[] = {
        {3, 16, 16, 16, 16, 3, 3, 1, 1}, /* stride 1 */
        {3, 32, 32, 16, 16, 3, 3, 2, 1}, /* 3x3 */
        {3, 32, 32, 16, 16, 4, 4, 2, 0}, /* no padding */
        {3, 30, 32, 16, 16, 4, 4, 2, 1}, /* image not twice the grid */
    };
    const jvae_patch_geometry unfit[] = {
        {2, 10, 14, 5, 7, 4, 4, 2, 1},   /* 35 positions */
        {2, 12, 12, 6, 6, 4, 4, 2, 1},   /* 36 positions */
        {1, 24, 24, 8, 8, 9, 9, 2, 4},   /* 81 taps */
    };
    const int runs = JVAE_TILES && jvae_cpu_isa() == JVAE_ISA_AVX512;
    for (size_t i = 0; i < sizeof paper / sizeof paper[0]; i++) {
        assert_int_equal(jvae_strips_fit(&paper[i]) != 0, runs);
        assert_int_equal(jvae_strips_phases_fit(&paper[i]) != 0, runs);
    }
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        assert_int_equal(jvae_strips_fit(&others[i]) != 0, runs);
        assert_false(jvae_strips_phases_fit(&others[i]));
    }
    /* 64 taps is the most */
    const jvae_patch_geometry widest = {1, 16, 16, 8, 8, 8, 8, 2, 3};
    assert_int_equal(jvae_strips_fit(&widest) != 0, runs);
    for (size_t i = 0; i < sizeof unfit / sizeof unfit[0]; i++) {
        assert_false(jvae_strips_fit(&unfit[i]));
        assert_false(jvae_strips_phases_fit(&unfit[i]));
    }
}

#if JVAE_TILES

/* The passes below use AVX-512 instructions: they run where the CPU has it
 * and JVAE_MAX_ISA allows it, and every case is chosen to fit them there. */
static int passes_run(void)
{
    return jvae_cpu_isa() == JVAE_ISA_AVX512;
}

/* ---- channels last ---- */

static void test_channels_last(void **state)
{
    (void)state;
    if (!passes_run()) skip();
    jvae_rng rng;
    jvae_rng_seed(&rng, 303);
    /* 5 rows: no whole block of 16; 24 and 80: whole blocks and a rest */
    const int row_counts[] = {5, 16, 24, 32, 80};
    const size_t planes[] = {16, 64};
    const int count = 2;
    for (size_t i = 0; i < sizeof row_counts / sizeof row_counts[0]; i++)
        for (size_t j = 0; j < sizeof planes / sizeof planes[0]; j++) {
            const int rows = row_counts[i];
            const size_t plane = planes[j], floats = (size_t)count * (size_t)rows * plane;
            float *src = alloc_floats(floats), *dst = alloc_guarded(floats);
            test_fill_uniform(&rng, src, floats, -1.0f, 1.0f);
            fill_nan(dst, floats); /* every value rewritten */
            jvae_strips_channels_last(dst, src, count, rows, plane);
            assert_guard("channels last", dst, floats);
            for (int n = 0; n < count; n++)
                for (int r = 0; r < rows; r++)
                    for (size_t p = 0; p < plane; p++) {
                        const size_t image = (size_t)n * (size_t)rows * plane;
                        const float want = src[image + (size_t)r * plane + p];
                        const float got = dst[image + p * (size_t)rows + (size_t)r];
                        if (got != want) {
                            print_message("channels last, %d rows of %zu: image %d row %d "
                                          "position %zu: got %g, want %g\n",
                                          rows, plane, n, r, p, (double)got, (double)want);
                            fail();
                        }
                    }
            free(src);
            free(dst);
        }
}

/* ---- the forward pass ---- */

typedef struct conv_case {
    int batch, in_c, in_h, in_w, out_c, k_h, k_w, stride, pad;
} conv_case;

static jvae_conv_dims conv_dims_of(const conv_case *t)
{
    jvae_conv_dims d;
    assert_int_equal(jvae_conv_dims_init(&d, t->batch, t->in_c, t->in_h, t->in_w, t->out_c,
                                         t->k_h, t->k_w, t->stride, t->pad),
                     0);
    return d;
}

static jvae_patch_geometry conv_geometry(const jvae_conv_dims *d)
{
    const jvae_patch_geometry g = {d->in_c, d->in_h, d->in_w,   d->out_h, d->out_w,
                                   d->k_h,  d->k_w,  d->stride, d->pad};
    return g;
}

/* Every combination of bias, ReLU and accumulation on one case: the strips
 * and panels once, the twin once (with a zero bias), each variant from it. */
static void check_forward(const conv_case *t, jvae_rng *rng)
{
    const jvae_conv_dims d = conv_dims_of(t);
    const jvae_patch_geometry g = conv_geometry(&d);
    assert_true(jvae_strips_fit(&g));
    const size_t in_count = (size_t)d.batch * d.in_c * d.in_h * d.in_w;
    const size_t out_count = (size_t)d.batch * d.out_c * d.out_h * d.out_w;
    const int depth = d.in_c * d.k_h * d.k_w;
    const size_t weights = (size_t)depth * (size_t)d.out_c;
    const size_t strip_count = jvae_strip_image_floats(&g) * (size_t)d.batch;
    const size_t panel_count = jvae_strips_panel_floats(d.out_c, depth);
    float *in = alloc_floats(in_count), *weight = alloc_floats(weights);
    float *bias = alloc_floats((size_t)d.out_c), *zeros = alloc_floats((size_t)d.out_c);
    float *strips = alloc_floats(strip_count), *panels = alloc_floats(panel_count);
    fill_nan(strips, strip_count); /* the rounding of each strip stays NaN: no pass may read it */
    float *conv = alloc_floats(out_count), *start = alloc_floats(out_count);
    float *out = alloc_guarded(out_count), *want = alloc_floats(out_count);
    test_fill_uniform(rng, in, in_count, -1.0f, 1.0f);
    test_fill_uniform(rng, weight, weights, -0.5f, 0.5f);
    test_fill_uniform(rng, bias, (size_t)d.out_c, -0.5f, 0.5f);
    test_fill_uniform(rng, start, out_count, -1.0f, 1.0f);
    jvae_strips_fill(strips, in, d.batch, &g);
    jvae_strips_pack(panels, weight, d.out_c, depth);
    jvae_conv2d_forward_ref(conv, in, weight, zeros, &d);

    const size_t plane = (size_t)d.out_h * d.out_w;
    for (int variant = 0; variant < 8; variant++) {
        const int with_bias = variant & 1, relu = (variant >> 1) & 1, accumulate = variant >> 2;
        for (size_t i = 0; i < out_count; i++) {
            const size_t o = i / plane % (size_t)d.out_c;
            float v = (accumulate ? start[i] : 0.0f) + (with_bias ? bias[o] : 0.0f) + conv[i];
            want[i] = relu && v < 0.0f ? 0.0f : v;
        }
        /* Accumulating, out starts at the values to add to; else at NaN,
         * which the pass must overwrite everywhere without reading. */
        if (accumulate)
            memcpy(out, start, out_count * sizeof *out);
        else
            fill_nan(out, out_count);
        jvae_strips_forward(out, strips, d.batch, &g, panels, d.out_c, with_bias ? bias : NULL,
                            relu, accumulate);
        char name[200];
        snprintf(name, sizeof name,
                 "strips forward n%d c%d %dx%d -> %d, k%dx%d s%d p%d, bias %d relu %d "
                 "accumulate %d",
                 t->batch, t->in_c, t->in_h, t->in_w, t->out_c, t->k_h, t->k_w, t->stride, t->pad,
                 with_bias, relu, accumulate);
        assert_guard(name, out, out_count);
        /* The project's usual oracle tolerance: each value sums at most
         * in_c·k_h·k_w = 80 products of values ≤ 1 in float against the
         * twin's double, plus a bias and a start ≤ 1. */
        gradcheck_assert_close(name, out, want, out_count, 2e-4, 1e-4);
    }
    free(in);
    free(weight);
    free(bias);
    free(zeros);
    free(strips);
    free(panels);
    free(conv);
    free(start);
    free(out);
    free(want);
}

static void test_forward_matches_ref(void **state)
{
    (void)state;
    if (!passes_run()) skip();
    jvae_rng rng;
    jvae_rng_seed(&rng, 304);
    /* {batch, in_c, in_h, in_w, out_c, k_h, k_w, stride, pad} */
    const conv_case cases[] = {
        /* the paper's 4x4/2/1, 16x16 grid: a whole tile of 8 rows and a
         * partial one of 4; 32 vectors, a last group of 2 */
        {2, 3, 32, 32, 12, 4, 4, 2, 1},
        /* a 4x4 grid: each vector is a whole image, so one tile's 3 vectors
         * come from 3 images; 5 vectors, a last group of 2 */
        {5, 5, 8, 8, 8, 4, 4, 2, 1},
        /* stride 1, 3x3, padding 1; tiles of 8, 8 and 4 rows */
        {2, 3, 16, 16, 20, 3, 3, 1, 1},
        /* one output channel, an 8x8 grid: vectors across two grid rows */
        {3, 4, 16, 16, 1, 4, 4, 2, 1},
        /* a 5x3 kernel on a 10x16 grid, 5 rows */
        {2, 2, 12, 16, 5, 5, 3, 1, 1},
        /* stride 3, 9 rows: a last tile of one */
        {1, 2, 47, 47, 9, 3, 3, 3, 1},
        /* a 1x1 kernel: the tile's one-tap loop */
        {2, 7, 8, 8, 10, 1, 1, 1, 0},
        /* an 8x8 kernel: JVAE_STRIPS_MAX_TAPS taps */
        {1, 1, 16, 16, 4, 8, 8, 2, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_forward(&cases[i], &rng);
}

/* ---- the phase pass ---- */

/* The ReLU of jvae_relu_forward, and the gate of jvae_relu_backward_in_place
 * (keep where the gate is > 0, +0 elsewhere), for the expected values. */
static float relu_of(float x)
{
    return x < 0.0f ? 0.0f : x;
}

/* The ways to start and end the images: from bias NULL or a bias, with or
 * without the ReLU after it; from their values (accumulate, where the bias
 * must be ignored); and stored where a gate is > 0. The gate holds positive,
 * zero, negative and non-finite values, as a ReLU output never does but the
 * test of > 0 must still read right. */
static void check_phase_variants(const char *what, const jvae_patch_geometry *g, int count,
                                 int grad_channels, const float *grad_strips,
                                 const float *panels, const float *pass, const float *bias,
                                 jvae_rng *rng)
{
    const int channels = g->channels;
    const size_t plane = (size_t)g->height * (size_t)g->width;
    const size_t floats = (size_t)count * (size_t)channels * plane;
    float *images = alloc_guarded(floats), *phases = alloc_guarded(floats);
    float *start = alloc_floats(floats), *want = alloc_floats(floats);
    float *gate = alloc_floats(floats);
    test_fill_uniform(rng, start, floats, -1.0f, 1.0f);
    test_fill_uniform(rng, gate, floats, -1.0f, 1.0f);
    for (size_t i = 0; i < floats; i += 7) gate[i] = i % 3 == 0 ? 0.0f : i % 3 == 1 ? INFINITY : NAN;
    for (int variant = 0; variant < 7; variant++) {
        /* 0-3: bias NULL or not, ReLU or not; 4, 5: accumulate, bias ignored; 6: gated */
        jvae_phase_output to = {.accumulate = variant == 4 || variant == 5,
                                .bias = variant % 2 == 1 && variant < 6 ? bias : NULL,
                                .relu = variant == 2 || variant == 3,
                                .gate = variant == 6 ? gate : NULL};
        for (size_t i = 0; i < floats; i++) {
            const size_t c = i / plane % (size_t)channels;
            float v = (to.accumulate ? start[i] : !to.accumulate && to.bias != NULL ? bias[c]
                                                                                      : 0.0f) +
                      pass[i];
            if (to.relu) v = relu_of(v);
            if (to.gate != NULL && !(gate[i] > 0.0f)) v = 0.0f;
            want[i] = v;
        }
        if (to.accumulate)
            memcpy(images, start, floats * sizeof *images);
        else
            fill_nan(images, floats);
        /* NaN in the work memory: every phase value read must be written first. */
        fill_nan(phases, floats);
        jvae_strips_phases(images, grad_strips, count, g, panels, grad_channels, phases, &to);
        char name[240];
        char geometry[160];
        describe(geometry, sizeof geometry, what, g, count);
        snprintf(name, sizeof name, "%s, %d grid channels, variant %d", geometry, grad_channels,
                 variant);
        assert_guard(name, images, floats);
        assert_guard(name, phases, floats);
        /* Each value sums 4 taps × at most 32 grid channels = 128 products of
         * values ≤ 1 in float against the twin's double, plus a start or bias
         * ≤ 1: the project's usual oracle tolerance. Where the gate or the
         * ReLU zeroes a value it must be exactly +0. */
        gradcheck_assert_close(name, images, want, floats, 2e-4, 1e-4);
        if (to.gate != NULL || to.relu)
            for (size_t i = 0; i < floats; i++)
                if (want[i] == 0.0f) assert_true(images[i] == 0.0f && !signbit(images[i]));
    }
    free(images);
    free(phases);
    free(start);
    free(want);
    free(gate);
}

/* conv2d's input gradient: g is the conv's geometry (in_c, 2·grid, grid),
 * the grid side's images its output gradient of grad_channels (= out_c). */
static void check_phases_din(int count, int in_c, int grid, int out_c, jvae_rng *rng)
{
    jvae_conv_dims d;
    assert_int_equal(jvae_conv_dims_init(&d, count, in_c, 2 * grid, 2 * grid, out_c, 4, 4, 2, 1),
                     0);
    assert_int_equal(d.out_h, grid);
    const jvae_patch_geometry g = conv_geometry(&d);
    assert_true(jvae_strips_phases_fit(&g));
    const jvae_patch_geometry pg = jvae_strips_phase_geometry(&g, out_c);
    const jvae_patch_geometry pg_want = {out_c, grid, grid, grid, grid, 3, 3, 1, 1};
    assert_memory_equal(&pg, &pg_want, sizeof pg);
    const size_t in_count = (size_t)count * in_c * 4 * grid * grid;
    const size_t out_count = (size_t)count * out_c * grid * grid;
    const size_t weights = (size_t)out_c * in_c * 16;
    const size_t strip_count = jvae_strip_image_floats(&pg) * (size_t)count;
    const size_t panel_count = jvae_strips_phase_panel_floats(out_c, in_c);
    float *in = alloc_floats(in_count), *dout = alloc_floats(out_count);
    float *weight = alloc_floats(weights), *bias = alloc_floats((size_t)in_c);
    float *din = alloc_floats(in_count), *dweight = alloc_floats(weights);
    float *dbias = alloc_floats((size_t)out_c);
    float *strips = alloc_floats(strip_count), *panels = alloc_guarded(panel_count);
    fill_nan(strips, strip_count); /* the rounding of each strip stays NaN: no pass may read it */
    test_fill_uniform(rng, dout, out_count, -1.0f, 1.0f);
    test_fill_uniform(rng, weight, weights, -1.0f, 1.0f);
    test_fill_uniform(rng, bias, (size_t)in_c, -0.5f, 0.5f);
    /* din starts at zero and the twin adds the input gradient to it. */
    jvae_conv2d_backward_ref(din, dweight, dbias, dout, in, weight, &d);
    jvae_strips_fill(strips, dout, count, &pg);
    jvae_strips_phase_pack(panels, weight, out_c, in_c);
    assert_guard("phase pack", panels, panel_count);
    check_phase_variants("strips phases, conv2d din", &g, count, out_c, strips, panels, din, bias,
                         rng);
    free(in);
    free(dout);
    free(weight);
    free(bias);
    free(din);
    free(dweight);
    free(dbias);
    free(strips);
    free(panels);
}

/* conv2d_transpose's forward: in (count, in_c_t, h, h) -> out (count,
 * out_c_t, 2h, 2h), weight (in_c_t, out_c_t, 4, 4); the strips are of its
 * input, g its output seen through the grid of its input. */
static void check_phases_transpose(int count, int in_c_t, int h, int out_c_t, jvae_rng *rng)
{
    jvae_conv_dims d;
    assert_int_equal(jvae_conv_transpose_dims_init(&d, count, in_c_t, h, h, out_c_t, 4, 4, 2, 1),
                     0);
    assert_int_equal(d.out_h, 2 * h);
    const jvae_patch_geometry g = {out_c_t, 2 * h, 2 * h, h, h, 4, 4, 2, 1};
    assert_true(jvae_strips_phases_fit(&g));
    const jvae_patch_geometry pg = jvae_strips_phase_geometry(&g, in_c_t);
    const size_t in_count = (size_t)count * in_c_t * h * h;
    const size_t out_count = (size_t)count * out_c_t * 4 * h * h;
    const size_t weights = (size_t)in_c_t * out_c_t * 16;
    const size_t strip_count = jvae_strip_image_floats(&pg) * (size_t)count;
    float *in = alloc_floats(in_count), *weight = alloc_floats(weights);
    float *zeros = alloc_floats((size_t)out_c_t), *bias = alloc_floats((size_t)out_c_t);
    float *out = alloc_floats(out_count), *strips = alloc_floats(strip_count);
    fill_nan(strips, strip_count); /* the rounding of each strip stays NaN: no pass may read it */
    float *panels = alloc_floats(jvae_strips_phase_panel_floats(in_c_t, out_c_t));
    test_fill_uniform(rng, in, in_count, -1.0f, 1.0f);
    test_fill_uniform(rng, weight, weights, -1.0f, 1.0f);
    test_fill_uniform(rng, bias, (size_t)out_c_t, -0.5f, 0.5f);
    jvae_conv2d_transpose_forward_ref(out, in, weight, zeros, &d);
    jvae_strips_fill(strips, in, count, &pg);
    jvae_strips_phase_pack(panels, weight, in_c_t, out_c_t);
    check_phase_variants("strips phases, conv2d_transpose forward", &g, count, in_c_t, strips,
                         panels, out, bias, rng);
    free(in);
    free(weight);
    free(zeros);
    free(bias);
    free(out);
    free(strips);
    free(panels);
}

static void test_phases_match_ref(void **state)
{
    (void)state;
    if (!passes_run()) skip();
    jvae_rng rng;
    jvae_rng_seed(&rng, 305);
    /* Grids of one, two and eight vectors per image; 12 image channels end
     * in a partial row tile of 4, 8 fill one, 1 is the paper's last layer. */
    const int grids[] = {4, 8, 16}, image_channels[] = {12, 8, 1}, grad_channels[] = {3, 16};
    const int counts[] = {1, 5};
    for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++)
        for (size_t c = 0; c < sizeof image_channels / sizeof image_channels[0]; c++)
            for (size_t o = 0; o < sizeof grad_channels / sizeof grad_channels[0]; o++)
                for (size_t n = 0; n < sizeof counts / sizeof counts[0]; n++)
                    check_phases_din(counts[n], image_channels[c], grids[i], grad_channels[o],
                                     &rng);
    /* (count, in_c_t, h, out_c_t) */
    const int transposed[][4] = {{5, 16, 4, 12}, {2, 3, 16, 1}, {1, 8, 8, 8}, {3, 32, 8, 16}};
    for (size_t i = 0; i < sizeof transposed / sizeof transposed[0]; i++)
        check_phases_transpose(transposed[i][0], transposed[i][1], transposed[i][2],
                               transposed[i][3], &rng);
}

/* ---- the weight gradient ---- */

static void check_weight_grad(const conv_case *t, jvae_rng *rng)
{
    const jvae_conv_dims d = conv_dims_of(t);
    const jvae_patch_geometry g = conv_geometry(&d);
    assert_true(jvae_strips_fit(&g));
    const size_t in_count = (size_t)d.batch * d.in_c * d.in_h * d.in_w;
    const size_t plane = (size_t)d.out_h * d.out_w;
    const size_t out_count = (size_t)d.batch * d.out_c * plane;
    const int depth = d.in_c * d.k_h * d.k_w;
    const size_t weights = (size_t)depth * (size_t)d.out_c;
    const size_t strip_count = jvae_strip_image_floats(&g) * (size_t)d.batch;
    float *in = alloc_floats(in_count), *dout = alloc_floats(out_count);
    float *weight = alloc_floats(weights), *dbias = alloc_floats((size_t)d.out_c);
    float *strips = alloc_floats(strip_count), *dout_cl = alloc_floats(out_count);
    fill_nan(strips, strip_count); /* the rounding of each strip stays NaN: no pass may read it */
    float *sums = alloc_guarded(weights), *dweight = alloc_guarded(weights);
    float *want = alloc_floats(weights);
    test_fill_uniform(rng, in, in_count, -1.0f, 1.0f);
    test_fill_uniform(rng, dout, out_count, -1.0f, 1.0f);
    test_fill_uniform(rng, dweight, weights, -1.0f, 1.0f);
    /* want = the start of dweight + the twin's gradient (the twin adds) */
    memcpy(want, dweight, weights * sizeof *want);
    jvae_conv2d_backward_ref(NULL, want, dbias, dout, in, weight, &d);

    jvae_strips_fill(strips, in, d.batch, &g);
    jvae_strips_channels_last(dout_cl, dout, d.batch, d.out_c, plane);
    jvae_strips_weight_grad(sums, dout_cl, d.out_c, strips, d.batch, &g);
    jvae_weight_sums_add(dweight, sums, d.out_c, depth);

    char name[200];
    snprintf(name, sizeof name, "strips weight gradient n%d c%d %dx%d -> %d, k%dx%d s%d p%d",
             t->batch, t->in_c, t->in_h, t->in_w, t->out_c, t->k_h, t->k_w, t->stride, t->pad);
    assert_guard(name, sums, weights);
    assert_guard(name, dweight, weights);
    /* Sums of up to N·P = 5·256 products of values ≤ 1, plus a start ≤ 1: as
     * in test_nn_conv and test_nn_conv_direct. */
    gradcheck_assert_close(name, dweight, want, weights, 2e-4, 1e-4);
    free(in);
    free(dout);
    free(weight);
    free(dbias);
    free(strips);
    free(dout_cl);
    free(sums);
    free(dweight);
    free(want);
}

static void test_weight_grad_matches_ref(void **state)
{
    (void)state;
    if (!passes_run()) skip();
    jvae_rng rng;
    jvae_rng_seed(&rng, 306);
    /* out_c gives 1 to 4 vectors of channels per block (24/v runs per tile:
     * 24, 12, 8, 6), and the depth in_c·k_h·k_w is not a multiple of it. */
    const conv_case cases[] = {
        /* 4x4 grid: 1 vector, depth 16 of 24 runs */
        {1, 1, 8, 8, 16, 4, 4, 2, 1},
        /* 4x4 grid, 5 images: 2 vectors, the last of 8 lanes; depth 80 = 6·12 + 8 */
        {5, 5, 8, 8, 24, 4, 4, 2, 1},
        /* 8x8 grid: 2 whole vectors, depth 16 = 12 + 4 */
        {2, 1, 16, 16, 32, 4, 4, 2, 1},
        /* stride 1, 3x3, 16x16 grid: 3 vectors, the last of 8 lanes; depth 27 = 3·8 + 3 */
        {1, 3, 16, 16, 40, 3, 3, 1, 1},
        /* 16x16 grid, 5 images: 4 vectors, depth 16 = 2·6 + 4 */
        {5, 1, 32, 32, 64, 4, 4, 2, 1},
        /* 8x8 grid: two blocks, of 4 vectors (depth 80 = 13·6 + 2) and of 1
         * (80 = 3·24 + 8) */
        {2, 5, 16, 16, 80, 4, 4, 2, 1},
        /* 4x4 grid, 5 images, two blocks, depth 32 */
        {5, 2, 8, 8, 80, 4, 4, 2, 1},
        /* 16x16 grid, one image: 1 vector, depth 32 = 24 + 8 */
        {1, 2, 32, 32, 16, 4, 4, 2, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_weight_grad(&cases[i], &rng);
}

#else /* not x86-64: no tiles, so no passes; the layout and the split still hold */

static void test_no_passes(void **state)
{
    (void)state;
    skip();
}

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_layout),
        cmocka_unit_test(test_pack_layout),
        cmocka_unit_test(test_split_strips),
        cmocka_unit_test(test_fit),
#if JVAE_TILES
        cmocka_unit_test(test_channels_last),
        cmocka_unit_test(test_forward_matches_ref),
        cmocka_unit_test(test_phases_match_ref),
        cmocka_unit_test(test_weight_grad_matches_ref),
#else
        cmocka_unit_test(test_no_passes),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
