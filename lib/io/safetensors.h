/* Internal: the safetensors container (float32 tensors only), read with every
 * check docs/file-format.md lists, and written atomically.
 *
 * Layout: u64 little-endian header length N | N bytes of JSON header | data.
 * The header maps tensor names to {"dtype", "shape", "data_offsets"} (offsets
 * in bytes, relative to the start of the data section) and may hold a
 * "__metadata__" object of string values. */
#ifndef JVAE_IO_SAFETENSORS_H
#define JVAE_IO_SAFETENSORS_H

#include <jansson.h>
#include <stdint.h>

#include "jointvae/core.h"

/* Largest accepted JSON header, as in the reference safetensors implementation. */
#define JVAE_ST_MAX_HEADER_BYTES 100000000u

typedef struct jvae_st_tensor {
    const char *name; /* owned by the file's JSON header */
    int ndim;
    int64_t shape[JVAE_TENSOR_MAX_DIMS];
    uint64_t numel;
    uint64_t begin, end; /* byte offsets within the data section */
    int claimed;         /* set by the reader's user when it consumes the tensor */
} jvae_st_tensor;

typedef struct jvae_st_file {
    const char *path; /* borrowed, for messages */
    int fd;
    uint64_t data_start; /* 8 + N */
    uint64_t data_bytes;
    json_t *header;
    json_t *metadata; /* borrowed from header; NULL when absent */
    jvae_st_tensor *tensors;
    size_t count;
} jvae_st_file;

/* Open `path` and validate its whole structure: sizes, header length and
 * limit, JSON syntax, duplicate names, dtype, shapes, offsets in bounds,
 * non-overlapping and covering the data section exactly, metadata values.
 * Errors: IO (cannot open/read, not a regular file), FORMAT (message says what
 * is wrong), OUT_OF_MEMORY. On failure `file` holds nothing to close. */
jvae_status jvae_st_open(jvae_st_file *file, const char *path);
void jvae_st_close(jvae_st_file *file);

/* The tensor called `name`, or NULL. */
jvae_st_tensor *jvae_st_find(const jvae_st_file *file, const char *name);

/* The metadata string under `key`, or NULL when absent. */
const char *jvae_st_meta(const jvae_st_file *file, const char *key);

/* Read the tensor's numel floats into dst (host byte order). Errors: IO,
 * FORMAT (the file ended early: it changed after it was opened). */
jvae_status jvae_st_read(jvae_st_file *file, const jvae_st_tensor *tensor, float *dst);

/* ---------------------------------------------------------------- writer */

typedef struct jvae_st_chunk {
    const float *data; /* borrowed until jvae_st_writer_save returns */
    size_t count;
} jvae_st_chunk;

typedef struct jvae_st_writer {
    json_t *header;
    json_t *metadata;
    jvae_st_chunk *chunks;
    size_t count, capacity;
    uint64_t data_bytes;
} jvae_st_writer;

/* Errors: OUT_OF_MEMORY. */
jvae_status jvae_st_writer_init(jvae_st_writer *writer);
/* Add a metadata string. Errors: OUT_OF_MEMORY. */
jvae_status jvae_st_writer_meta(jvae_st_writer *writer, const char *key, const char *value);
/* Append a tensor; `data` (numel floats) is borrowed until save.
 * Errors: INVALID_ARGUMENT (duplicate name), OVERFLOW, OUT_OF_MEMORY. */
jvae_status jvae_st_writer_tensor(jvae_st_writer *writer, const char *name, int ndim,
                                  const int64_t *shape, const float *data);
/* Write header and data to `path` through a temporary file and rename.
 * Errors: IO, OUT_OF_MEMORY. */
jvae_status jvae_st_writer_save(jvae_st_writer *writer, const char *path);
void jvae_st_writer_free(jvae_st_writer *writer);

#endif
