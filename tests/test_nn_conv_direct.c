/*
 * The direct conv2d forward and its adjoint, the transposed pass, and the
 * direct weight gradient (lib/nn/conv_direct.c), against the naive twins, on
 * geometries that exercise what the GEMM path never sees: runs of a tile
 * that lie in different rows and images, a last tile with one or two runs,
 * a last tile of one to five taps, strides 1 to 3, kernels that are not 4x4,
 * non-square images and the fused ReLU. Then the paper's layers must fit
 * these kernels where they run (AVX2 and FMA, and JVAE_MAX_ISA allowing
 * them), and the others must not; which layers take them is conv2d.c's and
 * conv2d_transpose.c's choice, which test_nn_conv covers under each
 * JVAE_MAX_ISA.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/cpu.h"
#include "gradcheck.h"
#include "nn/conv_direct.h"
#include "nn/nn.h"
#include "test_util.h"

#if JVAE_DIRECT_CONV

static float *alloc_floats(size_t count)
{
    float *p = calloc(count > 0 ? count : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

typedef struct direct_case {
    int batch, in_c, in_h, in_w, out_c, k, stride, pad, relu;
} direct_case;

static jvae_conv_dims dims_of(const direct_case *t)
{
    jvae_conv_dims d;
    assert_int_equal(jvae_conv_dims_init(&d, t->batch, t->in_c, t->in_h, t->in_w, t->out_c, t->k,
                                         t->k, t->stride, t->pad),
                     0);
    return d;
}

static jvae_patch_geometry geometry_of(const jvae_conv_dims *d)
{
    const jvae_patch_geometry g = {d->in_c, d->in_h, d->in_w, d->out_h, d->out_w,
                                   d->k_h,  d->k_w,  d->stride, d->pad};
    return g;
}

/* Returns whether the case also checked the transposed pass. */
static int check_case(const direct_case *t, jvae_rng *rng)
{
    const jvae_conv_dims d = dims_of(t);
    const jvae_patch_geometry g = geometry_of(&d);
    assert_true(jvae_direct_conv_fits(&g, d.out_c));
    const size_t in_count = (size_t)d.batch * d.in_c * d.in_h * d.in_w;
    const size_t out_count = (size_t)d.batch * d.out_c * d.out_h * d.out_w;
    const size_t rows = (size_t)d.in_c * d.k_h * d.k_w;
    float *in = alloc_floats(in_count), *weight = alloc_floats(rows * d.out_c);
    float *bias = alloc_floats((size_t)d.out_c), *panel = alloc_floats(rows * d.out_c);
    /* A bias of all zeros is passed as NULL, which the kernel must read as such. */
    const int no_bias = t->relu == 0 && t->batch == 1;
    float *padded = alloc_floats(jvae_padded_floats(&g) * (size_t)d.batch);
    float *out = alloc_floats(out_count), *want = alloc_floats(out_count);
    test_fill_uniform(rng, in, in_count, -1.0f, 1.0f);
    test_fill_uniform(rng, weight, rows * d.out_c, -0.5f, 0.5f);
    if (!no_bias) test_fill_uniform(rng, bias, (size_t)d.out_c, -0.5f, 0.5f);
    /* NaN everywhere: the kernel must write every output, and only outputs. */
    for (size_t i = 0; i < out_count; i++) out[i] = NAN;

    jvae_direct_conv_pack(panel, weight, d.out_c, (int)rows);
    jvae_pad_images(padded, in, d.batch, &g);
    jvae_direct_conv(out, padded, d.batch, &g, panel, d.out_c, no_bias ? NULL : bias, t->relu);
    jvae_conv2d_forward_ref(want, in, weight, bias, &d);
    if (t->relu)
        for (size_t i = 0; i < out_count; i++) want[i] = want[i] > 0.0f ? want[i] : 0.0f;

    char name[160];
    snprintf(name, sizeof name, "direct conv n%d c%d %dx%d -> %d, k%d s%d p%d relu%d", t->batch,
             t->in_c, t->in_h, t->in_w, t->out_c, t->k, t->stride, t->pad, t->relu);
    gradcheck_assert_close(name, out, want, out_count, 2e-5, 1e-5);

    /* The transposed pass, image by image: the input gradient for an output
     * gradient `out` (conv2d_transpose's forward is the same call). */
    const int transposed = jvae_direct_transpose_fits(&g, d.in_c);
    if (transposed) {
        const size_t in_sample = (size_t)d.in_c * d.in_h * d.in_w;
        const size_t out_sample = (size_t)d.out_c * d.out_h * d.out_w;
        const jvae_patch_geometry grad = jvae_direct_transpose_grad_geometry(&g, d.out_c);
        float *panels = alloc_floats(rows * d.out_c);
        float *grad_padded = alloc_floats(jvae_padded_floats(&grad));
        float *din = alloc_floats(in_count), *din_want = alloc_floats(in_count);
        float *dweight = alloc_floats(rows * d.out_c), *dbias = alloc_floats((size_t)d.out_c);
        jvae_direct_transpose_pack(panels, weight, d.out_c, d.in_c);
        for (int n = 0; n < d.batch; n++) {
            /* NaN in the padded copy: the pass must write its whole interior. */
            for (size_t i = 0; i < jvae_padded_floats(&g); i++) padded[i] = NAN;
            jvae_pad_images(grad_padded, out + n * out_sample, 1, &grad);
            jvae_direct_transpose(padded, grad_padded, &g, panels, d.out_c);
            jvae_unpad_image(din + n * in_sample, padded, 0, NULL, &g);
        }
        jvae_conv2d_backward_ref(din_want, dweight, dbias, out, in, weight, &d);
        snprintf(name, sizeof name, "direct transpose n%d c%d %dx%d -> %d", t->batch, t->in_c,
                 t->in_h, t->in_w, t->out_c);
        gradcheck_assert_close(name, din, din_want, in_count, 2e-5, 1e-5);
        free(panels);
        free(grad_padded);
        free(din);
        free(din_want);
        free(dweight);
        free(dbias);
    }
    free(in);
    free(weight);
    free(bias);
    free(panel);
    free(padded);
    free(out);
    free(want);
    return transposed;
}

