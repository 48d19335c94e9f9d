/* Resizing against Pillow: tests/data/resize_fixture.txt holds small images
 * and what Image.resize made of them (written by make_resize_fixture.py with
 * Debian's python3-pil). BILINEAR must match bit for bit; PIL's BOX filter at
 * an integer ratio averages exactly the pixels each output covers, which is
 * our AREA filter, so those must match bit for bit too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "test_util.h"

#include "jointvae/data.h"
#include "data/resample.h"

typedef struct fixture_case {
    char name[64];
    int channels;
    int in_w, in_h, out_w, out_h;
    jvae_resize_filter filter;
    uint8_t *in, *out;
} fixture_case;

static int read_bytes(FILE *file, uint8_t *bytes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        unsigned value;
        if (fscanf(file, " %2x", &value) != 1) return -1;
        bytes[i] = (uint8_t)value;
    }
    return 0;
}

/* Read every case of the fixture; returns how many (at most `capacity`). */
static int load_fixture(fixture_case *cases, int capacity)
{
    FILE *file = fopen(JVAE_TEST_SOURCE_DIR "/data/resize_fixture.txt", "r");
    assert_non_null(file);
    char version[32];
    assert_int_equal(fscanf(file, "pillow %31s", version), 1);
    int count = 0;
    char mode[8], filter[16], word[8];
    while (count < capacity) {
        fixture_case *c = &cases[count];
        int fields = fscanf(file, " case %63s %7s %d %d %d %d %15s", c->name, mode, &c->in_w,
                            &c->in_h, &c->out_w, &c->out_h, filter);
        if (fields == EOF) break;
        assert_int_equal(fields, 7);
        c->channels = strcmp(mode, "RGB") == 0 ? 3 : 1;
        c->filter = strcmp(filter, "BOX") == 0 ? JVAE_RESIZE_AREA : JVAE_RESIZE_BILINEAR;
        size_t in_bytes = (size_t)c->in_w * c->in_h * c->channels;
        size_t out_bytes = (size_t)c->out_w * c->out_h * c->channels;
        c->in = malloc(in_bytes);
        c->out = malloc(out_bytes);
        assert_non_null(c->in);
        assert_non_null(c->out);
        assert_int_equal(fscanf(file, " %7s", word), 1);
        assert_string_equal(word, "in");
        assert_int_equal(read_bytes(file, c->in, in_bytes), 0);
        assert_int_equal(fscanf(file, " %7s", word), 1);
        assert_string_equal(word, "out");
        assert_int_equal(read_bytes(file, c->out, out_bytes), 0);
        count++;
    }
    fclose(file);
    return count;
}

static void free_fixture(fixture_case *cases, int count)
{
    for (int i = 0; i < count; i++) {
        free(cases[i].in);
        free(cases[i].out);
    }
}

static void resize(const fixture_case *c, jvae_resize_filter filter, uint8_t *out)
{
    jvae_resample_plan plan;
    assert_int_equal(jvae_resample_plan_init(&plan, c->in_w, c->in_h, c->out_w, c->out_h, filter),
                     JVAE_OK);
    uint8_t *scratch = malloc(jvae_resample_scratch_bytes(&plan, c->channels));
    assert_non_null(scratch);
    jvae_resample_u8(&plan, out, c->in, (size_t)c->in_w * c->channels, c->channels, scratch);
    free(scratch);
    jvae_resample_plan_release(&plan);
}

static void test_matches_pillow(void **state)
{
    (void)state;
    fixture_case cases[16];
    int count = load_fixture(cases, 16);
    assert_int_equal(count, 6);
    for (int i = 0; i < count; i++) {
        const fixture_case *c = &cases[i];
        size_t out_bytes = (size_t)c->out_w * c->out_h * c->channels;
        uint8_t *out = malloc(out_bytes);
        assert_non_null(out);
        resize(c, c->filter, out);
        for (size_t k = 0; k < out_bytes; k++)
            if (out[k] != c->out[k])
                fail_msg("%s: byte %zu is %d, Pillow made %d", c->name, k, out[k], c->out[k]);
        free(out);
    }
    free_fixture(cases, count);
}

/* The MNIST path end to end: the fixture's 28x28 images written as an IDX
 * file, opened with resize = 32, read as floats: each must be Pillow's byte / 255. */
