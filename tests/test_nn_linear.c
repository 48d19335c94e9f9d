/* linear kernel (lib/nn/linear.c): gradients against finite differences, the
 * fast kernel against its naive twin, accumulation and a NULL din, and the
 * multi-threaded kernels against the one-thread ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "jointvae/model.h"
#include "nn/gemm.h"
#include "nn/nn.h"
#include "test_util.h"

typedef void (*forward_fn)(float *, const float *, const float *, const float *, int, int, int);
typedef void (*backward_fn)(float *, float *, float *, const float *, const float *,
                            const float *, int, int, int);

typedef struct linear_case {
    forward_fn forward; /* the forward the loss runs */
    int n, in_features, out_features;
    float *in, *weight, *bias, *out, *r; /* r: dout and the weights of L = Σ r·out */
    float *din, *dweight, *dbias;
} linear_case;

static float *alloc_floats(size_t count)
{
    float *p = calloc(count, sizeof *p);
    assert_non_null(p);
    return p;
}

static void case_init(linear_case *c, int n, int in_features, int out_features, jvae_rng *rng)
{
    c->forward = jvae_linear_forward;
    c->n = n;
    c->in_features = in_features;
    c->out_features = out_features;
    c->in = alloc_floats((size_t)n * in_features);
    c->weight = alloc_floats((size_t)out_features * in_features);
    c->bias = alloc_floats((size_t)out_features);
    c->out = alloc_floats((size_t)n * out_features);
    c->r = alloc_floats((size_t)n * out_features);
    c->din = alloc_floats((size_t)n * in_features);
    c->dweight = alloc_floats((size_t)out_features * in_features);
    c->dbias = alloc_floats((size_t)out_features);
    test_fill_uniform(rng, c->in, (size_t)n * in_features, -1.0f, 1.0f);
    test_fill_uniform(rng, c->weight, (size_t)out_features * in_features, -1.0f, 1.0f);
    test_fill_uniform(rng, c->bias, (size_t)out_features, -1.0f, 1.0f);
    test_fill_uniform(rng, c->r, (size_t)n * out_features, -1.0f, 1.0f);
}

static void case_free(linear_case *c)
{
    free(c->in);
    free(c->weight);
    free(c->bias);
    free(c->out);
    free(c->r);
    free(c->din);
    free(c->dweight);
    free(c->dbias);
}

static void zero_gradients(linear_case *c)
{
    memset(c->din, 0, (size_t)c->n * c->in_features * sizeof *c->din);
    memset(c->dweight, 0, (size_t)c->out_features * c->in_features * sizeof *c->dweight);
    memset(c->dbias, 0, (size_t)c->out_features * sizeof *c->dbias);
}

static double weighted_output_loss(void *payload)
{
    linear_case *c = payload;
    c->forward(c->out, c->in, c->weight, c->bias, c->n, c->in_features, c->out_features);
    double sum = 0.0;
    for (size_t i = 0; i < (size_t)c->n * c->out_features; i++)
        sum += (double)c->r[i] * c->out[i];
    return sum;
}

/* The output is linear in input, weight and bias: no truncation error, so a
 * step of 0.5 only shrinks rounding. One perturbed value moves at most
 * max(n, O) ≤ 7 float outputs of size ≲ 10, each off by a few ulps (≲ 4e-6),
 * i.e. ≲ 1e-4 in L over 2h = 1; the analytic float sums carry ≲ 10·6e-8.
 * abs 1e-3 + rel 1e-3 leaves a wide margin; a wrong index errs by O(0.1). */
static const gradcheck_options LINEAR_IN_X = {.step = 0.5, .abs_tol = 1e-3, .rel_tol = 1e-3};

static void test_gradients(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 5);
    const int shapes[][3] = {{1, 1, 1}, {3, 5, 2}, {2, 1, 7}, {4, 9, 6}};
    const forward_fn forwards[2] = {jvae_linear_forward, jvae_linear_forward_ref};
    const backward_fn backwards[2] = {jvae_linear_backward, jvae_linear_backward_ref};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        linear_case c;
        case_init(&c, shapes[s][0], shapes[s][1], shapes[s][2], &rng);
        for (int v = 0; v < 2; v++) {
            c.forward = forwards[v];
            zero_gradients(&c);
            backwards[v](c.din, c.dweight, c.dbias, c.r, c.in, c.weight, c.n, c.in_features,
                         c.out_features);
            char name[96];
            snprintf(name, sizeof name, "linear/%s %dx%d->%d input", v ? "ref" : "fast", c.n,
                     c.in_features, c.out_features);
            gradcheck_assert(name, c.in, (size_t)c.n * c.in_features, c.din, weighted_output_loss,
                             &c, &LINEAR_IN_X);
            snprintf(name, sizeof name, "linear/%s %dx%d->%d weight", v ? "ref" : "fast", c.n,
                     c.in_features, c.out_features);
            gradcheck_assert(name, c.weight, (size_t)c.out_features * c.in_features, c.dweight,
                             weighted_output_loss, &c, &LINEAR_IN_X);
            snprintf(name, sizeof name, "linear/%s %dx%d->%d bias", v ? "ref" : "fast", c.n,
                     c.in_features, c.out_features);
            gradcheck_assert(name, c.bias, (size_t)c.out_features, c.dbias, weighted_output_loss,
                             &c, &LINEAR_IN_X);
        }
        case_free(&c);
    }
}

