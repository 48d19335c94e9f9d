/* Image folders: PNG and JPEG files written here (grey, RGB, 16-bit,
 * palette, alpha, non-square), listed, centre-cropped, resized; corrupt and
 * hostile files refused with clear messages. */
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "test_util.h"

#include "jointvae/data.h"

static char dir[1024];

static const char *path_in(const char *folder, const char *name)
{
    static char paths[4][1400];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s/%s", dir, folder, name);
    return path;
}

static void make_folder(const char *folder)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, folder);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void write_bytes(const char *path, const void *bytes, size_t size)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(bytes, 1, size, file), size);
    assert_int_equal(fclose(file), 0);
}

static size_t read_bytes(const char *path, uint8_t *bytes, size_t capacity)
{
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    size_t size = fread(bytes, 1, capacity, file);
    fclose(file);
    assert_true(size < capacity);
    return size;
}

/* rows: height rows of png_get_rowbytes bytes (the caller lays them out for
 * color_type and bit_depth). */
static void write_png(const char *path, int width, int height, int color_type, int bit_depth,
                      const uint8_t *data, const png_color *palette, int palette_size,
                      const uint8_t *alpha, int alpha_size)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng could not write %s", path);
    png_init_io(png, file);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette) png_set_PLTE(png, info, palette, palette_size);
    if (alpha) png_set_tRNS(png, info, alpha, alpha_size, NULL);
    png_write_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, data + (size_t)y * rowbytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    assert_int_equal(fclose(file), 0);
}

/* pixels (height, width, components), quality 100, no chroma subsampling, so
 * flat 8x8 blocks decode to their colour within a level or two. */
static void write_jpeg(const char *path, int width, int height, int components,
                       J_COLOR_SPACE space, const uint8_t *pixels)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr errors;
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, file);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = components;
    cinfo.in_color_space = space;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 100, TRUE);
    for (int c = 0; c < cinfo.num_components; c++) {
        cinfo.comp_info[c].h_samp_factor = 1;
        cinfo.comp_info[c].v_samp_factor = 1;
    }
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * width * components);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    assert_int_equal(fclose(file), 0);
}

static uint8_t luma(uint8_t r, uint8_t g, uint8_t b)
{
    return (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

static jvae_dataset *open_folder(const char *folder, int channels, int size)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, folder);
    jvae_folder_options options;
    assert_int_equal(jvae_folder_options_init(&options), JVAE_OK);
    options.channels = channels;
    options.size = size;
    jvae_dataset *dataset = NULL;
    jvae_status status = jvae_dataset_folder_open(&dataset, path, &options);
    if (status) fail_msg("open %s: %s", path, jvae_last_error());
    return dataset;
}

/* Grey 12x8 (wide) and 8x12 (tall) PNGs, and a 12x8 RGB PNG, all with known
 * pixels: the crop keeps the centre square, the resize to the crop's own size
 * is the identity, and 2:1 AREA averages 2x2 blocks. */
enum { LONG = 12, SHORT = 8 };

static uint8_t pattern(int x, int y, int channel) { return (uint8_t)(x * 20 + y * 3 + channel * 7); }

