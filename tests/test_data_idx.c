/* IDX files (MNIST format): write-then-read round trips, plain and gzipped,
 * the MNIST prefix convention, and hostile files, each refused with its own
 * status and message. Every file is written here by the test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "test_util.h"

#include "jointvae/data.h"

static char dir[1024];

static int setup(void **state)
{
    (void)state;
    const char *scratch = test_scratch_dir("data_idx");
    if (scratch == NULL) return -1;
    snprintf(dir, sizeof dir, "%s", scratch);
    return 0;
}

static const char *path_of(const char *name)
{
    static char paths[4][1200];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", dir, name);
    return path;
}

static void write_file(const char *path, const uint8_t *bytes, size_t size, int gzipped)
{
    if (gzipped) {
        gzFile gz = gzopen(path, "wb");
        assert_non_null(gz);
        if (size > 0) assert_int_equal(gzwrite(gz, bytes, (unsigned)size), (int)size);
        assert_int_equal(gzclose(gz), Z_OK);
    } else {
        FILE *file = fopen(path, "wb");
        assert_non_null(file);
        if (size > 0) assert_int_equal(fwrite(bytes, 1, size, file), size);
        assert_int_equal(fclose(file), 0);
    }
}

static void put_be32(uint8_t *at, uint32_t value)
{
    at[0] = (uint8_t)(value >> 24);
    at[1] = (uint8_t)(value >> 16);
    at[2] = (uint8_t)(value >> 8);
    at[3] = (uint8_t)value;
}

/* An IDX images file: header for (n, rows, cols) followed by `payload` bytes
 * of pixels (which may disagree with the header, for hostile cases). */
static size_t make_images(uint8_t *buffer, uint32_t n, uint32_t rows, uint32_t cols,
                          const uint8_t *pixels, size_t payload)
{
    buffer[0] = 0;
    buffer[1] = 0;
    buffer[2] = 0x08;
    buffer[3] = 3;
    put_be32(buffer + 4, n);
    put_be32(buffer + 8, rows);
    put_be32(buffer + 12, cols);
    if (payload > 0) memcpy(buffer + 16, pixels, payload);
    return 16 + payload;
}

static size_t make_labels(uint8_t *buffer, uint32_t n, const uint8_t *labels, size_t payload)
{
    buffer[0] = 0;
    buffer[1] = 0;
    buffer[2] = 0x08;
    buffer[3] = 1;
    put_be32(buffer + 4, n);
    if (payload > 0) memcpy(buffer + 8, labels, payload);
    return 8 + payload;
}

enum { N = 5, ROWS = 6, COLS = 7, PIXELS = N * ROWS * COLS };

static void fill_items(uint8_t *pixels, uint8_t *labels)
{
    jvae_rng rng;
    jvae_rng_seed(&rng, 11);
    for (int i = 0; i < PIXELS; i++) pixels[i] = (uint8_t)jvae_rng_below(&rng, 256);
    pixels[0] = 0;
    pixels[1] = 255;
    static const uint8_t chosen[N] = {3, 0, 7, 3, 1};
    memcpy(labels, chosen, N);
}

static void check_round_trip(const char *images_path, const char *labels_path, int with_labels)
{
    uint8_t pixels[PIXELS], labels[N];
    fill_items(pixels, labels);
    jvae_dataset *dataset = NULL;
    assert_int_equal(jvae_dataset_idx_open(&dataset, images_path, labels_path, NULL), JVAE_OK);
    assert_int_equal(jvae_dataset_size(dataset), N);
    int channels, height, width;
    assert_int_equal(jvae_dataset_image_shape(dataset, &channels, &height, &width), JVAE_OK);
    assert_true(channels == 1 && height == ROWS && width == COLS);
    assert_int_equal(jvae_dataset_label_count(dataset), with_labels);
    assert_int_equal(jvae_dataset_label_classes(dataset, 0), with_labels ? 8 : 0);
    float image[ROWS * COLS];
    for (int i = 0; i < N; i++) {
        int32_t label = -1;
        assert_int_equal(jvae_dataset_read(dataset, i, image, ROWS * COLS, &label, 1), JVAE_OK);
        for (int k = 0; k < ROWS * COLS; k++)
            assert_true(image[k] == (float)pixels[i * ROWS * COLS + k] / 255.0f);
        assert_int_equal(label, with_labels ? labels[i] : -1);
    }
    assert_true(image[0] >= 0.0f);
    assert_int_equal(jvae_dataset_read(dataset, 0, image, ROWS * COLS, NULL, 0), JVAE_OK);
    assert_true(image[0] == 0.0f && image[1] == 1.0f);
    jvae_dataset_free(dataset);
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t pixels[PIXELS], labels[N], buffer[16 + PIXELS];
    fill_items(pixels, labels);
    for (int gzipped = 0; gzipped < 2; gzipped++) {
        const char *images = path_of(gzipped ? "rt-images.gz" : "rt-images");
        const char *label_path = path_of(gzipped ? "rt-labels.gz" : "rt-labels");
        write_file(images, buffer, make_images(buffer, N, ROWS, COLS, pixels, PIXELS), gzipped);
        write_file(label_path, buffer, make_labels(buffer, N, labels, N), gzipped);
        check_round_trip(images, label_path, 1);
        check_round_trip(images, NULL, 0);
    }
}

