/* Fuzz target: jvae_dataset_idx_open, then every image read.
 * Byte 0: bit 0 gzipped (a .gz name), bit 1 a labels file follows, bits 2-3
 * resize {0, 0, 5, 28}, bit 4 the area filter; bytes 1-2 (little-endian) the
 * images file's length when labels follow; the rest the file(s). Resizing
 * tiny images up multiplies their memory by design, up to JVAE_IDX_MAX_BYTES
 * (4 GiB): a replayed input must stay small enough not to ask for that. */
#include <unistd.h>

#include "fuzz.h"

/* Images read per input at most: enough for every path, few enough to stay fast. */
#define MAX_READS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    const uint8_t flags = data[0];
    const int gzipped = flags & 1, labelled = (flags >> 1) & 1;
    size_t images_size = size - 3;
    if (labelled) {
        images_size = (size_t)data[1] | (size_t)data[2] << 8;
        if (images_size > size - 3) images_size = size - 3;
    }
    char images[512], labels[512];
    fuzz_path(images, sizeof images, gzipped ? "images-idx3-ubyte.gz" : "images-idx3-ubyte");
    fuzz_path(labels, sizeof labels, gzipped ? "labels-idx1-ubyte.gz" : "labels-idx1-ubyte");
    fuzz_write(images, data + 3, images_size);
    if (labelled) fuzz_write(labels, data + 3 + images_size, size - 3 - images_size);

    jvae_idx_options options;
    jvae_idx_options_init(&options);
    static const int sides[4] = {0, 0, 5, 28};
    options.resize = sides[(flags >> 2) & 3];
    options.filter = (flags & 16) ? JVAE_RESIZE_AREA : JVAE_RESIZE_BILINEAR;
    jvae_dataset *dataset = (jvae_dataset *)&options; /* must come back NULL on failure */
    const jvae_status st =
        jvae_dataset_idx_open(&dataset, images, labelled ? labels : NULL, &options);
    fuzz_check_dataset(st, dataset, MAX_READS, 0);
    unlink(images);
    if (labelled) unlink(labels);
    return 0;
}
