/*
 * libjointvae — core: export macro, version, status codes, error messages, tensors.
 *
 * Stability contract (0.x): everything declared in the stable sections of the
 * jointvae/ headers keeps its meaning within a minor version; the SONAME
 * (libjointvae.so.0) moves on any ABI break. Status codes and enum values are
 * append-only: a value, once published, never changes meaning.
 *
 * Conventions used by every header of this library:
 *  - Every fallible call returns a jvae_status: JVAE_OK (0) or a negative code.
 *    On failure a message naming the problem is available from
 *    jvae_last_error() on the calling thread. Out-parameters come first and are
 *    left untouched (or set to NULL for handles) on failure.
 *  - The library never exits, aborts or prints. Argument checks stay on in
 *    release builds.
 *  - Handles are opaque. Every _create/_load has a _free that accepts NULL.
 *  - Thread-safety: distinct handles may be used from distinct threads freely.
 *    A single handle is not safe for concurrent mutation unless its header
 *    says otherwise. jvae_last_error() is per thread.
 */
#ifndef JOINTVAE_CORE_H
#define JOINTVAE_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(JVAE_BUILDING_LIBRARY)
#  define JVAE_API __declspec(dllexport)
#elif defined(_WIN32)
#  define JVAE_API __declspec(dllimport)
#elif defined(__GNUC__)
#  define JVAE_API __attribute__((visibility("default")))
#else
#  define JVAE_API
#endif

/* The one source of the version: CMake parses these three lines. */
#define JVAE_VERSION_MAJOR 0
#define JVAE_VERSION_MINOR 1
#define JVAE_VERSION_PATCH 0
#define JVAE_VERSION_NUMBER \
    (JVAE_VERSION_MAJOR * 10000 + JVAE_VERSION_MINOR * 100 + JVAE_VERSION_PATCH)

/* Version of the library actually loaded, to detect a header/library mismatch:
 * compare with JVAE_VERSION_NUMBER. The string is static ("0.1.0"). */
JVAE_API unsigned jvae_version_number(void);
JVAE_API const char *jvae_version_string(void);

/* ------------------------------------------------------------------ status */

typedef enum jvae_status {
    JVAE_OK = 0,
    JVAE_ERR_INVALID_ARGUMENT = -1, /* NULL where a value is required, value out of range */
    JVAE_ERR_SHAPE = -2,            /* a tensor's shape does not match what the call needs */
    JVAE_ERR_OUT_OF_MEMORY = -3,    /* an allocation failed */
    JVAE_ERR_OVERFLOW = -4,         /* a size computation would overflow */
    JVAE_ERR_IO = -5,               /* open/read/write/rename failed (errno in the message) */
    JVAE_ERR_FORMAT = -6,           /* a file is truncated, malformed or hostile */
    JVAE_ERR_VERSION = -7,          /* a file or options struct of an unknown version */
    JVAE_ERR_NUMERIC = -8,          /* NaN or Inf appeared (input, loss or gradient) */
    JVAE_ERR_STATE = -9,            /* calls in the wrong order, e.g. backward before forward */
    JVAE_ERR_UNSUPPORTED = -10,     /* a valid request this build or model cannot do */
    JVAE_ERR_CANCELLED = -11        /* the caller's progress callback asked to stop */
} jvae_status;

/* Static English name of a status ("invalid argument"); never NULL. */
JVAE_API const char *jvae_status_string(jvae_status status);

/* Message of the last failing call on this thread, "" if none. The pointer is
 * owned by the library and valid until the next failing call on this thread. */
JVAE_API const char *jvae_last_error(void);

/* Forget this thread's last error message. */
JVAE_API void jvae_clear_error(void);

/* ------------------------------------------------------------------ tensor */

/* A dense, contiguous, row-major float32 array of 1 to 4 dimensions.
 * Images are (N, C, H, W). A tensor either owns its buffer (create, copy) or
 * borrows a caller's buffer (wrap), which must then outlive the tensor. */
typedef struct jvae_tensor jvae_tensor;

#define JVAE_TENSOR_MAX_DIMS 4

/* New tensor of the given shape, zero-filled. Each extent must be >= 1 and the
 * element count must fit in memory.
 * Errors: INVALID_ARGUMENT (NULL out/shape, ndim outside 1..4, extent < 1),
 *         OVERFLOW (element count or byte size overflows), OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_tensor_create(jvae_tensor **out, int ndim, const int64_t *shape);

/* New tensor viewing `data` (not copied, not freed by the tensor). The caller
 * keeps ownership and must keep the buffer alive while the tensor exists.
 * Errors as jvae_tensor_create, plus INVALID_ARGUMENT for NULL data. */
JVAE_API jvae_status jvae_tensor_wrap(jvae_tensor **out, float *data, int ndim,
                                      const int64_t *shape);

/* New owning tensor holding a copy of `data` (numel floats).
 * Errors as jvae_tensor_wrap, plus OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_tensor_from_buffer(jvae_tensor **out, const float *data, int ndim,
                                             const int64_t *shape);

/* Free the tensor (and its buffer if owned). NULL is a no-op. */
JVAE_API void jvae_tensor_free(jvae_tensor *tensor);

/* Accessors. On a NULL tensor: ndim 0, numel 0, dim 0, data NULL. */
JVAE_API int jvae_tensor_ndim(const jvae_tensor *tensor);
/* Extent of `axis` (0-based; negative counts from the end); 0 when out of range. */
JVAE_API int64_t jvae_tensor_dim(const jvae_tensor *tensor, int axis);
JVAE_API int64_t jvae_tensor_numel(const jvae_tensor *tensor);
/* Pointer to the first element, owned by the tensor (or by whoever wrapped it);
 * valid until the tensor is freed. */
JVAE_API float *jvae_tensor_data(jvae_tensor *tensor);
JVAE_API const float *jvae_tensor_data_const(const jvae_tensor *tensor);

/* Copy the shape into shape_out[0..ndim-1]; *ndim_out receives ndim.
 * Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_tensor_shape(const jvae_tensor *tensor, int *ndim_out,
                                       int64_t shape_out[JVAE_TENSOR_MAX_DIMS]);

/* Set every element to value. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_tensor_fill(jvae_tensor *tensor, float value);

/* Copy src's elements into dst; shapes must be equal.
 * Errors: INVALID_ARGUMENT on NULL, SHAPE when shapes differ. */
JVAE_API jvae_status jvae_tensor_copy(jvae_tensor *dst, const jvae_tensor *src);

/* Copy numel floats from a caller's buffer into the tensor.
 * Errors: INVALID_ARGUMENT on NULL, SHAPE when count != numel. */
JVAE_API jvae_status jvae_tensor_copy_from(jvae_tensor *dst, const float *data, int64_t count);

/* Give the tensor a new shape with the same element count (e.g. a smaller
 * leading batch view is NOT allowed here: the count must be equal).
 * Errors: INVALID_ARGUMENT, SHAPE when the element count differs. */
JVAE_API jvae_status jvae_tensor_reshape(jvae_tensor *tensor, int ndim, const int64_t *shape);

/* Opaque handles of the other modules, declared here so headers can refer to
 * each other without include cycles. */
typedef struct jvae_model jvae_model;
typedef struct jvae_optimizer jvae_optimizer;
typedef struct jvae_schedule jvae_schedule;
typedef struct jvae_dataset jvae_dataset;
typedef struct jvae_loader jvae_loader;

#ifdef __cplusplus
}
#endif

#endif /* JOINTVAE_CORE_H */
