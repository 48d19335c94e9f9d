#include "io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/atomic_file.h"

static int host_is_little_endian(void)
{
    const uint16_t probe = 1;
    return *(const unsigned char *)&probe == 1;
}

static void swap_bytes_32(void *data, size_t count)
{
    unsigned char *p = data;
    for (size_t i = 0; i < count; i++, p += 4) {
        unsigned char a = p[0], b = p[1];
        p[0] = p[3];
        p[1] = p[2];
        p[2] = b;
        p[3] = a;
    }
}

/* ---------------------------------------------------------------- reader */

/* Read exactly `bytes` at `offset`. */
static jvae_status read_at(jvae_st_file *file, void *dst, size_t bytes, uint64_t offset)
{
    unsigned char *p = dst;
    while (bytes > 0) {
        ssize_t got = pread(file->fd, p, bytes, (off_t)offset);
        if (got < 0) {
            if (errno == EINTR) continue;
            return jvae_fail(JVAE_ERR_IO, "%s: read failed: %s", file->path, strerror(errno));
        }
        if (got == 0)
            return jvae_fail(JVAE_ERR_FORMAT, "%s: the file ended early (it changed while read)",
                             file->path);
        p += got;
        bytes -= (size_t)got;
        offset += (uint64_t)got;
    }
    return JVAE_OK;
}

static jvae_status format_error(const jvae_st_file *file, const char *what)
{
    return jvae_fail(JVAE_ERR_FORMAT, "%s: %s", file->path, what);
}

/* A JSON integer in [0, max]; jansson already rejected integers beyond
 * long long ("too big integer"). */
static int json_count(const json_t *value, uint64_t max, uint64_t *out)
{
    if (!json_is_integer(value)) return 0;
    json_int_t v = json_integer_value(value);
    if (v < 0 || (uint64_t)v > max) return 0;
    *out = (uint64_t)v;
    return 1;
}

static jvae_status parse_tensor(jvae_st_file *file, const char *name, json_t *entry,
                                jvae_st_tensor *t)
{
    const char *path = file->path;
    if (!json_is_object(entry))
        return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s': entry is not a JSON object", path,
                         name);
    if (name[0] == '\0')
        return jvae_fail(JVAE_ERR_FORMAT, "%s: a tensor has an empty name", path);
    const char *key;
    json_t *value;
    json_object_foreach(entry, key, value) {
        if (strcmp(key, "dtype") != 0 && strcmp(key, "shape") != 0 &&
            strcmp(key, "data_offsets") != 0)
            return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s': unknown field '%s'", path, name,
                             key);
    }
    json_t *dtype = json_object_get(entry, "dtype");
    json_t *shape = json_object_get(entry, "shape");
    json_t *offsets = json_object_get(entry, "data_offsets");
    if (dtype == NULL || shape == NULL || offsets == NULL)
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: tensor '%s': needs the fields dtype, shape and data_offsets", path,
                         name);
    if (!json_is_string(dtype))
        return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s': dtype is not a string", path, name);
    if (strcmp(json_string_value(dtype), "F32") != 0)
        return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s': dtype %s is not supported (only F32)",
                         path, name, json_string_value(dtype));
    if (!json_is_array(shape))
        return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s': shape is not an array", path, name);
    size_t ndim = json_array_size(shape);
    if (ndim > JVAE_TENSOR_MAX_DIMS)
        return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s': %zu dimensions, at most %d supported",
                         path, name, ndim, JVAE_TENSOR_MAX_DIMS);
    uint64_t numel = 1;
    t->name = name;
    t->ndim = (int)ndim;
    for (size_t i = 0; i < ndim; i++) {
        uint64_t extent;
        if (!json_count(json_array_get(shape, i), (uint64_t)INT64_MAX, &extent))
            return jvae_fail(JVAE_ERR_FORMAT,
                             "%s: tensor '%s': shape[%zu] is not a non-negative integer", path,
                             name, i);
        t->shape[i] = (int64_t)extent;
        if (extent != 0 && numel > UINT64_MAX / extent)
            return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s': element count overflows", path,
                             name);
        numel *= extent;
    }
    if (numel > UINT64_MAX / sizeof(float))
        return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s': byte size overflows", path, name);
    t->numel = numel;
    if (!json_is_array(offsets) || json_array_size(offsets) != 2)
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets is not an array of two integers", path,
                         name);
    if (!json_count(json_array_get(offsets, 0), UINT64_MAX, &t->begin) ||
        !json_count(json_array_get(offsets, 1), UINT64_MAX, &t->end))
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets are not non-negative integers", path,
                         name);
    if (t->begin > t->end || t->end > file->data_bytes)
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%llu, %llu] fall outside the data "
                         "section of %llu bytes",
                         path, name, (unsigned long long)t->begin, (unsigned long long)t->end,
                         (unsigned long long)file->data_bytes);
    if (t->end - t->begin != numel * sizeof(float))
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets span %llu bytes but the shape needs %llu",
                         path, name, (unsigned long long)(t->end - t->begin),
                         (unsigned long long)(numel * sizeof(float)));
    return JVAE_OK;
}