/* Fast against the double-summing twin, from random starting gradients (so
 * both must accumulate). A float sum of K ≤ 1024 products of values ≤ 1 has
 * random-sign rounding of about √K·ε·|partial sums| ≈ 32·6e-8·16 ≈ 3e-5 at the
 * largest shape (the model's 1024 → 256), less elsewhere; abs 1e-4 + rel 1e-4
 * allows several times that, while a wrong index or an untransposed weight
 * errs by O(0.1). */
static void test_fast_matches_ref(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 6);
    const int shapes[][3] = {{1, 3, 2}, {5, 17, 9}, {8, 64, 33}, {3, 1024, 256}, {64, 10, 256}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int n = shapes[s][0], in_f = shapes[s][1], out_f = shapes[s][2];
        linear_case c;
        case_init(&c, n, in_f, out_f, &rng);
        float *out_ref = alloc_floats((size_t)n * out_f);
        float *din_ref = alloc_floats((size_t)n * in_f);
        float *dweight_ref = alloc_floats((size_t)out_f * in_f);
        float *dbias_ref = alloc_floats((size_t)out_f);
        test_fill_uniform(&rng, c.din, (size_t)n * in_f, -1.0f, 1.0f);
        test_fill_uniform(&rng, c.dweight, (size_t)out_f * in_f, -1.0f, 1.0f);
        test_fill_uniform(&rng, c.dbias, (size_t)out_f, -1.0f, 1.0f);
        memcpy(din_ref, c.din, (size_t)n * in_f * sizeof *din_ref);
        memcpy(dweight_ref, c.dweight, (size_t)out_f * in_f * sizeof *dweight_ref);
        memcpy(dbias_ref, c.dbias, (size_t)out_f * sizeof *dbias_ref);

        jvae_linear_forward(c.out, c.in, c.weight, c.bias, n, in_f, out_f);
        jvae_linear_forward_ref(out_ref, c.in, c.weight, c.bias, n, in_f, out_f);
        jvae_linear_backward(c.din, c.dweight, c.dbias, c.r, c.in, c.weight, n, in_f, out_f);
        jvae_linear_backward_ref(din_ref, dweight_ref, dbias_ref, c.r, c.in, c.weight, n, in_f,
                                 out_f);
        gradcheck_assert_close("linear out", c.out, out_ref, (size_t)n * out_f, 1e-4, 1e-4);
        gradcheck_assert_close("linear din", c.din, din_ref, (size_t)n * in_f, 1e-4, 1e-4);
        gradcheck_assert_close("linear dweight", c.dweight, dweight_ref, (size_t)out_f * in_f,
                               1e-4, 1e-4);
        gradcheck_assert_close("linear dbias", c.dbias, dbias_ref, (size_t)out_f, 1e-4, 1e-4);
        free(out_ref);
        free(din_ref);
        free(dweight_ref);
        free(dbias_ref);
        case_free(&c);
    }
}

/* Twice from zero gives twice (one extra rounding per value: 1e-6 abs+rel on
 * values ≲ 10), and a NULL din leaves dweight and dbias as they were with it. */
