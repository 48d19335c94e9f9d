/* Internal: the one error path. Every layer reports through jvae_fail(). */
#ifndef JVAE_CORE_ERROR_H
#define JVAE_CORE_ERROR_H

#include "jointvae/core.h"

#if defined(__GNUC__)
#define JVAE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define JVAE_PRINTF(f, a)
#endif

/* Record a formatted message for this thread and return status, so that
 * call sites read `return jvae_fail(JVAE_ERR_SHAPE, "x: ...", ...);`. The
 * arguments may include jvae_last_error() itself, to prefix context. */
jvae_status jvae_fail(jvae_status status, const char *fmt, ...) JVAE_PRINTF(2, 3);

/* Shape of a tensor as "(64, 1, 32, 32)" into buf (at least 96 bytes). */
const char *jvae_shape_text(char *buf, size_t size, int ndim, const int64_t *shape);

/* Checked size arithmetic: false when the result would overflow. */
static inline int jvae_mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a) return 0;
    *out = a * b;
    return 1;
}

static inline int jvae_add_ok(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a) return 0;
    *out = a + b;
    return 1;
}

#define JVAE_CHECK_NOT_NULL(ptr, fn)                                                   \
    do {                                                                               \
        if ((ptr) == NULL)                                                             \
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: %s is NULL", (fn), #ptr); \
    } while (0)

#endif
