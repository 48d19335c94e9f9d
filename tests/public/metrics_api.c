/* The metrics API through the shared library only: the oracles of
 * docs/metrics.md through the public calls, and statuses on bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include <jointvae/jointvae.h>

static void test_accuracy(void **state)
{
    (void)state;
    int32_t labels[20], clusters[20], mapping[5];
    for (int i = 0; i < 20; i++) {
        labels[i] = i % 5;
        clusters[i] = (labels[i] * 2) % 5; /* a permutation of the labels */
    }
    jvae_accuracy acc;
    assert_int_equal(jvae_cluster_accuracy(&acc, mapping, clusters, labels, 20, 5, 5), JVAE_OK);
    assert_true(acc.hungarian == 1.0 && acc.majority == 1.0);
    assert_int_equal(mapping[2], 1);
    double w[6] = {1, 5, 3, 4, 9, 2};
    int assignment[2];
    double total;
    assert_int_equal(jvae_assignment_max(assignment, &total, w, 2, 3), JVAE_OK);
    assert_true(total == 12.0);
    assert_int_equal(jvae_cluster_accuracy(&acc, NULL, clusters, labels, 20, 2, 5),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(jvae_last_error(), "clusters["));
}

static jvae_status swapped_factors(float *codes, const int32_t *factors, int count, void *payload)
{
    (void)payload;
    for (int i = 0; i < count; i++) {
        codes[i * 3 + 0] = (float)factors[i * 3 + 2];
        codes[i * 3 + 1] = (float)factors[i * 3 + 0];
        codes[i * 3 + 2] = (float)factors[i * 3 + 1];
    }
    return JVAE_OK;
}

static void test_factorvae_and_mig_oracles(void **state)
{
    (void)state;
    static const int32_t sizes[3] = {3, 4, 5};
    jvae_factor_code code;
    memset(&code, 0, sizeof code);
    code.n_factors = 3;
    code.factor_sizes = sizes;
    code.code_dim = 3;
    code.encode = swapped_factors;
    jvae_factorvae_options options;
    assert_int_equal(jvae_factorvae_options_init(&options, JVAE_FACTORVAE_PAPER), JVAE_OK);
    options.train_votes = 30;
    options.variance_images = 0; /* all 60 combinations */
    jvae_factorvae_result result;
    assert_int_equal(jvae_factorvae_score(&result, &code, &options), JVAE_OK);
    assert_int_equal(result.preset, JVAE_FACTORVAE_PAPER);
    assert_true(result.eval_accuracy == 1.0);

    jvae_mig_options mig_options;
    jvae_mig_options_init(&mig_options);
    mig_options.images = 2000;
    double mig;
    assert_int_equal(jvae_mig_score(&mig, NULL, &code, &mig_options), JVAE_OK);
    /* each factor is in its own dim and in no other: the gap is its whole
     * entropy, less the small upward bias of plug-in MI between independent
     * dims ((a−1)(b−1)/2N ≤ 0.005 nats) */
    assert_true(mig > 0.98);

    code.encode = NULL;
    assert_int_equal(jvae_factorvae_score(&result, &code, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_mig_score(&mig, NULL, &code, &mig_options), JVAE_ERR_INVALID_ARGUMENT);
}

static void test_kl_of_a_model(void **state)
{
    (void)state;
    jvae_model_options mo;
    jvae_model_options_init(&mo);
    mo.n_continuous = 2;
    mo.hidden = 8;
    jvae_model *model = NULL;
    assert_int_equal(jvae_model_create(&model, &mo), JVAE_OK);
    int64_t shape[4] = {4, 1, 32, 32};
    jvae_tensor *images = NULL;
    jvae_tensor_create(&images, 4, shape);
    jvae_tensor_fill(images, 0.3f);
    float kl[3];
    assert_int_equal(jvae_kl_per_unit_images(kl, 3, model, images), JVAE_OK);
    for (int u = 0; u < 3; u++) assert_true(kl[u] >= 0.0f && isfinite(kl[u]));
    assert_int_equal(jvae_kl_per_unit_images(kl, 2, model, images), JVAE_ERR_INVALID_ARGUMENT);
    jvae_factorvae_result result;
    assert_int_equal(jvae_factorvae_dsprites(&result, model, NULL), JVAE_ERR_UNSUPPORTED);
    jvae_tensor_free(images);
    jvae_model_free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_factorvae_and_mig_oracles),
        cmocka_unit_test(test_kl_of_a_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
