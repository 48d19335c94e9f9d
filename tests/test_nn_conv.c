/*
 * conv2d and conv2d_transpose kernels (lib/nn/conv2d*.c): gradients against
 * finite differences, fast kernels against their naive twins, accumulation,
 * NULL input gradients, the adjoint relation between the two, and geometry
 * validation. Every test runs for both layers through the table below.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "nn/im2col.h"
#include "nn/nn.h"
#include "test_util.h"

typedef int (*dims_init_fn)(jvae_conv_dims *, int, int, int, int, int, int, int, int, int);
typedef void (*forward_fn)(float *, const float *, const float *, const float *,
                           const jvae_conv_dims *, float *);
typedef void (*backward_fn)(float *, float *, float *, const float *, const float *,
                            const float *, const jvae_conv_dims *, float *);
typedef void (*forward_mt_fn)(float *, const float *, const float *, const float *, int,
                              const jvae_conv_dims *, float *, jvae_pool *);
typedef void (*backward_mt_fn)(float *, float *, float *, const float *, const float *,
                               const float *, int, const jvae_conv_dims *, float *, jvae_pool *);

/* One implementation: the fast kernels, or the naive twins behind the same
 * signature (they ignore the scratch). */
typedef struct conv_variant {
    const char *name;
    forward_fn forward;
    backward_fn backward;
} conv_variant;

typedef struct conv_layer {
    const char *name;
    dims_init_fn dims_init;
    size_t (*scratch_floats)(const jvae_conv_dims *);
    conv_variant fast, ref;
    size_t (*scratch_floats_mt)(const jvae_conv_dims *, int);
    forward_mt_fn forward_mt;
    backward_mt_fn backward_mt;
} conv_layer;

static void conv2d_forward_ref(float *out, const float *in, const float *weight,
                               const float *bias, const jvae_conv_dims *d, float *scratch)
{
    (void)scratch;
    jvae_conv2d_forward_ref(out, in, weight, bias, d);
}

static void conv2d_backward_ref(float *din, float *dweight, float *dbias, const float *dout,
                                const float *in, const float *weight, const jvae_conv_dims *d,
                                float *scratch)
{
    (void)scratch;
    jvae_conv2d_backward_ref(din, dweight, dbias, dout, in, weight, d);
}

static void transpose_forward_ref(float *out, const float *in, const float *weight,
                                  const float *bias, const jvae_conv_dims *d, float *scratch)
{
    (void)scratch;
    jvae_conv2d_transpose_forward_ref(out, in, weight, bias, d);
}

static void transpose_backward_ref(float *din, float *dweight, float *dbias, const float *dout,
                                   const float *in, const float *weight, const jvae_conv_dims *d,
                                   float *scratch)
{
    (void)scratch;
    jvae_conv2d_transpose_backward_ref(din, dweight, dbias, dout, in, weight, d);
}

static const conv_layer CONV2D = {
    "conv2d",
    jvae_conv_dims_init,
    jvae_conv2d_scratch_floats,
    {"fast", jvae_conv2d_forward, jvae_conv2d_backward},
    {"ref", conv2d_forward_ref, conv2d_backward_ref},
    jvae_conv2d_scratch_floats_mt,
    jvae_conv2d_forward_mt,
    jvae_conv2d_backward_mt,
};

static const conv_layer CONV2D_TRANSPOSE = {
    "conv2d_transpose",
    jvae_conv_transpose_dims_init,
    jvae_conv2d_transpose_scratch_floats,
    {"fast", jvae_conv2d_transpose_forward, jvae_conv2d_transpose_backward},
    {"ref", transpose_forward_ref, transpose_backward_ref},
    jvae_conv2d_transpose_scratch_floats_mt,
    jvae_conv2d_transpose_forward_mt,
    jvae_conv2d_transpose_backward_mt,
};

/* All buffers of one layer call; r doubles as dout and as the weights of the
 * scalar L = Σ r·out, so that every output contributes to the checks. */
typedef struct conv_case {
    const conv_layer *layer;
    const conv_variant *variant; /* the forward the loss runs */
    jvae_conv_dims d;
    size_t in_count, out_count, weight_count;
    float *in, *weight, *bias, *out, *r;
    float *din, *dweight, *dbias;
    float *scratch;
} conv_case;