static void write_pngs(void)
{
    make_folder("png");
    uint8_t grey[LONG * SHORT], rgb[LONG * SHORT * 3];
    for (int y = 0; y < SHORT; y++)
        for (int x = 0; x < LONG; x++) {
            grey[y * LONG + x] = pattern(x, y, 0);
            for (int c = 0; c < 3; c++) rgb[(y * LONG + x) * 3 + c] = pattern(x, y, c);
        }
    write_png(path_in("png", "b_wide.png"), LONG, SHORT, PNG_COLOR_TYPE_GRAY, 8, grey, NULL, 0,
              NULL, 0);
    write_png(path_in("png", "c_rgb.PNG"), LONG, SHORT, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0, NULL,
              0);
    uint8_t tall[SHORT * LONG];
    for (int y = 0; y < LONG; y++)
        for (int x = 0; x < SHORT; x++) tall[y * SHORT + x] = pattern(y, x, 0);
    write_png(path_in("png", "a_tall.png"), SHORT, LONG, PNG_COLOR_TYPE_GRAY, 8, tall, NULL, 0,
              NULL, 0);
    /* not items: another extension, a hidden file, a folder named like an image */
    write_bytes(path_in("png", "notes.txt"), "hello", 5);
    write_png(path_in("png", ".hidden.png"), SHORT, LONG, PNG_COLOR_TYPE_GRAY, 8, tall, NULL, 0,
              NULL, 0);
    char sub[1400];
    snprintf(sub, sizeof sub, "%s/png/d_folder.png", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
}

static void test_png_listing_crop_and_channels(void **state)
{
    (void)state;
    write_pngs();
    jvae_dataset *grey = open_folder("png", 1, SHORT);
    assert_int_equal(jvae_dataset_size(grey), 3);
    assert_string_equal(jvae_dataset_folder_file(grey, 0), "a_tall.png");
    assert_string_equal(jvae_dataset_folder_file(grey, 1), "b_wide.png");
    assert_string_equal(jvae_dataset_folder_file(grey, 2), "c_rgb.PNG");
    assert_null(jvae_dataset_folder_file(grey, 3));
    assert_int_equal(jvae_dataset_label_count(grey), 0);

    float image[3 * SHORT * SHORT];
    /* tall: rows 2..9 kept (offset (12 − 8)/2) */
    assert_int_equal(jvae_dataset_read(grey, 0, image, SHORT * SHORT, NULL, 0), JVAE_OK);
    for (int y = 0; y < SHORT; y++)
        for (int x = 0; x < SHORT; x++)
            assert_true(image[y * SHORT + x] == (float)pattern(y + 2, x, 0) / 255.0f);
    /* wide: columns 2..9 kept */
    assert_int_equal(jvae_dataset_read(grey, 1, image, SHORT * SHORT, NULL, 0), JVAE_OK);
    for (int y = 0; y < SHORT; y++)
        for (int x = 0; x < SHORT; x++)
            assert_true(image[y * SHORT + x] == (float)pattern(x + 2, y, 0) / 255.0f);
    /* RGB file read as grey: PIL's luma */
    assert_int_equal(jvae_dataset_read(grey, 2, image, SHORT * SHORT, NULL, 0), JVAE_OK);
    for (int y = 0; y < SHORT; y++)
        for (int x = 0; x < SHORT; x++) {
            uint8_t want = luma(pattern(x + 2, y, 0), pattern(x + 2, y, 1), pattern(x + 2, y, 2));
            assert_true(image[y * SHORT + x] == (float)want / 255.0f);
        }
    jvae_dataset_free(grey);

    /* RGB: planar (3, 8, 8); a grey file gives three equal planes */
    jvae_dataset *rgb = open_folder("png", 3, SHORT);
    int channels;
    assert_int_equal(jvae_dataset_image_shape(rgb, &channels, NULL, NULL), JVAE_OK);
    assert_int_equal(channels, 3);
    assert_int_equal(jvae_dataset_read(rgb, 2, image, 3 * SHORT * SHORT, NULL, 0), JVAE_OK);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < SHORT; y++)
            for (int x = 0; x < SHORT; x++)
                assert_true(image[(c * SHORT + y) * SHORT + x] == (float)pattern(x + 2, y, c) / 255.0f);
    assert_int_equal(jvae_dataset_read(rgb, 1, image, 3 * SHORT * SHORT, NULL, 0), JVAE_OK);
    for (int i = 0; i < SHORT * SHORT; i++)
        assert_true(image[i] == image[SHORT * SHORT + i] && image[i] == image[2 * SHORT * SHORT + i]);
    jvae_dataset_free(rgb);

    /* 8 -> 4 with the default AUTO filter (AREA when shrinking): each output
     * is the mean of a 2x2 block, rounded to 8 bits after each pass as PIL
     * does (horizontal (a + b + 1) >> 1, then vertical the same). */
    jvae_dataset *small = open_folder("png", 1, 4);
    assert_int_equal(jvae_dataset_read(small, 1, image, 16, NULL, 0), JVAE_OK);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            int top = (pattern(2 * x + 2, 2 * y, 0) + pattern(2 * x + 3, 2 * y, 0) + 1) >> 1;
            int bottom = (pattern(2 * x + 2, 2 * y + 1, 0) + pattern(2 * x + 3, 2 * y + 1, 0) + 1) >> 1;
            assert_true(image[y * 4 + x] == (float)((top + bottom + 1) >> 1) / 255.0f);
        }
    jvae_dataset_free(small);
}

