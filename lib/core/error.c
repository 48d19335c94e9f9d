#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JVAE_ERROR_CAPACITY 512

static _Thread_local char last_error[JVAE_ERROR_CAPACITY];

jvae_status jvae_fail(jvae_status status, const char *fmt, ...)
{
    /* Formatted aside first, so a message may quote the previous one
     * (jvae_fail(st, "%s: %s", fn, jvae_last_error())) to add context. */
    char message[JVAE_ERROR_CAPACITY];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    memcpy(last_error, message, sizeof message);
    return status;
}

const char *jvae_last_error(void) { return last_error; }

void jvae_clear_error(void) { last_error[0] = '\0'; }

const char *jvae_status_string(jvae_status status)
{
    switch (status) {
    case JVAE_OK: return "ok";
    case JVAE_ERR_INVALID_ARGUMENT: return "invalid argument";
    case JVAE_ERR_SHAPE: return "shape mismatch";
    case JVAE_ERR_OUT_OF_MEMORY: return "out of memory";
    case JVAE_ERR_OVERFLOW: return "size overflow";
    case JVAE_ERR_IO: return "input/output error";
    case JVAE_ERR_FORMAT: return "malformed file";
    case JVAE_ERR_VERSION: return "unsupported version";
    case JVAE_ERR_NUMERIC: return "non-finite value";
    case JVAE_ERR_STATE: return "invalid call order";
    case JVAE_ERR_UNSUPPORTED: return "unsupported";
    case JVAE_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

const char *jvae_shape_text(char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld",
                                 (long long)shape[i]);
    if (used < size) snprintf(buf + used, size - used, ")");
    return buf;
}

unsigned jvae_version_number(void) { return JVAE_VERSION_NUMBER; }

#define JVAE_STR2(x) #x
#define JVAE_STR(x) JVAE_STR2(x)
const char *jvae_version_string(void)
{
    return JVAE_STR(JVAE_VERSION_MAJOR) "." JVAE_STR(JVAE_VERSION_MINOR) "." JVAE_STR(
        JVAE_VERSION_PATCH);
}
