/* linear kernel (lib/nn/linear.c): gradients against finite differences, the
 * fast kernel against its naive twin, accumulation and a NULL din. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_fast_matches_ref),
        cmocka_unit_test(test_accumulates_and_null_din),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