static jvae_status check_metadata(const jvae_st_file *file, json_t *metadata)
{
    if (!json_is_object(metadata)) return format_error(file, "__metadata__ is not an object");
    const char *key;
    json_t *value;
    json_object_foreach(metadata, key, value) {
        if (!json_is_string(value))
            return jvae_fail(JVAE_ERR_FORMAT,
                             "%s: __metadata__ value of '%s' is not a string", file->path, key);
    }
    return JVAE_OK;
}

static int by_offset(const void *a, const void *b)
{
    const jvae_st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Tensors must tile the data section: no overlap, no gap, nothing after. */
static jvae_status check_coverage(jvae_st_file *file)
{
    jvae_st_tensor *sorted = malloc((file->count ? file->count : 1) * sizeof *sorted);
    if (sorted == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: out of memory", file->path);
    memcpy(sorted, file->tensors, file->count * sizeof *sorted);
    qsort(sorted, file->count, sizeof *sorted, by_offset);
    uint64_t covered = 0;
    jvae_status st = JVAE_OK;
    for (size_t i = 0; i < file->count && st == JVAE_OK; i++) {
        if (sorted[i].begin < covered)
            st = jvae_fail(JVAE_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the data section",
                           file->path, sorted[i - 1].name, sorted[i].name);
        else if (sorted[i].begin > covered)
            st = jvae_fail(JVAE_ERR_FORMAT,
                           "%s: data bytes [%llu, %llu) belong to no tensor", file->path,
                           (unsigned long long)covered, (unsigned long long)sorted[i].begin);
        else
            covered = sorted[i].end;
    }
    if (st == JVAE_OK && covered != file->data_bytes)
        st = jvae_fail(JVAE_ERR_FORMAT,
                       "%s: data bytes [%llu, %llu) after the last tensor belong to no tensor",
                       file->path, (unsigned long long)covered,
                       (unsigned long long)file->data_bytes);
    free(sorted);
    return st;
}

static jvae_status parse_header(jvae_st_file *file, const char *text, size_t length)
{
    if (text[0] != '{') return format_error(file, "the header does not start with '{'");
    json_error_t error;
    file->header = json_loadb(text, length, JSON_REJECT_DUPLICATES, &error);
    if (file->header == NULL)
        return jvae_fail(JVAE_ERR_FORMAT, "%s: the header is not valid JSON: %s (at byte %d)",
                         file->path, error.text, error.position);
    if (!json_is_object(file->header))
        return format_error(file, "the header is not a JSON object");
    size_t entries = json_object_size(file->header);
    file->metadata = json_object_get(file->header, "__metadata__");
    if (file->metadata != NULL) {
        jvae_status st = check_metadata(file, file->metadata);
        if (st) return st;
        entries--;
    }
    file->tensors = calloc(entries ? entries : 1, sizeof *file->tensors);
    if (file->tensors == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu tensor entries",
                         file->path, entries);
    const char *name;
    json_t *entry;
    json_object_foreach(file->header, name, entry) {
        if (strcmp(name, "__metadata__") == 0) continue;
        jvae_status st = parse_tensor(file, name, entry, &file->tensors[file->count]);
        if (st) return st;
        file->count++;
    }
    return check_coverage(file);
}

jvae_status jvae_st_open(jvae_st_file *file, const char *path)
{
    memset(file, 0, sizeof *file);
    file->path = path;
    /* O_NONBLOCK: opening a FIFO must not hang before we can see it is not a
     * regular file; it has no effect on regular files. */
    file->fd = open(path, O_RDONLY | O_NONBLOCK);
    if (file->fd < 0) return jvae_fail(JVAE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat info;
    jvae_status st = JVAE_OK;
    char *text = NULL;
    if (fstat(file->fd, &info) != 0) {
        st = jvae_fail(JVAE_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(info.st_mode)) {
        st = jvae_fail(JVAE_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    uint64_t size = (uint64_t)info.st_size;
    if (size < 8) {
        st = jvae_fail(JVAE_ERR_FORMAT,
                       "%s: the file has %llu bytes, fewer than the 8-byte header length", path,
                       (unsigned long long)size);
        goto done;
    }
    unsigned char prefix[8];
    if ((st = read_at(file, prefix, sizeof prefix, 0))) goto done;
    uint64_t header_bytes = 0;
    for (int i = 7; i >= 0; i--) header_bytes = (header_bytes << 8) | prefix[i];
    if (header_bytes > JVAE_ST_MAX_HEADER_BYTES) {
        st = jvae_fail(JVAE_ERR_FORMAT, "%s: header length %llu exceeds the limit of %u bytes",
                       path, (unsigned long long)header_bytes, JVAE_ST_MAX_HEADER_BYTES);
        goto done;
    }
    if (header_bytes > size - 8) {
        st = jvae_fail(JVAE_ERR_FORMAT,
                       "%s: header length %llu runs past the end of the file (%llu bytes)", path,
                       (unsigned long long)header_bytes, (unsigned long long)size);
        goto done;
    }
    if (header_bytes < 2) {
        st = jvae_fail(JVAE_ERR_FORMAT, "%s: header length %llu is too short for a JSON object",
                       path, (unsigned long long)header_bytes);
        goto done;
    }
    file->data_start = 8 + header_bytes;
    file->data_bytes = size - file->data_start;
    text = malloc((size_t)header_bytes);
    if (text == NULL) {
        st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate the %llu-byte header", path,
                       (unsigned long long)header_bytes);
        goto done;
    }
    if ((st = read_at(file, text, (size_t)header_bytes, 8))) goto done;
    st = parse_header(file, text, (size_t)header_bytes);
done:
    free(text);
    if (st) jvae_st_close(file);
    return st;
}

void jvae_st_close(jvae_st_file *file)
{
    if (file->fd >= 0) close(file->fd);
    json_decref(file->header);
    free(file->tensors);
    memset(file, 0, sizeof *file);
    file->fd = -1;
}

jvae_st_tensor *jvae_st_find(const jvae_st_file *file, const char *name)
{
    for (size_t i = 0; i < file->count; i++)
        if (strcmp(file->tensors[i].name, name) == 0) return &file->tensors[i];
    return NULL;
}

const char *jvae_st_meta(const jvae_st_file *file, const char *key)
{
    if (file->metadata == NULL) return NULL;
    return json_string_value(json_object_get(file->metadata, key));
}

jvae_status jvae_st_read(jvae_st_file *file, const jvae_st_tensor *tensor, float *dst)
{
    size_t bytes = (size_t)(tensor->end - tensor->begin);
    jvae_status st = read_at(file, dst, bytes, file->data_start + tensor->begin);
    if (st) return st;
    if (!host_is_little_endian()) swap_bytes_32(dst, (size_t)tensor->numel);
    return JVAE_OK;
}

/* ---------------------------------------------------------------- writer */

static jvae_status writer_oom(void)
{
    return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "safetensors writer: out of memory");
}

jvae_status jvae_st_writer_init(jvae_st_writer *writer)
{
    memset(writer, 0, sizeof *writer);
    writer->header = json_object();
    writer->metadata = json_object();
    if (writer->header == NULL || writer->metadata == NULL ||
        json_object_set(writer->header, "__metadata__", writer->metadata) != 0) {
        jvae_st_writer_free(writer);
        return writer_oom();
    }
    json_decref(writer->metadata); /* the header holds it now */
    return JVAE_OK;
}

jvae_status jvae_st_writer_meta(jvae_st_writer *writer, const char *key, const char *value)
{
    if (json_object_set_new(writer->metadata, key, json_string(value)) != 0) return writer_oom();
    return JVAE_OK;
}

jvae_status jvae_st_writer_tensor(jvae_st_writer *writer, const char *name, int ndim,
                                  const int64_t *shape, const float *data)
{
    if (json_object_get(writer->header, name) != NULL)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "safetensors writer: duplicate tensor '%s'",
                         name);
    size_t numel = 1, bytes, end;
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || !jvae_mul_ok(numel, (size_t)shape[i], &numel))
            return jvae_fail(JVAE_ERR_OVERFLOW, "safetensors writer: tensor '%s' is too large",
                             name);
    if (!jvae_mul_ok(numel, sizeof(float), &bytes) ||
        !jvae_add_ok((size_t)writer->data_bytes, bytes, &end))
        return jvae_fail(JVAE_ERR_OVERFLOW, "safetensors writer: tensor '%s' is too large", name);
    if (writer->count == writer->capacity) {
        size_t capacity = writer->capacity ? 2 * writer->capacity : 32;
        jvae_st_chunk *grown = realloc(writer->chunks, capacity * sizeof *grown);
        if (grown == NULL) return writer_oom();
        writer->chunks = grown;
        writer->capacity = capacity;
    }
    json_t *dims = json_array();
    json_t *offsets = json_array();
    json_t *entry = json_object();
    int failed = dims == NULL || offsets == NULL || entry == NULL;
    for (int i = 0; i < ndim && !failed; i++)
        failed = json_array_append_new(dims, json_integer((json_int_t)shape[i])) != 0;
    failed = failed ||
             json_array_append_new(offsets, json_integer((json_int_t)writer->data_bytes)) != 0 ||
             json_array_append_new(offsets, json_integer((json_int_t)end)) != 0 ||
             json_object_set_new(entry, "dtype", json_string("F32")) != 0 ||
             json_object_set(entry, "shape", dims) != 0 ||
             json_object_set(entry, "data_offsets", offsets) != 0 ||
             json_object_set(writer->header, name, entry) != 0;
    json_decref(dims);
    json_decref(offsets);
    json_decref(entry);
    if (failed) return writer_oom();
    writer->chunks[writer->count].data = data;
    writer->chunks[writer->count].count = numel;
    writer->count++;
    writer->data_bytes = end;
    return JVAE_OK;
}

static jvae_status write_floats(jvae_atomic_file *out, const float *data, size_t count)
{
    if (host_is_little_endian()) return jvae_atomic_write(out, data, count * sizeof(float));
    float buffer[1024];
    while (count > 0) {
        size_t n = count < 1024 ? count : 1024;
        memcpy(buffer, data, n * sizeof(float));
        swap_bytes_32(buffer, n);
        jvae_status st = jvae_atomic_write(out, buffer, n * sizeof(float));
        if (st) return st;
        data += n;
        count -= n;
    }
    return JVAE_OK;
}

jvae_status jvae_st_writer_save(jvae_st_writer *writer, const char *path)
{
    char *text = json_dumps(writer->header, JSON_COMPACT);
    if (text == NULL) return writer_oom();
    /* Pad with spaces so the data section starts 8-byte aligned, as the
     * reference writer does. */
    size_t length = strlen(text);
    size_t padded = (length + 7) / 8 * 8;
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    static const char spaces[8] = "       ";
    jvae_atomic_file out;
    jvae_status st = jvae_atomic_open(&out, path);
    if (st) {
        free(text);
        return st;
    }
    if (!(st = jvae_atomic_write(&out, prefix, sizeof prefix)) &&
        !(st = jvae_atomic_write(&out, text, length)))
        st = jvae_atomic_write(&out, spaces, padded - length);
    for (size_t i = 0; i < writer->count && st == JVAE_OK; i++)
        st = write_floats(&out, writer->chunks[i].data, writer->chunks[i].count);
    free(text);
    if (st) {
        jvae_atomic_abort(&out);
        return st;
    }
    return jvae_atomic_commit(&out);
}

void jvae_st_writer_free(jvae_st_writer *writer)
{
    json_decref(writer->header);
    free(writer->chunks);
    memset(writer, 0, sizeof *writer);
}
