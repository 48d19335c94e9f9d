/* Internal: the "__metadata__" strings of our files (keys and value syntax in
 * docs/file-format.md). Numbers are written and read in the C locale whatever
 * the host program's locale, floats with 9 significant digits so that every
 * float survives the round trip exactly. */
#ifndef JVAE_IO_METADATA_H
#define JVAE_IO_METADATA_H

#include "core/rng.h"
#include "io/safetensors.h"
#include "jointvae/model.h"
#include "jointvae/train.h"

#define JVAE_FILE_FORMAT_NAME "jointvae"
#define JVAE_FILE_FORMAT_VERSION 1
#define JVAE_FILE_KIND_MODEL "model"
#define JVAE_FILE_KIND_CHECKPOINT "checkpoint"

/* format, format_version, library_version, kind. Errors: OUT_OF_MEMORY. */
jvae_status jvae_meta_put_header(jvae_st_writer *writer, const char *kind);
/* Check format and version; *is_checkpoint tells the kind.
 * Errors: FORMAT (missing or unknown values), VERSION (a newer format). */
jvae_status jvae_meta_get_header(const jvae_st_file *file, int *is_checkpoint);

/* model.* and loss.* keys. Errors: OUT_OF_MEMORY. */
jvae_status jvae_meta_put_options(jvae_st_writer *writer, const jvae_model_options *model,
                                  const jvae_loss_options *loss);
/* Parse them (syntax and plain ranges only: the model's create and set_loss
 * judge the values). `model` starts from the defaults of
 * jvae_model_options_init. Errors: FORMAT. */
jvae_status jvae_meta_get_options(const jvae_st_file *file, jvae_model_options *model,
                                  jvae_loss_options *loss);

/* optimizer.* keys and the generator state rng.state. Errors: OUT_OF_MEMORY. */
jvae_status jvae_meta_put_training(jvae_st_writer *writer, const jvae_optimizer_options *options,
                                   int64_t step_count, const jvae_rng *rng);
/* Errors: FORMAT (missing keys, bad syntax, negative step count, all-zero
 * generator state). Option values are judged by the optimizer's checks. */
jvae_status jvae_meta_get_training(const jvae_st_file *file, jvae_optimizer_options *options,
                                   int64_t *step_count, jvae_rng *rng);

#endif
