/* Image folders: PNG and JPEG files listed once, decoded on every read,
 * centre-cropped to a square and resized (docs/data.md has the rules). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/image_decode.h"
#include "data/resample.h"

#define FOLDER_MAX_SIZE 4096

typedef struct folder_state {
    char *directory;
    char **names; /* (count) sorted file names */
    int64_t count;
    jvae_resize_filter filter;
} folder_state;

static void folder_release(void *state)
{
    folder_state *folder = state;
    if (folder == NULL) return;
    for (int64_t i = 0; i < folder->count; i++) free(folder->names[i]);
    free(folder->names);
    free(folder->directory);
    free(folder);
}

static char *join_path(const char *directory, const char *name)
{
    size_t length = strlen(directory) + strlen(name) + 2;
    char *path = malloc(length);
    if (path != NULL) snprintf(path, length, "%s/%s", directory, name);
    return path;
}

static jvae_status folder_read(const jvae_dataset *dataset, int64_t index, float *image,
                               int32_t *labels)
{
    (void)labels; /* folder images have no labels */
    const folder_state *folder = dataset->state;
    char *path = join_path(folder->directory, folder->names[index]);
    if (path == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "jvae_dataset_read: cannot allocate");
    jvae_decoded_image decoded;
    jvae_status status = jvae_image_decode(&decoded, path, dataset->channels, 0);
    free(path);
    if (status) return status;

    int channels = dataset->channels, size = dataset->width;
    int side = decoded.width < decoded.height ? decoded.width : decoded.height;
    size_t stride = (size_t)decoded.width * (size_t)channels;
    const uint8_t *crop = decoded.pixels + (size_t)((decoded.height - side) / 2) * stride +
                          (size_t)((decoded.width - side) / 2) * (size_t)channels;
    jvae_resample_plan plan;
    status = jvae_resample_plan_init(&plan, side, side, size, size, folder->filter);
    size_t out_bytes = (size_t)size * (size_t)size * (size_t)channels;
    uint8_t *buffer = NULL;
    if (status == JVAE_OK) {
        buffer = malloc(out_bytes + jvae_resample_scratch_bytes(&plan, channels));
        if (buffer == NULL)
            status = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "jvae_dataset_read: cannot allocate");
    }
    if (status == JVAE_OK) {
        jvae_resample_u8(&plan, buffer, crop, stride, channels, buffer + out_bytes);
        /* (size, size, channels) interleaved bytes -> (channels, size, size) floats */
        size_t plane = (size_t)size * (size_t)size;
        for (size_t p = 0; p < plane; p++)
            for (int c = 0; c < channels; c++)
                image[(size_t)c * plane + p] = (float)buffer[p * (size_t)channels + (size_t)c] / 255.0f;
    }
    free(buffer);
    jvae_resample_plan_release(&plan);
    jvae_decoded_image_release(&decoded);
    return status;
}

static const jvae_dataset_ops folder_ops = {folder_read, folder_release};

jvae_status jvae_folder_options_init(jvae_folder_options *options)
{
    JVAE_CHECK_NOT_NULL(options, "jvae_folder_options_init");
    memset(options, 0, sizeof *options);
    options->version = JVAE_FOLDER_OPTIONS_VERSION;
    options->channels = 3;
    options->size = 64;
    options->filter = JVAE_RESIZE_AUTO;
    options->validate = 0;
    return JVAE_OK;
}

static int ends_with_ignoring_case(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    if (n < s) return 0;
    for (size_t i = 0; i < s; i++)
        if (tolower((unsigned char)name[n - s + i]) != suffix[i]) return 0;
    return 1;
}

