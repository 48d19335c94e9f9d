/* The data API as a user sees it, through the shared library only: an
 * MNIST-style IDX file resized to 32x32, split, walked in minibatches; dSprites
 * rendered for chosen factors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jointvae/jointvae.h>

enum { COUNT = 50, SIDE = 28 };

static void write_mnist(const char *prefix)
{
    char path[1100];
    snprintf(path, sizeof path, "%s-images-idx3-ubyte", prefix);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    const unsigned char header[16] = {0, 0, 8, 3, 0, 0, 0, COUNT, 0, 0, 0, SIDE, 0, 0, 0, SIDE};
    assert_int_equal(fwrite(header, 1, 16, file), 16);
    for (int i = 0; i < COUNT * SIDE * SIDE; i++) fputc((i * 31 + i / 97) & 0xFF, file);
    assert_int_equal(fclose(file), 0);
    snprintf(path, sizeof path, "%s-labels-idx1-ubyte", prefix);
    file = fopen(path, "wb");
    assert_non_null(file);
    const unsigned char label_header[8] = {0, 0, 8, 1, 0, 0, 0, COUNT};
    assert_int_equal(fwrite(label_header, 1, 8, file), 8);
    for (int i = 0; i < COUNT; i++) fputc(i % 10, file);
    assert_int_equal(fclose(file), 0);
}

static void test_mnist_style_training_data(void **state)
{
    (void)state;
    char prefix[1024];
    snprintf(prefix, sizeof prefix, "%s/public-data-mnist", JVAE_TEST_BINARY_DIR);
    write_mnist(prefix);
    jvae_idx_options options;
    assert_int_equal(jvae_idx_options_init(&options), JVAE_OK);
    options.resize = 32;
    jvae_dataset *mnist = NULL;
    assert_int_equal(jvae_dataset_idx_open_prefix(&mnist, prefix, &options), JVAE_OK);
    int channels, height, width;
    assert_int_equal(jvae_dataset_image_shape(mnist, &channels, &height, &width), JVAE_OK);
    assert_true(channels == 1 && height == 32 && width == 32);
    assert_int_equal(jvae_dataset_label_classes(mnist, 0), 10);

    jvae_dataset *train = NULL, *test = NULL;
    assert_int_equal(jvae_dataset_split(&train, &test, mnist, 0.2, 3), JVAE_OK);
    assert_int_equal(jvae_dataset_size(train) + jvae_dataset_size(test), COUNT);

    jvae_loader_options loader_options;
    assert_int_equal(jvae_loader_options_init(&loader_options), JVAE_OK);
    loader_options.batch_size = 16;
    jvae_loader *loader = NULL;
    assert_int_equal(jvae_loader_create(&loader, train, &loader_options), JVAE_OK);
    int64_t shape[4] = {16, 1, 32, 32};
    jvae_tensor *batch = NULL;
    assert_int_equal(jvae_tensor_create(&batch, 4, shape), JVAE_OK);
    int32_t labels[16];
    int count, total = 0, label_sum = 0;
    while (jvae_loader_next(loader, batch, labels, &count) == JVAE_OK && count > 0) {
        for (int i = 0; i < count * 1024; i++) {
            float value = jvae_tensor_data(batch)[i];
            assert_true(value >= 0.0f && value <= 1.0f);
        }
        for (int i = 0; i < count; i++) label_sum += labels[i];
        total += count;
    }
    assert_int_equal(total, 40);
    /* the test side holds the rest of the labels */
    float image[1024];
    int32_t label;
    for (int64_t i = 0; i < jvae_dataset_size(test); i++) {
        assert_int_equal(jvae_dataset_read(test, i, image, 1024, &label, 1), JVAE_OK);
        label_sum += label;
    }
    assert_int_equal(label_sum, 5 * 45); /* 0..9, five times */

    jvae_tensor_free(batch);
    jvae_loader_free(loader);
    jvae_dataset_free(train);
    jvae_dataset_free(test);
    jvae_dataset_free(mnist);
}

static void test_dsprites_for_metrics(void **state)
{
    (void)state;
    jvae_dataset *dsprites = NULL;
    assert_int_equal(jvae_dataset_dsprites(&dsprites), JVAE_OK);
    assert_int_equal(jvae_dataset_size(dsprites), JVAE_DSPRITES_COUNT);
    int32_t classes[8 * JVAE_DSPRITES_FACTORS];
    assert_int_equal(jvae_dsprites_sample(classes, 8, 11), JVAE_OK);
    for (int i = 0; i < 8; i++) classes[i * JVAE_DSPRITES_FACTORS + JVAE_DSPRITES_SCALE] = 5;
    int64_t shape[4] = {8, 1, 64, 64};
    jvae_tensor *images = NULL;
    assert_int_equal(jvae_tensor_create(&images, 4, shape), JVAE_OK);
    assert_int_equal(jvae_dsprites_render(dsprites, classes, images), JVAE_OK);
    float image[64 * 64];
    for (int i = 0; i < 8; i++) {
        int64_t index;
        assert_int_equal(jvae_dsprites_index(&index, classes + i * JVAE_DSPRITES_FACTORS), JVAE_OK);
        assert_int_equal(jvae_dataset_read(dsprites, index, image, 64 * 64, NULL, 0), JVAE_OK);
        assert_memory_equal(image, jvae_tensor_data(images) + i * 64 * 64, sizeof image);
        int on = 0;
        for (int k = 0; k < 64 * 64; k++) on += image[k] == 1.0f;
        assert_true(on > 200 && on < 420); /* scale 1: the heart's 222 to the square's 400 */
    }
    jvae_tensor_free(images);
    jvae_dataset_free(dsprites);

    assert_int_equal(jvae_dataset_dsprites(NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_string_equal(jvae_last_error(), "jvae_dataset_dsprites: out is NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mnist_style_training_data),
        cmocka_unit_test(test_dsprites_for_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
