/* Internal: decode one PNG or JPEG file into 8-bit pixels. Errors come back as
 * statuses with messages (libpng and libjpeg errors are caught with
 * setjmp/longjmp; their warnings are never printed). */
#ifndef JVAE_DATA_IMAGE_DECODE_H
#define JVAE_DATA_IMAGE_DECODE_H

#include <stdint.h>

#include "jointvae/core.h"

typedef struct jvae_decoded_image {
    int width, height;
    int channels;    /* 1 or 3, as asked */
    uint8_t *pixels; /* (height, width, channels), owned: jvae_decoded_image_release */
} jvae_decoded_image;

/* Decode `path` into `channels` (1: grey, 3: RGB) interleaved bytes, the
 * decoder chosen by the file's signature. With header_only, only the size is
 * read and checked (pixels stays NULL).
 * Errors: IO (open/read), FORMAT (not PNG/JPEG, corrupt, over
 * JVAE_IMAGE_MAX_PIXELS), UNSUPPORTED (CMYK JPEG), OUT_OF_MEMORY. The message
 * starts with the path. */
jvae_status jvae_image_decode(jvae_decoded_image *out, const char *path, int channels,
                              int header_only);
void jvae_decoded_image_release(jvae_decoded_image *image);

#endif