/* The listing rule of data.h: a visible regular file named *.png, *.jpg or *.jpeg. */
static int is_listed(const char *directory, const char *name)
{
    if (name[0] == '.') return 0;
    if (!ends_with_ignoring_case(name, ".png") && !ends_with_ignoring_case(name, ".jpg") &&
        !ends_with_ignoring_case(name, ".jpeg"))
        return 0;
    char *path = join_path(directory, name);
    struct stat info;
    int regular = path != NULL && stat(path, &info) == 0 && S_ISREG(info.st_mode);
    free(path);
    return regular;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect the listed names of `directory` into folder->names, sorted. */
static jvae_status list_folder(folder_state *folder, const char *fn)
{
    DIR *dir = opendir(folder->directory);
    if (dir == NULL)
        return jvae_fail(JVAE_ERR_IO, "%s: cannot list %s: %s", fn, folder->directory,
                         strerror(errno));
    int64_t capacity = 0;
    jvae_status status = JVAE_OK;
    for (;;) {
        errno = 0;
        struct dirent *entry = readdir(dir);
        if (entry == NULL) {
            if (errno != 0)
                status = jvae_fail(JVAE_ERR_IO, "%s: cannot list %s: %s", fn, folder->directory,
                                   strerror(errno));
            break;
        }
        if (!is_listed(folder->directory, entry->d_name)) continue;
        if (folder->count == capacity) {
            int64_t grown = capacity ? capacity * 2 : 256;
            char **names = realloc(folder->names, (size_t)grown * sizeof *names);
            if (names == NULL) {
                status = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate the file list", fn);
                break;
            }
            folder->names = names;
            capacity = grown;
        }
        size_t length = strlen(entry->d_name) + 1;
        char *name = malloc(length);
        if (name == NULL) {
            status = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate the file list", fn);
            break;
        }
        memcpy(name, entry->d_name, length);
        folder->names[folder->count++] = name;
    }
    closedir(dir);
    if (status) return status;
    if (folder->count == 0)
        return jvae_fail(JVAE_ERR_FORMAT, "%s: %s holds no .png, .jpg or .jpeg file", fn,
                         folder->directory);
    qsort(folder->names, (size_t)folder->count, sizeof *folder->names, compare_names);
    return JVAE_OK;
}

static jvae_status check_options(const char *fn, const jvae_folder_options *options)
{
    if (options->version != JVAE_FOLDER_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION, "%s: options version %u, this library knows %d", fn,
                         options->version, JVAE_FOLDER_OPTIONS_VERSION);
    if (options->channels != 1 && options->channels != 3)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: channels must be 1 or 3, got %d", fn,
                         options->channels);
    if (options->size < 1 || options->size > FOLDER_MAX_SIZE)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: size must be 1..%d, got %d", fn,
                         FOLDER_MAX_SIZE, options->size);
    if (options->filter != JVAE_RESIZE_AUTO && options->filter != JVAE_RESIZE_BILINEAR &&
        options->filter != JVAE_RESIZE_AREA)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: unknown resize filter %d", fn,
                         (int)options->filter);
    if (options->validate != 0 && options->validate != 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: validate must be 0 or 1, got %d", fn,
                         options->validate);
    return JVAE_OK;
}

jvae_status jvae_dataset_folder_open(jvae_dataset **out, const char *directory,
                                     const jvae_folder_options *options)
{
    const char *fn = "jvae_dataset_folder_open";
    JVAE_CHECK_NOT_NULL(out, fn);
    *out = NULL;
    JVAE_CHECK_NOT_NULL(directory, fn);
    jvae_folder_options defaults;
    jvae_folder_options_init(&defaults);
    if (options == NULL) options = &defaults;
    jvae_status status = check_options(fn, options);
    if (status) return status;

    folder_state *folder = calloc(1, sizeof *folder);
    if (folder == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    folder->filter = options->filter;
    size_t length = strlen(directory) + 1;
    folder->directory = malloc(length);
    if (folder->directory == NULL) {
        folder_release(folder);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    }
    memcpy(folder->directory, directory, length);
    status = list_folder(folder, fn);
    for (int64_t i = 0; status == JVAE_OK && options->validate && i < folder->count; i++) {
        char *path = join_path(folder->directory, folder->names[i]);
        jvae_decoded_image header;
        status = path ? jvae_image_decode(&header, path, options->channels, 1)
                      : jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
        free(path);
    }
    if (status) {
        folder_release(folder);
        return status;
    }

    jvae_dataset *dataset;
    status = jvae_dataset_new(&dataset, fn, JVAE_DATASET_FOLDER, &folder_ops, folder);
    if (status) return status;
    dataset->size = folder->count;
    dataset->channels = options->channels;
    dataset->height = options->size;
    dataset->width = options->size;
    dataset->label_count = 0;
    *out = dataset;
    return JVAE_OK;
}

const char *jvae_dataset_folder_file(const jvae_dataset *dataset, int64_t index)
{
    if (dataset == NULL || dataset->kind != JVAE_DATASET_FOLDER) return NULL;
    const folder_state *folder = dataset->state;
    if (index < 0 || index >= folder->count) return NULL;
    return folder->names[index];
}
