/*
 * Internal: an 8-bit picture in memory and the PNG writer.
 *
 * A canvas is (height, width, channels) bytes, row-major, channels 1 (grey),
 * 2 (grey + alpha), 3 (RGB) or 4 (RGBA). Everything in lib/viz draws into a
 * canvas and writes it once with jvae_canvas_write_png.
 */
#ifndef JVAE_VIZ_CANVAS_H
#define JVAE_VIZ_CANVAS_H

#include <stdint.h>

#include "jointvae/core.h"

/* libpng refuses images wider or taller than this by default. */
#define JVAE_CANVAS_MAX_SIDE 1000000

typedef struct jvae_canvas {
    int width, height, channels;
    uint8_t *pixels; /* (height, width, channels) */
} jvae_canvas;

/* Allocate a canvas filled with `fill` (channels bytes). Sizes are checked
 * against JVAE_CANVAS_MAX_SIDE and for overflow; `fn` names the public call in
 * messages. Errors: INVALID_ARGUMENT, OVERFLOW, OUT_OF_MEMORY. */
jvae_status jvae_canvas_init(jvae_canvas *canvas, const char *fn, int64_t width, int64_t height,
                             int channels, const uint8_t *fill);
void jvae_canvas_release(jvae_canvas *canvas);

/* A float in [0, 1] as a byte; values outside are clamped (NaN must have been
 * rejected by the caller). */
uint8_t jvae_unit_to_byte(float value);

/* Copy one image (channels, h, w) of floats in [0, 1] (clamped) to the canvas
 * with its top-left corner at (x, y), each pixel repeated scale x scale times.
 * The image's channel count must equal the canvas's; parts outside are clipped. */
void jvae_canvas_put_image(jvae_canvas *canvas, int x, int y, const float *image, int h, int w,
                           int scale);

/* Fill the rectangle [x, x+w) x [y, y+h) (clipped) with colour (channels bytes). */
void jvae_canvas_fill_rect(jvae_canvas *canvas, int x, int y, int w, int h,
                           const uint8_t *colour);

/* One-pixel line from (x0, y0) to (x1, y1) inclusive (Bresenham), clipped. */
void jvae_canvas_draw_line(jvae_canvas *canvas, int x0, int y0, int x1, int y1,
                           const uint8_t *colour);

/* Text in the built-in 5x7 bitmap font (lib/viz/font.c): each glyph is 5x7
 * pixels times `scale`, advancing 6·scale; (x, y) is the top-left corner.
 * Characters without a glyph are drawn as a hollow box. */
void jvae_canvas_draw_text(jvae_canvas *canvas, int x, int y, const char *text, int scale,
                           const uint8_t *colour);
int jvae_text_width(const char *text, int scale);
int jvae_text_height(int scale);

/* Write the canvas as an 8-bit PNG to "<path>.tmp-XXXXXX" beside `path`, then
 * rename it over `path`. Every libpng error is caught (no message is printed).
 * Errors: IO (create, write or rename failed; message has the path and errno
 * text), FORMAT (libpng refused the image; its message is included). */
jvae_status jvae_canvas_write_png(const jvae_canvas *canvas, const char *path, const char *fn);

#endif
