/* Test helper of the test_viz_* programs: decode a PNG with libpng to check
 * what the library wrote. */
#ifndef JVAE_TEST_VIZ_READ_PNG_H
#define JVAE_TEST_VIZ_READ_PNG_H

#include <png.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct decoded_png {
    int width, height, channels;
    unsigned char *pixels; /* (height, width, channels) */
} decoded_png;

/* 0 on success; the caller frees pixels. Only 8-bit images are expected. */
static inline int read_png(const char *path, decoded_png *out)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) return -1;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (info == NULL || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        fclose(file);
        return -1;
    }
    png_init_io(png, file);
    png_read_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    if (png_get_bit_depth(png, info) != 8) longjmp(png_jmpbuf(png), 1);
    out->width = (int)png_get_image_width(png, info);
    out->height = (int)png_get_image_height(png, info);
    out->channels = png_get_channels(png, info);
    png_bytepp rows = png_get_rows(png, info);
    size_t stride = (size_t)out->width * (size_t)out->channels;
    out->pixels = malloc(stride * (size_t)out->height);
    for (int y = 0; y < out->height; y++)
        for (size_t x = 0; x < stride; x++) out->pixels[(size_t)y * stride + x] = rows[y][x];
    png_destroy_read_struct(&png, &info, NULL);
    fclose(file);
    return 0;
}

static inline const unsigned char *png_pixel(const decoded_png *image, int x, int y)
{
    return image->pixels + ((size_t)y * (size_t)image->width + (size_t)x) * (size_t)image->channels;
}

#endif