static float *alloc_floats(size_t count)
{
    float *p = calloc(count > 0 ? count : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

static void case_init(conv_case *c, const conv_layer *layer, const jvae_conv_dims *d,
                      jvae_rng *rng)
{
    memset(c, 0, sizeof *c);
    c->layer = layer;
    c->variant = &layer->fast;
    c->d = *d;
    c->in_count = (size_t)d->batch * d->in_c * d->in_h * d->in_w;
    c->out_count = (size_t)d->batch * d->out_c * d->out_h * d->out_w;
    c->weight_count = (size_t)d->in_c * d->out_c * d->k_h * d->k_w;
    c->in = alloc_floats(c->in_count);
    c->weight = alloc_floats(c->weight_count);
    c->bias = alloc_floats((size_t)d->out_c);
    c->out = alloc_floats(c->out_count);
    c->r = alloc_floats(c->out_count);
    c->din = alloc_floats(c->in_count);
    c->dweight = alloc_floats(c->weight_count);
    c->dbias = alloc_floats((size_t)d->out_c);
    c->scratch = alloc_floats(layer->scratch_floats(d));
    test_fill_uniform(rng, c->in, c->in_count, -1.0f, 1.0f);
    test_fill_uniform(rng, c->weight, c->weight_count, -1.0f, 1.0f);
    test_fill_uniform(rng, c->bias, (size_t)d->out_c, -1.0f, 1.0f);
    test_fill_uniform(rng, c->r, c->out_count, -1.0f, 1.0f);
}

static void case_free(conv_case *c)
{
    free(c->in);
    free(c->weight);
    free(c->bias);
    free(c->out);
    free(c->r);
    free(c->din);
    free(c->dweight);
    free(c->dbias);
    free(c->scratch);
}

static void zero_gradients(conv_case *c)
{
    memset(c->din, 0, c->in_count * sizeof *c->din);
    memset(c->dweight, 0, c->weight_count * sizeof *c->dweight);
    memset(c->dbias, 0, (size_t)c->d.out_c * sizeof *c->dbias);
}

static double weighted_output_loss(void *payload)
{
    conv_case *c = payload;
    c->variant->forward(c->out, c->in, c->weight, c->bias, &c->d, c->scratch);
    double sum = 0.0;
    for (size_t i = 0; i < c->out_count; i++) sum += (double)c->r[i] * c->out[i];
    return sum;
}

static int random_int(jvae_rng *rng, int lo, int hi) /* in [lo, hi] */
{
    return lo + (int)jvae_rng_below(rng, (uint64_t)(hi - lo + 1));
}

/* Smallest input extent whose output along one axis is at least 1. */
static int min_input(const conv_layer *layer, int k, int stride, int pad)
{
    if (layer == &CONV2D) return k - 2 * pad > 1 ? k - 2 * pad : 1;
    /* transpose: (in − 1)·stride − 2·pad + k ≥ 1 */
    const int need = 2 * pad + 1 - k;
    return need <= 0 ? 1 : 1 + (need + stride - 1) / stride;
}

/* The GEMM shape the fast kernels see (im2col.h): rows of the column matrix,
 * grid plane per sample, and the channel count on the other side. */
static int takes_per_sample_gemms(const conv_layer *layer, const jvae_conv_dims *d, size_t *rows,
                                  size_t *plane)
{
    const size_t kernel = (size_t)d->k_h * d->k_w;
    const int transposed = layer == &CONV2D_TRANSPOSE;
    *rows = (size_t)(transposed ? d->out_c : d->in_c) * kernel;
    *plane = transposed ? (size_t)d->in_h * d->in_w : (size_t)d->out_h * d->out_w;
    return jvae_per_sample_gemms(*plane, *rows, (size_t)(transposed ? d->in_c : d->out_c));
}

/* A random small geometry with the given stride and padding; `size` bounds
 * batch and channels, spatial extents vary over a few strides. */
static jvae_conv_dims random_dims(const conv_layer *layer, jvae_rng *rng, int stride, int pad,
                                  int size)
{
    const int k_h = random_int(rng, 1, 4), k_w = random_int(rng, 1, 4);
    const int base_h = min_input(layer, k_h, stride, pad);
    const int base_w = min_input(layer, k_w, stride, pad);
    const int spread = layer == &CONV2D ? 2 * stride + 2 : 3;
    jvae_conv_dims d;
    assert_int_equal(layer->dims_init(&d, random_int(rng, 1, size), random_int(rng, 1, size + 1),
                                      base_h + random_int(rng, 0, spread),
                                      base_w + random_int(rng, 0, spread),
                                      random_int(rng, 1, size + 1), k_h, k_w, stride, pad),
                     0);
    return d;
}

static void describe(char *buf, size_t size, const conv_case *c, const char *what)
{
    const jvae_conv_dims *d = &c->d;
    snprintf(buf, size, "%s/%s %s N%d %dx%dx%d -> %dx%dx%d k%dx%d s%d p%d", c->layer->name,
             c->variant->name, what, d->batch, d->in_c, d->in_h, d->in_w, d->out_c, d->out_h,
             d->out_w, d->k_h, d->k_w, d->stride, d->pad);
}

/* The output is linear in each of input, weight and bias, so the central
 * difference has no truncation error and a large step (h = 0.5) only shrinks
 * rounding. Perturbing one value moves at most N·P ≤ 2·13² float outputs of
 * size ≲ 8 (one ulp ≈ 1e-6); their roundings, random in sign, change L by
 * about √(2·338)·1e-6 ≈ 3e-5 over 2h = 1. The analytic gradients are float
 * sums of ≤ 338 products ≤ 1 (≲ √338·6e-8 ≈ 1e-6). abs 2e-4 + rel 2e-4 is
 * several times the rounding; a wrong index or a missing tap errs by O(0.1). */
static const gradcheck_options LINEAR_IN_X = {.step = 0.5, .abs_tol = 2e-4, .rel_tol = 2e-4};

/* Backward of the case's variant against finite differences of every input,
 * weight and bias. */
static void check_case_gradients(conv_case *c)
{
    zero_gradients(c);
    c->variant->backward(c->din, c->dweight, c->dbias, c->r, c->in, c->weight, &c->d, c->scratch);
    char name[160];
    describe(name, sizeof name, c, "input");
    gradcheck_assert(name, c->in, c->in_count, c->din, weighted_output_loss, c, &LINEAR_IN_X);
    describe(name, sizeof name, c, "weight");
    gradcheck_assert(name, c->weight, c->weight_count, c->dweight, weighted_output_loss, c,
                     &LINEAR_IN_X);
    describe(name, sizeof name, c, "bias");
    gradcheck_assert(name, c->bias, (size_t)c->d.out_c, c->dbias, weighted_output_loss, c,
                     &LINEAR_IN_X);
}

static void check_gradients(const conv_layer *layer, jvae_rng *rng, int stride, int pad)
{
    conv_case c;
    const jvae_conv_dims d = random_dims(layer, rng, stride, pad, 2);
    case_init(&c, layer, &d, rng);
    const conv_variant *variants[2] = {&layer->fast, &layer->ref};
    for (int v = 0; v < 2; v++) {
        c.variant = variants[v];
        check_case_gradients(&c);
    }
    case_free(&c);
}

static void test_gradients(void **state)
{
    const conv_layer *layer = *state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 20180101);
    for (int stride = 1; stride <= 3; stride++)
        for (int pad = 0; pad <= 2; pad++) check_gradients(layer, &rng, stride, pad);
}

/* The paper's geometry, 4x4 kernels with stride 2 and padding 1: a layer
 * between two many-channel ones (one GEMM per group of samples), the
 * single-channel layers at either end of the network (one GEMM per sample),
 * a layer of 4 channels on a 16x16 grid, which the direct kernels of
 * conv_direct.h compute where the CPU has them, and two with 16 channels on
 * the grid's side (a conv's output, a transposed conv's input), on 16x16 and
 * 8x8 grids, whose weight gradient (and a transposed conv's input gradient)
 * they compute too: the conv's from 16 wide, the transposed conv's on both;
 * the last also takes the transposed pass forward on its 8-wide grid. */
static void test_gradients_paper_geometry(void **state)
{
    const conv_layer *layer = *state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 4);
    const int conv = layer == &CONV2D;
    const int channels[5][2] = {{2, 3}, /* in_c, out_c */
                                {conv ? 1 : 2, conv ? 2 : 1},
                                {4, 4},
                                {conv ? 2 : 16, conv ? 16 : 2},
                                {conv ? 2 : 16, conv ? 16 : 4}};
    const int sides[5] = {4, conv ? 8 : 4, conv ? 32 : 16, conv ? 32 : 16, conv ? 16 : 8};
    for (int i = 0; i < 5; i++) {
        jvae_conv_dims d;
        assert_int_equal(layer->dims_init(&d, 2, channels[i][0], sides[i], sides[i],
                                          channels[i][1], 4, 4, 2, 1),
                         0);
        size_t rows, plane;
        if (i < 2) assert_int_equal(takes_per_sample_gemms(layer, &d, &rows, &plane), i == 1);
        conv_case c;
        case_init(&c, layer, &d, &rng);
        check_case_gradients(&c);
        case_free(&c);
    }
}

