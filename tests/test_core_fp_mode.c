/* The floating-point mode of the library's arithmetic (lib/core/fp_mode.c):
 * denormals flushed and rounding to nearest inside, whatever the caller's
 * mode, and the caller's mode back after each call that computes. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "core/fp_mode.h"
#include "core/thread_pool.h"
#include "jointvae/jointvae.h"
#include "test_util.h"

#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>

/* Half the smallest normal float, computed at run time: a denormal, or 0
 * when denormals are flushed. */
static float half_of_smallest_normal(void)
{
    volatile float smallest = FLT_MIN, half = 0.5f;
    return smallest * half;
}

static void test_enter_flushes_and_leave_restores(void **state)
{
    (void)state;
    assert_true(half_of_smallest_normal() > 0.0f);
    const unsigned before = _mm_getcsr();
    _mm_setcsr((before & ~0x6000u) | 0x6000u); /* round toward zero */
    const jvae_fp_mode mode = jvae_fp_enter();
    assert_true(half_of_smallest_normal() == 0.0f);
    volatile float one = 1.0f, three = 3.0f;
    assert_true(one / three == 1.0f / 3.0f); /* to nearest: 0x3eaaaaab, not ...aa */
    jvae_fp_leave(mode);
    assert_int_equal(_mm_getcsr(), (before & ~0x6000u) | 0x6000u);
    _mm_setcsr(before);
    assert_int_equal(_mm_getcsr(), before);
    assert_true(half_of_smallest_normal() > 0.0f);
}

/* What a run of the public calls that compute produced, to compare runs. */
typedef struct run_result {
    size_t count;
    float *params; /* after jvae_model_create, then after two training steps */
    float *trained;
    float mu[4 * 2], alpha[4 * 3], sampled[4 * 5], prior[4 * 5];
    float *decoded, *prior_images;
} run_result;

/* Create, train two steps (one by the parts, one by jvae_train_step), encode,
 * sample, decode and sample the prior on `threads` threads with the caller in
 * mode `caller`, checking after each call that the caller's mode is back
 * (after a failing call too). */
static void run_calls(int threads, unsigned caller, run_result *r)
{
    jvae_model_options o;
    assert_int_equal(jvae_model_options_init(&o), JVAE_OK);
    o.n_continuous = 2;
    o.discrete_sizes[0] = 3;
    o.hidden = 16;
    o.threads = threads;
    jvae_model *m = NULL;
    _mm_setcsr(caller);
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    assert_int_equal(_mm_getcsr(), caller);
    const size_t count = (size_t)jvae_model_param_count(m);
    r->count = count;
    r->params = malloc(count * sizeof(float));
    r->trained = malloc(count * sizeof(float));
    r->decoded = malloc(4 * 1024 * sizeof(float));
    r->prior_images = malloc(4 * 1024 * sizeof(float));
    assert_non_null(r->params);
    assert_non_null(r->trained);
    assert_non_null(r->decoded);
    assert_non_null(r->prior_images);
    memcpy(r->params, jvae_model_params(m), count * sizeof(float));
    assert_int_equal(jvae_model_reserve(m, 4), JVAE_OK);
    jvae_optimizer_options adam;
    assert_int_equal(jvae_optimizer_options_init(&adam), JVAE_OK);
    jvae_optimizer *opt = NULL;
    assert_int_equal(jvae_optimizer_create(&opt, m, &adam), JVAE_OK);
    jvae_schedule *cap = NULL;
    assert_int_equal(jvae_schedule_linear(&cap, 0.0, 5.0, 3), JVAE_OK);
    const int64_t image_shape[4] = {4, 1, 32, 32}, mu_shape[2] = {4, 2};
    const int64_t alpha_shape[2] = {4, 3}, latent_shape[2] = {4, 5};
    jvae_tensor *images, *mu, *logvar, *alpha, *latent;
    assert_int_equal(jvae_tensor_create(&images, 4, image_shape), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&mu, 2, mu_shape), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&logvar, 2, mu_shape), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&alpha, 2, alpha_shape), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&latent, 2, latent_shape), JVAE_OK);
    float *px = jvae_tensor_data(images);
    /* Sixteenths: exact in any rounding mode, so both runs see the same images. */
    for (int i = 0; i < 4 * 1024; i++) px[i] = (float)(i % 17) / 16.0f;

    jvae_loss_terms terms;
    assert_int_equal(jvae_model_zero_grad(m), JVAE_OK);
    assert_int_equal(jvae_model_forward(m, images, NULL, NULL, 1.0, 0.5, &terms), JVAE_OK);
    assert_int_equal(_mm_getcsr(), caller);
    assert_int_equal(jvae_model_backward(m), JVAE_OK);
    assert_int_equal(_mm_getcsr(), caller);
    assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
    assert_int_equal(_mm_getcsr(), caller);
    assert_int_equal(jvae_train_step(m, opt, cap, cap, images, &terms), JVAE_OK);
    assert_int_equal(_mm_getcsr(), caller);
    memcpy(r->trained, jvae_model_params(m), count * sizeof(float));
    assert_int_equal(jvae_encode(m, images, mu, logvar, alpha), JVAE_OK);
    assert_int_equal(_mm_getcsr(), caller);
    memcpy(r->mu, jvae_tensor_data(mu), sizeof r->mu);
    memcpy(r->alpha, jvae_tensor_data(alpha), sizeof r->alpha);
    assert_int_equal(jvae_latent_sample(m, mu, logvar, alpha, 5, latent), JVAE_OK);
    assert_int_equal(_mm_getcsr(), caller);
    memcpy(r->sampled, jvae_tensor_data(latent), sizeof r->sampled);
    assert_int_equal(jvae_decode(m, latent, images), JVAE_OK);
    assert_int_equal(_mm_getcsr(), caller);
    memcpy(r->decoded, jvae_tensor_data(images), 4 * 1024 * sizeof(float));
    assert_int_equal(jvae_sample_prior(m, 7, NULL, latent, images), JVAE_OK);
    assert_int_equal(_mm_getcsr(), caller);
    memcpy(r->prior, jvae_tensor_data(latent), sizeof r->prior);
    memcpy(r->prior_images, jvae_tensor_data(images), 4 * 1024 * sizeof(float));
    /* A call that fails restores it too. */
    assert_int_not_equal(jvae_model_backward(m), JVAE_OK);
    assert_int_equal(_mm_getcsr(), caller);

    jvae_tensor_free(images);
    jvae_tensor_free(mu);
    jvae_tensor_free(logvar);
    jvae_tensor_free(alpha);
    jvae_tensor_free(latent);
    jvae_schedule_free(cap);
    jvae_optimizer_free(opt);
    jvae_model_free(m);
}