static void test_idx_resize_matches_pillow(void **state)
{
    (void)state;
    fixture_case cases[16];
    int count = load_fixture(cases, 16);
    const char *dir = test_scratch_dir("data_resize");
    assert_non_null(dir);
    char path[1200];
    snprintf(path, sizeof path, "%s/images.gz", dir);
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    int mnist = 0;
    for (int i = 0; i < count; i++) mnist += cases[i].in_w == 28 && cases[i].out_w == 32;
    assert_int_equal(mnist, 3);
    uint8_t header[16] = {0, 0, 8, 3, 0, 0, 0, (uint8_t)mnist, 0, 0, 0, 28, 0, 0, 0, 28};
    assert_int_equal(gzwrite(gz, header, sizeof header), (int)sizeof header);
    for (int i = 0; i < count; i++)
        if (cases[i].in_w == 28 && cases[i].out_w == 32)
            assert_int_equal(gzwrite(gz, cases[i].in, 784), 784);
    assert_int_equal(gzclose(gz), Z_OK);

    jvae_idx_options options;
    assert_int_equal(jvae_idx_options_init(&options), JVAE_OK);
    options.resize = 32;
    jvae_dataset *dataset = NULL;
    assert_int_equal(jvae_dataset_idx_open(&dataset, path, NULL, &options), JVAE_OK);
    int channels, height, width;
    assert_int_equal(jvae_dataset_image_shape(dataset, &channels, &height, &width), JVAE_OK);
    assert_true(channels == 1 && height == 32 && width == 32);
    float image[32 * 32];
    int item = 0;
    for (int i = 0; i < count; i++) {
        if (!(cases[i].in_w == 28 && cases[i].out_w == 32)) continue;
        assert_int_equal(jvae_dataset_read(dataset, item++, image, 1024, NULL, 0), JVAE_OK);
        for (int k = 0; k < 1024; k++)
            if (image[k] != (float)cases[i].out[k] / 255.0f)
                fail_msg("%s: pixel %d is %g, Pillow/255 is %g", cases[i].name, k, image[k],
                         cases[i].out[k] / 255.0f);
    }
    jvae_dataset_free(dataset);
    free_fixture(cases, count);
}

static void test_area_weights_partial_pixels(void **state)
{
    (void)state;
    /* 3 -> 2 pixels: output 0 covers [0, 1.5), output 1 covers [1.5, 3):
     * (0 + 0.5·90)/1.5 = 30 and (0.5·90 + 180)/1.5 = 150. */
    fixture_case c = {.channels = 1, .in_w = 3, .in_h = 1, .out_w = 2, .out_h = 1};
    uint8_t in[3] = {0, 90, 180}, out[2];
    c.in = in;
    resize(&c, JVAE_RESIZE_AREA, out);
    assert_int_equal(out[0], 30);
    assert_int_equal(out[1], 150);
    /* AUTO shrinks with AREA, enlarges with BILINEAR */
    uint8_t automatic[2];
    resize(&c, JVAE_RESIZE_AUTO, automatic);
    assert_memory_equal(automatic, out, 2);
}

static void test_constant_images_stay_constant(void **state)
{
    (void)state;
    /* Weights are normalised before rounding to 22 bits, so a constant image
     * keeps its value at any ratio (the rounding error is below 1e-4 of a level). */
    static const int sizes[][4] = {{37, 23, 11, 11}, {5, 5, 64, 64}, {64, 48, 7, 30}, {1, 1, 3, 3}};
    static const jvae_resize_filter filters[] = {JVAE_RESIZE_AREA, JVAE_RESIZE_BILINEAR,
                                                 JVAE_RESIZE_AUTO};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t f = 0; f < 3; f++)
            for (int value = 0; value < 256; value += 51) {
                fixture_case c = {.channels = 3, .in_w = sizes[s][0], .in_h = sizes[s][1],
                                  .out_w = sizes[s][2], .out_h = sizes[s][3]};
                size_t in_bytes = (size_t)c.in_w * c.in_h * 3;
                size_t out_bytes = (size_t)c.out_w * c.out_h * 3;
                c.in = malloc(in_bytes);
                uint8_t *out = malloc(out_bytes);
                assert_non_null(c.in);
                assert_non_null(out);
                memset(c.in, value, in_bytes);
                resize(&c, filters[f], out);
                for (size_t k = 0; k < out_bytes; k++) assert_int_equal(out[k], value);
                free(c.in);
                free(out);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_pillow),
        cmocka_unit_test(test_idx_resize_matches_pillow),
        cmocka_unit_test(test_area_weights_partial_pixels),
        cmocka_unit_test(test_constant_images_stay_constant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
