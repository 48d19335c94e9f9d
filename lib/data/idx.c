/* IDX files (MNIST, Fashion-MNIST): unsigned-byte images (N, rows, columns)
 * and labels (N), gzipped or not. The whole payload is kept as bytes (resized
 * once at open when asked) and converted to floats value/255 on read, as
 * torchvision's ToTensor does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/resample.h"

#define IDX_UNSIGNED_BYTE 0x08
/* A gzipped payload is read into a buffer grown as data arrives, so a tiny
 * hostile file declaring gigabytes costs only what it really holds. */
#define GZ_FIRST_CHUNK ((size_t)1 << 24)

typedef struct idx_state {
    uint8_t *pixels; /* (N, H, W) */
    uint8_t *labels; /* (N) or NULL */
} idx_state;

/* ------------------------------------------------------------------ reading */

typedef struct idx_reader {
    const char *path;
    FILE *plain;
    gzFile gz;
    int64_t file_bytes; /* size on disk (the compressed size for gzip) */
} idx_reader;

static jvae_status reader_open(idx_reader *reader, const char *path)
{
    memset(reader, 0, sizeof *reader);
    reader->path = path;
    FILE *file = fopen(path, "rb");
    if (file == NULL) return jvae_fail(JVAE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat info;
    if (fstat(fileno(file), &info) != 0) {
        int error = errno;
        fclose(file);
        return jvae_fail(JVAE_ERR_IO, "%s: cannot stat: %s", path, strerror(error));
    }
    reader->file_bytes = (int64_t)info.st_size;
    unsigned char magic[2] = {0, 0};
    size_t got = fread(magic, 1, 2, file);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        fclose(file);
        reader->gz = gzopen(path, "rb");
        if (reader->gz == NULL)
            return jvae_fail(JVAE_ERR_IO, "%s: cannot open the gzip stream: %s", path,
                             errno ? strerror(errno) : "out of memory");
        gzbuffer(reader->gz, 1 << 17);
        return JVAE_OK;
    }
    rewind(file);
    reader->plain = file;
    return JVAE_OK;
}

static void reader_close(idx_reader *reader)
{
    if (reader->plain) fclose(reader->plain);
    if (reader->gz) gzclose_r(reader->gz);
    reader->plain = NULL;
    reader->gz = NULL;
}

/* zlib's message without the "<path>: " it puts in front. */
static const char *gz_message(const idx_reader *reader, int *code)
{
    const char *text = gzerror(reader->gz, code);
    size_t length = strlen(reader->path);
    if (strncmp(text, reader->path, length) == 0 && text[length] == ':' && text[length + 1] == ' ')
        text += length + 2;
    return text;
}

/* Read up to `size` bytes; *got receives how many, fewer only at the end of
 * the data. Errors: IO for the disk, FORMAT for a gzip stream that is corrupt
 * or ends before its trailer. */
static jvae_status reader_read(idx_reader *reader, uint8_t *buffer, size_t size, size_t *got)
{
    *got = 0;
    if (reader->plain) {
        *got = fread(buffer, 1, size, reader->plain);
        if (*got < size && ferror(reader->plain))
            return jvae_fail(JVAE_ERR_IO, "%s: read failed: %s", reader->path, strerror(errno));
        return JVAE_OK;
    }
    while (*got < size) {
        size_t want = size - *got;
        if (want > ((size_t)1 << 30)) want = (size_t)1 << 30;
        int n = gzread(reader->gz, buffer + *got, (unsigned)want);
        if (n > 0) {
            *got += (size_t)n;
            continue;
        }
        /* zlib reports a stream cut short as a plain end with an error kept
         * for gzerror, so the end of data is only clean when no error is set. */
        int code;
        const char *text = gz_message(reader, &code);
        if (code == Z_ERRNO)
            return jvae_fail(JVAE_ERR_IO, "%s: read failed: %s", reader->path, strerror(errno));
        if (code != Z_OK)
            return jvae_fail(JVAE_ERR_FORMAT, "%s: %s gzip stream: %s", reader->path,
                             code == Z_BUF_ERROR ? "truncated" : "corrupt", text);
        break;
    }
    return JVAE_OK;
}

static uint32_t big_endian32(const uint8_t *bytes)
{
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 |
           (uint32_t)bytes[3];
}