/* The fast kernels against the naive twins (which sum in double, so they are
 * exact to float rounding). A fast value is a float sum of K ≤ ~3000 products
 * of values ≤ 1 (the largest K: the weight gradient of the 64x64 layer below,
 * over N·P = 3·32²); with random-sign roundings its error is about
 * √K·ε·|partial sums| ≈ 55·6e-8·20 ≈ 7e-5 there, less elsewhere. abs 2e-4 +
 * rel 1e-4 covers that, while a wrong index or a missing tap errs by O(0.1).
 * Starting the gradients from random values also checks that both
 * accumulate. */
static void compare_with_ref(const conv_layer *layer, const jvae_conv_dims *d, jvae_rng *rng,
                             int threads)
{
    conv_case c;
    case_init(&c, layer, d, rng);
    float *out_ref = alloc_floats(c.out_count);
    float *din_ref = alloc_floats(c.in_count);
    float *dweight_ref = alloc_floats(c.weight_count);
    float *dbias_ref = alloc_floats((size_t)d->out_c);
    test_fill_uniform(rng, c.din, c.in_count, -1.0f, 1.0f);
    test_fill_uniform(rng, c.dweight, c.weight_count, -1.0f, 1.0f);
    test_fill_uniform(rng, c.dbias, (size_t)d->out_c, -1.0f, 1.0f);
    memcpy(din_ref, c.din, c.in_count * sizeof *din_ref);
    memcpy(dweight_ref, c.dweight, c.weight_count * sizeof *dweight_ref);
    memcpy(dbias_ref, c.dbias, (size_t)d->out_c * sizeof *dbias_ref);

    if (threads == 1) { /* the plain entry points */
        layer->fast.forward(c.out, c.in, c.weight, c.bias, d, c.scratch);
        layer->fast.backward(c.din, c.dweight, c.dbias, c.r, c.in, c.weight, d, c.scratch);
    } else {
        float *scratch = alloc_floats(layer->scratch_floats_mt(d, threads));
        jvae_pool *pool = NULL;
        assert_int_equal(jvae_pool_create(&pool, threads, "compare_with_ref"), JVAE_OK);
        assert_int_equal(jvae_pool_threads(pool), threads);
        layer->forward_mt(c.out, c.in, c.weight, c.bias, 0, d, scratch, pool);
        layer->backward_mt(c.din, c.dweight, c.dbias, c.r, c.in, c.weight, 0, d, scratch, pool);
        jvae_pool_free(pool);
        free(scratch);
    }
    layer->ref.forward(out_ref, c.in, c.weight, c.bias, d, NULL);
    layer->ref.backward(din_ref, dweight_ref, dbias_ref, c.r, c.in, c.weight, d, NULL);

    char name[160];
    describe(name, sizeof name, &c, "out");
    gradcheck_assert_close(name, c.out, out_ref, c.out_count, 2e-4, 1e-4);
    describe(name, sizeof name, &c, "din");
    gradcheck_assert_close(name, c.din, din_ref, c.in_count, 2e-4, 1e-4);
    describe(name, sizeof name, &c, "dweight");
    gradcheck_assert_close(name, c.dweight, dweight_ref, c.weight_count, 2e-4, 1e-4);
    describe(name, sizeof name, &c, "dbias");
    gradcheck_assert_close(name, c.dbias, dbias_ref, (size_t)d->out_c, 2e-4, 1e-4);
    free(out_ref);
    free(din_ref);
    free(dweight_ref);
    free(dbias_ref);
    case_free(&c);
}