static void test_png_variants(void **state)
{
    (void)state;
    make_folder("variants");
    /* 16-bit grey: the high byte is kept */
    uint8_t grey16[4 * 4 * 2];
    for (int i = 0; i < 16; i++) {
        grey16[2 * i] = (uint8_t)(i * 16);
        grey16[2 * i + 1] = 0xEE;
    }
    write_png(path_in("variants", "a16.png"), 4, 4, PNG_COLOR_TYPE_GRAY, 16, grey16, NULL, 0,
              NULL, 0);
    /* palette with transparency: colours of the palette, alpha dropped */
    png_color palette[2] = {{10, 20, 30}, {200, 100, 50}};
    uint8_t alpha[2] = {0, 128};
    uint8_t indices[16];
    for (int i = 0; i < 16; i++) indices[i] = (uint8_t)(i % 2);
    write_png(path_in("variants", "b_palette.png"), 4, 4, PNG_COLOR_TYPE_PALETTE, 8, indices,
              palette, 2, alpha, 2);
    /* RGBA: alpha dropped */
    uint8_t rgba[16 * 4];
    for (int i = 0; i < 16; i++) {
        rgba[4 * i] = 1;
        rgba[4 * i + 1] = 2;
        rgba[4 * i + 2] = 3;
        rgba[4 * i + 3] = (uint8_t)(i * 10);
    }
    write_png(path_in("variants", "c_rgba.png"), 4, 4, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, NULL, 0,
              NULL, 0);
    /* 1-bit grey: 0 and 255 */
    uint8_t bits[4] = {0xA0, 0x50, 0xA0, 0x50};
    write_png(path_in("variants", "d_bits.png"), 4, 4, PNG_COLOR_TYPE_GRAY, 1, bits, NULL, 0,
              NULL, 0);

    jvae_dataset *rgb = open_folder("variants", 3, 4);
    float image[3 * 16];
    assert_int_equal(jvae_dataset_read(rgb, 0, image, 48, NULL, 0), JVAE_OK);
    for (int i = 0; i < 16; i++) assert_true(image[32 + i] == (float)(i * 16) / 255.0f);
    assert_int_equal(jvae_dataset_read(rgb, 1, image, 48, NULL, 0), JVAE_OK);
    for (int i = 0; i < 16; i++)
        for (int c = 0; c < 3; c++) {
            const uint8_t *colour = &palette[i % 2].red;
            assert_true(image[c * 16 + i] == (float)colour[c] / 255.0f);
        }
    assert_int_equal(jvae_dataset_read(rgb, 2, image, 48, NULL, 0), JVAE_OK);
    for (int i = 0; i < 16; i++) assert_true(image[16 + i] == 2.0f / 255.0f);
    jvae_dataset_free(rgb);
    jvae_dataset *grey = open_folder("variants", 1, 4);
    assert_int_equal(jvae_dataset_read(grey, 3, image, 16, NULL, 0), JVAE_OK);
    assert_true(image[0] == 1.0f && image[1] == 0.0f && image[2] == 1.0f && image[4] == 0.0f &&
                image[5] == 1.0f);
    jvae_dataset_free(grey);
}

/* JPEG is lossy: quality 100 with 8x8-aligned flat areas decodes within a
 * couple of levels of the written colour (DCT rounding and YCbCr<->RGB
 * conversion each cost about one level), so compare within 3/255. */
#define JPEG_SLACK (3.0f / 255.0f)

static void test_jpeg(void **state)
{
    (void)state;
    make_folder("jpeg");
    /* 32x16, columns 8..23 colour B, the rest colour A: the centre crop
     * (offset (32 − 16)/2 = 8) sees only B */
    static const uint8_t a[3] = {250, 30, 20}, b[3] = {40, 90, 200};
    uint8_t rgb[16 * 32 * 3];
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 32; x++)
            memcpy(rgb + (y * 32 + x) * 3, x >= 8 && x < 24 ? b : a, 3);
    write_jpeg(path_in("jpeg", "a.jpg"), 32, 16, 3, JCS_RGB, rgb);
    uint8_t grey[24 * 8];
    memset(grey, 77, sizeof grey);
    write_jpeg(path_in("jpeg", "b.JPEG"), 8, 24, 1, JCS_GRAYSCALE, grey);

    jvae_dataset *colour = open_folder("jpeg", 3, 16);
    float image[3 * 16 * 16];
    assert_int_equal(jvae_dataset_read(colour, 0, image, sizeof image / sizeof *image, NULL, 0),
                     JVAE_OK);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 256; i++)
            if (fabsf(image[c * 256 + i] - b[c] / 255.0f) > JPEG_SLACK)
                fail_msg("channel %d pixel %d: %g, written %g", c, i, image[c * 256 + i] * 255,
                         (double)b[c]);
    assert_int_equal(jvae_dataset_read(colour, 1, image, sizeof image / sizeof *image, NULL, 0),
                     JVAE_OK);
    for (int i = 0; i < 3 * 256; i++) assert_true(fabsf(image[i] - 77 / 255.0f) <= JPEG_SLACK);
    jvae_dataset_free(colour);

    jvae_dataset *mono = open_folder("jpeg", 1, 8);
    assert_int_equal(jvae_dataset_read(mono, 0, image, 64, NULL, 0), JVAE_OK);
    for (int i = 0; i < 64; i++)
        assert_true(fabsf(image[i] - luma(b[0], b[1], b[2]) / 255.0f) <= JPEG_SLACK);
    jvae_dataset_free(mono);
}

