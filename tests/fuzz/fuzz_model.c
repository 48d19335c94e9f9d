/* Fuzz target: jvae_model_load on a model file (or its JSON header alone). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fuzz_path(path, sizeof path, "model.safetensors");
    fuzz_write_safetensors(path, data, size);
    jvae_model *model = (jvae_model *)&path; /* must come back NULL on failure */
    const jvae_status st = jvae_model_load(&model, path);
    fuzz_check(st);
    if ((st == JVAE_OK) != (model != NULL)) abort();
    jvae_model_free(model);
    unlink(path);
    return 0;
}
