/*
 * libjointvae — model files and checkpoints (safetensors; see docs/file-format.md).
 *
 * Every write goes to "<path>.tmp-XXXXXX" in the same folder and is renamed over
 * `path` only once complete, so a crash never leaves a half-written file.
 */
#ifndef JOINTVAE_IO_H
#define JOINTVAE_IO_H

#include "jointvae/core.h"
#include "jointvae/model.h"
#include "jointvae/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Save the parameters with the official PyTorch state-dict names and layouts,
 * and the model and loss options in __metadata__.
 * Errors: INVALID_ARGUMENT, IO (message has path and errno text). */
JVAE_API jvae_status jvae_model_save(const jvae_model *model, const char *path);

/* Load a model saved by jvae_model_save (or converted by tools/). The new model
 * has no training reservation. Errors: INVALID_ARGUMENT, IO, FORMAT (truncated,
 * malformed or hostile file: the message says what), VERSION, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_model_load(jvae_model **out, const char *path);

/* A checkpoint: the model file plus the optimizer's moments and options, the
 * step count and the model's generator state. Resuming from it gives
 * bit-identical training to an uninterrupted run (same thread count). */
JVAE_API jvae_status jvae_checkpoint_save(const char *path, const jvae_model *model,
                                          const jvae_optimizer *optimizer);

/* Load a checkpoint into a new model and a new optimizer bound to it.
 * Errors as jvae_model_load. */
JVAE_API jvae_status jvae_checkpoint_load(jvae_model **model_out, jvae_optimizer **optimizer_out,
                                          const char *path);

#ifdef __cplusplus
}
#endif

#endif /* JOINTVAE_IO_H */
