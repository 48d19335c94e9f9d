/* The pictures API through the shared library only: files appear with the
 * size the API promises (read from the PNG header), errors come back as
 * statuses with messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <jointvae/jointvae.h>

#include "scratch_folder.h"

/* Width and height from the IHDR chunk of a PNG file; 0 if it is not one. */
static int png_size(const char *path, uint32_t *width, uint32_t *height)
{
    unsigned char head[24];
    FILE *file = fopen(path, "rb");
    if (file == NULL) return 0;
    size_t got = fread(head, 1, sizeof head, file);
    fclose(file);
    static const unsigned char signature[8] = {137, 'P', 'N', 'G', 13, 10, 26, 10};
    if (got != sizeof head || memcmp(head, signature, 8) != 0 || memcmp(head + 12, "IHDR", 4) != 0)
        return 0;
    *width = (uint32_t)head[16] << 24 | (uint32_t)head[17] << 16 | (uint32_t)head[18] << 8 | head[19];
    *height = (uint32_t)head[20] << 24 | (uint32_t)head[21] << 16 | (uint32_t)head[22] << 8 | head[23];
    return 1;
}

static void test_grid(void **state)
{
    (void)state;
    char path[1200];
    snprintf(path, sizeof path, "%s", path_in_folder("grid.png"));
    int64_t shape[4] = {7, 3, 5, 4};
    jvae_tensor *images = NULL;
    assert_int_equal(jvae_tensor_create(&images, 4, shape), JVAE_OK);
    jvae_tensor_fill(images, 0.25f);
    jvae_grid_options options;
    assert_int_equal(jvae_grid_options_init(&options), JVAE_OK);
    options.columns = 4;
    options.scale = 3;
    options.padding = 1;
    int width = 0, height = 0;
    assert_int_equal(jvae_image_grid_size(&width, &height, 7, 5, 4, &options), JVAE_OK);
    assert_int_equal(width, 4 * 4 * 3 + 5);
    assert_int_equal(height, 2 * 5 * 3 + 3);
    assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_OK);
    uint32_t w = 0, h = 0;
    assert_true(png_size(path, &w, &h));
    assert_int_equal(w, width);
    assert_int_equal(h, height);

    assert_int_equal(jvae_write_image_grid(NULL, images, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(jvae_last_error(), "path is NULL"));
    options.version = 2;
    assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_ERR_VERSION);
    jvae_tensor_free(images);
}

static void test_quantiles(void **state)
{
    (void)state;
    assert_true(fabs(jvae_normal_quantile(0.05) - -1.6448536269514729) < 1e-9);
    double values[3];
    assert_int_equal(jvae_traversal_values(values, 3, 0.05, 0.95), JVAE_OK);
    assert_true(fabs(values[1]) < 1e-15); /* 0.05 + 0.45 rounds near, not at, 0.5 */
    assert_true(fabs(values[2] - 1.6448536269514729) < 1e-9);
    assert_int_equal(jvae_traversal_values(values, 3, 0.95, 0.05), JVAE_ERR_INVALID_ARGUMENT);
}

static void test_model_pictures_and_curves(void **state)
{
    (void)state;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s", path_in_folder("model"));
    assert_int_equal(mkdir(dir, 0755), 0);
    jvae_model_options mo;
    jvae_model_options_init(&mo);
    mo.n_continuous = 2;
    mo.discrete_sizes[0] = 3;
    mo.hidden = 8;
    jvae_model *model = NULL;
    assert_int_equal(jvae_model_create(&model, &mo), JVAE_OK);
    jvae_picture_options po;
    assert_int_equal(jvae_picture_options_init(&po), JVAE_OK);
    po.columns = 5;
    po.rows = 2;
    po.padding = 0;
    char path[1200];
    snprintf(path, sizeof path, "%s", path_in_folder("model/samples.png"));
    assert_int_equal(jvae_picture_prior_samples(path, model, &po), JVAE_OK);
    uint32_t w = 0, h = 0;
    assert_true(png_size(path, &w, &h));
    assert_int_equal(w, 5 * 32);
    assert_int_equal(h, 2 * 32);
    snprintf(path, sizeof path, "%s", path_in_folder("model/two.png"));
    assert_int_equal(jvae_picture_traversal_2d(path, model, 2, 0, &po), JVAE_OK);
    assert_true(png_size(path, &w, &h));
    assert_int_equal(w, 5 * 32);
    assert_int_equal(h, 3 * 32);
    assert_int_equal(jvae_picture_traversal_2d(path, model, 0, 3, &po), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_write_main_pictures(dir, model, NULL, NULL, &po), JVAE_OK);
    snprintf(path, sizeof path, "%s", path_in_folder("model/traversals.png"));
    assert_true(png_size(path, &w, &h));
    assert_int_equal(h, 3 * 32);

    char csv[1200];
    snprintf(csv, sizeof csv, "%s", path_in_folder("model/log.csv"));
    FILE *f = fopen(csv, "w");
    fputs("step,total,kl_z0,kl_z1\n1,10,0.1,0.2\n2,8,0.3,0.1\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s", path_in_folder("model/curves.png"));
    assert_int_equal(jvae_plot_training_curves(path, csv, NULL, 0, NULL), JVAE_OK);
    assert_true(png_size(path, &w, &h));
    assert_int_equal(w, 800);
    assert_int_equal(h, 480);
    assert_int_equal(jvae_write_training_curves(dir, csv, NULL), JVAE_OK);
    snprintf(path, sizeof path, "%s", path_in_folder("model/curves_kl.png"));
    assert_true(png_size(path, &w, &h));
    snprintf(path, sizeof path, "%s", path_in_folder("model/curves_capacity.png"));
    assert_false(png_size(path, &w, &h)); /* the log has no capacity columns */
    assert_int_equal(jvae_write_training_curves(dir, "/nonexistent/log.csv", NULL), JVAE_ERR_IO);
    jvae_model_free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid),
        cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_model_pictures_and_curves),
    };
    return cmocka_run_group_tests(tests, scratch_folder_create, scratch_folder_remove);
}
