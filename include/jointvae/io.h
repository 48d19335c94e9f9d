/*
 * libjointvae — model files and checkpoints (safetensors; see docs/file-format.md).
 *
 * Every write goes to "<path>.tmp-XXXXXX" in the same folder, is flushed to
 * disk (fsync) and renamed over `path` only once complete, so a crash or a
 * failed write never leaves a half-written file and never damages an existing
 * one; on failure the temporary file is removed. Files get mode 0644.
 *
 * Loading checks everything (sizes, JSON header, tensor names, dtypes, shapes
 * for the stored options, offsets, non-finite values) and answers FORMAT with a
 * message saying what is wrong; no input file can crash the library. Layout,
 * metadata keys, limits and each error: docs/file-format.md.
 *
 * Threads: saving only reads the model and optimizer; it must not overlap with
 * a training call on them. Loading creates new objects and is thread-safe.
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
 * and the model and loss options in __metadata__ (not the thread count: that
 * belongs to the machine, not the model).
 * Errors: INVALID_ARGUMENT (NULL), NUMERIC (a non-finite parameter: such a
 * file could not be loaded back), IO (message has path and errno text),
 * OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_model_save(const jvae_model *model, const char *path);

/* Load a model saved by jvae_model_save (or converted by tools/convert_official.py,
 * or the model part of a checkpoint) into a new model owned by the caller
 * (*out, NULL on failure). The new model is built as jvae_model_create would
 * from the stored options (1 thread, generator seeded with the stored seed),
 * then takes the stored parameters and loss options; it has no training
 * reservation. Errors: INVALID_ARGUMENT (NULL), IO (cannot open or read, not a
 * regular file), FORMAT (truncated, malformed or hostile file: the message
 * says what), VERSION (a newer file format), OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_model_load(jvae_model **out, const char *path);

/* A checkpoint: the model file plus the optimizer's moments and options, the
 * step count and the model's generator state. Resuming from it gives
 * bit-identical training to an uninterrupted run (same thread count, same
 * schedules, same batches). Errors: as jvae_model_save, plus INVALID_ARGUMENT
 * when the optimizer belongs to another model. */
JVAE_API jvae_status jvae_checkpoint_save(const char *path, const jvae_model *model,
                                          const jvae_optimizer *optimizer);

/* Load a checkpoint into a new model and a new optimizer bound to it, both
 * owned by the caller (NULL on failure). The model's generator continues where
 * it was saved; reserve the model (jvae_model_reserve) and set its threads
 * before training on. Errors as jvae_model_load; a model file without
 * optimizer state is FORMAT. */
JVAE_API jvae_status jvae_checkpoint_load(jvae_model **model_out, jvae_optimizer **optimizer_out,
                                          const char *path);

#ifdef __cplusplus
}
#endif

#endif /* JOINTVAE_IO_H */