static jvae_status open_status(const char *folder, int validate, jvae_dataset **dataset)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, folder);
    jvae_folder_options options;
    jvae_folder_options_init(&options);
    options.validate = validate;
    *dataset = NULL;
    return jvae_dataset_folder_open(dataset, path, &options);
}

static void expect_read_refused(const jvae_dataset *dataset, int64_t index, jvae_status status,
                                const char *message)
{
    static float image[3 * 64 * 64];
    jvae_status got = jvae_dataset_read(dataset, index, image, sizeof image / sizeof *image, NULL, 0);
    if (got != status || strstr(jvae_last_error(), message) == NULL)
        fail_msg("item %lld: got %d \"%s\", expected %d with \"%s\"", (long long)index, got,
                 jvae_last_error(), status, message);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void test_corrupt_and_hostile_files(void **state)
{
    (void)state;
    make_folder("bad");
    static uint8_t bytes[1 << 16];
    uint8_t pixels[64 * 64 * 3];
    for (size_t i = 0; i < sizeof pixels; i++) pixels[i] = (uint8_t)(i * 7);

    /* 0: a good PNG; 1: the same cut in the middle of its pixel data */
    write_png(path_in("bad", "0_good.png"), 64, 64, PNG_COLOR_TYPE_RGB, 8, pixels, NULL, 0, NULL, 0);
    size_t size = read_bytes(path_in("bad", "0_good.png"), bytes, sizeof bytes);
    write_bytes(path_in("bad", "1_cut.png"), bytes, size / 2);
    /* 2: a PNG whose header declares 100000 x 100000 pixels (valid CRC),
     * followed by the start of an IDAT chunk */
    uint8_t huge[8 + 25 + 8];
    memcpy(huge, bytes, 8 + 25); /* signature + IHDR of the good file */
    put_be32(huge + 16, 100000);
    put_be32(huge + 20, 100000);
    put_be32(huge + 29, (uint32_t)crc32(0, huge + 12, 17));
    memcpy(huge + 33, "\0\0\0\0IDAT", 8);
    write_bytes(path_in("bad", "2_huge.png"), huge, sizeof huge);
    /* 3: PNG signature then garbage */
    memcpy(bytes + 8, "garbage garbage garbage garbage!", 32);
    write_bytes(path_in("bad", "3_garbage.png"), bytes, 40);
    /* 4: text named like a JPEG */
    write_bytes(path_in("bad", "4_text.jpg"), "just some text, not an image", 28);
    /* 5: a JPEG cut short; 6: a JPEG whose frame header declares 60000 x 60000 */
    write_jpeg(path_in("bad", "5_cut.jpg"), 64, 64, 3, JCS_RGB, pixels);
    size = read_bytes(path_in("bad", "5_cut.jpg"), bytes, sizeof bytes);
    write_bytes(path_in("bad", "5_cut.jpg"), bytes, size / 2);
    size_t sof = 2;
    while (sof + 4 < size && !(bytes[sof] == 0xFF && bytes[sof + 1] == 0xC0))
        sof += 2 + ((size_t)bytes[sof + 2] << 8 | bytes[sof + 3]);
    assert_true(sof + 9 < size);
    bytes[sof + 5] = 0xEA; /* height 0xEA60 = 60000 */
    bytes[sof + 6] = 0x60;
    bytes[sof + 7] = 0xEA; /* width */
    bytes[sof + 8] = 0x60;
    write_bytes(path_in("bad", "6_huge.jpg"), bytes, size);
    /* 7: a CMYK JPEG */
    uint8_t cmyk[16 * 16 * 4];
    memset(cmyk, 90, sizeof cmyk);
    write_jpeg(path_in("bad", "7_cmyk.jpg"), 16, 16, 4, JCS_CMYK, cmyk);

    /* decoded on demand: opening lists 8 files; each bad one fails its read */
    jvae_dataset *dataset = NULL;
    assert_int_equal(open_status("bad", 0, &dataset), JVAE_OK);
    assert_int_equal(jvae_dataset_size(dataset), 8);
    float image[3 * 64 * 64];
    assert_int_equal(jvae_dataset_read(dataset, 0, image, sizeof image / sizeof *image, NULL, 0),
                     JVAE_OK);
    expect_read_refused(dataset, 1, JVAE_ERR_FORMAT, "1_cut.png: corrupt PNG: ");
    expect_read_refused(dataset, 2, JVAE_ERR_FORMAT,
                        "2_huge.png: PNG of 100000 x 100000 pixels is empty or over the limit of "
                        "67108864 pixels (JVAE_IMAGE_MAX_PIXELS)");
    expect_read_refused(dataset, 3, JVAE_ERR_FORMAT, "3_garbage.png: corrupt PNG: ");
    expect_read_refused(dataset, 4, JVAE_ERR_FORMAT, "4_text.jpg: not a PNG or JPEG file");
    expect_read_refused(dataset, 5, JVAE_ERR_FORMAT, "5_cut.jpg: corrupt JPEG: Premature end of JPEG file");
    expect_read_refused(dataset, 6, JVAE_ERR_FORMAT, "6_huge.jpg: JPEG of 60000 x 60000 pixels");
    expect_read_refused(dataset, 7, JVAE_ERR_UNSUPPORTED, "7_cmyk.jpg: JPEG colour space");
    /* the good file still reads after all those failures */
    assert_int_equal(jvae_dataset_read(dataset, 0, image, sizeof image / sizeof *image, NULL, 0),
                     JVAE_OK);
    jvae_dataset_free(dataset);

    /* validate = 1 finds the first bad header at open (the cut PNG's header
     * is intact, so the huge one is the first refused) */
    assert_int_equal(open_status("bad", 1, &dataset), JVAE_ERR_FORMAT);
    assert_null(dataset);
    assert_error_contains("2_huge.png: PNG of 100000 x 100000");
}

static void test_bad_folders_and_options(void **state)
{
    (void)state;
    jvae_dataset *dataset = NULL;
    make_folder("empty");
    write_bytes(path_in("empty", "readme.md"), "# nothing", 9);
    assert_int_equal(open_status("empty", 0, &dataset), JVAE_ERR_FORMAT);
    assert_error_contains("holds no .png, .jpg or .jpeg file");
    assert_int_equal(open_status("no-such-folder", 0, &dataset), JVAE_ERR_IO);
    assert_error_contains("cannot list");

    jvae_folder_options options;
    assert_int_equal(jvae_folder_options_init(NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_folder_options_init(&options), JVAE_OK);
    assert_true(options.channels == 3 && options.size == 64 && options.filter == JVAE_RESIZE_AUTO &&
                options.validate == 0);
    options.channels = 2;
    assert_int_equal(jvae_dataset_folder_open(&dataset, dir, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("channels must be 1 or 3, got 2");
    options.channels = 1;
    options.size = 0;
    assert_int_equal(jvae_dataset_folder_open(&dataset, dir, &options), JVAE_ERR_INVALID_ARGUMENT);
    options.size = 64;
    options.version = 7;
    assert_int_equal(jvae_dataset_folder_open(&dataset, dir, &options), JVAE_ERR_VERSION);
    assert_int_equal(jvae_dataset_folder_open(&dataset, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_dataset_folder_open(NULL, dir, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_null(jvae_dataset_folder_file(NULL, 0));
}

static int setup(void **state)
{
    (void)state;
    const char *scratch = test_scratch_dir("data_folder");
    if (scratch == NULL) return -1;
    snprintf(dir, sizeof dir, "%s", scratch);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_listing_crop_and_channels),
        cmocka_unit_test(test_png_variants),
        cmocka_unit_test(test_jpeg),
        cmocka_unit_test(test_corrupt_and_hostile_files),
        cmocka_unit_test(test_bad_folders_and_options),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