static void free_result(run_result *r)
{
    free(r->params);
    free(r->trained);
    free(r->decoded);
    free(r->prior_images);
}

/* A caller in its own mode (round toward zero, denormals kept) gets it back
 * from every call, and the same bits as a caller in the default mode: the
 * calls compute in the library's mode whatever the host's. On 1 and 2
 * threads. */
static void test_calls_keep_the_callers_mode_out(void **state)
{
    (void)state;
    const unsigned plain = _mm_getcsr();
    const unsigned toward_zero = (plain & ~0x8040u) | 0x6000u;
    for (int threads = 1; threads <= 2; threads++) {
        run_result want, got;
        run_calls(threads, plain, &want);
        run_calls(threads, toward_zero, &got);
        _mm_setcsr(plain);
        assert_int_equal(got.count, want.count);
        assert_memory_equal(got.params, want.params, want.count * sizeof(float));
        assert_memory_equal(got.trained, want.trained, want.count * sizeof(float));
        assert_memory_equal(got.mu, want.mu, sizeof want.mu);
        assert_memory_equal(got.alpha, want.alpha, sizeof want.alpha);
        assert_memory_equal(got.sampled, want.sampled, sizeof want.sampled);
        assert_memory_equal(got.prior, want.prior, sizeof want.prior);
        assert_memory_equal(got.decoded, want.decoded, 4 * 1024 * sizeof(float));
        assert_memory_equal(got.prior_images, want.prior_images, 4 * 1024 * sizeof(float));
        free_result(&want);
        free_result(&got);
    }
}

/* The pool's helper threads compute in the library's mode from their start;
 * worker 0, the caller, keeps its own unless a public call entered it. */
static unsigned seen_mode[3];

static void record_mode(void *context, int worker, int workers)
{
    (void)context;
    (void)workers;
    seen_mode[worker] = _mm_getcsr() & 0xffc0u; /* without the exception flags */
}

static void test_helpers_flush(void **state)
{
    (void)state;
    const unsigned plain = _mm_getcsr() & 0xffc0u;
    jvae_pool *pool = NULL;
    assert_int_equal(jvae_pool_create(&pool, 3, "test_helpers_flush"), JVAE_OK);
    jvae_pool_run(pool, 3, record_mode, NULL);
    jvae_pool_free(pool);
    assert_int_equal(seen_mode[0], plain);
    const jvae_fp_mode mode = jvae_fp_enter();
    const unsigned library = _mm_getcsr() & 0xffc0u;
    jvae_fp_leave(mode);
    assert_int_equal(seen_mode[1], library);
    assert_int_equal(seen_mode[2], library);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enter_flushes_and_leave_restores),
        cmocka_unit_test(test_calls_keep_the_callers_mode_out),
        cmocka_unit_test(test_helpers_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* no MXCSR: the mode functions do nothing */

static void test_no_mode(void **state)
{
    (void)state;
    jvae_fp_leave(jvae_fp_enter());
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_mode)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
