/* Inference through the shared library: encode, decode, latents, prior
 * samples, their argument checks, concurrent calls on one model, and calls
 * whose batch is shared among the model's threads. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jointvae/jointvae.h>

#define assert_error_contains(needle)                                                   \
    do {                                                                                \
        if (strstr(jvae_last_error(), (needle)) == NULL)                                \
            fail_msg("message \"%s\" lacks \"%s\"", jvae_last_error(), (needle));       \
    } while (0)

/* 1x32x32, 3 continuous + discrete [3, 2], hidden 16: L = 8, ΣK = 5. */
#define DZ 3
#define WIDTH 5
#define LATENT 8

static jvae_model *small_model(void)
{
    jvae_model_options o;
    jvae_model_options_init(&o);
    o.n_continuous = DZ;
    o.n_discrete = 2;
    o.discrete_sizes[0] = 3;
    o.discrete_sizes[1] = 2;
    o.hidden = 16;
    o.seed = 3;
    jvae_model *m = NULL;
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    return m;
}

static jvae_tensor *tensor2(int64_t a, int64_t b)
{
    const int64_t shape[2] = {a, b};
    jvae_tensor *t = NULL;
    assert_int_equal(jvae_tensor_create(&t, 2, shape), JVAE_OK);
    return t;
}

static jvae_tensor *tensor4(int64_t n, int64_t c, int64_t h, int64_t w)
{
    const int64_t shape[4] = {n, c, h, w};
    jvae_tensor *t = NULL;
    assert_int_equal(jvae_tensor_create(&t, 4, shape), JVAE_OK);
    return t;
}

/* Images with a seeded pattern of values in [0, 1]. */
static jvae_tensor *pattern_images(int64_t n, int side, unsigned seed)
{
    jvae_tensor *t = tensor4(n, 1, side, side);
    float *px = jvae_tensor_data(t);
    uint32_t state = seed * 2654435761u + 1u;
    for (int64_t i = 0; i < jvae_tensor_numel(t); i++) {
        state = state * 1664525u + 1013904223u;
        px[i] = (float)(state >> 8) / 16777216.0f;
    }
    return t;
}

static void assert_in_unit_interval(const jvae_tensor *t)
{
    const float *v = jvae_tensor_data_const(t);
    for (int64_t i = 0; i < jvae_tensor_numel(t); i++) assert_true(v[i] >= 0.0f && v[i] <= 1.0f);
}

static void test_encode_decode_shapes_and_ranges(void **state)
{
    (void)state;
    jvae_model *m = small_model();
    /* 70 images: three chunks of the per-call memory (32, 32, 6). */
    const int n = 70;
    jvae_tensor *images = pattern_images(n, 32, 1);
    jvae_tensor *mu = tensor2(n, DZ), *logvar = tensor2(n, DZ), *alpha = tensor2(n, WIDTH);
    assert_int_equal(jvae_encode(m, images, mu, logvar, alpha), JVAE_OK);
    for (int i = 0; i < n; i++) {
        const float *a = jvae_tensor_data(alpha) + i * WIDTH;
        assert_true(fabs(a[0] + a[1] + a[2] - 1.0) < 1e-6);
        assert_true(fabs(a[3] + a[4] - 1.0) < 1e-6);
    }
    assert_in_unit_interval(alpha);

    /* Encoding one image alone gives its row of the batch (any chunking). */
    jvae_tensor *one = tensor4(1, 1, 32, 32), *mu1 = tensor2(1, DZ), *alpha1 = tensor2(1, WIDTH);
    memcpy(jvae_tensor_data(one), jvae_tensor_data(images) + 65 * 1024, 1024 * sizeof(float));
    assert_int_equal(jvae_encode(m, one, mu1, NULL, alpha1), JVAE_OK);
    for (int j = 0; j < DZ; j++)
        assert_true(fabs(jvae_tensor_data(mu1)[j] - jvae_tensor_data(mu)[65 * DZ + j]) < 1e-5);
    for (int j = 0; j < WIDTH; j++)
        assert_true(fabs(jvae_tensor_data(alpha1)[j] - jvae_tensor_data(alpha)[65 * WIDTH + j]) <
                    1e-5);

    /* Every output may be NULL. */
    assert_int_equal(jvae_encode(m, images, NULL, NULL, NULL), JVAE_OK);

    jvae_tensor *latent = tensor2(n, LATENT), *decoded = tensor4(n, 1, 32, 32);
    assert_int_equal(jvae_latent_deterministic(m, mu, alpha, latent), JVAE_OK);
    assert_int_equal(jvae_decode(m, latent, decoded), JVAE_OK);
    assert_in_unit_interval(decoded);
    jvae_tensor_free(images);
    jvae_tensor_free(one);
    jvae_tensor_free(mu);
    jvae_tensor_free(mu1);
    jvae_tensor_free(alpha1);
    jvae_tensor_free(logvar);
    jvae_tensor_free(alpha);
    jvae_tensor_free(latent);
    jvae_tensor_free(decoded);
    jvae_model_free(m);
}

