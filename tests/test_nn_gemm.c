/* The matrix products of lib/nn/gemm.c: every form against a product in
 * double, on the paper's shapes and on shapes that end inside every kind of
 * tile and pass; strides wider than the matrices, whose gaps must stay
 * untouched; beta 0 ignoring what C held (NaN); and the same bits for a
 * block of C computed alone, which the multi-threaded layers rely on.
 * ctest runs it again with JVAE_MAX_ISA=avx2 and =baseline, so OpenBLAS's
 * path is checked on CPUs with AVX-512 too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "nn/gemm.h"
#include "test_util.h"

typedef enum form { NN, TN, NT } form;

typedef void (*gemm_fn)(int, int, int, const float *, int, const float *, int, float, float *,
                        int);

static gemm_fn gemm_of(form f)
{
    return f == NN ? jvae_gemm_nn : f == TN ? jvae_gemm_tn : jvae_gemm_nt;
}

/* A product with its operands stored at strides `pad` floats wider than
 * their rows; the gaps hold a guard value. */
typedef struct product {
    form f;
    int m, n, k, lda, ldb, ldc;
    float *a, *b, *c;
} product;

#define GUARD 1234.5f

static float *guarded(size_t count)
{
    float *p = malloc(count * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < count; i++) p[i] = GUARD;
    return p;
}

/* Rows and columns of A and B as stored. */
static void stored_a(const product *p, int *rows, int *cols)
{
    *rows = p->f == TN ? p->k : p->m;
    *cols = p->f == TN ? p->m : p->k;
}

static void stored_b(const product *p, int *rows, int *cols)
{
    *rows = p->f == NT ? p->n : p->k;
    *cols = p->f == NT ? p->k : p->n;
}

static void product_init(product *p, form f, int m, int n, int k, int pad, jvae_rng *rng)
{
    int ar, ac, br, bc;
    p->f = f;
    p->m = m;
    p->n = n;
    p->k = k;
    stored_a(p, &ar, &ac);
    stored_b(p, &br, &bc);
    p->lda = ac + pad;
    p->ldb = bc + pad;
    p->ldc = n + pad;
    p->a = guarded((size_t)ar * p->lda);
    p->b = guarded((size_t)br * p->ldb);
    p->c = guarded((size_t)m * p->ldc);
    for (int i = 0; i < ar; i++) test_fill_uniform(rng, p->a + (size_t)i * p->lda, ac, -1, 1);
    for (int i = 0; i < br; i++) test_fill_uniform(rng, p->b + (size_t)i * p->ldb, bc, -1, 1);
    for (int i = 0; i < m; i++) test_fill_uniform(rng, p->c + (size_t)i * p->ldc, n, -1, 1);
}

static void product_free(product *p)
{
    free(p->a);
    free(p->b);
    free(p->c);
}

static float a_at(const product *p, int i, int kk)
{
    return p->f == TN ? p->a[(size_t)kk * p->lda + i] : p->a[(size_t)i * p->lda + kk];
}

static float b_at(const product *p, int kk, int j)
{
    return p->f == NT ? p->b[(size_t)j * p->ldb + kk] : p->b[(size_t)kk * p->ldb + j];
}

/* Run the product and check every value of C against the sum in double,
 * within the worst-case rounding of k float products and additions,
 * (k + 2)·2⁻²⁴·Σ|a·b|, plus that of the addition of what C held: a wrong
 * or missing term is off by the size of a product, far outside it. */
static void check(product *p, float beta)
{
    float *before = malloc((size_t)p->m * p->ldc * sizeof *before);
    assert_non_null(before);
    memcpy(before, p->c, (size_t)p->m * p->ldc * sizeof *before);
    if (beta == 0.0f)
        for (int i = 0; i < p->m; i++)
            for (int j = 0; j < p->n; j++) p->c[(size_t)i * p->ldc + j] = NAN;
    gemm_of(p->f)(p->m, p->n, p->k, p->a, p->lda, p->b, p->ldb, beta, p->c, p->ldc);
    const double unit = ldexp(1.0, -24);
    for (int i = 0; i < p->m; i++) {
        for (int j = 0; j < p->n; j++) {
            double sum = 0.0, size = 0.0;
            for (int kk = 0; kk < p->k; kk++) {
                const double t = (double)a_at(p, i, kk) * b_at(p, kk, j);
                sum += t;
                size += fabs(t);
            }
            const double held = beta != 0.0f ? before[(size_t)i * p->ldc + j] : 0.0;
            const double want = held + sum;
            const double bound = (p->k + 2) * unit * (size + fabs(held)) + 1e-30;
            const float got = p->c[(size_t)i * p->ldc + j];
            if (!(fabs(got - want) <= bound)) {
                fprintf(stderr, "form %d m=%d n=%d k=%d beta=%g: c[%d][%d] = %.9g, want %.9g\n",
                        p->f, p->m, p->n, p->k, beta, i, j, got, want);
                fail();
            }
        }
        for (int j = p->n; j < p->ldc; j++) assert_true(p->c[(size_t)i * p->ldc + j] == GUARD);
    }
    free(before);
}