static void test_prefix_convention(void **state)
{
    (void)state;
    uint8_t pixels[PIXELS], labels[N], buffer[16 + PIXELS];
    fill_items(pixels, labels);
    /* images gzipped, labels plain: each member is looked up both ways */
    write_file(path_of("mnist-images-idx3-ubyte.gz"), buffer,
               make_images(buffer, N, ROWS, COLS, pixels, PIXELS), 1);
    write_file(path_of("mnist-labels-idx1-ubyte"), buffer, make_labels(buffer, N, labels, N), 0);
    jvae_dataset *dataset = NULL;
    assert_int_equal(jvae_dataset_idx_open_prefix(&dataset, path_of("mnist"), NULL), JVAE_OK);
    assert_int_equal(jvae_dataset_size(dataset), N);
    assert_int_equal(jvae_dataset_label_count(dataset), 1);
    jvae_dataset_free(dataset);

    dataset = (jvae_dataset *)buffer;
    assert_int_equal(jvae_dataset_idx_open_prefix(&dataset, path_of("missing"), NULL), JVAE_ERR_IO);
    assert_null(dataset);
    assert_error_contains("missing-images-idx3-ubyte.gz nor ");
    write_file(path_of("nolabels-images-idx3-ubyte"), buffer,
               make_images(buffer, N, ROWS, COLS, pixels, PIXELS), 0);
    assert_int_equal(jvae_dataset_idx_open_prefix(&dataset, path_of("nolabels"), NULL), JVAE_ERR_IO);
    assert_error_contains("nolabels-labels-idx1-ubyte");
}

/* Open `images` (and `labels`) and expect `status` with `message` in the text. */
static void expect_refused(const char *images, const char *labels, jvae_status status,
                           const char *message)
{
    jvae_dataset *dataset = NULL;
    jvae_status got = jvae_dataset_idx_open(&dataset, images, labels, NULL);
    if (got != status || strstr(jvae_last_error(), message) == NULL)
        fail_msg("%s: got status %d \"%s\", expected %d with \"%s\"", images, got,
                 jvae_last_error(), status, message);
    assert_null(dataset);
}

static void test_hostile_headers(void **state)
{
    (void)state;
    uint8_t pixels[PIXELS], labels[N], buffer[16 + PIXELS + 8];
    fill_items(pixels, labels);
    size_t size = make_images(buffer, N, ROWS, COLS, pixels, PIXELS);

    buffer[0] = 0x1f; /* not 00 00 */
    write_file(path_of("bad-magic"), buffer, size, 0);
    expect_refused(path_of("bad-magic"), NULL, JVAE_ERR_FORMAT, "bad magic 1f 00 08 03");
    write_file(path_of("bad-magic.gz"), buffer, size, 1);
    expect_refused(path_of("bad-magic.gz"), NULL, JVAE_ERR_FORMAT, "not an IDX file");

    make_images(buffer, N, ROWS, COLS, pixels, PIXELS);
    buffer[2] = 0x0D; /* float elements */
    write_file(path_of("float"), buffer, size, 0);
    expect_refused(path_of("float"), NULL, JVAE_ERR_FORMAT, "element type 0x0d is not supported");

    make_images(buffer, N, ROWS, COLS, pixels, PIXELS);
    write_file(path_of("images-as-labels"), buffer, size, 0);
    write_file(path_of("labels-as-images"), buffer, make_labels(buffer, N, labels, N), 0);
    expect_refused(path_of("labels-as-images"), NULL, JVAE_ERR_FORMAT,
                   "an IDX images file has 3 dimensions, this one has 1");
    expect_refused(path_of("images-as-labels"), path_of("images-as-labels"), JVAE_ERR_FORMAT,
                   "an IDX labels file has 1 dimensions, this one has 3");

    size = make_images(buffer, N, ROWS, COLS, pixels, PIXELS);
    write_file(path_of("empty"), buffer, 0, 0);
    expect_refused(path_of("empty"), NULL, JVAE_ERR_FORMAT, "shorter than an IDX header");
    write_file(path_of("short-header"), buffer, 10, 0);
    expect_refused(path_of("short-header"), NULL, JVAE_ERR_FORMAT, "truncated in the header");

    write_file(path_of("zero"), buffer, make_images(buffer, 0, ROWS, COLS, pixels, 0), 0);
    expect_refused(path_of("zero"), NULL, JVAE_ERR_FORMAT, "dimension 0 is 0");

    expect_refused(path_of("does-not-exist"), NULL, JVAE_ERR_IO,
                   "does-not-exist: cannot open: No such file or directory");
}

