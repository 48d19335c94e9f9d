/* The floating-point mode of the library's arithmetic (lib/core/fp_mode.c):
 * denormals flushed and rounding to nearest inside, whatever the caller's
 * mode, and the caller's mode back after each call that computes. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "core/fp_mode.h"
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

/* A caller with its own mode (round toward zero, denormals kept) gets it
 * back from every call that computes, on 1 and 2 threads. */
static void test_calls_restore_the_callers_mode(void **state)
{
    (void)state;
    const unsigned caller = (_mm_getcsr() & ~0x8040u) | 0x6000u; /* RZ, no FTZ/DAZ */
    for (int threads = 1; threads <= 2; threads++) {
        jvae_model_options o;
        assert_int_equal(jvae_model_options_init(&o), JVAE_OK);
        o.n_continuous = 2;
        o.discrete_sizes[0] = 3;
        o.hidden = 16;
        o.threads = threads;
        jvae_model *m = NULL;
        assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
        assert_int_equal(jvae_model_reserve(m, 4), JVAE_OK);
        jvae_optimizer_options adam;
        assert_int_equal(jvae_optimizer_options_init(&adam), JVAE_OK);
        jvae_optimizer *opt = NULL;
        assert_int_equal(jvae_optimizer_create(&opt, m, &adam), JVAE_OK);
        const int64_t image_shape[4] = {4, 1, 32, 32}, mu_shape[2] = {4, 2};
        const int64_t alpha_shape[2] = {4, 3}, latent_shape[2] = {4, 5};
        jvae_tensor *images, *mu, *logvar, *alpha, *latent;
        assert_int_equal(jvae_tensor_create(&images, 4, image_shape), JVAE_OK);
        assert_int_equal(jvae_tensor_create(&mu, 2, mu_shape), JVAE_OK);
        assert_int_equal(jvae_tensor_create(&logvar, 2, mu_shape), JVAE_OK);
        assert_int_equal(jvae_tensor_create(&alpha, 2, alpha_shape), JVAE_OK);
        assert_int_equal(jvae_tensor_create(&latent, 2, latent_shape), JVAE_OK);
        float *px = jvae_tensor_data(images);
        for (int i = 0; i < 4 * 1024; i++) px[i] = (float)(i % 17) / 17.0f;

        _mm_setcsr(caller);
        jvae_loss_terms terms;
        assert_int_equal(jvae_model_zero_grad(m), JVAE_OK);
        assert_int_equal(jvae_model_forward(m, images, NULL, NULL, 1.0, 0.5, &terms), JVAE_OK);
        assert_int_equal(_mm_getcsr(), caller);
        assert_int_equal(jvae_model_backward(m), JVAE_OK);
        assert_int_equal(_mm_getcsr(), caller);
        assert_int_equal(jvae_optimizer_step(opt), JVAE_OK);
        assert_int_equal(_mm_getcsr(), caller);
        assert_int_equal(jvae_encode(m, images, mu, logvar, alpha), JVAE_OK);
        assert_int_equal(_mm_getcsr(), caller);
        assert_int_equal(jvae_latent_deterministic(m, mu, alpha, latent), JVAE_OK);
        assert_int_equal(jvae_decode(m, latent, images), JVAE_OK);
        assert_int_equal(_mm_getcsr(), caller);
        assert_int_equal(jvae_sample_prior(m, 7, NULL, latent, images), JVAE_OK);
        assert_int_equal(_mm_getcsr(), caller);
        /* A call that fails restores it too. */
        assert_int_not_equal(jvae_model_backward(m), JVAE_OK);
        assert_int_equal(_mm_getcsr(), caller);
        _mm_setcsr(caller & ~0x6000u);

        jvae_tensor_free(images);
        jvae_tensor_free(mu);
        jvae_tensor_free(logvar);
        jvae_tensor_free(alpha);
        jvae_tensor_free(latent);
        jvae_optimizer_free(opt);
        jvae_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enter_flushes_and_leave_restores),
        cmocka_unit_test(test_calls_restore_the_callers_mode),
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