/* Read a whole IDX file of `ndim` dimensions of unsigned bytes. dims receives
 * the extents, *data the payload (owned by the caller). */
static jvae_status read_idx_file(const char *path, const char *what, int ndim, uint32_t *dims,
                                 uint8_t **data)
{
    *data = NULL;
    idx_reader reader;
    jvae_status status = reader_open(&reader, path);
    if (status) return status;

    uint8_t header[4 + 4 * 3];
    size_t header_bytes = 4 + 4 * (size_t)ndim, got;
    status = reader_read(&reader, header, 4, &got);
    if (status == JVAE_OK && got < 4)
        status = jvae_fail(JVAE_ERR_FORMAT, "%s: truncated: %zu bytes, shorter than an IDX header",
                           path, got);
    if (status == JVAE_OK && (header[0] != 0 || header[1] != 0))
        status = jvae_fail(JVAE_ERR_FORMAT,
                           "%s: bad magic %02x %02x %02x %02x: not an IDX file (which starts "
                           "00 00 <type> <rank>)",
                           path, header[0], header[1], header[2], header[3]);
    if (status == JVAE_OK && header[2] != IDX_UNSIGNED_BYTE)
        status = jvae_fail(JVAE_ERR_FORMAT,
                           "%s: element type 0x%02x is not supported (only unsigned bytes, 0x08)",
                           path, header[2]);
    if (status == JVAE_OK && header[3] != ndim)
        status = jvae_fail(JVAE_ERR_FORMAT, "%s: an IDX %s file has %d dimensions, this one has %d",
                           path, what, ndim, header[3]);
    if (status == JVAE_OK) {
        status = reader_read(&reader, header + 4, header_bytes - 4, &got);
        if (status == JVAE_OK && got < header_bytes - 4)
            status = jvae_fail(JVAE_ERR_FORMAT, "%s: truncated in the header", path);
    }
    if (status) {
        reader_close(&reader);
        return status;
    }

    /* Every extent is below 2^32 and the image sides are capped, so the
     * product cannot overflow 64 bits before the limit check. */
    uint64_t payload = 1;
    for (int i = 0; i < ndim; i++) {
        dims[i] = big_endian32(header + 4 + 4 * i);
        if (dims[i] == 0)
            status = jvae_fail(JVAE_ERR_FORMAT, "%s: dimension %d is 0", path, i);
        else if (i > 0 && dims[i] > JVAE_IDX_MAX_SIDE)
            status = jvae_fail(JVAE_ERR_FORMAT,
                               "%s: dimension %d is %u, over the limit of %d (JVAE_IDX_MAX_SIDE)",
                               path, i, dims[i], JVAE_IDX_MAX_SIDE);
        if (status) break;
        payload *= dims[i];
    }
    if (status == JVAE_OK && payload > (uint64_t)JVAE_IDX_MAX_BYTES)
        status = jvae_fail(JVAE_ERR_FORMAT,
                           "%s: the header declares %llu bytes of %s, over the limit of %lld "
                           "(JVAE_IDX_MAX_BYTES)",
                           path, (unsigned long long)payload, what, (long long)JVAE_IDX_MAX_BYTES);
    if (status == JVAE_OK && payload > SIZE_MAX)
        status = jvae_fail(JVAE_ERR_OVERFLOW, "%s: %llu bytes do not fit in memory", path,
                           (unsigned long long)payload);
    if (status == JVAE_OK && reader.plain &&
        (uint64_t)reader.file_bytes != header_bytes + payload)
        status = jvae_fail(JVAE_ERR_FORMAT,
                           "%s: the header declares %llu bytes of %s, the file holds %lld after "
                           "its %zu-byte header",
                           path, (unsigned long long)payload, what,
                           (long long)(reader.file_bytes - (int64_t)header_bytes), header_bytes);
    if (status) {
        reader_close(&reader);
        return status;
    }

    size_t capacity = reader.plain || payload < GZ_FIRST_CHUNK ? (size_t)payload : GZ_FIRST_CHUNK;
    uint8_t *buffer = malloc(capacity);
    size_t filled = 0;
    while (status == JVAE_OK && buffer != NULL) {
        status = reader_read(&reader, buffer + filled, capacity - filled, &got);
        filled += got;
        if (status || filled < capacity || capacity == payload) break;
        size_t grown = capacity * 2 < payload ? capacity * 2 : (size_t)payload;
        uint8_t *larger = realloc(buffer, grown);
        if (larger == NULL) {
            free(buffer);
            buffer = NULL;
            break;
        }
        buffer = larger;
        capacity = grown;
    }
    if (status == JVAE_OK && buffer == NULL)
        status = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %llu bytes of %s", path,
                           (unsigned long long)payload, what);
    if (status == JVAE_OK && filled < payload)
        status = jvae_fail(JVAE_ERR_FORMAT,
                           "%s: truncated: the header declares %llu bytes of %s, the file holds "
                           "%zu",
                           path, (unsigned long long)payload, what, filled);
    if (status == JVAE_OK && reader.gz) {
        uint8_t extra;
        status = reader_read(&reader, &extra, 1, &got);
        if (status == JVAE_OK && got != 0)
            status = jvae_fail(JVAE_ERR_FORMAT,
                               "%s: the gzip stream holds more than the %llu bytes of %s its "
                               "header declares",
                               path, (unsigned long long)payload, what);
    }
    reader_close(&reader);
    if (status) {
        free(buffer);
        return status;
    }
    *data = buffer;
    return JVAE_OK;
}

