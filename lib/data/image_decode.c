/* PNG (libpng) and JPEG (libjpeg) decoding to 8-bit grey or RGB.
 *
 * Both libraries report errors by longjmp. The function that calls setjmp
 * (png_run, jpeg_run) keeps every value it changes in a job struct owned by its
 * caller, so nothing it needs after a longjmp lives in its own automatic
 * variables (whose values a longjmp would leave indeterminate). */
#include "data/image_decode.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "core/error.h"
#include "jointvae/data.h"

#define MESSAGE_CAPACITY 200

/* PIL's convert("L"): ITU-R 601-2 luma in 16-bit fixed point, rounded. */
static uint8_t luma(const uint8_t *rgb)
{
    return (uint8_t)((rgb[0] * 19595u + rgb[1] * 38470u + rgb[2] * 7471u + 0x8000u) >> 16);
}

/* Convert `count` pixels in place from `from` to `to` channels; the buffer
 * holds count·max(from, to) bytes. */
static void convert_channels(uint8_t *pixels, size_t count, int from, int to)
{
    if (from == 3 && to == 1) {
        for (size_t i = 0; i < count; i++) pixels[i] = luma(pixels + 3 * i);
    } else if (from == 1 && to == 3) {
        for (size_t i = count; i-- > 0;) {
            uint8_t value = pixels[i];
            pixels[3 * i] = pixels[3 * i + 1] = pixels[3 * i + 2] = value;
        }
    }
}

static jvae_status check_size(const char *path, const char *kind, uint64_t width, uint64_t height)
{
    if (width == 0 || height == 0 || width * height > (uint64_t)JVAE_IMAGE_MAX_PIXELS)
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: %s of %llu x %llu pixels is empty or over the limit of %lld pixels "
                         "(JVAE_IMAGE_MAX_PIXELS)",
                         path, kind, (unsigned long long)width, (unsigned long long)height,
                         (long long)JVAE_IMAGE_MAX_PIXELS);
    return JVAE_OK;
}

/* Bytes for width·height pixels of max(decoded, wanted) channels. */
static uint8_t *alloc_pixels(size_t width, size_t height, int decoded, int wanted)
{
    size_t channels = (size_t)(decoded > wanted ? decoded : wanted);
    return malloc(width * height * channels);
}

/* ------------------------------------------------------------------ PNG */

typedef struct png_job {
    FILE *file;
    const char *path;
    int channels, header_only;
    png_structp png;
    png_infop info;
    png_bytep *rows;
    uint8_t *pixels;
    int width, height;
    jvae_status status; /* set with the message when png_run returns -1 */
    char message[MESSAGE_CAPACITY];
} png_job;

static void png_on_error(png_structp png, png_const_charp message)
{
    png_job *job = png_get_error_ptr(png);
    snprintf(job->message, sizeof job->message, "%s", message);
    job->status = JVAE_ERR_FORMAT;
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

static int png_run(png_job *job)
{
    if (setjmp(png_jmpbuf(job->png))) return -1;
    png_init_io(job->png, job->file);
    png_read_info(job->png, job->info);
    png_uint_32 width, height;
    int bit_depth, color_type;
    png_get_IHDR(job->png, job->info, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);
    job->status = check_size(job->path, "PNG", width, height);
    if (job->status) return -1;
    job->width = (int)width;
    job->height = (int)height;
    if (job->header_only) return 0;

    if (bit_depth == 16) png_set_strip_16(job->png);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(job->png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(job->png);
    png_set_strip_alpha(job->png); /* also the alpha that palette expansion may add */
    png_set_interlace_handling(job->png);
    png_read_update_info(job->png, job->info);
    int decoded = png_get_channels(job->png, job->info);
    if (decoded != 1 && decoded != 3) {
        snprintf(job->message, sizeof job->message, "decodes to %d channels", decoded);
        job->status = JVAE_ERR_FORMAT;
        return -1;
    }
    job->pixels = alloc_pixels(width, height, decoded, job->channels);
    job->rows = malloc(height * sizeof *job->rows);
    if (job->pixels == NULL || job->rows == NULL) {
        snprintf(job->message, sizeof job->message, "cannot allocate %u x %u pixels", width,
                 height);
        job->status = JVAE_ERR_OUT_OF_MEMORY;
        return -1;
    }
    for (png_uint_32 y = 0; y < height; y++)
        job->rows[y] = job->pixels + (size_t)y * width * (size_t)decoded;
    png_read_image(job->png, job->rows);
    convert_channels(job->pixels, (size_t)width * height, decoded, job->channels);
    return 0;
}

static jvae_status decode_png(jvae_decoded_image *out, const char *path, FILE *file,
                              int channels, int header_only)
{
    png_job job;
    memset(&job, 0, sizeof job);
    job.file = file;
    job.path = path;
    job.channels = channels;
    job.header_only = header_only;
    job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, png_on_error, png_on_warning);
    if (job.png != NULL) job.info = png_create_info_struct(job.png);
    if (job.png == NULL || job.info == NULL) {
        png_destroy_read_struct(&job.png, NULL, NULL);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot create the PNG decoder", path);
    }
    int result = png_run(&job);
    png_destroy_read_struct(&job.png, &job.info, NULL);
    free(job.rows);
    if (result != 0) {
        free(job.pixels);
        if (job.status == JVAE_ERR_FORMAT && job.message[0] != '\0')
            return jvae_fail(JVAE_ERR_FORMAT, "%s: corrupt PNG: %s", path, job.message);
        if (job.status == JVAE_ERR_OUT_OF_MEMORY)
            return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: %s", path, job.message);
        return job.status; /* check_size already set the message */
    }
    out->width = job.width;
    out->height = job.height;
    out->channels = channels;
    out->pixels = job.pixels;
    return JVAE_OK;
}

/* ------------------------------------------------------------------ JPEG */

typedef struct jpeg_job {
    struct jpeg_error_mgr errors; /* first, so the error manager finds its job */
    jmp_buf jump;
    struct jpeg_decompress_struct cinfo;
    int created;
    FILE *file;
    const char *path;
    int channels, header_only;
    uint8_t *pixels;
    int width, height;
    jvae_status status;
    char message[JMSG_LENGTH_MAX];
} jpeg_job;

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_job *job = (jpeg_job *)(void *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, job->message);
    job->status = JVAE_ERR_FORMAT;
    longjmp(job->jump, 1);
}