static void test_fast_matches_ref(void **state)
{
    const conv_layer *layer = *state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 77);
    for (int trial = 0; trial < 12; trial++) {
        const jvae_conv_dims d =
            random_dims(layer, &rng, random_int(&rng, 1, 3), random_int(&rng, 0, 2), 4);
        compare_with_ref(layer, &d, &rng, 1);
    }
    /* The paper's 4x4/2/1 layers at every grid width of the model (4 to 32),
     * with few channels to keep the twins quick: 4, so that the wider grids
     * take the direct kernels of conv_direct.h where the CPU has them
     * (test_nn_conv_direct checks which do), 3 for the GEMMs, and 16 on the
     * grid's side for the direct weight gradient. */
    const int sides[4] = {8, 16, 32, 64}; /* the larger side of each layer */
    for (int i = 0; i < 12; i++) {
        jvae_conv_dims paper;
        const int side = sides[i % 4], channels = i < 4 ? 4 : 3, grid_c = i < 8 ? 4 : 16;
        if (layer == &CONV2D)
            assert_int_equal(
                jvae_conv_dims_init(&paper, 3, channels, side, side, grid_c, 4, 4, 2, 1), 0);
        else
            assert_int_equal(jvae_conv_transpose_dims_init(&paper, 3, grid_c, side / 2, side / 2,
                                                           channels, 4, 4, 2, 1),
                             0);
        compare_with_ref(layer, &paper, &rng, 1);
    }
}

/* The fast kernels work through the batch in groups of samples sized by a
 * cache budget; large channel counts force several groups, a partial last
 * group, and groups of one sample (which skip the channel-major moves). A
 * partial group is wanted both with one GEMM per group and with one per
 * sample (jvae_per_sample_gemms). The image side and channel count that
 * achieve each are searched, so the test keeps covering those paths if the budget or the
 * rule changes. */
static void test_fast_matches_ref_across_groups(void **state)
{
    const conv_layer *layer = *state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 78);
    const int batch = 5;
    int found_partial[2] = {0, 0}, found_single = 0; /* found_partial[per_sample] */
    for (int side = 12; side <= 32; side += 4)
    for (int channels = 1;
         channels <= 512 && !(found_partial[0] && found_partial[1] && found_single); channels++) {
        jvae_conv_dims d;
        if (layer == &CONV2D)
            assert_int_equal(
                jvae_conv_dims_init(&d, batch, channels, side, side, 3, 3, 3, 1, 1), 0);
        else
            assert_int_equal(
                jvae_conv_transpose_dims_init(&d, batch, 3, side, side, channels, 3, 3, 1, 1), 0);
        size_t rows, plane;
        const int per_sample = takes_per_sample_gemms(layer, &d, &rows, &plane);
        const int group = jvae_split_batch(batch, rows, plane, 1).group;
        if (!found_partial[per_sample] && group > 1 && batch % group != 0) {
            found_partial[per_sample] = 1;
            compare_with_ref(layer, &d, &rng, 1);
        } else if (!found_single && group == 1) {
            found_single = 1;
            compare_with_ref(layer, &d, &rng, 1);
        }
    }
    assert_true(found_partial[0] && found_partial[1] && found_single);
}

/* The single-channel layers at either end of the paper's network (conv 1→C
 * on 32x32 images, transposed C→1 back to 32x32, 4x4/2/1) run one GEMM per
 * sample. Batches of 5 and 40 against 1 to 3 threads give one group, several
 * groups with a partial last one, and uneven blocks of groups per worker
 * (tolerances as in compare_with_ref). */