static void test_deterministic_latent_ties_take_first_index(void **state)
{
    (void)state;
    jvae_model *m = small_model();
    jvae_tensor *mu = tensor2(2, DZ), *alpha = tensor2(2, WIDTH), *latent = tensor2(2, LATENT);
    const float mus[2 * DZ] = {0.5f, -1.0f, 2.0f, 0.0f, 0.25f, -0.25f};
    const float alphas[2 * WIDTH] = {0.4f, 0.4f, 0.2f, 0.5f, 0.5f,   /* ties: 0 and 0 */
                                     0.2f, 0.4f, 0.4f, 0.3f, 0.7f};  /* ties: 1; then 1 */
    assert_int_equal(jvae_tensor_copy_from(mu, mus, 2 * DZ), JVAE_OK);
    assert_int_equal(jvae_tensor_copy_from(alpha, alphas, 2 * WIDTH), JVAE_OK);
    assert_int_equal(jvae_latent_deterministic(m, mu, alpha, latent), JVAE_OK);
    const float want[2 * LATENT] = {0.5f, -1.0f, 2.0f,  1, 0, 0, 1, 0,
                                    0.0f, 0.25f, -0.25f, 0, 1, 0, 0, 1};
    assert_memory_equal(jvae_tensor_data(latent), want, sizeof want);
    jvae_tensor_free(mu);
    jvae_tensor_free(alpha);
    jvae_tensor_free(latent);
    jvae_model_free(m);
}