/* Warnings (level < 0) mean corrupt data that libjpeg would paper over (a
 * truncated file decodes to grey): refuse them. Trace messages are dropped. */
static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    if (level < 0) jpeg_on_error(cinfo);
}

static void jpeg_on_output(j_common_ptr cinfo) { (void)cinfo; }

static int jpeg_run(jpeg_job *job)
{
    if (setjmp(job->jump)) return -1;
    jpeg_create_decompress(&job->cinfo);
    job->created = 1;
    jpeg_stdio_src(&job->cinfo, job->file);
    jpeg_read_header(&job->cinfo, TRUE);
    job->status = check_size(job->path, "JPEG", job->cinfo.image_width, job->cinfo.image_height);
    if (job->status) return -1;
    switch (job->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: job->cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_YCbCr:
    case JCS_RGB: job->cinfo.out_color_space = JCS_RGB; break;
    default:
        snprintf(job->message, sizeof job->message,
                 "JPEG colour space %d (CMYK or YCCK) is not supported",
                 (int)job->cinfo.jpeg_color_space);
        job->status = JVAE_ERR_UNSUPPORTED;
        return -1;
    }
    job->width = (int)job->cinfo.image_width;
    job->height = (int)job->cinfo.image_height;
    if (job->header_only) return 0;

    jpeg_start_decompress(&job->cinfo);
    int decoded = job->cinfo.output_components;
    size_t width = job->cinfo.output_width, height = job->cinfo.output_height;
    job->pixels = alloc_pixels(width, height, decoded, job->channels);
    if (job->pixels == NULL) {
        snprintf(job->message, sizeof job->message, "cannot allocate %zu x %zu pixels", width,
                 height);
        job->status = JVAE_ERR_OUT_OF_MEMORY;
        return -1;
    }
    while (job->cinfo.output_scanline < job->cinfo.output_height) {
        JSAMPROW row = job->pixels + (size_t)job->cinfo.output_scanline * width * (size_t)decoded;
        jpeg_read_scanlines(&job->cinfo, &row, 1);
    }
    jpeg_finish_decompress(&job->cinfo);
    convert_channels(job->pixels, width * height, decoded, job->channels);
    return 0;
}

static jvae_status decode_jpeg(jvae_decoded_image *out, const char *path, FILE *file,
                               int channels, int header_only)
{
    jpeg_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot create the JPEG decoder", path);
    job->cinfo.err = jpeg_std_error(&job->errors);
    job->errors.error_exit = jpeg_on_error;
    job->errors.emit_message = jpeg_on_message;
    job->errors.output_message = jpeg_on_output;
    job->file = file;
    job->path = path;
    job->channels = channels;
    job->header_only = header_only;
    int result = jpeg_run(job);
    if (job->created) jpeg_destroy_decompress(&job->cinfo);
    jvae_status status = JVAE_OK;
    if (result != 0) {
        free(job->pixels);
        if (job->status == JVAE_ERR_FORMAT && job->message[0] != '\0')
            status = jvae_fail(JVAE_ERR_FORMAT, "%s: corrupt JPEG: %s", path, job->message);
        else if (job->status == JVAE_ERR_FORMAT)
            status = job->status; /* check_size already set the message */
        else
            status = jvae_fail(job->status, "%s: %s", path, job->message);
    } else {
        out->width = job->width;
        out->height = job->height;
        out->channels = channels;
        out->pixels = job->pixels;
    }
    free(job);
    return status;
}

/* ------------------------------------------------------------------ dispatch */

jvae_status jvae_image_decode(jvae_decoded_image *out, const char *path, int channels,
                              int header_only)
{
    memset(out, 0, sizeof *out);
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return jvae_fail(JVAE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char signature[8] = {0};
    size_t got = fread(signature, 1, sizeof signature, file);
    if (ferror(file)) {
        fclose(file);
        return jvae_fail(JVAE_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    }
    rewind(file);
    jvae_status status;
    if (got == sizeof signature && png_sig_cmp(signature, 0, sizeof signature) == 0)
        status = decode_png(out, path, file, channels, header_only);
    else if (got >= 3 && signature[0] == 0xFF && signature[1] == 0xD8 && signature[2] == 0xFF)
        status = decode_jpeg(out, path, file, channels, header_only);
    else
        status = jvae_fail(JVAE_ERR_FORMAT, "%s: not a PNG or JPEG file (unknown signature)", path);
    fclose(file);
    return status;
}

void jvae_decoded_image_release(jvae_decoded_image *image)
{
    free(image->pixels);
    image->pixels = NULL;
}
