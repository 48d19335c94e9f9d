/* Model files through the public API: save → load gives the same parameters,
 * options and outputs; writes are atomic; bad arguments are refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jointvae/jointvae.h>

#include "scratch_folder.h"

static jvae_model *small_model(uint64_t seed)
{
    jvae_model_options o;
    assert_int_equal(jvae_model_options_init(&o), JVAE_OK);
    o.n_continuous = 3;
    o.n_discrete = 2;
    o.discrete_sizes[0] = 4;
    o.discrete_sizes[1] = 2;
    o.hidden = 16;
    o.temperature = 0.5f;
    o.seed = seed;
    jvae_model *model = NULL;
    assert_int_equal(jvae_model_create(&model, &o), JVAE_OK);
    return model;
}

/* Deterministic images in [0, 1] without the library's generator. */
static jvae_tensor *test_images(int n, int side)
{
    int64_t shape[4] = {n, 1, side, side};
    jvae_tensor *images = NULL;
    assert_int_equal(jvae_tensor_create(&images, 4, shape), JVAE_OK);
    float *x = jvae_tensor_data(images);
    for (int64_t i = 0; i < jvae_tensor_numel(images); i++)
        x[i] = (float)(0.5 + 0.5 * sin(0.37 * (double)i + 0.11 * (double)(i % 7)));
    return images;
}

static void assert_same_model(jvae_model *a, jvae_model *b)
{
    assert_int_equal(jvae_model_param_count(a), jvae_model_param_count(b));
    assert_memory_equal(jvae_model_params(a), jvae_model_params(b),
                        (size_t)jvae_model_param_count(a) * sizeof(float));
    jvae_model_options oa, ob;
    assert_int_equal(jvae_model_get_options(a, &oa), JVAE_OK);
    assert_int_equal(jvae_model_get_options(b, &ob), JVAE_OK);
    assert_int_equal(oa.channels, ob.channels);
    assert_int_equal(oa.height, ob.height);
    assert_int_equal(oa.n_continuous, ob.n_continuous);
    assert_int_equal(oa.n_discrete, ob.n_discrete);
    assert_memory_equal(oa.discrete_sizes, ob.discrete_sizes, sizeof oa.discrete_sizes);
    assert_true(oa.temperature == ob.temperature);
    assert_int_equal(oa.hidden, ob.hidden);
    assert_true(oa.seed == ob.seed);
    jvae_loss_options la, lb;
    assert_int_equal(jvae_model_get_loss(a, &la), JVAE_OK);
    assert_int_equal(jvae_model_get_loss(b, &lb), JVAE_OK);
    assert_int_equal(la.mode, lb.mode);
    assert_true(la.gamma_continuous == lb.gamma_continuous);
    assert_true(la.gamma_discrete == lb.gamma_discrete);
    assert_true(la.beta == lb.beta);
    assert_true(la.gamma == lb.gamma);
    assert_int_equal(la.official_scaling, lb.official_scaling);
}

/* encode then decode the deterministic latent: every output bit must agree. */
static void assert_same_outputs(jvae_model *a, jvae_model *b)
{
    const int n = 3;
    jvae_tensor *images = test_images(n, 32);
    int64_t dz_shape[2] = {n, 3}, alpha_shape[2] = {n, 6};
    int64_t latent_shape[2] = {n, jvae_model_latent_dim(a)}, image_shape[4] = {n, 1, 32, 32};
    jvae_tensor *out[2][5];
    jvae_model *models[2] = {a, b};
    for (int m = 0; m < 2; m++) {
        assert_int_equal(jvae_tensor_create(&out[m][0], 2, dz_shape), JVAE_OK);
        assert_int_equal(jvae_tensor_create(&out[m][1], 2, dz_shape), JVAE_OK);
        assert_int_equal(jvae_tensor_create(&out[m][2], 2, alpha_shape), JVAE_OK);
        assert_int_equal(jvae_tensor_create(&out[m][3], 2, latent_shape), JVAE_OK);
        assert_int_equal(jvae_tensor_create(&out[m][4], 4, image_shape), JVAE_OK);
        assert_int_equal(jvae_encode(models[m], images, out[m][0], out[m][1], out[m][2]), JVAE_OK);
        assert_int_equal(jvae_latent_deterministic(models[m], out[m][0], out[m][2], out[m][3]),
                         JVAE_OK);
        assert_int_equal(jvae_decode(models[m], out[m][3], out[m][4]), JVAE_OK);
    }
    for (int k = 0; k < 5; k++) {
        assert_memory_equal(jvae_tensor_data(out[0][k]), jvae_tensor_data(out[1][k]),
                            (size_t)jvae_tensor_numel(out[0][k]) * sizeof(float));
        jvae_tensor_free(out[0][k]);
        jvae_tensor_free(out[1][k]);
    }
    jvae_tensor_free(images);
}