static void test_single_channel_layers(void **state)
{
    const conv_layer *layer = *state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 80);
    const int batches[2] = {5, 40};
    for (int b = 0; b < 2; b++)
        for (int threads = 1; threads <= 3; threads++) {
            jvae_conv_dims d;
            if (layer == &CONV2D)
                assert_int_equal(jvae_conv_dims_init(&d, batches[b], 1, 32, 32, 4, 4, 4, 2, 1), 0);
            else
                assert_int_equal(
                    jvae_conv_transpose_dims_init(&d, batches[b], 4, 16, 16, 1, 4, 4, 2, 1), 0);
            size_t rows, plane;
            assert_true(takes_per_sample_gemms(layer, &d, &rows, &plane));
            const jvae_batch_split split = jvae_split_batch(batches[b], rows, plane, threads);
            if (batches[b] == 40 && threads == 1)
                assert_true(split.groups > 1 && batches[b] % split.group != 0);
            compare_with_ref(layer, &d, &rng, threads);
        }
}

/* The multi-threaded kernels against the naive twins, on batches that give
 * every worker some groups (tolerances as above); then a fixed thread count
 * must reproduce its own bits, and the scratch query must grow with the
 * thread count. */
static void test_threads(void **state)
{
    const conv_layer *layer = *state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 79);
    for (int threads = 2; threads <= 4; threads++) {
        for (int trial = 0; trial < 3; trial++) {
            const jvae_conv_dims small =
                random_dims(layer, &rng, random_int(&rng, 1, 3), random_int(&rng, 0, 2), 3);
            jvae_conv_dims d;
            assert_int_equal(layer->dims_init(&d, random_int(&rng, threads, 9), small.in_c,
                                              small.in_h, small.in_w, small.out_c, small.k_h,
                                              small.k_w, small.stride, small.pad),
                             0);
            compare_with_ref(layer, &d, &rng, threads);
        }
        jvae_conv_dims direct; /* the paths of conv_direct.h, see test_fast_matches_ref */
        assert_int_equal(layer->dims_init(&direct, 7, 4, 32, 32, 4, 4, 4, 2, 1), 0);
        compare_with_ref(layer, &direct, &rng, threads);
        if (layer == &CONV2D)
            assert_int_equal(layer->dims_init(&direct, 7, 2, 32, 32, 16, 4, 4, 2, 1), 0);
        else
            assert_int_equal(layer->dims_init(&direct, 7, 16, 16, 16, 2, 4, 4, 2, 1), 0);
        compare_with_ref(layer, &direct, &rng, threads);
    }

    jvae_conv_dims d;
    assert_int_equal(layer->dims_init(&d, 9, 3, 8, 8, 4, 4, 4, 2, 1), 0);
    assert_true(layer->scratch_floats_mt(&d, 1) == layer->scratch_floats(&d));
    assert_true(layer->scratch_floats_mt(&d, 3) > layer->scratch_floats(&d));
    conv_case c;
    case_init(&c, layer, &d, &rng);
    float *scratch = alloc_floats(layer->scratch_floats_mt(&d, 3));
    float *first = alloc_floats(c.weight_count);
    jvae_pool *pool = NULL;
    assert_int_equal(jvae_pool_create(&pool, 3, "test_threads"), JVAE_OK);
    for (int run = 0; run < 2; run++) {
        zero_gradients(&c);
        layer->backward_mt(c.din, c.dweight, c.dbias, c.r, c.in, c.weight, 0, &d, scratch, pool);
        if (run == 0) memcpy(first, c.dweight, c.weight_count * sizeof *first);
    }
    assert_memory_equal(first, c.dweight, c.weight_count * sizeof *first);
    jvae_pool_free(pool);
    free(first);
    free(scratch);
    case_free(&c);
}

/* The fused ReLUs (nn.h) against the unfused calls, bit for bit: forward
 * with relu_out = forward, then jvae_relu_forward; backward with relu_in
 * (where `in` is a ReLU's output, so about half of it is 0) = zeroing din,
 * the plain backward, then jvae_relu_backward_store; dweight and dbias as
 * without the flag. The fused din starts as garbage, which it must
 * overwrite. Geometries for both the per-sample GEMMs (a single-channel
 * side) and the group GEMMs (batches of several groups, and of one sample),
 * at 1 to 3 threads. */
