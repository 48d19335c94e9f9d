/*
 * Shared by the fuzz targets (tests/fuzz/README.md): each writes the fuzzer's
 * bytes to a file, hands the file to one loader of the public API, and
 * aborts on what no input may cause besides a crash or a sanitizer report:
 * a failure without a message, an output handle set on failure, or (for
 * loaders that succeed) data outside its contract. A refusal with a message
 * is the right answer to almost every input.
 */
#ifndef JVAE_FUZZ_H
#define JVAE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "jointvae/jointvae.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* path = this process's scratch folder + "/" + name. The folder is made on
 * the first call (under /dev/shm when it exists, else $TMPDIR or /tmp) and
 * removed with its contents when the process exits. */
void fuzz_path(char *path, size_t size, const char *name);

/* Write size bytes to path, or abort. */
void fuzz_write(const char *path, const uint8_t *data, size_t size);

/* Write a safetensors file: the input as it is, or, when it starts with '{',
 * as the JSON header of a file whose data section is zeros up to the largest
 * data_offsets end the header names (at most 64 MiB), so that mutations
 * reach the header instead of megabytes of floats. */
void fuzz_write_safetensors(const char *path, const uint8_t *data, size_t size);

/* Abort when st is an error without a message. */
void fuzz_check(jvae_status st);

/* After a data set's open: abort unless st and the handle agree; then read
 * the first `reads` images (labels too), each of which must succeed, or, when
 * `reads_may_fail` (an image folder decodes at read), fail with a message,
 * and hold values in [0, 1]. Frees the data set. */
void fuzz_check_dataset(jvae_status st, jvae_dataset *dataset, int64_t reads,
                        int reads_may_fail);

#endif