static void test_accumulates_and_null_din(void **state)
{
    (void)state;
    jvae_rng rng;
    jvae_rng_seed(&rng, 8);
    const int n = 6, in_f = 11, out_f = 5;
    linear_case c;
    case_init(&c, n, in_f, out_f, &rng);
    float *single_din = alloc_floats((size_t)n * in_f);
    float *single_dw = alloc_floats((size_t)out_f * in_f);
    float *single_db = alloc_floats((size_t)out_f);
    const backward_fn backwards[2] = {jvae_linear_backward, jvae_linear_backward_ref};
    for (int v = 0; v < 2; v++) {
        zero_gradients(&c);
        backwards[v](c.din, c.dweight, c.dbias, c.r, c.in, c.weight, n, in_f, out_f);
        memcpy(single_din, c.din, (size_t)n * in_f * sizeof *single_din);
        memcpy(single_dw, c.dweight, (size_t)out_f * in_f * sizeof *single_dw);
        memcpy(single_db, c.dbias, (size_t)out_f * sizeof *single_db);
        backwards[v](c.din, c.dweight, c.dbias, c.r, c.in, c.weight, n, in_f, out_f);
        for (size_t i = 0; i < (size_t)n * in_f; i++) single_din[i] *= 2.0f;
        for (size_t i = 0; i < (size_t)out_f * in_f; i++) single_dw[i] *= 2.0f;
        for (int i = 0; i < out_f; i++) single_db[i] *= 2.0f;
        gradcheck_assert_close("din twice", c.din, single_din, (size_t)n * in_f, 1e-6, 1e-6);
        gradcheck_assert_close("dweight twice", c.dweight, single_dw, (size_t)out_f * in_f, 1e-6,
                               1e-6);
        gradcheck_assert_close("dbias twice", c.dbias, single_db, (size_t)out_f, 1e-6, 1e-6);

        for (size_t i = 0; i < (size_t)out_f * in_f; i++) single_dw[i] *= 0.5f;
        for (int i = 0; i < out_f; i++) single_db[i] *= 0.5f;
        zero_gradients(&c);
        backwards[v](NULL, c.dweight, c.dbias, c.r, c.in, c.weight, n, in_f, out_f);
        gradcheck_assert_close("dweight without din", c.dweight, single_dw, (size_t)out_f * in_f,
                               0.0, 1e-6);
        gradcheck_assert_close("dbias without din", c.dbias, single_db, (size_t)out_f, 0.0, 1e-6);
    }
    free(single_din);
    free(single_dw);
    free(single_db);
    case_free(&c);
}

/* A pool of `threads` workers (NULL for 1). */
static jvae_pool *pool_of(int threads)
{
    jvae_pool *pool = NULL;
    if (threads > 1) assert_int_equal(jvae_pool_create(&pool, threads, "test_nn_linear"), JVAE_OK);
    return pool;
}

/* Bit-for-bit equality of two float buffers, naming the first difference. */
static void assert_same_bits(const char *what, int threads, const float *a, const float *b,
                             size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) {
            print_error("%s, %d threads: [%zu] = %.9g, one thread gives %.9g\n", what, threads, i,
                        (double)a[i], (double)b[i]);
            fail();
        }
}

/* The _mt kernels on 2- and 3-worker pools against the one-thread kernels,
 * bit for bit (each value is one worker's GEMM over the same terms, split
 * where OpenBLAS's kernels tile the rows: see linear.c; OpenBLAS's own
 * threading, which splits differently, is off as the _mt contract asks), and
 * against the double-summing twin with the tolerance of
 * test_fast_matches_ref. The shapes are large enough to be split (asserted)
 * and odd-sized so that blocks are uneven and end in short tiles; a batch of
 * one keeps forward whole while backward splits the outputs. */
