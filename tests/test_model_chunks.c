/* Inference calls share whole chunks of their batch among the model's
 * threads (lib/model/inference.c), and a chunk's size follows the thread
 * count (min(32, ⌈N / threads⌉)). Where the products are our AVX-512 kernels
 * a row's value does not depend on how many rows are computed with it, so
 * encoding, decoding and prior samples give the same bits for any thread
 * count; under OpenBLAS (JVAE_MAX_ISA=avx2 or baseline, which ctest also
 * runs) they may differ by float rounding only. Batches whose chunks differ
 * per thread count, including chunks of 4 rows or fewer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jointvae/jointvae.h"
#include "nn/gemm.h"
#include "test_util.h"

typedef struct outputs {
    float *mu, *alpha, *decoded;
} outputs;

static void run(jvae_model *m, int threads, const jvae_tensor *images, int n, outputs *out)
{
    assert_int_equal(jvae_model_set_threads(m, threads), JVAE_OK);
    const int64_t mu_shape[2] = {n, 2}, alpha_shape[2] = {n, 3}, latent_shape[2] = {n, 5};
    const int64_t image_shape[4] = {n, 1, 32, 32};
    jvae_tensor *mu, *alpha, *latent, *decoded;
    assert_int_equal(jvae_tensor_create(&mu, 2, mu_shape), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&alpha, 2, alpha_shape), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&latent, 2, latent_shape), JVAE_OK);
    assert_int_equal(jvae_tensor_create(&decoded, 4, image_shape), JVAE_OK);
    assert_int_equal(jvae_encode(m, images, mu, NULL, alpha), JVAE_OK);
    assert_int_equal(jvae_latent_deterministic(m, mu, alpha, latent), JVAE_OK);
    assert_int_equal(jvae_decode(m, latent, decoded), JVAE_OK);
    out->mu = malloc((size_t)n * 2 * sizeof(float));
    out->alpha = malloc((size_t)n * 3 * sizeof(float));
    out->decoded = malloc((size_t)n * 1024 * sizeof(float));
    assert_non_null(out->mu);
    assert_non_null(out->alpha);
    assert_non_null(out->decoded);
    memcpy(out->mu, jvae_tensor_data(mu), (size_t)n * 2 * sizeof(float));
    memcpy(out->alpha, jvae_tensor_data(alpha), (size_t)n * 3 * sizeof(float));
    memcpy(out->decoded, jvae_tensor_data(decoded), (size_t)n * 1024 * sizeof(float));
    jvae_tensor_free(mu);
    jvae_tensor_free(alpha);
    jvae_tensor_free(latent);
    jvae_tensor_free(decoded);
}

static void assert_same(const float *got, const float *want, size_t count, int exact)
{
    if (exact) {
        assert_memory_equal(got, want, count * sizeof(float));
        return;
    }
    /* Different chunk sizes round differently under OpenBLAS: values of order
     * 1 agree to a few ulps. */
    for (size_t i = 0; i < count; i++)
        assert_true(fabsf(got[i] - want[i]) <= 1e-5f * (1.0f + fabsf(want[i])));
}

static void test_thread_counts_agree(void **state)
{
    (void)state;
    jvae_model_options o;
    assert_int_equal(jvae_model_options_init(&o), JVAE_OK);
    o.n_continuous = 2;
    o.discrete_sizes[0] = 3;
    o.hidden = 16;
    o.seed = 9;
    jvae_model *m = NULL;
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    const int exact = jvae_gemm_avx512();
    /* chunks for 1, 2, 3 threads: 5 = 5 | 3+2 | 2+2+1; 8 = 8 | 4+4 | 3+3+2;
     * 36 = 32+4 | 18+18 | 12×3; 75 = 32+32+11 | the same | 25×3 */
    const int sizes[4] = {5, 8, 36, 75};
    jvae_rng rng;
    jvae_rng_seed(&rng, 12);
    for (int b = 0; b < 4; b++) {
        const int n = sizes[b];
        const int64_t shape[4] = {n, 1, 32, 32};
        jvae_tensor *images = NULL;
        assert_int_equal(jvae_tensor_create(&images, 4, shape), JVAE_OK);
        test_fill_uniform(&rng, jvae_tensor_data(images), (size_t)n * 1024, 0.0f, 1.0f);
        outputs one;
        run(m, 1, images, n, &one);
        for (int threads = 2; threads <= 3; threads++) {
            outputs more;
            run(m, threads, images, n, &more);
            assert_same(more.mu, one.mu, (size_t)n * 2, exact);
            assert_same(more.alpha, one.alpha, (size_t)n * 3, exact);
            assert_same(more.decoded, one.decoded, (size_t)n * 1024, exact);
            free(more.mu);
            free(more.alpha);
            free(more.decoded);
        }
        free(one.mu);
        free(one.alpha);
        free(one.decoded);
        jvae_tensor_free(images);
    }
    jvae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_thread_counts_agree)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