static void test_fused_relu(void **state)
{
    const conv_layer *layer = *state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 81);
    const int geometries[][4] = {/* batch, in_c, side, out_c */
                                 {5, 1, 16, 4}, {5, 4, 16, 1}, {5, 4, 32, 4},
                                 {5, 2, 32, 16}, {5, 16, 16, 2}, {5, 16, 8, 2},
                                 {9, 3, 8, 5},   {1, 3, 8, 5}};
    for (size_t g = 0; g < sizeof geometries / sizeof geometries[0]; g++)
        for (int threads = 1; threads <= 3; threads++) {
            const int *geo = geometries[g];
            jvae_conv_dims d;
            assert_int_equal(
                layer->dims_init(&d, geo[0], geo[1], geo[2], geo[2], geo[3], 4, 4, 2, 1), 0);
            conv_case c;
            case_init(&c, layer, &d, &rng);
            jvae_relu_forward(c.in, c.in, c.in_count);
            float *scratch = alloc_floats(layer->scratch_floats_mt(&d, threads));
            float *out = alloc_floats(c.out_count), *din = alloc_floats(c.in_count);
            float *dweight = alloc_floats(c.weight_count), *dbias = alloc_floats((size_t)d.out_c);
            jvae_pool *pool = NULL;
            if (threads > 1)
                assert_int_equal(jvae_pool_create(&pool, threads, "test_fused_relu"), JVAE_OK);

            layer->forward_mt(c.out, c.in, c.weight, c.bias, 0, &d, scratch, pool);
            jvae_relu_forward(c.out, c.out, c.out_count);
            layer->forward_mt(out, c.in, c.weight, c.bias, 1, &d, scratch, pool);
            assert_memory_equal(out, c.out, c.out_count * sizeof *out);

            zero_gradients(&c);
            layer->backward_mt(c.din, c.dweight, c.dbias, c.r, c.in, c.weight, 0, &d, scratch,
                               pool);
            float *gated = alloc_floats(c.in_count);
            jvae_relu_backward_store(gated, c.din, c.in, c.in_count);
            test_fill_uniform(&rng, din, c.in_count, -9.0f, 9.0f);
            layer->backward_mt(din, dweight, dbias, c.r, c.in, c.weight, 1, &d, scratch, pool);
            assert_memory_equal(din, gated, c.in_count * sizeof *din);
            assert_memory_equal(dweight, c.dweight, c.weight_count * sizeof *dweight);
            assert_memory_equal(dbias, c.dbias, (size_t)d.out_c * sizeof *dbias);

            jvae_pool_free(pool);
            free(gated);
            free(scratch);
            free(out);
            free(din);
            free(dweight);
            free(dbias);
            case_free(&c);
        }
}

/* Backward twice from zero gives twice the gradients, and a NULL din changes
 * neither dweight nor dbias, for the fast kernels and the twins alike. The
 * second call adds its terms (each ≲ 10 in size) to a nonzero sum, one extra
 * float rounding each: abs and rel 1e-5. Without din the weight and bias
 * paths do the same arithmetic: rel 1e-6. */
static void test_accumulates_and_null_din(void **state)
{
    const conv_layer *layer = *state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 9);
    const jvae_conv_dims d = random_dims(layer, &rng, 2, 1, 3);
    conv_case c;
    case_init(&c, layer, &d, &rng);
    float *doubled_din = alloc_floats(c.in_count), *doubled_dw = alloc_floats(c.weight_count);
    float *doubled_db = alloc_floats((size_t)d.out_c);
    const conv_variant *variants[2] = {&layer->fast, &layer->ref};
    for (int v = 0; v < 2; v++) {
        const conv_variant *var = variants[v];
        zero_gradients(&c);
        var->backward(c.din, c.dweight, c.dbias, c.r, c.in, c.weight, &d, c.scratch);
        for (size_t i = 0; i < c.in_count; i++) doubled_din[i] = 2.0f * c.din[i];
        for (size_t i = 0; i < c.weight_count; i++) doubled_dw[i] = 2.0f * c.dweight[i];
        for (int i = 0; i < d.out_c; i++) doubled_db[i] = 2.0f * c.dbias[i];
        var->backward(c.din, c.dweight, c.dbias, c.r, c.in, c.weight, &d, c.scratch);
        gradcheck_assert_close("din twice", c.din, doubled_din, c.in_count, 1e-5, 1e-5);
        gradcheck_assert_close("dweight twice", c.dweight, doubled_dw, c.weight_count, 1e-5,
                               1e-5);
        gradcheck_assert_close("dbias twice", c.dbias, doubled_db, (size_t)d.out_c, 1e-5, 1e-5);

        /* doubled_* now hold the single-call gradients with din, halved back. */
        for (size_t i = 0; i < c.weight_count; i++) doubled_dw[i] *= 0.5f;
        for (int i = 0; i < d.out_c; i++) doubled_db[i] *= 0.5f;
        zero_gradients(&c);
        var->backward(NULL, c.dweight, c.dbias, c.r, c.in, c.weight, &d, c.scratch);
        gradcheck_assert_close("dweight without din", c.dweight, doubled_dw, c.weight_count, 0.0,
                               1e-6);
        gradcheck_assert_close("dbias without din", c.dbias, doubled_db, (size_t)d.out_c, 0.0,
                               1e-6);
        for (size_t i = 0; i < c.in_count; i++) assert_true(c.din[i] == 0.0f);
    }
    free(doubled_din);
    free(doubled_dw);
    free(doubled_db);
    case_free(&c);
}

/* A transposed convolution without bias is the input gradient of the
 * convolution with the same weight tensor (conv's (out_c, in_c, kh, kw) is the
 * transpose's (in_c, out_c, kh, kw)), when the convolution covers its input
 * exactly. Both are float sums of the same ≤ 4·16 products: abs 1e-5. */
