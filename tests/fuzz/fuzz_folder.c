/* Fuzz target: jvae_dataset_folder_open on a folder of one image, then a read.
 * Byte 0: bit 0 a .jpg name (else .png), bit 1 one channel (else three),
 * bits 2-3 the filter {auto, bilinear, area, auto}, bit 4 validate at open;
 * byte 1: the side, 1 + byte % 64; the rest the image file. */
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const uint8_t flags = data[0];
    char folder[512], image_path[600];
    fuzz_path(folder, sizeof folder, "folder");
    mkdir(folder, 0700);
    fuzz_path(image_path, sizeof image_path, (flags & 1) ? "folder/image.jpg" : "folder/image.png");
    fuzz_write(image_path, data + 2, size - 2);

    jvae_folder_options options;
    jvae_folder_options_init(&options);
    static const jvae_resize_filter filters[4] = {JVAE_RESIZE_AUTO, JVAE_RESIZE_BILINEAR,
                                                  JVAE_RESIZE_AREA, JVAE_RESIZE_AUTO};
    options.channels = (flags & 2) ? 1 : 3;
    options.filter = filters[(flags >> 2) & 3];
    options.validate = (flags >> 4) & 1;
    options.size = 1 + data[1] % 64;
    jvae_dataset *dataset = (jvae_dataset *)&options; /* must come back NULL on failure */
    const jvae_status st = jvae_dataset_folder_open(&dataset, folder, &options);
    fuzz_check_dataset(st, dataset, 1, 1);
    unlink(image_path);
    return 0;
}