/* The kernels run where the CPU has AVX2 and FMA and JVAE_MAX_ISA allows them. */
static int kernels_run(void)
{
    return jvae_cpu_isa() >= JVAE_ISA_AVX2;
}

static void test_matches_ref(void **state)
{
    (void)state;
    if (!kernels_run()) skip();
    jvae_rng rng;
    jvae_rng_seed(&rng, 91);
    const direct_case cases[] = {
        /* one image, one output row of 8: a tile of one run */
        {1, 3, 2, 16, 4, 4, 2, 1, 0},
        /* 8x8 grids, 16 runs: tiles across rows and images, a last one of one run */
        {2, 5, 16, 16, 8, 4, 2, 1, 1},
        /* rows of two runs (16 wide), 32 runs: a last tile of two */
        {1, 2, 32, 32, 12, 4, 2, 1, 0},
        /* stride 1, 3x3, padding 1 */
        {2, 3, 8, 16, 4, 3, 1, 1, 1},
        /* stride 3, 5x5, no padding: phases of three */
        {2, 2, 26, 26, 4, 5, 3, 0, 0},
        /* a 1x1 kernel */
        {1, 7, 8, 8, 4, 1, 1, 0, 1},
        /* the paper's geometry with 4 input channels, which the transposed
         * pass fits too: rows of two and three runs */
        {3, 4, 32, 32, 8, 4, 2, 1, 0},
        {2, 4, 16, 48, 4, 4, 2, 1, 1},
        /* the paper's single-channel first layer and a middle one, whose
         * 8-wide grid the transposed pass fits too: rows of one run */
        {2, 1, 64, 64, 32, 4, 2, 1, 1},
        {2, 32, 16, 16, 64, 4, 2, 1, 1},
    };
    int transposed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        transposed += check_case(&cases[i], &rng);
    assert_int_equal(transposed, 3); /* the cases of the paper's geometry with in_c % 4 == 0 */
}

/* The weight gradient image by image, as conv2d's backward calls it, into
 * sums that start nonzero (the kernel adds), then added into a weight
 * gradient that starts nonzero too. */
