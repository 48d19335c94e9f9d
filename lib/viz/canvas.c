#include "viz/canvas.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"

jvae_status jvae_canvas_init(jvae_canvas *canvas, const char *fn, int64_t width, int64_t height,
                             int channels, const uint8_t *fill)
{
    canvas->pixels = NULL;
    if (channels < 1 || channels > 4)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: %d channels, a picture has 1 to 4", fn,
                         channels);
    if (width < 1 || height < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: picture of %lld x %lld pixels is empty",
                         fn, (long long)width, (long long)height);
    if (width > JVAE_CANVAS_MAX_SIDE || height > JVAE_CANVAS_MAX_SIDE)
        return jvae_fail(JVAE_ERR_OVERFLOW,
                         "%s: picture of %lld x %lld pixels exceeds the PNG limit of %d per side",
                         fn, (long long)width, (long long)height, JVAE_CANVAS_MAX_SIDE);
    size_t pixels, bytes;
    if (!jvae_mul_ok((size_t)width, (size_t)height, &pixels) ||
        !jvae_mul_ok(pixels, (size_t)channels, &bytes))
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: picture of %lld x %lld pixels is too large", fn,
                         (long long)width, (long long)height);
    canvas->pixels = malloc(bytes);
    if (canvas->pixels == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate a %lld x %lld picture", fn,
                         (long long)width, (long long)height);
    canvas->width = (int)width;
    canvas->height = (int)height;
    canvas->channels = channels;
    for (size_t p = 0; p < pixels; p++)
        memcpy(canvas->pixels + p * (size_t)channels, fill, (size_t)channels);
    return JVAE_OK;
}

void jvae_canvas_release(jvae_canvas *canvas)
{
    free(canvas->pixels);
    canvas->pixels = NULL;
}

uint8_t jvae_unit_to_byte(float value)
{
    if (!(value > 0.0f)) return 0;
    if (value >= 1.0f) return 255;
    return (uint8_t)(value * 255.0f + 0.5f);
}

static uint8_t *pixel_at(jvae_canvas *canvas, int x, int y)
{
    return canvas->pixels + ((size_t)y * (size_t)canvas->width + (size_t)x) * (size_t)canvas->channels;
}

void jvae_canvas_put_image(jvae_canvas *canvas, int x, int y, const float *image, int h, int w,
                           int scale)
{
    const int channels = canvas->channels;
    const size_t plane = (size_t)h * (size_t)w;
    for (int row = 0; row < h * scale; row++) {
        int py = y + row;
        if (py < 0 || py >= canvas->height) continue;
        for (int col = 0; col < w * scale; col++) {
            int px = x + col;
            if (px < 0 || px >= canvas->width) continue;
            size_t source = (size_t)(row / scale) * (size_t)w + (size_t)(col / scale);
            uint8_t *target = pixel_at(canvas, px, py);
            for (int c = 0; c < channels; c++)
                target[c] = jvae_unit_to_byte(image[(size_t)c * plane + source]);
        }
    }
}

void jvae_canvas_fill_rect(jvae_canvas *canvas, int x, int y, int w, int h,
                           const uint8_t *colour)
{
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > canvas->width ? canvas->width : x + w;
    int y1 = y + h > canvas->height ? canvas->height : y + h;
    for (int py = y0; py < y1; py++)
        for (int px = x0; px < x1; px++)
            memcpy(pixel_at(canvas, px, py), colour, (size_t)canvas->channels);
}

void jvae_canvas_draw_line(jvae_canvas *canvas, int x0, int y0, int x1, int y1,
                           const uint8_t *colour)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        if (x0 >= 0 && x0 < canvas->width && y0 >= 0 && y0 < canvas->height)
            memcpy(pixel_at(canvas, x0, y0), colour, (size_t)canvas->channels);
        if (x0 == x1 && y0 == y1) break;
        int twice = 2 * err;
        if (twice >= dy) {
            err += dy;
            x0 += sx;
        }
        if (twice <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

/* ------------------------------------------------------------------ PNG */

typedef struct png_failure {
    jmp_buf jump;
    char message[256];
} png_failure;

/* libpng's default handlers print to stderr (and the error one aborts without
 * a jump buffer); ours record the message and jump back to encode_png. */
static void on_png_error(png_structp png, png_const_charp message)
{
    png_failure *failure = png_get_error_ptr(png);
    snprintf(failure->message, sizeof failure->message, "%s", message);
    longjmp(failure->jump, 1);
}

static void on_png_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

static int colour_type_of(int channels)
{
    switch (channels) {
    case 1: return PNG_COLOR_TYPE_GRAY;
    case 2: return PNG_COLOR_TYPE_GRAY_ALPHA;
    case 3: return PNG_COLOR_TYPE_RGB;
    default: return PNG_COLOR_TYPE_RGB_ALPHA;
    }
}

/* Returns 0 on success, -1 with failure->message set. Nothing that setjmp
 * returns to is modified after the setjmp, so no local needs volatile. */
static int encode_png(FILE *file, const jvae_canvas *canvas, png_failure *failure)
{
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, failure, on_png_error, on_png_warning);
    if (png == NULL) {
        snprintf(failure->message, sizeof failure->message, "cannot create the libpng writer");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        snprintf(failure->message, sizeof failure->message, "cannot create the libpng info");
        return -1;
    }
    if (setjmp(failure->jump)) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, file);
    png_set_IHDR(png, info, (png_uint_32)canvas->width, (png_uint_32)canvas->height, 8,
                 colour_type_of(canvas->channels), PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const size_t stride = (size_t)canvas->width * (size_t)canvas->channels;
    for (int y = 0; y < canvas->height; y++)
        png_write_row(png, canvas->pixels + (size_t)y * stride);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

jvae_status jvae_canvas_write_png(const jvae_canvas *canvas, const char *path, const char *fn)
{
    jvae_atomic_file file;
    jvae_status st = jvae_atomic_open(&file, path);
    if (st != JVAE_OK) return jvae_fail(st, "%s: %s", fn, jvae_last_error());
    png_failure failure;
    failure.message[0] = '\0';
    if (encode_png(file.stream, canvas, &failure) != 0) {
        int write_errno = ferror(file.stream) ? errno : 0;
        jvae_atomic_abort(&file);
        if (write_errno != 0)
            return jvae_fail(JVAE_ERR_IO, "%s: cannot write '%s': %s", fn, path,
                             strerror(write_errno));
        return jvae_fail(JVAE_ERR_FORMAT, "%s: libpng cannot write '%s': %s", fn, path,
                         failure.message);
    }
    st = jvae_atomic_commit(&file);
    if (st != JVAE_OK) return jvae_fail(st, "%s: %s", fn, jvae_last_error());
    return JVAE_OK;
}