static void test_latent_sample(void **state)
{
    (void)state;
    jvae_model *m = small_model();
    const int n = 4;
    jvae_tensor *mu = tensor2(n, DZ), *logvar = tensor2(n, DZ), *alpha = tensor2(n, WIDTH);
    jvae_tensor *a = tensor2(n, LATENT), *b = tensor2(n, LATENT), *c = tensor2(n, LATENT);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < DZ; j++) {
            jvae_tensor_data(mu)[i * DZ + j] = (float)(i - j);
            jvae_tensor_data(logvar)[i * DZ + j] = 0.0f;
        }
        const float row[WIDTH] = {0.2f, 0.3f, 0.5f, 0.9f, 0.1f};
        memcpy(jvae_tensor_data(alpha) + i * WIDTH, row, sizeof row);
    }
    assert_int_equal(jvae_latent_sample(m, mu, logvar, alpha, 42, a), JVAE_OK);
    assert_int_equal(jvae_latent_sample(m, mu, logvar, alpha, 42, b), JVAE_OK);
    assert_int_equal(jvae_latent_sample(m, mu, logvar, alpha, 43, c), JVAE_OK);
    assert_memory_equal(jvae_tensor_data(a), jvae_tensor_data(b), n * LATENT * sizeof(float));
    assert_memory_not_equal(jvae_tensor_data(a), jvae_tensor_data(c), n * LATENT * sizeof(float));
    for (int i = 0; i < n; i++) {
        const float *row = jvae_tensor_data(a) + i * LATENT;
        assert_true(fabs(row[3] + row[4] + row[5] - 1.0) < 1e-6);
        assert_true(fabs(row[6] + row[7] - 1.0) < 1e-6);
    }
    /* σ → 0 makes z = mu; a one-hot α makes y that one-hot: log(0 + 1e-12)
     * puts ≈ 27.6/T ≈ 41 between the logits, far beyond any Gumbel noise. */
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < DZ; j++) jvae_tensor_data(logvar)[i * DZ + j] = -60.0f;
        const float row[WIDTH] = {0.0f, 1.0f, 0.0f, 1.0f, 0.0f};
        memcpy(jvae_tensor_data(alpha) + i * WIDTH, row, sizeof row);
    }
    assert_int_equal(jvae_latent_sample(m, mu, logvar, alpha, 7, a), JVAE_OK);
    for (int i = 0; i < n; i++) {
        const float *row = jvae_tensor_data(a) + i * LATENT;
        for (int j = 0; j < DZ; j++) assert_true(fabs(row[j] - (float)(i - j)) < 1e-6);
        assert_true(row[4] > 0.999f && row[6] > 0.999f);
    }
    /* Bad inputs. */
    jvae_tensor *wrong = tensor2(n, DZ + 1);
    assert_int_equal(jvae_latent_sample(m, mu, wrong, alpha, 1, a), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_latent_sample: logvar: expected shape (4, 3), got (4, 4)");
    assert_int_equal(jvae_latent_sample(m, mu, NULL, alpha, 1, a), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("logvar is NULL");
    jvae_tensor_data(alpha)[2] = 1.5f;
    assert_int_equal(jvae_latent_sample(m, mu, logvar, alpha, 1, a), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("alpha[2] = 1.5 is not a probability");
    jvae_tensor_data(alpha)[2] = 0.0f;
    jvae_tensor_data(mu)[1] = NAN;
    assert_int_equal(jvae_latent_sample(m, mu, logvar, alpha, 1, a), JVAE_ERR_NUMERIC);
    assert_error_contains("mu[1] is nan");
    jvae_tensor_free(wrong);
    jvae_tensor_free(mu);
    jvae_tensor_free(logvar);
    jvae_tensor_free(alpha);
    jvae_tensor_free(a);
    jvae_tensor_free(b);
    jvae_tensor_free(c);
    jvae_model_free(m);
}

static void test_sample_prior(void **state)
{
    (void)state;
    jvae_model *m = small_model();
    const int n = 40;
    jvae_tensor *a = tensor2(n, LATENT), *b = tensor2(n, LATENT), *images = tensor4(n, 1, 32, 32);
    const int fixed[2] = {2, -1};
    assert_int_equal(jvae_sample_prior(m, 9, fixed, a, images), JVAE_OK);
    assert_int_equal(jvae_sample_prior(m, 9, NULL, b, NULL), JVAE_OK);
    assert_in_unit_interval(images);
    int seen[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        const float *ra = jvae_tensor_data(a) + i * LATENT, *rb = jvae_tensor_data(b) + i * LATENT;
        /* Fixing variable 0 leaves the continuous draws and variable 1 unchanged. */
        assert_memory_equal(ra, rb, DZ * sizeof(float));
        assert_memory_equal(ra + DZ + 3, rb + DZ + 3, 2 * sizeof(float));
        assert_true(ra[DZ] == 0.0f && ra[DZ + 1] == 0.0f && ra[DZ + 2] == 1.0f);
        assert_true(ra[DZ + 3] + ra[DZ + 4] == 1.0f);
        seen[ra[DZ + 4] == 1.0f]++;
        double sum = 0.0;
        for (int k = 0; k < 3; k++) sum += rb[DZ + k];
        assert_true(sum == 1.0);
    }
    /* The free variable takes both values over 40 draws (p = 2^-39 otherwise). */
    assert_true(seen[0] > 0 && seen[1] > 0);
    /* Decoding the sampled latent gives the images written by the call. */
    jvae_tensor *decoded = tensor4(n, 1, 32, 32);
    assert_int_equal(jvae_decode(m, a, decoded), JVAE_OK);
    assert_memory_equal(jvae_tensor_data(decoded), jvae_tensor_data(images),
                        (size_t)n * 1024 * sizeof(float));

    const int out_of_range[2] = {3, 0};
    assert_int_equal(jvae_sample_prior(m, 9, out_of_range, a, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("fixed_categories[0] = 3 is outside 0..2");
    jvae_tensor *wrong = tensor4(n - 1, 1, 32, 32);
    assert_int_equal(jvae_sample_prior(m, 9, NULL, a, wrong), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_sample_prior: images: expected shape (40, 1, 32, 32), got (39, 1, 32, 32)");
    assert_int_equal(jvae_sample_prior(m, 9, NULL, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("latent is NULL");
    assert_int_equal(jvae_sample_prior(NULL, 9, NULL, a, NULL), JVAE_ERR_INVALID_ARGUMENT);
    jvae_tensor_free(wrong);
    jvae_tensor_free(decoded);
    jvae_tensor_free(a);
    jvae_tensor_free(b);
    jvae_tensor_free(images);
    jvae_model_free(m);
}

static void test_inference_argument_checks(void **state)
{
    (void)state;
    jvae_model *m = small_model();
    jvae_tensor *images = pattern_images(4, 32, 2), *rgb = tensor4(4, 3, 32, 32);
    jvae_tensor *mu = tensor2(4, DZ), *mu_bad = tensor2(4, 9), *alpha = tensor2(4, WIDTH);
    jvae_tensor *latent = tensor2(4, LATENT), *latent_bad = tensor2(3, LATENT);
    jvae_tensor *out = tensor4(4, 1, 32, 32), *flat = tensor2(4, 1024);

    assert_int_equal(jvae_encode(NULL, images, mu, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("jvae_encode: model is NULL");
    assert_int_equal(jvae_encode(m, NULL, mu, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("jvae_encode: images is NULL");
    assert_int_equal(jvae_encode(m, rgb, mu, NULL, NULL), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_encode: images: expected shape (N, 1, 32, 32), got (4, 3, 32, 32)");
    assert_int_equal(jvae_encode(m, flat, mu, NULL, NULL), JVAE_ERR_SHAPE);
    assert_int_equal(jvae_encode(m, images, mu_bad, NULL, NULL), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_encode: mu: expected shape (4, 3), got (4, 9)");
    assert_int_equal(jvae_encode(m, images, NULL, mu_bad, NULL), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_encode: logvar: expected shape (4, 3), got (4, 9)");
    assert_int_equal(jvae_encode(m, images, NULL, NULL, mu), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_encode: alpha: expected shape (4, 5), got (4, 3)");
    jvae_tensor_data(images)[17] = INFINITY;
    assert_int_equal(jvae_encode(m, images, mu, NULL, NULL), JVAE_ERR_NUMERIC);
    assert_error_contains("jvae_encode: images[17] is inf");
    jvae_tensor_data(images)[17] = 0.5f;

    assert_int_equal(jvae_latent_deterministic(NULL, mu, alpha, latent), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_latent_deterministic(m, NULL, alpha, latent), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("jvae_latent_deterministic: mu is NULL");
    assert_int_equal(jvae_latent_deterministic(m, mu, NULL, latent), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("alpha is NULL");
    assert_int_equal(jvae_latent_deterministic(m, mu, alpha, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("latent is NULL");
    assert_int_equal(jvae_latent_deterministic(m, mu, alpha, latent_bad), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_latent_deterministic: mu: expected shape (3, 3), got (4, 3)");
    assert_int_equal(jvae_latent_deterministic(m, mu_bad, alpha, latent), JVAE_ERR_SHAPE);
    assert_error_contains("mu: expected shape (4, 3), got (4, 9)");

    assert_int_equal(jvae_decode(NULL, latent, out), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_decode(m, NULL, out), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("jvae_decode: latent is NULL");
    assert_int_equal(jvae_decode(m, latent, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("jvae_decode: images is NULL");
    assert_int_equal(jvae_decode(m, mu, out), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_decode: latent: expected shape (N, 8), got (4, 3)");
    assert_int_equal(jvae_decode(m, latent_bad, out), JVAE_ERR_SHAPE);
    assert_error_contains("jvae_decode: images: expected shape (3, 1, 32, 32), got (4, 1, 32, 32)");
    jvae_tensor_data(latent)[3] = NAN;
    assert_int_equal(jvae_decode(m, latent, out), JVAE_ERR_NUMERIC);
    assert_error_contains("jvae_decode: latent[3] is nan");

    jvae_tensor_free(images);
    jvae_tensor_free(rgb);
    jvae_tensor_free(mu);
    jvae_tensor_free(mu_bad);
    jvae_tensor_free(alpha);
    jvae_tensor_free(latent);
    jvae_tensor_free(latent_bad);
    jvae_tensor_free(out);
    jvae_tensor_free(flat);
    jvae_model_free(m);
}

/* A model without discrete variables ignores alpha; without continuous ones, mu. */
static void test_one_sided_latents(void **state)
{
    (void)state;
    jvae_model_options o;
    jvae_model_options_init(&o);
    o.n_discrete = 0;
    o.n_continuous = 2;
    o.hidden = 8;
    jvae_model *cont = NULL, *disc = NULL;
    assert_int_equal(jvae_model_create(&cont, &o), JVAE_OK);
    o.n_continuous = 0;
    o.n_discrete = 1;
    o.discrete_sizes[0] = 4;
    assert_int_equal(jvae_model_create(&disc, &o), JVAE_OK);
    jvae_tensor *images = pattern_images(3, 32, 4);
    jvae_tensor *mu = tensor2(3, 2), *alpha = tensor2(3, 4), *zc = tensor2(3, 2), *zd = tensor2(3, 4);
    jvae_tensor *out = tensor4(3, 1, 32, 32);
    assert_int_equal(jvae_encode(cont, images, mu, NULL, NULL), JVAE_OK);
    assert_int_equal(jvae_latent_deterministic(cont, mu, NULL, zc), JVAE_OK);
    assert_memory_equal(jvae_tensor_data(zc), jvae_tensor_data(mu), 6 * sizeof(float));
    assert_int_equal(jvae_decode(cont, zc, out), JVAE_OK);
    assert_int_equal(jvae_encode(disc, images, NULL, NULL, alpha), JVAE_OK);
    assert_int_equal(jvae_latent_deterministic(disc, NULL, alpha, zd), JVAE_OK);
    assert_int_equal(jvae_latent_sample(disc, NULL, NULL, alpha, 5, zd), JVAE_OK);
    assert_int_equal(jvae_sample_prior(disc, 5, NULL, zd, out), JVAE_OK);
    assert_in_unit_interval(out);
    jvae_tensor_free(images);
    jvae_tensor_free(mu);
    jvae_tensor_free(alpha);
    jvae_tensor_free(zc);
    jvae_tensor_free(zd);
    jvae_tensor_free(out);
    jvae_model_free(cont);
    jvae_model_free(disc);
}

/* Several threads encode and decode with one model at once and get exactly
 * what a single thread gets. */
typedef struct worker {
    const jvae_model *model;
    const jvae_tensor *images;
    jvae_tensor *mu, *alpha, *latent, *decoded;
    jvae_status status;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    for (int round = 0; round < 3 && w->status == JVAE_OK; round++) {
        w->status = jvae_encode(w->model, w->images, w->mu, NULL, w->alpha);
        if (w->status == JVAE_OK)
            w->status = jvae_latent_deterministic(w->model, w->mu, w->alpha, w->latent);
        if (w->status == JVAE_OK) w->status = jvae_decode(w->model, w->latent, w->decoded);
    }
    return NULL;
}

static void make_worker(worker *w, const jvae_model *m, const jvae_tensor *images, int n)
{
    w->model = m;
    w->images = images;
    w->mu = tensor2(n, DZ);
    w->alpha = tensor2(n, WIDTH);
    w->latent = tensor2(n, LATENT);
    w->decoded = tensor4(n, 1, 32, 32);
    w->status = JVAE_OK;
}

static void free_worker(worker *w)
{
    jvae_tensor_free(w->mu);
    jvae_tensor_free(w->alpha);
    jvae_tensor_free(w->latent);
    jvae_tensor_free(w->decoded);
}

static void test_concurrent_inference(void **state)
{
    (void)state;
    jvae_model *m = small_model();
    const int n = 6;
    jvae_tensor *images = pattern_images(n, 32, 5);
    worker alone, workers[3];
    make_worker(&alone, m, images, n);
    run_worker(&alone);
    assert_int_equal(alone.status, JVAE_OK);
    pthread_t threads[3];
    for (int t = 0; t < 3; t++) {
        make_worker(&workers[t], m, images, n);
        assert_int_equal(pthread_create(&threads[t], NULL, run_worker, &workers[t]), 0);
    }
    for (int t = 0; t < 3; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
        assert_int_equal(workers[t].status, JVAE_OK);
        assert_memory_equal(jvae_tensor_data(workers[t].decoded), jvae_tensor_data(alone.decoded),
                            (size_t)n * 1024 * sizeof(float));
        free_worker(&workers[t]);
    }
    free_worker(&alone);
    jvae_tensor_free(images);
    jvae_model_free(m);
}

/* With options.threads > 1 an inference call shares whole chunks of its
 * batch among its workers. 96 images are chunks of 32 for 1, 2 and 3
 * threads, every chunk computed the same way, so the values are the same
 * bits; 75 images are cut differently per thread count (chunks of 32, or of
 * 25 for 3 threads), so the values may differ by float rounding only. Both
 * batches leave some worker more chunks than another. */
static void test_threads_share_chunks(void **state)
{
    (void)state;
    jvae_model *m = small_model();
    const int sizes[2] = {96, 75};
    for (int b = 0; b < 2; b++) {
        const int n = sizes[b];
        jvae_tensor *images = pattern_images(n, 32, 11);
        worker at[3];
        for (int t = 0; t < 3; t++) {
            assert_int_equal(jvae_model_set_threads(m, t + 1), JVAE_OK);
            make_worker(&at[t], m, images, n);
            run_worker(&at[t]);
            assert_int_equal(at[t].status, JVAE_OK);
        }
        for (int t = 1; t < 3; t++) {
            const float *want = jvae_tensor_data(at[0].decoded);
            const float *got = jvae_tensor_data(at[t].decoded);
            const float *want_mu = jvae_tensor_data(at[0].mu), *got_mu = jvae_tensor_data(at[t].mu);
            if (n == 96) {
                assert_memory_equal(got, want, (size_t)n * 1024 * sizeof(float));
                assert_memory_equal(got_mu, want_mu, (size_t)n * DZ * sizeof(float));
                continue;
            }
            for (int i = 0; i < n * 1024; i++) assert_true(fabsf(got[i] - want[i]) <= 1e-5f);
            for (int i = 0; i < n * DZ; i++)
                assert_true(fabsf(got_mu[i] - want_mu[i]) <= 1e-5f * (1.0f + fabsf(want_mu[i])));
        }
        for (int t = 0; t < 3; t++) free_worker(&at[t]);
        jvae_tensor_free(images);
    }
    jvae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_decode_shapes_and_ranges),
        cmocka_unit_test(test_deterministic_latent_ties_take_first_index),
        cmocka_unit_test(test_latent_sample),
        cmocka_unit_test(test_sample_prior),
        cmocka_unit_test(test_inference_argument_checks),
        cmocka_unit_test(test_one_sided_latents),
        cmocka_unit_test(test_concurrent_inference),
        cmocka_unit_test(test_threads_share_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
