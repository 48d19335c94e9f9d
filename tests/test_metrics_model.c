/* The metrics that take a model: KL per unit (on images and on a data set),
 * the accuracy of a discrete latent on a labelled data set, and FactorVAE /
 * MIG on dSprites, each checked against the same numbers computed from the
 * public encode call. Small vote counts keep the dSprites runs short. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "core/tensor.h"
#include "jointvae/data.h"
#include "jointvae/metrics.h"

static jvae_model *model_of(int side, int dz, int k, uint64_t seed)
{
    jvae_model_options options;
    assert_int_equal(jvae_model_options_init(&options), JVAE_OK);
    options.height = options.width = side;
    options.n_continuous = dz;
    options.n_discrete = k > 0 ? 1 : 0;
    options.discrete_sizes[0] = k;
    options.hidden = 16;
    options.seed = seed;
    jvae_model *model = NULL;
    assert_int_equal(jvae_model_create(&model, &options), JVAE_OK);
    return model;
}

/* An IDX pair of n 32x32 images with labels i % 4, in dir. */
static jvae_dataset *idx_dataset(const char *dir, int n)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/tiny-images-idx3-ubyte", dir);
    FILE *f = fopen(path, "wb");
    unsigned char header[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, 32, 0, 0, 0, 32};
    fwrite(header, 1, 16, f);
    jvae_rng rng;
    jvae_rng_seed(&rng, 9);
    for (int i = 0; i < n * 32 * 32; i++) fputc((int)jvae_rng_below(&rng, 256), f);
    fclose(f);
    snprintf(path, sizeof path, "%s/tiny-labels-idx1-ubyte", dir);
    f = fopen(path, "wb");
    unsigned char lheader[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
    fwrite(lheader, 1, 8, f);
    for (int i = 0; i < n; i++) fputc(i % 4, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/tiny", dir);
    jvae_dataset *data = NULL;
    assert_int_equal(jvae_dataset_idx_open_prefix(&data, path, NULL), JVAE_OK);
    return data;
}

static jvae_tensor *read_all(const jvae_dataset *data, int n)
{
    int64_t shape[4] = {n, 1, 32, 32}, indices[64];
    jvae_tensor *images = NULL;
    assert_int_equal(jvae_tensor_create(&images, 4, shape), JVAE_OK);
    for (int i = 0; i < n; i++) indices[i] = i;
    assert_int_equal(jvae_dataset_read_batch(data, indices, images, NULL), JVAE_OK);
    return images;
}

static void test_kl_per_unit(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("metrics-kl");
    jvae_dataset *data = idx_dataset(dir, 23);
    jvae_model *model = model_of(32, 3, 4, 5);
    jvae_tensor *images = read_all(data, 23);
    int64_t ms[2] = {23, 3}, as[2] = {23, 4};
    jvae_tensor *mu = NULL, *logvar = NULL, *alpha = NULL;
    jvae_tensor_create(&mu, 2, ms);
    jvae_tensor_create(&logvar, 2, ms);
    jvae_tensor_create(&alpha, 2, as);
    assert_int_equal(jvae_encode(model, images, mu, logvar, alpha), JVAE_OK);
    double expected[4] = {0, 0, 0, 0};
    for (int i = 0; i < 23; i++) {
        for (int u = 0; u < 3; u++) {
            double m = mu->data[i * 3 + u], lv = logvar->data[i * 3 + u];
            expected[u] += -0.5 * (1 + lv - m * m - exp(lv)) / 23;
        }
        double h = 0;
        for (int c = 0; c < 4; c++) h -= alpha->data[i * 4 + c] * log(alpha->data[i * 4 + c]);
        expected[3] += (log(4.0) - h) / 23;
    }
    float kl[4], kl_data[4], kl_first[4];
    assert_int_equal(jvae_kl_per_unit_images(kl, 4, model, images), JVAE_OK);
    /* batches of 5 (the last one partial) give the same means */
    assert_int_equal(jvae_kl_per_unit(kl_data, 4, model, data, 0, 5), JVAE_OK);
    for (int u = 0; u < 4; u++) {
        /* float outputs of double sums: 1e-5 relative covers the float cast
         * and the different summation order of the batched run */
        assert_true(fabs(kl[u] - expected[u]) <= 1e-5 * fabs(expected[u]) + 1e-7);
        assert_true(fabs(kl_data[u] - expected[u]) <= 1e-5 * fabs(expected[u]) + 1e-7);
        assert_true(kl[u] >= 0.0f);
    }
    /* max_images 7 of 23: items 0, 3, …, 18 (stride 23 / 7 = 3), spread over the set */
    assert_int_equal(jvae_kl_per_unit(kl_first, 4, model, data, 7, 256), JVAE_OK);
    int64_t ss[4] = {7, 1, 32, 32};
    jvae_tensor *first = NULL;
    assert_int_equal(jvae_tensor_create(&first, 4, ss), JVAE_OK);
    for (int i = 0; i < 7; i++)
        memcpy(first->data + i * 1024, images->data + i * 3 * 1024, 1024 * sizeof(float));
    assert_int_equal(jvae_kl_per_unit_images(kl, 4, model, first), JVAE_OK);
    for (int u = 0; u < 4; u++) assert_true(fabs(kl[u] - kl_first[u]) <= 1e-5 * fabs(kl[u]) + 1e-7);

    assert_int_equal(jvae_kl_per_unit(kl, 3, model, data, 0, 5), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("kl_count is 3, the model has 4 units");
    assert_int_equal(jvae_kl_per_unit(NULL, 4, model, data, 0, 5), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_kl_per_unit(kl, 4, NULL, data, 0, 5), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_kl_per_unit(kl, 4, model, NULL, 0, 5), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_kl_per_unit(kl, 4, model, data, 0, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_kl_per_unit(kl, 4, model, data, -1, 5), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_kl_per_unit_images(kl, 4, model, NULL), JVAE_ERR_INVALID_ARGUMENT);
    jvae_model *big = model_of(64, 3, 4, 5);
    assert_int_equal(jvae_kl_per_unit(kl, 4, big, data, 0, 5), JVAE_ERR_SHAPE);
    assert_error_contains("the model takes (1, 64, 64)");
    assert_int_equal(jvae_kl_per_unit_images(kl, 4, big, images), JVAE_ERR_SHAPE);
    jvae_model_free(big);

    jvae_tensor_free(first);
    jvae_tensor_free(mu);
    jvae_tensor_free(logvar);
    jvae_tensor_free(alpha);
    jvae_tensor_free(images);
    jvae_model_free(model);
    jvae_dataset_free(data);
}

static void test_discrete_accuracy(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("metrics-accuracy");
    jvae_dataset *data = idx_dataset(dir, 30);
    jvae_model *model = model_of(32, 2, 5, 8);
    jvae_tensor *images = read_all(data, 30);
    int64_t as[2] = {30, 5};
    jvae_tensor *alpha = NULL;
    jvae_tensor_create(&alpha, 2, as);
    assert_int_equal(jvae_encode(model, images, NULL, NULL, alpha), JVAE_OK);
    int32_t clusters[30], labels[30];
    for (int i = 0; i < 30; i++) {
        int best = 0;
        for (int c = 1; c < 5; c++)
            if (alpha->data[i * 5 + c] > alpha->data[i * 5 + best]) best = c;
        clusters[i] = best;
        labels[i] = i % 4;
    }
    jvae_accuracy expected, got;
    int32_t expected_map[5], got_map[5];
    assert_int_equal(jvae_cluster_accuracy(&expected, expected_map, clusters, labels, 30, 5, 4),
                     JVAE_OK);
    assert_int_equal(jvae_discrete_accuracy(&got, got_map, NULL, model, data, 0, 0, 0, 7), JVAE_OK);
    assert_memory_equal(&got, &expected, sizeof got);
    assert_memory_equal(got_map, expected_map, sizeof got_map);
    assert_int_equal(got.n, 30);
    int64_t expected_table[5 * 4], got_table[5 * 4];
    assert_int_equal(jvae_contingency_table(expected_table, clusters, labels, 30, 5, 4), JVAE_OK);
    assert_int_equal(jvae_discrete_accuracy(&got, NULL, got_table, model, data, 0, 0, 0, 7), JVAE_OK);
    assert_memory_equal(got_table, expected_table, sizeof got_table);
    assert_int_equal(jvae_discrete_accuracy(&got, NULL, NULL, model, data, 0, 0, 12, 256), JVAE_OK);
    assert_int_equal(got.n, 12);

    assert_int_equal(jvae_discrete_accuracy(&got, NULL, NULL, model, data, 1, 0, 0, 7),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("discrete_index 1");
    assert_int_equal(jvae_discrete_accuracy(&got, NULL, NULL, model, data, 0, 1, 0, 7),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("label 1, the data set has 1 label");
    assert_int_equal(jvae_discrete_accuracy(NULL, NULL, NULL, model, data, 0, 0, 0, 7),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_discrete_accuracy(&got, NULL, NULL, model, NULL, 0, 0, 0, 7),
                     JVAE_ERR_INVALID_ARGUMENT);
    jvae_model *continuous_only = model_of(32, 2, 0, 8);
    assert_int_equal(jvae_discrete_accuracy(&got, NULL, NULL, continuous_only, data, 0, 0, 0, 7),
                     JVAE_ERR_INVALID_ARGUMENT);
    jvae_model_free(continuous_only);
    jvae_tensor_free(alpha);
    jvae_tensor_free(images);
    jvae_model_free(model);
    jvae_dataset_free(data);
}

static void test_dsprites_metrics(void **state)
{
    (void)state;
    jvae_model *model = model_of(64, 2, 3, 4);
    jvae_factorvae_options options;
    jvae_factorvae_options_init(&options, JVAE_FACTORVAE_PAPER);
    options.images_per_vote = 8;
    options.train_votes = 10;
    options.variance_images = 64;
    jvae_factorvae_result result, again;
    assert_int_equal(jvae_factorvae_dsprites(&result, model, &options), JVAE_OK);
    assert_int_equal(result.preset, JVAE_FACTORVAE_PAPER);
    assert_true(result.active_dims >= 0 && result.active_dims <= 3);
    assert_true(result.eval_accuracy >= 0.0 && result.eval_accuracy <= 1.0);
    assert_int_equal(jvae_factorvae_dsprites(&again, model, &options), JVAE_OK);
    assert_memory_equal(&result, &again, sizeof result);

    jvae_factorvae_options_init(&options, JVAE_FACTORVAE_DLIB);
    options.images_per_vote = 8;
    options.train_votes = 10;
    options.eval_votes = 5;
    options.variance_images = 64;
    assert_int_equal(jvae_factorvae_dsprites(&result, model, &options), JVAE_OK);
    assert_int_equal(result.preset, JVAE_FACTORVAE_DLIB);
    /* the random model's discrete index dim is never pruned */
    assert_true(result.active_dims >= 1);
    assert_true(result.train_accuracy >= 0.2 && result.train_accuracy <= 1.0);

    jvae_mig_options mig_options;
    jvae_mig_options_init(&mig_options);
    mig_options.images = 100;
    double mig, gaps[5];
    assert_int_equal(jvae_mig_dsprites(&mig, gaps, model, &mig_options), JVAE_OK);
    assert_true(mig >= 0.0 && mig <= 1.0);
    double mean = 0;
    for (int k = 0; k < 5; k++) mean += gaps[k] / 5;
    assert_true(fabs(mean - mig) < 1e-12);

    jvae_model *small = model_of(32, 2, 3, 4);
    assert_int_equal(jvae_factorvae_dsprites(&result, small, &options), JVAE_ERR_UNSUPPORTED);
    assert_error_contains("1x64x64");
    assert_int_equal(jvae_mig_dsprites(&mig, NULL, small, &mig_options), JVAE_ERR_UNSUPPORTED);
    jvae_model_free(small);
    assert_int_equal(jvae_factorvae_dsprites(NULL, model, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_factorvae_dsprites(&result, NULL, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_mig_dsprites(NULL, NULL, model, &mig_options), JVAE_ERR_INVALID_ARGUMENT);
    options.train_votes = 0;
    assert_int_equal(jvae_factorvae_dsprites(&result, model, &options), JVAE_ERR_INVALID_ARGUMENT);
    jvae_model_free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kl_per_unit),
        cmocka_unit_test(test_discrete_accuracy),
        cmocka_unit_test(test_dsprites_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