static void test_transpose_is_conv_input_gradient(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 31);
    const int geometries[][6] = {/* in_h, in_w, k_h, k_w, stride, pad */
                                 {8, 8, 4, 4, 2, 1}, {7, 9, 3, 1, 2, 0}, {8, 7, 3, 2, 3, 2},
                                 {5, 5, 1, 3, 1, 1}};
    for (size_t t = 0; t < sizeof geometries / sizeof geometries[0]; t++) {
        const int *g = geometries[t];
        jvae_conv_dims conv, transpose;
        assert_int_equal(jvae_conv_dims_init(&conv, 2, 3, g[0], g[1], 4, g[2], g[3], g[4], g[5]),
                         0);
        assert_int_equal(jvae_conv_transpose_dims_init(&transpose, 2, 4, conv.out_h, conv.out_w,
                                                       3, g[2], g[3], g[4], g[5]),
                         0);
        assert_int_equal(transpose.out_h, conv.in_h);
        assert_int_equal(transpose.out_w, conv.in_w);
        conv_case c;
        case_init(&c, &CONV2D, &conv, &rng);
        zero_gradients(&c);
        c.variant->backward(c.din, c.dweight, c.dbias, c.r, c.in, c.weight, &conv, c.scratch);
        float *zero_bias = alloc_floats((size_t)transpose.out_c);
        float *scratch = alloc_floats(jvae_conv2d_transpose_scratch_floats(&transpose));
        float *image = alloc_floats(c.in_count);
        jvae_conv2d_transpose_forward(image, c.r, c.weight, zero_bias, &transpose, scratch);
        gradcheck_assert_close("transpose vs conv din", image, c.din, c.in_count, 1e-5, 0.0);
        free(zero_bias);
        free(scratch);
        free(image);
        case_free(&c);
    }
}

static void test_conv_dims(void **state)
{
    (void)state;
    jvae_conv_dims d;
    assert_int_equal(jvae_conv_dims_init(&d, 64, 1, 32, 32, 32, 4, 4, 2, 1), 0);
    assert_int_equal(d.out_h, 16);
    assert_int_equal(d.out_w, 16);
    assert_int_equal(d.batch, 64);
    assert_int_equal(d.out_c, 32);
    assert_int_equal(jvae_conv_dims_init(&d, 1, 1, 7, 5, 1, 3, 2, 3, 0), 0);
    assert_int_equal(d.out_h, 2); /* (7 − 3)/3 + 1 */
    assert_int_equal(d.out_w, 2); /* (5 − 2)/3 + 1 */
    assert_int_equal(jvae_conv_dims_init(&d, 1, 1, 1, 1, 1, 5, 5, 1, 2), 0);
    assert_int_equal(d.out_h, 1);

    const int valid[9] = {2, 3, 8, 8, 4, 3, 3, 1, 1};
    for (int i = 0; i < 9; i++) { /* each size in turn zero or negative */
        int args[9];
        memcpy(args, valid, sizeof args);
        for (int bad = -1; bad <= 0; bad++) {
            args[i] = bad;
            if (i == 8 && bad == 0) continue; /* padding 0 is valid */
            assert_int_equal(jvae_conv_dims_init(&d, args[0], args[1], args[2], args[3], args[4],
                                                 args[5], args[6], args[7], args[8]),
                             -1);
        }
    }
    /* An output smaller than one pixel, including a negative span that
     * integer division would truncate to a bogus output of 1. */
    assert_int_equal(jvae_conv_dims_init(&d, 1, 1, 2, 8, 1, 3, 3, 2, 0), -1);
    assert_int_equal(jvae_conv_dims_init(&d, 1, 1, 8, 2, 1, 3, 4, 1, 0), -1);
    assert_int_equal(jvae_conv_dims_init(&d, 1, 1, 1, 1, 1, 4, 4, 2, 1), -1);
    /* Sizes whose tensors or arithmetic overflow. */
    assert_int_equal(jvae_conv_dims_init(&d, INT_MAX, INT_MAX, 64, 64, 2, 4, 4, 2, 1), -1);
    assert_int_equal(jvae_conv_dims_init(&d, 1, 1, INT_MAX, 8, 1, 1, 1, 1, INT_MAX), -1);
    assert_int_equal(jvae_conv_dims_init(&d, 1, 1, 8, 8, 1, 3, 3, 1, INT_MAX), -1);
    /* Tiny tensors (a 1x1 image to a 2x2 output) whose padded work image,
     * (1 + 2^31)·(2^31 − 1)·2 floats, cannot be addressed. */
    assert_int_equal(jvae_conv_dims_init(&d, 1, 1, 1, 1, 1, 1, 1, INT_MAX, 1 << 30), -1);
    assert_int_equal(jvae_conv_dims_init(NULL, 1, 1, 8, 8, 1, 3, 3, 1, 1), -1);
}

