/* Fuzz target: the training-curve plots of a log.csv.
 * Byte 0: bit 0 jvae_write_training_curves (else jvae_plot_training_curves),
 * bit 1 the columns "kl_z*" and "total" (else all), bit 2 text scale 2 (else a
 * 480 x 320 plot); the rest the log. */
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const uint8_t flags = data[0];
    char log[512], png[512], folder[512];
    fuzz_path(log, sizeof log, "log.csv");
    fuzz_path(png, sizeof png, "curves.png");
    fuzz_path(folder, sizeof folder, "");
    fuzz_write(log, data + 1, size - 1);
    jvae_plot_options options;
    jvae_plot_options_init(&options);
    if (flags & 4) {
        options.text_scale = 2;
    } else {
        options.width = 480;
        options.height = 320;
    }
    static const char *some[2] = {"kl_z*", "total"};
    const jvae_status st = (flags & 1) ? jvae_write_training_curves(folder, log, &options)
                                       : jvae_plot_training_curves(png, log, (flags & 2) ? some : NULL,
                                                                   (flags & 2) ? 2 : 0, &options);
    fuzz_check(st);
    unlink(log);
    return 0;
}