static const form forms[] = {NN, TN, NT};

static void test_the_papers_shapes(void **state)
{
    (void)state;
    /* (form, m, n, k) of the GEMMs of the MNIST network's layers at batch 64 */
    static const int shapes[][4] = {
        {NN, 32, 256, 16},  {NN, 32, 512, 512}, {NN, 64, 128, 512}, {NT, 32, 512, 256},
        {NT, 64, 512, 128}, {TN, 512, 128, 32}, {TN, 16, 256, 32},  {NT, 64, 256, 1024},
        {TN, 256, 1024, 64}, {NN, 64, 1024, 256}, {NT, 64, 30, 256}, {TN, 30, 256, 64},
    };
    jvae_rng rng;
    jvae_rng_seed(&rng, 1);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int beta = 0; beta <= 1; beta++) {
            product p;
            product_init(&p, (form)shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], 0,
                         &rng);
            check(&p, (float)beta);
            product_free(&p);
        }
}

/* m across the 8-row and 4-row tiles, n across the 16-column vectors, the
 * 48-column and 6-column tiles, k across vectors and the 512- and 1024-long
 * passes; rows 3 floats wider than the matrices. */
static void test_edges(void **state)
{
    (void)state;
    static const int ms[] = {1, 3, 4, 5, 8, 9, 17};
    static const int ns[] = {1, 6, 7, 15, 16, 17, 47, 48, 49, 97};
    static const int ks[] = {1, 15, 16, 17, 100, 511, 512, 513, 1025};
    jvae_rng rng;
    jvae_rng_seed(&rng, 2);
    for (size_t f = 0; f < 3; f++)
        for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
                for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                    if (ms[mi] * ns[ni] * ks[ki] > 2000000) continue; /* keep it quick */
                    product p;
                    product_init(&p, forms[f], ms[mi], ns[ni], ks[ki], 3, &rng);
                    check(&p, (float)((mi + ni + ki) % 2));
                    product_free(&p);
                }
}

/* k = 0: C = beta·C, with nothing read from A or B. */
static void test_empty_inner_dimension(void **state)
{
    (void)state;
    for (size_t f = 0; f < 3; f++) {
        float c[6] = {1, 2, 3, 4, 5, 6};
        const float dummy[3] = {NAN, NAN, NAN};
        gemm_of(forms[f])(2, 3, 0, dummy, 2, dummy, 3, 1.0f, c, 3);
        for (int i = 0; i < 6; i++) assert_true(c[i] == (float)(i + 1));
        gemm_of(forms[f])(2, 3, 0, dummy, 2, dummy, 3, 0.0f, c, 3);
        for (int i = 0; i < 6; i++) assert_true(c[i] == 0.0f);
    }
}

/* A block of rows and columns of C computed by a call of its own equals,
 * bit for bit, the same block of the whole product. The cuts fall inside
 * tiles and vectors. OpenBLAS promises no such thing (see linear.c). */
static void test_blocks_give_the_same_bits(void **state)
{
    (void)state;
    if (!jvae_gemm_avx512()) skip();
    const int m = 37, n = 101, k = 300, row_cut = 13, col_cut = 21;
    jvae_rng rng;
    jvae_rng_seed(&rng, 3);
    for (size_t f = 0; f < 3; f++) {
        product p;
        product_init(&p, forms[f], m, n, k, 0, &rng);
        float *whole = malloc((size_t)m * n * sizeof *whole);
        float *pieces = malloc((size_t)m * n * sizeof *pieces);
        assert_non_null(whole);
        assert_non_null(pieces);
        memcpy(whole, p.c, (size_t)m * n * sizeof *whole);
        memcpy(pieces, p.c, (size_t)m * n * sizeof *pieces);
        gemm_of(p.f)(m, n, k, p.a, p.lda, p.b, p.ldb, 1.0f, whole, n);
        const int row_first[2] = {0, row_cut}, row_count[2] = {row_cut, m - row_cut};
        const int col_first[2] = {0, col_cut}, col_count[2] = {col_cut, n - col_cut};
        for (int r = 0; r < 2; r++)
            for (int q = 0; q < 2; q++) {
                const int i0 = row_first[r], j0 = col_first[q];
                const float *a = p.f == TN ? p.a + i0 : p.a + (size_t)i0 * p.lda;
                const float *b = p.f == NT ? p.b + (size_t)j0 * p.ldb : p.b + j0;
                gemm_of(p.f)(row_count[r], col_count[q], k, a, p.lda, b, p.ldb, 1.0f,
                             pieces + (size_t)i0 * n + j0, n);
            }
        assert_memory_equal(whole, pieces, (size_t)m * n * sizeof *whole);
        free(whole);
        free(pieces);
        product_free(&p);
    }
}

int main(void)
{
    static const char *names[] = {"baseline (OpenBLAS)", "AVX2 (OpenBLAS)", "AVX-512"};
    printf("# instruction set: %s, products by %s\n", names[jvae_cpu_isa()],
           jvae_gemm_avx512() ? "our kernels" : "OpenBLAS");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_papers_shapes),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_empty_inner_dimension),
        cmocka_unit_test(test_blocks_give_the_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
