/* Fuzz target: jvae_checkpoint_load on a checkpoint (or its JSON header alone). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fuzz_path(path, sizeof path, "checkpoint.safetensors");
    fuzz_write_safetensors(path, data, size);
    jvae_model *model = NULL;
    jvae_optimizer *optimizer = NULL;
    const jvae_status st = jvae_checkpoint_load(&model, &optimizer, path);
    fuzz_check(st);
    if ((st == JVAE_OK) != (model != NULL) || (st == JVAE_OK) != (optimizer != NULL)) abort();
    jvae_optimizer_free(optimizer);
    jvae_model_free(model);
    unlink(path);
    return 0;
}
