/* Image grids and the PNG writer: geometry, pixel values read back with
 * libpng, clamping, channel counts, temporary files and bad input. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_util.h"
#include "test_viz_read_png.h"

#include "core/tensor.h"
#include "jointvae/viz.h"
#include "viz/canvas.h"

/* The grey level the writer gives a float: round(v·255) after clamping. */
static unsigned char expected_byte(float v)
{
    if (!(v > 0.0f)) return 0;
    if (v >= 1.0f) return 255;
    return (unsigned char)(v * 255.0f + 0.5f);
}

static jvae_tensor *make_images(int n, int c, int h, int w)
{
    int64_t shape[4] = {n, c, h, w};
    jvae_tensor *t = NULL;
    assert_int_equal(jvae_tensor_create(&t, 4, shape), JVAE_OK);
    for (size_t i = 0; i < t->numel; i++) t->data[i] = (float)(i % 41) / 40.0f;
    return t;
}

static int count_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL)
        if (strstr(entry->d_name, ".tmp-") != NULL) count++;
    closedir(d);
    return count;
}

static void test_grid_geometry_and_pixels(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-grid");
    assert_non_null(dir);
    char path[1200];
    snprintf(path, sizeof path, "%s/grid.png", dir);
    const int n = 5, h = 3, w = 2, pad = 2, scale = 3;
    jvae_tensor *images = make_images(n, 1, h, w);
    jvae_grid_options options;
    assert_int_equal(jvae_grid_options_init(&options), JVAE_OK);
    options.padding = pad;
    options.scale = scale;
    int width = 0, height = 0;
    assert_int_equal(jvae_image_grid_size(&width, &height, n, h, w, &options), JVAE_OK);
    /* ceil(sqrt(5)) = 3 columns, 2 rows */
    assert_int_equal(width, 3 * w * scale + 4 * pad);
    assert_int_equal(height, 2 * h * scale + 3 * pad);
    assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_OK);
    assert_int_equal(count_temporaries(dir), 0);

    decoded_png png;
    assert_int_equal(read_png(path, &png), 0);
    assert_int_equal(png.width, width);
    assert_int_equal(png.height, height);
    assert_int_equal(png.channels, 1);
    const unsigned char background = expected_byte(0.5f);
    for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
            int cell_x = (x - pad) / (w * scale + pad), in_x = (x - pad) % (w * scale + pad);
            int cell_y = (y - pad) / (h * scale + pad), in_y = (y - pad) % (h * scale + pad);
            int index = cell_y * 3 + cell_x;
            unsigned char want = background;
            if (x >= pad && y >= pad && in_x < w * scale && in_y < h * scale && index < n)
                want = expected_byte(
                    images->data[(size_t)index * h * w + (size_t)(in_y / scale) * w + in_x / scale]);
            assert_int_equal(png_pixel(&png, x, y)[0], want);
        }
    }
    free(png.pixels);
    jvae_tensor_free(images);
}

static void test_explicit_rows_columns_and_clamping(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-grid-clamp");
    char path[1200];
    snprintf(path, sizeof path, "%s/clamp.png", dir);
    float values[4] = {-1.0f, 2.0f, 0.5f, 1.0f};
    int64_t shape[4] = {4, 1, 1, 1};
    jvae_tensor *images = NULL;
    assert_int_equal(jvae_tensor_wrap(&images, values, 4, shape), JVAE_OK);
    jvae_grid_options options;
    jvae_grid_options_init(&options);
    options.rows = 4;
    options.columns = 1;
    options.padding = 0;
    options.background = 1.0f;
    assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_OK);
    decoded_png png;
    assert_int_equal(read_png(path, &png), 0);
    assert_int_equal(png.width, 1);
    assert_int_equal(png.height, 4);
    assert_int_equal(png.pixels[0], 0);
    assert_int_equal(png.pixels[1], 255);
    assert_int_equal(png.pixels[2], 128);
    assert_int_equal(png.pixels[3], 255);
    free(png.pixels);
    /* rows given, columns derived: 4 images in 2 rows -> 2 columns */
    options.rows = 2;
    options.columns = 0;
    int width, height;
    assert_int_equal(jvae_image_grid_size(&width, &height, 4, 1, 1, &options), JVAE_OK);
    assert_int_equal(width, 2);
    assert_int_equal(height, 2);
    jvae_tensor_free(images);
}

static void test_rgb_and_alpha(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-grid-rgb");
    char path[1200];
    for (int channels = 2; channels <= 4; channels++) {
        snprintf(path, sizeof path, "%s/c%d.png", dir, channels);
        jvae_tensor *images = make_images(2, channels, 2, 3);
        jvae_grid_options options;
        jvae_grid_options_init(&options);
        options.padding = 1;
        options.columns = 2;
        assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_OK);
        decoded_png png;
        assert_int_equal(read_png(path, &png), 0);
        assert_int_equal(png.channels, channels);
        assert_int_equal(png.width, 2 * 3 + 3);
        assert_int_equal(png.height, 2 + 2);
        /* second image, pixel (row 1, col 2), every channel */
        const unsigned char *p = png_pixel(&png, 1 + 3 + 1 + 2, 1 + 1);
        for (int c = 0; c < channels; c++)
            assert_int_equal(p[c], expected_byte(images->data[(size_t)(1 * channels + c) * 6 + 5]));
        /* the padding is opaque grey */
        const unsigned char *corner = png_pixel(&png, 0, 0);
        assert_int_equal(corner[0], 128);
        if (channels != 3) assert_int_equal(corner[channels - 1], 255);
        free(png.pixels);
        jvae_tensor_free(images);
    }
}