/* ------------------------------------------------------------------ data set */

static jvae_status idx_read(const jvae_dataset *dataset, int64_t index, float *image,
                            int32_t *labels)
{
    const idx_state *idx = dataset->state;
    size_t pixels = (size_t)dataset->height * (size_t)dataset->width;
    const uint8_t *src = idx->pixels + (size_t)index * pixels;
    for (size_t i = 0; i < pixels; i++) image[i] = (float)src[i] / 255.0f;
    if (labels != NULL && idx->labels != NULL) labels[0] = idx->labels[index];
    return JVAE_OK;
}

static void idx_release(void *state)
{
    idx_state *idx = state;
    if (idx == NULL) return;
    free(idx->pixels);
    free(idx->labels);
    free(idx);
}

static const jvae_dataset_ops idx_ops = {idx_read, idx_release};

jvae_status jvae_idx_options_init(jvae_idx_options *options)
{
    JVAE_CHECK_NOT_NULL(options, "jvae_idx_options_init");
    memset(options, 0, sizeof *options);
    options->version = JVAE_IDX_OPTIONS_VERSION;
    options->resize = 0;
    options->filter = JVAE_RESIZE_BILINEAR;
    return JVAE_OK;
}

/* Resize every image of `*pixels` (count, in_h, in_w) to side x side. */
static jvae_status resize_all(uint8_t **pixels, const char *path, uint32_t count, int in_h,
                              int in_w, int side, jvae_resize_filter filter)
{
    uint64_t bytes = (uint64_t)count * (uint64_t)side * (uint64_t)side;
    if (bytes > (uint64_t)JVAE_IDX_MAX_BYTES || bytes > SIZE_MAX)
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: %u images resized to %d x %d need %llu bytes, over the limit of "
                         "%lld (JVAE_IDX_MAX_BYTES)",
                         path, count, side, side, (unsigned long long)bytes,
                         (long long)JVAE_IDX_MAX_BYTES);
    jvae_resample_plan plan;
    jvae_status status = jvae_resample_plan_init(&plan, in_w, in_h, side, side, filter);
    if (status) return status;
    uint8_t *resized = malloc((size_t)bytes);
    uint8_t *scratch = malloc(jvae_resample_scratch_bytes(&plan, 1));
    if (resized == NULL || scratch == NULL) {
        free(resized);
        free(scratch);
        jvae_resample_plan_release(&plan);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %llu bytes for resizing",
                         path, (unsigned long long)bytes);
    }
    size_t in_bytes = (size_t)in_h * (size_t)in_w, out_bytes = (size_t)side * (size_t)side;
    for (size_t i = 0; i < count; i++)
        jvae_resample_u8(&plan, resized + i * out_bytes, *pixels + i * in_bytes, (size_t)in_w, 1,
                         scratch);
    free(scratch);
    jvae_resample_plan_release(&plan);
    free(*pixels);
    *pixels = resized;
    return JVAE_OK;
}

