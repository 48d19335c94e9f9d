/* Internal: the tensor struct, visible to the library only (opaque outside). */
#ifndef JVAE_CORE_TENSOR_H
#define JVAE_CORE_TENSOR_H

#include "jointvae/core.h"

struct jvae_tensor {
    int ndim;
    int64_t shape[JVAE_TENSOR_MAX_DIMS];
    size_t numel;
    float *data;
    int owns_data;
};

/* Check that `t` is non-NULL and has exactly the given shape; on mismatch the
 * message reads "<what>: expected shape (64, 1, 32, 32), got (64, 3, 32, 32)".
 * A negative extent in `shape` matches anything (e.g. the batch). */
jvae_status jvae_tensor_expect(const jvae_tensor *t, const char *what, int ndim,
                               const int64_t *shape);

#endif