static void test_hostile_sizes(void **state)
{
    (void)state;
    uint8_t pixels[PIXELS + 1], labels[N], buffer[16 + PIXELS + 8];
    fill_items(pixels, labels);
    pixels[PIXELS] = 0; /* the extra byte of the "long" files */

    /* header and file size disagree: one image short, one byte long */
    write_file(path_of("short"), buffer, make_images(buffer, N, ROWS, COLS, pixels, PIXELS - 42), 0);
    expect_refused(path_of("short"), NULL, JVAE_ERR_FORMAT,
                   "declares 210 bytes of images, the file holds 168 after its 16-byte header");
    write_file(path_of("long"), buffer, make_images(buffer, N, ROWS, COLS, pixels, PIXELS + 1), 0);
    expect_refused(path_of("long"), NULL, JVAE_ERR_FORMAT, "the file holds 211");
    write_file(path_of("short.gz"), buffer, make_images(buffer, N, ROWS, COLS, pixels, PIXELS - 42), 1);
    expect_refused(path_of("short.gz"), NULL, JVAE_ERR_FORMAT,
                   "truncated: the header declares 210 bytes of images, the file holds 168");
    write_file(path_of("long.gz"), buffer, make_images(buffer, N, ROWS, COLS, pixels, PIXELS + 1), 1);
    expect_refused(path_of("long.gz"), NULL, JVAE_ERR_FORMAT,
                   "the gzip stream holds more than the 210 bytes");

    /* absurd dimensions: 2^31 images of 2^31 x 2^31 pixels, refused on the
     * header alone (the side limit), and an in-limit side with a payload
     * over JVAE_IDX_MAX_BYTES */
    write_file(path_of("absurd"), buffer, make_images(buffer, 1u << 31, 1u << 31, 1u << 31, NULL, 0), 0);
    expect_refused(path_of("absurd"), NULL, JVAE_ERR_FORMAT,
                   "dimension 1 is 2147483648, over the limit of 4096 (JVAE_IDX_MAX_SIDE)");
    write_file(path_of("huge.gz"), buffer, make_images(buffer, 1u << 31, 4096, 4096, NULL, 0), 1);
    expect_refused(path_of("huge.gz"), NULL, JVAE_ERR_FORMAT,
                   "declares 36028797018963968 bytes of images, over the limit of 4294967296 "
                   "(JVAE_IDX_MAX_BYTES)");
    /* exactly at the limit (4 GiB) in a file of a few dozen bytes: refused as
     * truncated after reading what is there, without reserving 4 GiB (ASan
     * would report the allocation) */
    write_file(path_of("limit.gz"), buffer, make_images(buffer, 256, 4096, 4096, pixels, 100), 1);
    expect_refused(path_of("limit.gz"), NULL, JVAE_ERR_FORMAT,
                   "declares 4294967296 bytes of images, the file holds 100");

    /* label count != image count */
    write_file(path_of("images"), buffer, make_images(buffer, N, ROWS, COLS, pixels, PIXELS), 0);
    write_file(path_of("labels4"), buffer, make_labels(buffer, N - 1, labels, N - 1), 0);
    expect_refused(path_of("images"), path_of("labels4"), JVAE_ERR_FORMAT, "4 labels for the 5 images");
}

