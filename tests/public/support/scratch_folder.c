#include "scratch_folder.h"

#include <stdio.h>
#include <stdlib.h>

static char folder[1024];

int scratch_folder_create(void **state)
{
    (void)state;
    snprintf(folder, sizeof folder, "%s/%s-XXXXXX", JVAE_TEST_BINARY_DIR, JVAE_TEST_NAME);
    return mkdtemp(folder) == NULL ? -1 : 0;
}

int scratch_folder_remove(void **state)
{
    (void)state;
    char command[1200];
    snprintf(command, sizeof command, "rm -rf '%s'", folder);
    return system(command) == 0 ? 0 : -1;
}

const char *path_in_folder(const char *name)
{
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    return path;
}