static void test_save_load_round_trip(void **state)
{
    (void)state;
    jvae_model *model = small_model(42);
    jvae_loss_options loss;
    assert_int_equal(jvae_loss_options_init(&loss), JVAE_OK);
    loss.mode = JVAE_LOSS_BETA_VAE;
    loss.beta = 3.3f;
    loss.gamma_continuous = 0.1f; /* not exactly representable: must round-trip anyway */
    loss.official_scaling = 1;
    assert_int_equal(jvae_model_set_loss(model, &loss), JVAE_OK);
    const char *path = path_in_folder("model.safetensors");
    assert_int_equal(jvae_model_save(model, path), JVAE_OK);
    jvae_model *loaded = NULL;
    assert_int_equal(jvae_model_load(&loaded, path), JVAE_OK);
    assert_non_null(loaded);
    assert_same_model(model, loaded);
    assert_same_outputs(model, loaded);

    /* Saving the loaded model gives a byte-identical file. */
    char again[1200];
    snprintf(again, sizeof again, "%s", path_in_folder("again.safetensors"));
    assert_int_equal(jvae_model_save(loaded, again), JVAE_OK);
    char command[2600];
    snprintf(command, sizeof command, "cmp -s '%s' '%s'", path, again);
    assert_int_equal(system(command), 0);
    jvae_model_free(loaded);
    jvae_model_free(model);
}

static void test_options_without_continuous_or_discrete(void **state)
{
    (void)state;
    for (int variant = 0; variant < 2; variant++) {
        jvae_model_options o;
        jvae_model_options_init(&o);
        o.hidden = 8;
        if (variant == 0) {
            o.n_continuous = 0;
            o.n_discrete = 3;
            o.discrete_sizes[0] = 2;
            o.discrete_sizes[1] = 2;
            o.discrete_sizes[2] = 5;
        } else {
            o.n_continuous = 4;
            o.n_discrete = 0;
        }
        jvae_model *model = NULL, *loaded = NULL;
        assert_int_equal(jvae_model_create(&model, &o), JVAE_OK);
        const char *path = path_in_folder("variant.safetensors");
        assert_int_equal(jvae_model_save(model, path), JVAE_OK);
        assert_int_equal(jvae_model_load(&loaded, path), JVAE_OK);
        jvae_model_options got;
        jvae_model_get_options(loaded, &got);
        assert_int_equal(got.n_continuous, o.n_continuous);
        assert_int_equal(got.n_discrete, o.n_discrete);
        assert_memory_equal(got.discrete_sizes, o.discrete_sizes,
                            (size_t)o.n_discrete * sizeof o.discrete_sizes[0]);
        assert_memory_equal(jvae_model_params(model), jvae_model_params(loaded),
                            (size_t)jvae_model_param_count(model) * sizeof(float));
        jvae_model_free(model);
        jvae_model_free(loaded);
    }
}

static void test_non_finite_parameters_are_not_saved(void **state)
{
    (void)state;
    jvae_model *model = small_model(3);
    const char *path = path_in_folder("finite.safetensors");
    assert_int_equal(jvae_model_save(model, path), JVAE_OK);
    struct stat before;
    assert_int_equal(stat(path, &before), 0);
    jvae_model_params(model)[5] = NAN;
    assert_int_equal(jvae_model_save(model, path), JVAE_ERR_NUMERIC);
    assert_non_null(strstr(jvae_last_error(), "element 5 is nan"));
    /* The earlier file stays as it was and still loads. */
    jvae_model *loaded = NULL;
    assert_int_equal(jvae_model_load(&loaded, path), JVAE_OK);
    assert_false(isnan(jvae_model_params(loaded)[5]));
    jvae_model_free(loaded);
    jvae_model_free(model);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    jvae_model *model = small_model(1);
    jvae_model *loaded = model; /* must be reset to NULL on failure */
    assert_int_equal(jvae_model_save(NULL, "x"), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_save(model, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_load(NULL, "x"), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_model_load(&loaded, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_null(loaded);
    loaded = model;
    assert_int_equal(jvae_model_load(&loaded, path_in_folder("absent.safetensors")), JVAE_ERR_IO);
    assert_null(loaded);
    assert_non_null(strstr(jvae_last_error(), "absent.safetensors: cannot open"));
    assert_int_equal(jvae_model_save(model, path_in_folder("no/such/folder/m.safetensors")),
                     JVAE_ERR_IO);
    assert_non_null(strstr(jvae_last_error(), "cannot create a temporary file"));
    jvae_model_free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_options_without_continuous_or_discrete),
        cmocka_unit_test(test_non_finite_parameters_are_not_saved),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, scratch_folder_create, scratch_folder_remove);
}