static void test_conv_transpose_dims(void **state)
{
    (void)state;
    jvae_conv_dims d;
    assert_int_equal(jvae_conv_transpose_dims_init(&d, 64, 64, 4, 4, 32, 4, 4, 2, 1), 0);
    assert_int_equal(d.out_h, 8);
    assert_int_equal(d.out_w, 8);
    assert_int_equal(jvae_conv_transpose_dims_init(&d, 1, 1, 3, 2, 1, 2, 3, 3, 1), 0);
    assert_int_equal(d.out_h, 6); /* (3 − 1)·3 − 2 + 2 */
    assert_int_equal(d.out_w, 4); /* (2 − 1)·3 − 2 + 3 */

    const int valid[9] = {2, 3, 8, 8, 4, 3, 3, 1, 1};
    for (int i = 0; i < 9; i++) {
        int args[9];
        memcpy(args, valid, sizeof args);
        for (int bad = -1; bad <= 0; bad++) {
            args[i] = bad;
            if (i == 8 && bad == 0) continue;
            assert_int_equal(jvae_conv_transpose_dims_init(&d, args[0], args[1], args[2],
                                                           args[3], args[4], args[5], args[6],
                                                           args[7], args[8]),
                             -1);
        }
    }
    /* Output below one pixel: (1 − 1)·2 − 2 + 1 = −1; a height of exactly
     * (1 − 1)·1 − 2 + 2 = 0; a width of (3 − 1)·1 − 4 + 2 = 0 under a valid height. */
    assert_int_equal(jvae_conv_transpose_dims_init(&d, 1, 1, 1, 1, 1, 1, 1, 2, 1), -1);
    assert_int_equal(jvae_conv_transpose_dims_init(&d, 1, 1, 1, 4, 1, 2, 2, 1, 1), -1);
    assert_int_equal(jvae_conv_transpose_dims_init(&d, 1, 1, 4, 3, 1, 2, 2, 1, 2), -1);
    assert_int_equal(jvae_conv_transpose_dims_init(&d, 1, 1, 4, 4, 1, 2, 2, 1, 2), 0);
    assert_int_equal(d.out_h, 1);
    assert_int_equal(jvae_conv_transpose_dims_init(&d, 1, 1, INT_MAX, 4, 1, 4, 4, 2, 0), -1);
    assert_int_equal(jvae_conv_transpose_dims_init(&d, INT_MAX, 64, 4, 4, 64, 4, 4, 2, 1), -1);
    assert_int_equal(jvae_conv_transpose_dims_init(NULL, 1, 1, 4, 4, 1, 4, 4, 2, 1), -1);
}

/* The bias sums of the conv backward passes: each channel's 8 double lanes
 * take the plane's values in order, sample after sample, and are added last,
 * on every path (AVX-512 sums four channels side by side; ctest reruns this
 * under each JVAE_MAX_ISA) and for any split of the channels among workers:
 * the same bits as that loop written out here. Channel and plane counts leave
 * tails of both. */
static void test_bias_sums(void **state)
{
    (void)state;
    const int count = 3, channels = 70;
    const size_t plane = 37;
    jvae_rng rng;
    jvae_rng_seed(&rng, 81);
    float *grad = alloc_floats((size_t)count * channels * plane);
    test_fill_uniform(&rng, grad, (size_t)count * channels * plane, -1.0f, 1.0f);
    float want[70], got[70];
    for (int c = 0; c < channels; c++) {
        double lanes[8] = {0};
        for (int n = 0; n < count; n++)
            for (size_t i = 0; i < plane; i++)
                lanes[i % 8] += grad[((size_t)n * channels + c) * plane + i];
        double total = 0.0;
        for (int k = 0; k < 8; k++) total += lanes[k];
        want[c] = 0.25f + (float)total;
    }
    for (int workers = 1; workers <= 3; workers++) {
        for (int c = 0; c < channels; c++) got[c] = 0.25f;
        for (int w = 0; w < workers; w++)
            jvae_channel_sums_add(got, grad, count, channels, plane, w, workers);
        assert_memory_equal(got, want, sizeof want);
    }
    free(grad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_gradients, (void *)&CONV2D),
        cmocka_unit_test_prestate(test_gradients, (void *)&CONV2D_TRANSPOSE),
        cmocka_unit_test_prestate(test_gradients_paper_geometry, (void *)&CONV2D),
        cmocka_unit_test_prestate(test_gradients_paper_geometry, (void *)&CONV2D_TRANSPOSE),
        cmocka_unit_test_prestate(test_fast_matches_ref, (void *)&CONV2D),
        cmocka_unit_test_prestate(test_fast_matches_ref, (void *)&CONV2D_TRANSPOSE),
        cmocka_unit_test_prestate(test_fast_matches_ref_across_groups, (void *)&CONV2D),
        cmocka_unit_test_prestate(test_fast_matches_ref_across_groups, (void *)&CONV2D_TRANSPOSE),
        cmocka_unit_test_prestate(test_single_channel_layers, (void *)&CONV2D),
        cmocka_unit_test_prestate(test_single_channel_layers, (void *)&CONV2D_TRANSPOSE),
        cmocka_unit_test_prestate(test_threads, (void *)&CONV2D),
        cmocka_unit_test_prestate(test_threads, (void *)&CONV2D_TRANSPOSE),
        cmocka_unit_test_prestate(test_fused_relu, (void *)&CONV2D),
        cmocka_unit_test_prestate(test_fused_relu, (void *)&CONV2D_TRANSPOSE),
        cmocka_unit_test_prestate(test_accumulates_and_null_din, (void *)&CONV2D),
        cmocka_unit_test_prestate(test_accumulates_and_null_din, (void *)&CONV2D_TRANSPOSE),
        cmocka_unit_test(test_transpose_is_conv_input_gradient),
        cmocka_unit_test(test_bias_sums),
        cmocka_unit_test(test_conv_dims),
        cmocka_unit_test(test_conv_transpose_dims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
