/*
 * Runs a fuzz target on saved inputs without libFuzzer: each argument is a
 * file, or a folder whose files are all run. ctest replays
 * tests/fuzz/regressions/<target>/ this way in every build, so an input that
 * once crashed, hung or allocated gigabytes stays fixed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Run the target on the file's bytes; -1 (with a message) when it cannot be read. */
static int replay_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t size = 0, capacity = 0;
    int failed = file == NULL;
    while (!failed) {
        if (size == capacity) {
            capacity = capacity ? 2 * capacity : 65536;
            uint8_t *grown = realloc(data, capacity);
            failed = grown == NULL;
            if (failed) break;
            data = grown;
        }
        const size_t got = fread(data + size, 1, capacity - size, file);
        if (got == 0) {
            failed = ferror(file);
            break;
        }
        size += got;
    }
    if (file != NULL) fclose(file);
    if (failed) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(data);
        return -1;
    }
    printf("%s (%zu bytes)\n", path, size);
    fflush(stdout);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    int inputs = 0;
    for (int a = 1; a < argc; a++) {
        struct stat st;
        if (stat(argv[a], &st) != 0) {
            fprintf(stderr, "replay: %s does not exist\n", argv[a]);
            return 2;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (replay_file(argv[a]) != 0) return 2;
            inputs++;
            continue;
        }
        DIR *folder = opendir(argv[a]);
        if (folder == NULL) return 2;
        for (struct dirent *entry; (entry = readdir(folder)) != NULL;) {
            if (entry->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], entry->d_name);
            if (replay_file(path) != 0) return 2;
            inputs++;
        }
        closedir(folder);
    }
    printf("replayed %d inputs\n", inputs);
    return inputs > 0 ? 0 : 2;
}