static void test_font_draws_its_glyphs(void **state)
{
    (void)state;
    uint8_t black = 0, white = 255;
    jvae_canvas canvas;
    assert_int_equal(jvae_canvas_init(&canvas, "test", 20, 10, 1, &black), JVAE_OK);
    jvae_canvas_draw_text(&canvas, 1, 1, "-1", 1, &white);
    /* '-' is row 3 of its glyph, fully on; '1' starts 6 pixels later with its
     * single top pixel at column 2 of the glyph. */
    for (int x = 0; x < 5; x++) assert_int_equal(canvas.pixels[4 * 20 + 1 + x], 255);
    assert_int_equal(canvas.pixels[3 * 20 + 1], 0);
    assert_int_equal(canvas.pixels[1 * 20 + 7 + 2], 255);
    assert_int_equal(canvas.pixels[1 * 20 + 7 + 1], 0);
    assert_int_equal(jvae_text_width("-1", 1), 11);
    assert_int_equal(jvae_text_width("12", 2), 22);
    assert_int_equal(jvae_text_width("", 3), 0);
    assert_int_equal(jvae_text_height(2), 14);
    jvae_canvas_release(&canvas);
}

static void test_bad_input(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("viz-grid-bad");
    char path[1200];
    snprintf(path, sizeof path, "%s/bad.png", dir);
    jvae_tensor *images = make_images(3, 1, 2, 2);
    jvae_grid_options options;
    assert_int_equal(jvae_grid_options_init(NULL), JVAE_ERR_INVALID_ARGUMENT);
    jvae_grid_options_init(&options);

    assert_int_equal(jvae_write_image_grid(NULL, images, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("path is NULL");
    assert_int_equal(jvae_write_image_grid(path, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("images is NULL");

    int64_t flat_shape[3] = {3, 2, 2};
    jvae_tensor *flat = NULL;
    assert_int_equal(jvae_tensor_create(&flat, 3, flat_shape), JVAE_OK);
    assert_int_equal(jvae_write_image_grid(path, flat, NULL), JVAE_ERR_SHAPE);
    assert_error_contains("got (3, 2, 2)");
    jvae_tensor_free(flat);
    jvae_tensor *five = make_images(1, 5, 2, 2);
    assert_int_equal(jvae_write_image_grid(path, five, NULL), JVAE_ERR_SHAPE);
    jvae_tensor_free(five);

    images->data[5] = NAN;
    assert_int_equal(jvae_write_image_grid(path, images, NULL), JVAE_ERR_NUMERIC);
    assert_error_contains("index 5");
    images->data[5] = INFINITY;
    assert_int_equal(jvae_write_image_grid(path, images, NULL), JVAE_ERR_NUMERIC);
    images->data[5] = 0.5f;

    options.rows = 1;
    options.columns = 2;
    assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("1 x 2 cells cannot hold 3 images");
    jvae_grid_options_init(&options);
    options.padding = -1;
    assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("padding");
    jvae_grid_options_init(&options);
    options.scale = 0;
    assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("scale");
    jvae_grid_options_init(&options);
    options.background = NAN;
    assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("background");
    jvae_grid_options_init(&options);
    options.columns = -2;
    assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_ERR_INVALID_ARGUMENT);
    jvae_grid_options_init(&options);
    options.version = 99;
    assert_int_equal(jvae_write_image_grid(path, images, &options), JVAE_ERR_VERSION);

    int width, height;
    assert_int_equal(jvae_image_grid_size(NULL, &height, 1, 1, 1, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_image_grid_size(&width, &height, 0, 1, 1, NULL),
                     JVAE_ERR_INVALID_ARGUMENT);
    jvae_grid_options_init(&options);
    options.rows = 1;
    assert_int_equal(jvae_image_grid_size(&width, &height, 1000000, 1, 2, &options),
                     JVAE_ERR_OVERFLOW);
    assert_error_contains("exceeds the PNG limit");
    assert_int_equal(jvae_image_grid_size(&width, &height, INT64_MAX, 64, 64, NULL),
                     JVAE_ERR_OVERFLOW);

    char missing[1300];
    snprintf(missing, sizeof missing, "%s/no-such-folder/x.png", dir);
    assert_int_equal(jvae_write_image_grid(missing, images, NULL), JVAE_ERR_IO);
    assert_error_contains("no-such-folder");
    assert_int_equal(count_temporaries(dir), 0);
    jvae_tensor_free(images);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_geometry_and_pixels),
        cmocka_unit_test(test_explicit_rows_columns_and_clamping),
        cmocka_unit_test(test_rgb_and_alpha),
        cmocka_unit_test(test_font_draws_its_glyphs),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
