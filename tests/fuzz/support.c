/* The fuzz targets' file handling and checks; see fuzz.h. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[256];

/* Delete path and, when it is a folder, everything in it. */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *folder = opendir(path);
        for (struct dirent *entry; folder != NULL && (entry = readdir(folder)) != NULL;) {
            if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
            char inner[1024];
            snprintf(inner, sizeof inner, "%s/%s", path, entry->d_name);
            remove_tree(inner);
        }
        if (folder != NULL) closedir(folder);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void remove_scratch(void)
{
    remove_tree(scratch);
}

void fuzz_path(char *path, size_t size, const char *name)
{
    if (scratch[0] == '\0') {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/jvae-fuzz-%d", base != NULL ? base : "/tmp",
                 (int)getpid());
        if (mkdir(scratch, 0700) != 0) abort();
        atexit(remove_scratch);
    }
    snprintf(path, size, "%s/%s", scratch, name);
}

void fuzz_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL || (size > 0 && fwrite(data, 1, size, file) != size) || fclose(file) != 0)
        abort();
}

void fuzz_write_safetensors(const char *path, const uint8_t *data, size_t size)
{
    if (size == 0 || data[0] != '{') {
        fuzz_write(path, data, size);
        return;
    }
    char *header = malloc(size + 1);
    if (header == NULL) abort();
    memcpy(header, data, size);
    header[size] = '\0';
    unsigned long long data_bytes = 0;
    for (const char *at = header; (at = strstr(at, "\"data_offsets\"")) != NULL; at++) {
        unsigned long long begin, end;
        const char *list = strchr(at, '[');
        if (list != NULL && sscanf(list, "[%llu ,%llu", &begin, &end) == 2 && end > data_bytes)
            data_bytes = end;
    }
    free(header);
    if (data_bytes > (64ull << 20)) data_bytes = 64ull << 20;
    FILE *file = fopen(path, "wb");
    if (file == NULL) abort();
    uint8_t length[8];
    for (int i = 0; i < 8; i++) length[i] = (uint8_t)((uint64_t)size >> (8 * i));
    static const uint8_t zeros[65536];
    int ok = fwrite(length, 1, 8, file) == 8 && fwrite(data, 1, size, file) == size;
    while (ok && data_bytes > 0) {
        const size_t chunk = data_bytes > sizeof zeros ? sizeof zeros : (size_t)data_bytes;
        ok = fwrite(zeros, 1, chunk, file) == chunk;
        data_bytes -= chunk;
    }
    if (fclose(file) != 0 || !ok) abort();
}

void fuzz_check(jvae_status st)
{
    if (st == JVAE_OK) return;
    const char *message = jvae_last_error();
    if (message == NULL || message[0] == '\0') {
        fprintf(stderr, "status %d without a message\n", (int)st);
        abort();
    }
}

void fuzz_check_dataset(jvae_status st, jvae_dataset *dataset, int64_t reads,
                        int reads_may_fail)
{
    fuzz_check(st);
    if ((st == JVAE_OK) != (dataset != NULL)) abort();
    if (st != JVAE_OK) return;
    int channels, height, width;
    if (jvae_dataset_image_shape(dataset, &channels, &height, &width) != JVAE_OK) abort();
    const size_t floats = (size_t)channels * (size_t)height * (size_t)width;
    float *image = malloc(floats * sizeof *image);
    if (image == NULL) abort();
    int32_t labels[JVAE_DATASET_MAX_LABELS];
    const int64_t count = jvae_dataset_size(dataset);
    for (int64_t i = 0; i < count && i < reads; i++) {
        const jvae_status read =
            jvae_dataset_read(dataset, i, image, floats, labels, JVAE_DATASET_MAX_LABELS);
        fuzz_check(read);
        if (read != JVAE_OK && !reads_may_fail) abort();
        for (size_t k = 0; read == JVAE_OK && k < floats; k++)
            if (!(image[k] >= 0.0f && image[k] <= 1.0f)) {
                fprintf(stderr, "image %lld value %zu is %g, outside [0, 1]\n", (long long)i, k,
                        (double)image[k]);
                abort();
            }
    }
    free(image);
    jvae_dataset_free(dataset);
}
