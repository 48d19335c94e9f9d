/* Internal: the model part of model files and checkpoints, shared by
 * model_file.c and checkpoint.c. */
#ifndef JVAE_IO_MODEL_FILE_H
#define JVAE_IO_MODEL_FILE_H

#include "io/safetensors.h"
#include "jointvae/model.h"

/* Put the header keys (with `kind`), the model and loss options and every
 * parameter tensor (borrowed from the model) into the writer.
 * Errors: NUMERIC (a non-finite parameter: such a file could not be loaded),
 * OUT_OF_MEMORY, OVERFLOW. */
jvae_status jvae_io_put_model(jvae_st_writer *writer, const jvae_model *model, const char *kind);

/* Build a model from an opened file: options from the metadata, parameters
 * from the tensors (each marked claimed). Does not check for extra tensors.
 * Errors: FORMAT, VERSION, IO, OUT_OF_MEMORY. */
jvae_status jvae_io_get_model(jvae_st_file *file, jvae_model **out);

/* FORMAT naming the first tensor nobody claimed whose name does not start
 * with `allowed_prefix` (NULL: none allowed). */
jvae_status jvae_io_check_all_claimed(const jvae_st_file *file, const char *allowed_prefix);

/* Read a claimed tensor of `count` floats into dst and check every value is
 * finite (and >= 0 when non_negative). Errors: FORMAT, IO. */
jvae_status jvae_io_read_checked(jvae_st_file *file, jvae_st_tensor *tensor, float *dst,
                                 int non_negative);

#endif