static void check_weight_grad(const direct_case *t, jvae_rng *rng)
{
    const jvae_conv_dims d = dims_of(t);
    const jvae_patch_geometry g = geometry_of(&d);
    assert_true(jvae_direct_weight_grad_fits(&g, d.out_c));
    const size_t in_sample = (size_t)d.in_c * d.in_h * d.in_w;
    const size_t plane = (size_t)d.out_h * d.out_w, out_sample = (size_t)d.out_c * plane;
    const size_t rows = (size_t)d.in_c * d.k_h * d.k_w, weights = rows * (size_t)d.out_c;
    float *in = alloc_floats(in_sample * d.batch), *grad = alloc_floats(out_sample * d.batch);
    float *weight = alloc_floats(weights), *padded = alloc_floats(jvae_padded_floats(&g));
    float *grad_t = alloc_floats(out_sample), *sums = alloc_floats(weights);
    float *dweight = alloc_floats(weights), *want = alloc_floats(weights);
    float *din = alloc_floats(in_sample * d.batch), *dbias = alloc_floats((size_t)d.out_c);
    test_fill_uniform(rng, in, in_sample * d.batch, -1.0f, 1.0f);
    test_fill_uniform(rng, grad, out_sample * d.batch, -1.0f, 1.0f);
    test_fill_uniform(rng, sums, weights, -1.0f, 1.0f);
    test_fill_uniform(rng, dweight, weights, -1.0f, 1.0f);
    /* want = dweight + the start of the sums, transposed, + the twin's gradient */
    for (int o = 0; o < d.out_c; o++)
        for (size_t r = 0; r < rows; r++)
            want[(size_t)o * rows + r] =
                dweight[(size_t)o * rows + r] + sums[r * (size_t)d.out_c + (size_t)o];
    jvae_conv2d_backward_ref(din, want, dbias, grad, in, weight, &d);
    for (int n = 0; n < d.batch; n++) {
        jvae_pad_images(padded, in + n * in_sample, 1, &g);
        for (size_t i = 0; i < out_sample; i++) grad_t[i] = NAN; /* every value rewritten */
        jvae_direct_channels_last(grad_t, grad + n * out_sample, d.out_c, plane);
        for (size_t p = 0; p < plane; p++) /* spot checks of the transposition */
            assert_true(grad_t[p * (size_t)d.out_c + (size_t)(p % (size_t)d.out_c)] ==
                        grad[n * out_sample + (p % (size_t)d.out_c) * plane + p]);
        jvae_direct_weight_grad(sums, padded, &g, grad_t, d.out_c);
    }
    jvae_weight_sums_add(dweight, sums, d.out_c, (int)rows);
    char name[160];
    snprintf(name, sizeof name, "direct weight gradient n%d c%d %dx%d -> %d, k%d s%d p%d",
             t->batch, t->in_c, t->in_h, t->in_w, t->out_c, t->k, t->stride, t->pad);
    /* Sums of up to N·P = 2·512 products of values ≤ 1, as in test_nn_conv. */
    gradcheck_assert_close(name, dweight, want, weights, 2e-4, 1e-4);
    free(in);
    free(grad);
    free(weight);
    free(padded);
    free(grad_t);
    free(sums);
    free(dweight);
    free(want);
    free(din);
    free(dbias);
}

