/* Helpers shared by the tests: cmocka includes, seeded random buffers,
 * scratch directories. */
#ifndef JVAE_TEST_UTIL_H
#define JVAE_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/rng.h"

/* Fill buf with uniform values in [lo, hi) from rng. */
void test_fill_uniform(jvae_rng *rng, float *buf, size_t count, float lo, float hi);

/* Create a fresh empty directory under the test binary dir named after `name`
 * and return its path (static buffer, valid until the next call). */
const char *test_scratch_dir(const char *name);

/* Assert that the last error message contains `needle`. */
#define assert_error_contains(needle) \
    assert_non_null(strstr(jvae_last_error(), (needle)))

#endif
