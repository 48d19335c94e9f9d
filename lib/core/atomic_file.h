/* Internal: files written whole or not at all. Data goes to a fresh temporary
 * file "<path>.tmp-XXXXXX" in the destination's folder (so the final rename
 * stays on one file system and is atomic); commit flushes it to disk and
 * renames it over `path`; any failure removes the temporary file, leaving an
 * existing file at `path` untouched. */
#ifndef JVAE_CORE_ATOMIC_FILE_H
#define JVAE_CORE_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "jointvae/core.h"

typedef struct jvae_atomic_file {
    FILE *stream;
    char *temp_path;  /* owned */
    char *final_path; /* owned copy */
} jvae_atomic_file;

/* Create the temporary file. Errors: IO (the message names the folder and the
 * errno text), OUT_OF_MEMORY. On failure nothing is left on disk. */
jvae_status jvae_atomic_open(jvae_atomic_file *file, const char *path);

/* Append bytes. Errors: IO. After a failure, call jvae_atomic_abort. */
jvae_status jvae_atomic_write(jvae_atomic_file *file, const void *data, size_t bytes);

/* Flush, fsync, close and rename into place (then fsync the folder, best
 * effort). Errors: IO; the temporary file is removed on failure. The struct is
 * released either way. */
jvae_status jvae_atomic_commit(jvae_atomic_file *file);

/* Close and remove the temporary file, release the struct. Safe after a failed
 * open (no-op). */
void jvae_atomic_abort(jvae_atomic_file *file);

#endif