static void test_corrupt_gzip(void **state)
{
    (void)state;
    /* a real gzip file, then cut short and, separately, damaged inside */
    enum { BIG = 64 * 28 * 28 };
    static uint8_t pixels[BIG], buffer[16 + BIG];
    jvae_rng rng;
    jvae_rng_seed(&rng, 5);
    for (int i = 0; i < BIG; i++) pixels[i] = (uint8_t)(jvae_rng_below(&rng, 4) * 60);
    const char *good = path_of("good.gz");
    write_file(good, buffer, make_images(buffer, 64, 28, 28, pixels, BIG), 1);
    FILE *file = fopen(good, "rb");
    assert_non_null(file);
    static uint8_t packed[2 * BIG];
    size_t packed_size = fread(packed, 1, sizeof packed, file);
    fclose(file);
    assert_true(packed_size > 100 && packed_size < sizeof packed);

    jvae_dataset *dataset = NULL;
    assert_int_equal(jvae_dataset_idx_open(&dataset, good, NULL, NULL), JVAE_OK);
    jvae_dataset_free(dataset);

    write_file(path_of("cut.gz"), packed, packed_size / 2, 0);
    expect_refused(path_of("cut.gz"), NULL, JVAE_ERR_FORMAT,
                   "cut.gz: truncated gzip stream: unexpected end of file");
    write_file(path_of("no-trailer.gz"), packed, packed_size - 4, 0);
    expect_refused(path_of("no-trailer.gz"), NULL, JVAE_ERR_FORMAT,
                   "no-trailer.gz: truncated gzip stream: unexpected end of file");

    for (size_t i = packed_size / 3; i < packed_size / 3 + 16; i++) packed[i] ^= 0x5a;
    write_file(path_of("damaged.gz"), packed, packed_size, 0);
    expect_refused(path_of("damaged.gz"), NULL, JVAE_ERR_FORMAT,
                   "damaged.gz: corrupt gzip stream: ");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    uint8_t pixels[PIXELS], labels[N], buffer[16 + PIXELS];
    fill_items(pixels, labels);
    const char *images = path_of("args-images");
    write_file(images, buffer, make_images(buffer, N, ROWS, COLS, pixels, PIXELS), 0);
    jvae_dataset *dataset = NULL;
    jvae_idx_options options;
    assert_int_equal(jvae_idx_options_init(NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_idx_options_init(&options), JVAE_OK);
    assert_int_equal(options.resize, 0);
    assert_int_equal(options.filter, JVAE_RESIZE_BILINEAR);
    assert_int_equal(jvae_dataset_idx_open(NULL, images, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_dataset_idx_open(&dataset, NULL, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    options.resize = -1;
    assert_int_equal(jvae_dataset_idx_open(&dataset, images, NULL, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("resize must be 0..4096, got -1");
    options.resize = 0;
    options.filter = (jvae_resize_filter)9;
    assert_int_equal(jvae_dataset_idx_open(&dataset, images, NULL, &options), JVAE_ERR_INVALID_ARGUMENT);
    options.filter = JVAE_RESIZE_AREA;
    options.version = 99;
    assert_int_equal(jvae_dataset_idx_open(&dataset, images, NULL, &options), JVAE_ERR_VERSION);
    assert_int_equal(jvae_dataset_idx_open_prefix(&dataset, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);

    /* resize to a non-square size of the file's: every image becomes 4x4 */
    assert_int_equal(jvae_idx_options_init(&options), JVAE_OK);
    options.resize = 4;
    assert_int_equal(jvae_dataset_idx_open(&dataset, images, NULL, &options), JVAE_OK);
    int height, width;
    assert_int_equal(jvae_dataset_image_shape(dataset, NULL, &height, &width), JVAE_OK);
    assert_true(height == 4 && width == 4);
    float image[ROWS * COLS];
    assert_int_equal(jvae_dataset_read(dataset, 4, image, 16, NULL, 0), JVAE_OK);
    assert_int_equal(jvae_dataset_read(dataset, 5, image, 16, NULL, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("index 5 out of range [0, 5)");
    assert_int_equal(jvae_dataset_read(dataset, -1, image, 16, NULL, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_dataset_read(dataset, 0, image, 15, NULL, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("image buffer holds 15 floats, an image needs 16 (1 x 4 x 4)");
    assert_int_equal(jvae_dataset_read(dataset, 0, NULL, 16, NULL, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_dataset_read(NULL, 0, image, 16, NULL, 0), JVAE_ERR_INVALID_ARGUMENT);
    jvae_dataset_free(dataset);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_prefix_convention),
        cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_hostile_sizes),
        cmocka_unit_test(test_corrupt_gzip),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