static void test_threads_match_one_thread(void **state)
{
    (void)state;
    const int blas_threads = jvae_blas_threads();
    assert_int_equal(jvae_blas_set_threads(1), JVAE_OK);
    jvae_rng rng;
    jvae_rng_seed(&rng, 9);
    const int shapes[][3] = {{67, 1031, 129}, {1, 4099, 1031}, {64, 1024, 256}, {25, 2900, 131}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int n = shapes[s][0], in_f = shapes[s][1], out_f = shapes[s][2];
        const size_t outs = (size_t)n * out_f, ins = (size_t)n * in_f;
        const size_t weights = (size_t)out_f * in_f;
        linear_case c;
        case_init(&c, n, in_f, out_f, &rng);
        float *start = alloc_floats(ins + weights + (size_t)out_f);
        test_fill_uniform(&rng, start, ins + weights + (size_t)out_f, -1.0f, 1.0f);
        float *out1 = alloc_floats(outs), *din1 = alloc_floats(ins);
        float *dw1 = alloc_floats(weights), *db1 = alloc_floats((size_t)out_f);
        float *out_ref = alloc_floats(outs), *din_ref = alloc_floats(ins);
        float *dw_ref = alloc_floats(weights), *db_ref = alloc_floats((size_t)out_f);
        /* Every run starts from the same nonzero gradients, so accumulation shows. */
        memcpy(din1, start, ins * sizeof *din1);
        memcpy(dw1, start + ins, weights * sizeof *dw1);
        memcpy(db1, start + ins + weights, (size_t)out_f * sizeof *db1);
        memcpy(din_ref, din1, ins * sizeof *din_ref);
        memcpy(dw_ref, dw1, weights * sizeof *dw_ref);
        memcpy(db_ref, db1, (size_t)out_f * sizeof *db_ref);
        jvae_linear_forward(out1, c.in, c.weight, c.bias, n, in_f, out_f);
        jvae_linear_backward(din1, dw1, db1, c.r, c.in, c.weight, n, in_f, out_f);
        jvae_linear_forward_ref(out_ref, c.in, c.weight, c.bias, n, in_f, out_f);
        jvae_linear_backward_ref(din_ref, dw_ref, db_ref, c.r, c.in, c.weight, n, in_f, out_f);

        for (int threads = 1; threads <= 3; threads++) {
            jvae_pool *pool = pool_of(threads);
            const double forward_flop = 2.0 * n * in_f * out_f;
            if (threads > 1 && n > 1)
                assert_true(jvae_linear_workers(forward_flop, n, threads) > 1);
            if (threads > 1)
                assert_true(jvae_linear_workers(2.0 * forward_flop, out_f, threads) > 1);
            for (int with_din = 0; with_din < 2; with_din++) {
                memcpy(c.din, start, ins * sizeof *c.din);
                memcpy(c.dweight, start + ins, weights * sizeof *c.dweight);
                memcpy(c.dbias, start + ins + weights, (size_t)out_f * sizeof *c.dbias);
                memset(c.out, 0xff, outs * sizeof *c.out); /* NaN: every value must be written */
                jvae_linear_forward_mt(c.out, c.in, c.weight, c.bias, n, in_f, out_f, pool);
                jvae_linear_backward_mt(with_din ? c.din : NULL, c.dweight, c.dbias, c.r, c.in,
                                        c.weight, n, in_f, out_f, pool);
                assert_same_bits("linear_mt out", threads, c.out, out1, outs);
                assert_same_bits("linear_mt dweight", threads, c.dweight, dw1, weights);
                assert_same_bits("linear_mt dbias", threads, c.dbias, db1, (size_t)out_f);
                if (with_din)
                    assert_same_bits("linear_mt din", threads, c.din, din1, ins);
                else
                    assert_memory_equal(c.din, start, ins * sizeof *c.din);
            }
            /* abs 1e-4 + rel 1e-4 as in test_fast_matches_ref; with sums of up
             * to K = 4099 products, of size √(K/9) ≈ 21, the float rounding
             * √K·ε·21 ≈ 8e-5 stays far below the relative allowance (2e-3). */
            gradcheck_assert_close("linear_mt out", c.out, out_ref, outs, 1e-4, 1e-4);
            gradcheck_assert_close("linear_mt din", c.din, din_ref, ins, 1e-4, 1e-4);
            gradcheck_assert_close("linear_mt dweight", c.dweight, dw_ref, weights, 1e-4, 1e-4);
            gradcheck_assert_close("linear_mt dbias", c.dbias, db_ref, (size_t)out_f, 1e-4,
                                   1e-4);
            jvae_pool_free(pool);
        }
        free(start);
        free(out1);
        free(din1);
        free(dw1);
        free(db1);
        free(out_ref);
        free(din_ref);
        free(dw_ref);
        free(db_ref);
        case_free(&c);
    }
    assert_int_equal(jvae_blas_set_threads(blas_threads), JVAE_OK);
}

/* Small layers stay on the caller; a worker is added per 8 MFLOP, never more
 * than the threads or the row tiles: 24 rows under OpenBLAS, 8 with our
 * AVX-512 products. */
static void test_worker_count(void **state)
{
    (void)state;
    const int ours = jvae_gemm_avx512();
    assert_int_equal(jvae_linear_workers(2.0 * 64 * 256 * 10, 64, 2), 1); /* a latent head */
    assert_int_equal(jvae_linear_workers(4.0 * 64 * 20 * 256, 256, 2), 1); /* latent backward */
    assert_int_equal(jvae_linear_workers(2.0 * 32 * 1024 * 256, 32, 2), 2); /* encode chunk */
    assert_int_equal(jvae_linear_workers(2.0 * 64 * 1024 * 256, 64, 2), 2);
    assert_int_equal(jvae_linear_workers(2.0 * 64 * 1024 * 256, 64, 1), 1);
    assert_int_equal(jvae_linear_workers(1e12, 64, 8), ours ? 8 : 3);
    assert_int_equal(jvae_linear_workers(1e12, 24, 4), ours ? 3 : 1);
    assert_int_equal(jvae_linear_workers(1e12, 25, 4), ours ? 4 : 2);
    assert_int_equal(jvae_linear_workers(1e12, 8, 4), 1);
    assert_int_equal(jvae_linear_workers(0.0, 0, 4), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_fast_matches_ref),
        cmocka_unit_test(test_accumulates_and_null_din),
        cmocka_unit_test(test_threads_match_one_thread),
        cmocka_unit_test(test_worker_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