static jvae_status check_options(const char *fn, const jvae_idx_options *options)
{
    if (options->version != JVAE_IDX_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION, "%s: options version %u, this library knows %d", fn,
                         options->version, JVAE_IDX_OPTIONS_VERSION);
    if (options->resize < 0 || options->resize > JVAE_IDX_MAX_SIDE)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: resize must be 0..%d, got %d", fn,
                         JVAE_IDX_MAX_SIDE, options->resize);
    if (options->filter != JVAE_RESIZE_AUTO && options->filter != JVAE_RESIZE_BILINEAR &&
        options->filter != JVAE_RESIZE_AREA)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: unknown resize filter %d", fn,
                         (int)options->filter);
    return JVAE_OK;
}

jvae_status jvae_dataset_idx_open(jvae_dataset **out, const char *images_path,
                                  const char *labels_path, const jvae_idx_options *options)
{
    const char *fn = "jvae_dataset_idx_open";
    JVAE_CHECK_NOT_NULL(out, fn);
    *out = NULL;
    JVAE_CHECK_NOT_NULL(images_path, fn);
    jvae_idx_options defaults;
    jvae_idx_options_init(&defaults);
    if (options == NULL) options = &defaults;
    jvae_status status = check_options(fn, options);
    if (status) return status;

    idx_state *idx = calloc(1, sizeof *idx);
    if (idx == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    uint32_t image_dims[3] = {0, 0, 0}, label_dims[1] = {0};
    status = read_idx_file(images_path, "images", 3, image_dims, &idx->pixels);
    if (status == JVAE_OK && labels_path != NULL)
        status = read_idx_file(labels_path, "labels", 1, label_dims, &idx->labels);
    if (status == JVAE_OK && labels_path != NULL && label_dims[0] != image_dims[0])
        status = jvae_fail(JVAE_ERR_FORMAT, "%s: %u labels for the %u images of %s", labels_path,
                           label_dims[0], image_dims[0], images_path);
    int height = (int)image_dims[1], width = (int)image_dims[2];
    int side = options->resize;
    if (status == JVAE_OK && side > 0 && (side != height || side != width)) {
        status = resize_all(&idx->pixels, images_path, image_dims[0], height, width, side,
                            options->filter);
        height = width = side;
    }
    if (status) {
        idx_release(idx);
        return status;
    }

    jvae_dataset *dataset;
    status = jvae_dataset_new(&dataset, fn, JVAE_DATASET_IDX, &idx_ops, idx);
    if (status) return status;
    dataset->size = image_dims[0];
    dataset->channels = 1;
    dataset->height = height;
    dataset->width = width;
    if (idx->labels != NULL) {
        int largest = 0;
        for (uint32_t i = 0; i < image_dims[0]; i++)
            if (idx->labels[i] > largest) largest = idx->labels[i];
        dataset->label_count = 1;
        dataset->label_classes[0] = largest + 1;
    }
    *out = dataset;
    return JVAE_OK;
}

/* Fill `path` with prefix + stem + ".gz" when that file exists, else with
 * prefix + stem when that one does; IO naming both otherwise. */
static jvae_status find_member(char **path, const char *prefix, const char *stem)
{
    size_t length = strlen(prefix) + strlen(stem) + 4;
    *path = malloc(length);
    if (*path == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "jvae_dataset_idx_open_prefix: cannot allocate");
    struct stat info;
    snprintf(*path, length, "%s%s.gz", prefix, stem);
    if (stat(*path, &info) == 0) return JVAE_OK;
    snprintf(*path, length, "%s%s", prefix, stem);
    if (stat(*path, &info) == 0) return JVAE_OK;
    jvae_status status = jvae_fail(JVAE_ERR_IO, "jvae_dataset_idx_open_prefix: neither %s.gz nor %s exists",
                                   *path, *path);
    free(*path);
    *path = NULL;
    return status;
}

jvae_status jvae_dataset_idx_open_prefix(jvae_dataset **out, const char *prefix,
                                         const jvae_idx_options *options)
{
    JVAE_CHECK_NOT_NULL(out, "jvae_dataset_idx_open_prefix");
    *out = NULL;
    JVAE_CHECK_NOT_NULL(prefix, "jvae_dataset_idx_open_prefix");
    char *images = NULL, *labels = NULL;
    jvae_status status = find_member(&images, prefix, "-images-idx3-ubyte");
    if (status == JVAE_OK) status = find_member(&labels, prefix, "-labels-idx1-ubyte");
    if (status == JVAE_OK) status = jvae_dataset_idx_open(out, images, labels, options);
    free(images);
    free(labels);
    return status;
}
