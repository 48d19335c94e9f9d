#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>

void test_fill_uniform(jvae_rng *rng, float *buf, size_t count, float lo, float hi)
{
    for (size_t i = 0; i < count; i++) buf[i] = jvae_rng_uniform_range(rng, lo, hi);
}

const char *test_scratch_dir(const char *name)
{
    static char path[1024];
    char command[2200];
    snprintf(path, sizeof path, "%s/scratch-%s", JVAE_TEST_BINARY_DIR, name);
    snprintf(command, sizeof command, "rm -rf '%s' && mkdir -p '%s'", path, path);
    if (system(command) != 0) return NULL;
    return path;
}