static void test_weight_grad_matches_ref(void **state)
{
    (void)state;
    if (!kernels_run()) skip();
    jvae_rng rng;
    jvae_rng_seed(&rng, 92);
    /* rows = in_c·k² ends in a tile of 4, 3, 2, 5, 1, 2, 2 and 4 taps (no ReLU here) */
    const direct_case cases[] = {
        /* the paper's single-channel first layer: 16 rows */
        {2, 1, 32, 32, 32, 4, 2, 1, 0},
        /* stride 1, 3x3, non-square grid (16 x 32): 27 rows */
        {1, 3, 16, 32, 16, 3, 1, 1, 0},
        /* stride 3, 5x5, no padding, 16x16 grid: 50 rows */
        {2, 2, 50, 50, 16, 5, 3, 0, 0},
        /* 1x1 kernel, 11 rows; three channel tiles */
        {1, 11, 16, 16, 48, 1, 1, 0, 0},
        /* 1x1 kernel, 7 rows */
        {2, 7, 16, 16, 16, 1, 1, 0, 0},
        /* the paper's 32x32 middle layer of 64x64 images, 512 rows, non-square */
        {2, 32, 32, 64, 32, 4, 2, 1, 0},
        /* an 8-wide and a 4-wide grid (two grid rows to a block of 8 positions) */
        {2, 32, 16, 16, 32, 4, 2, 1, 0},
        {3, 16, 8, 8, 16, 4, 2, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_weight_grad(&cases[i], &rng);
}

/* A 4x4/2/1 layer: `channels` images of side `side` seen through a grid of `grid`. */
static jvae_patch_geometry paper_geometry(int channels, int side, int grid)
{
    const jvae_patch_geometry g = {channels, side, side, grid, grid, 4, 4, 2, 1};
    return g;
}

static void test_the_papers_layers_fit(void **state)
{
    (void)state;
    if (!kernels_run()) skip();
    /* (in side, out_c) of the encoders of 32x32 and 64x64 images */
    const int layers[][3] = {{1, 32, 32}, {32, 16, 64}, {1, 64, 32}, {32, 32, 32}, {32, 16, 64}};
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        const jvae_patch_geometry g = paper_geometry(layers[i][0], layers[i][1], layers[i][1] / 2);
        assert_true(jvae_direct_conv_fits(&g, layers[i][2]));
    }
    /* 4 wide output rows, an output channel count not a multiple of 4, and
     * too many taps go through the GEMM. */
    const jvae_patch_geometry narrow = paper_geometry(64, 8, 4);
    assert_false(jvae_direct_conv_fits(&narrow, 64));
    const jvae_patch_geometry paper = paper_geometry(32, 16, 8);
    assert_false(jvae_direct_conv_fits(&paper, 30));
    const jvae_patch_geometry wide_kernel = {1, 24, 24, 8, 8, 9, 9, 2, 4};
    assert_false(jvae_direct_conv_fits(&wide_kernel, 4));
    /* The transposed pass: the decoders' transposed convs see their output
     * through the grid of their input, (out_c, out side, in side), and the
     * encoders' input gradients likewise (in_c, in side, out side). Those
     * with 32 channels and a grid a multiple of 8 wide fit it (conv2d takes
     * it from 16 wide, conv2d_transpose also on 8-wide grids of at most 32
     * input channels, which test_nn_conv covers); the single-channel last
     * layers, 4-wide grids and any other geometry go through the GEMM. */
    const int transposed[][3] = {{32, 32, 16}, {32, 64, 32}, {32, 16, 8}};
    for (size_t i = 0; i < sizeof transposed / sizeof transposed[0]; i++) {
        const jvae_patch_geometry g =
            paper_geometry(transposed[i][0], transposed[i][1], transposed[i][2]);
        assert_true(jvae_direct_transpose_fits(&g, transposed[i][0]));
    }
    const jvae_patch_geometry last_layer = paper_geometry(1, 64, 32);
    assert_false(jvae_direct_transpose_fits(&last_layer, 1));
    const jvae_patch_geometry first_decoder_layer = paper_geometry(32, 8, 4);
    assert_false(jvae_direct_transpose_fits(&first_decoder_layer, 32));
    const jvae_patch_geometry stride_one = {4, 8, 8, 8, 8, 3, 3, 1, 1};
    assert_false(jvae_direct_transpose_fits(&stride_one, 4));
    /* The weight gradient fits every layer of the paper's networks with a
     * multiple of 16 channels on the grid's side, (image channels, image
     * side, channels): a conv's output, a transposed conv's input. Where it
     * runs is the callers' choice (conv2d from 16-wide grids, conv2d_transpose
     * where the direct forward fits too), which test_nn_conv covers. */
    const int grads[][3] = {{1, 32, 32}, {1, 64, 32}, {32, 32, 32}, {32, 64, 32}, {32, 16, 64},
                            {64, 8, 64}};
    for (size_t i = 0; i < sizeof grads / sizeof grads[0]; i++) {
        const jvae_patch_geometry g = paper_geometry(grads[i][0], grads[i][1], grads[i][1] / 2);
        assert_true(jvae_direct_weight_grad_fits(&g, grads[i][2]));
    }
    const jvae_patch_geometry sixteen_wide = paper_geometry(32, 32, 16);
    assert_false(jvae_direct_weight_grad_fits(&sixteen_wide, 24));
    assert_false(jvae_direct_weight_grad_fits(&sixteen_wide, 8));
    const jvae_patch_geometry nine_positions = paper_geometry(4, 6, 3);
    assert_false(jvae_direct_weight_grad_fits(&nine_positions, 16));
    assert_false(jvae_direct_weight_grad_fits(&wide_kernel, 16));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_ref),
        cmocka_unit_test(test_weight_grad_matches_ref),
        cmocka_unit_test(test_the_papers_layers_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* not x86-64: the GEMM path is the only one, and test_nn_conv covers it */

static void test_no_direct_kernel(void **state)
{
    (void)state;
    skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_direct_kernel)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
