#include "core/tensor.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

static jvae_status validate_shape(const char *fn, int ndim, const int64_t *shape, size_t *numel)
{
    if (shape == NULL) return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: shape is NULL", fn);
    if (ndim < 1 || ndim > JVAE_TENSOR_MAX_DIMS)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: ndim must be 1..%d, got %d", fn,
                         JVAE_TENSOR_MAX_DIMS, ndim);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: extent %d must be >= 1, got %lld",
                             fn, i, (long long)shape[i]);
        if ((uint64_t)shape[i] > (uint64_t)SIZE_MAX || !jvae_mul_ok(count, (size_t)shape[i], &count))
            return jvae_fail(JVAE_ERR_OVERFLOW, "%s: element count overflows", fn);
    }
    size_t bytes;
    if (!jvae_mul_ok(count, sizeof(float), &bytes) || bytes > (size_t)PTRDIFF_MAX)
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: byte size overflows", fn);
    *numel = count;
    return JVAE_OK;
}

static jvae_status make_tensor(const char *fn, jvae_tensor **out, float *data, int owns, int ndim,
                               const int64_t *shape, size_t numel)
{
    jvae_tensor *t = calloc(1, sizeof *t);
    if (t == NULL) {
        if (owns) free(data);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate tensor", fn);
    }
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->numel = numel;
    t->data = data;
    t->owns_data = owns;
    *out = t;
    return JVAE_OK;
}

jvae_status jvae_tensor_create(jvae_tensor **out, int ndim, const int64_t *shape)
{
    JVAE_CHECK_NOT_NULL(out, "jvae_tensor_create");
    *out = NULL;
    size_t numel;
    jvae_status st = validate_shape("jvae_tensor_create", ndim, shape, &numel);
    if (st) return st;
    float *data = calloc(numel, sizeof(float));
    if (data == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "jvae_tensor_create: cannot allocate %zu floats",
                         numel);
    return make_tensor("jvae_tensor_create", out, data, 1, ndim, shape, numel);
}

jvae_status jvae_tensor_wrap(jvae_tensor **out, float *data, int ndim, const int64_t *shape)
{
    JVAE_CHECK_NOT_NULL(out, "jvae_tensor_wrap");
    *out = NULL;
    JVAE_CHECK_NOT_NULL(data, "jvae_tensor_wrap");
    size_t numel;
    jvae_status st = validate_shape("jvae_tensor_wrap", ndim, shape, &numel);
    if (st) return st;
    return make_tensor("jvae_tensor_wrap", out, data, 0, ndim, shape, numel);
}

jvae_status jvae_tensor_from_buffer(jvae_tensor **out, const float *data, int ndim,
                                    const int64_t *shape)
{
    JVAE_CHECK_NOT_NULL(out, "jvae_tensor_from_buffer");
    *out = NULL;
    JVAE_CHECK_NOT_NULL(data, "jvae_tensor_from_buffer");
    jvae_status st = jvae_tensor_create(out, ndim, shape);
    if (st) return st;
    memcpy((*out)->data, data, (*out)->numel * sizeof(float));
    return JVAE_OK;
}

void jvae_tensor_free(jvae_tensor *tensor)
{
    if (tensor == NULL) return;
    if (tensor->owns_data) free(tensor->data);
    free(tensor);
}

int jvae_tensor_ndim(const jvae_tensor *tensor) { return tensor ? tensor->ndim : 0; }

int64_t jvae_tensor_dim(const jvae_tensor *tensor, int axis)
{
    if (tensor == NULL) return 0;
    if (axis < 0) axis += tensor->ndim;
    if (axis < 0 || axis >= tensor->ndim) return 0;
    return tensor->shape[axis];
}

int64_t jvae_tensor_numel(const jvae_tensor *tensor)
{
    return tensor ? (int64_t)tensor->numel : 0;
}

float *jvae_tensor_data(jvae_tensor *tensor) { return tensor ? tensor->data : NULL; }

const float *jvae_tensor_data_const(const jvae_tensor *tensor)
{
    return tensor ? tensor->data : NULL;
}

jvae_status jvae_tensor_shape(const jvae_tensor *tensor, int *ndim_out,
                              int64_t shape_out[JVAE_TENSOR_MAX_DIMS])
{
    JVAE_CHECK_NOT_NULL(tensor, "jvae_tensor_shape");
    JVAE_CHECK_NOT_NULL(ndim_out, "jvae_tensor_shape");
    JVAE_CHECK_NOT_NULL(shape_out, "jvae_tensor_shape");
    *ndim_out = tensor->ndim;
    memcpy(shape_out, tensor->shape, (size_t)tensor->ndim * sizeof *shape_out);
    return JVAE_OK;
}

jvae_status jvae_tensor_fill(jvae_tensor *tensor, float value)
{
    JVAE_CHECK_NOT_NULL(tensor, "jvae_tensor_fill");
    for (size_t i = 0; i < tensor->numel; i++) tensor->data[i] = value;
    return JVAE_OK;
}

static int same_shape(const jvae_tensor *a, const jvae_tensor *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

jvae_status jvae_tensor_copy(jvae_tensor *dst, const jvae_tensor *src)
{
    JVAE_CHECK_NOT_NULL(dst, "jvae_tensor_copy");
    JVAE_CHECK_NOT_NULL(src, "jvae_tensor_copy");
    if (!same_shape(dst, src)) {
        char a[96], b[96];
        return jvae_fail(JVAE_ERR_SHAPE, "jvae_tensor_copy: dst has shape %s, src has shape %s",
                         jvae_shape_text(a, sizeof a, dst->ndim, dst->shape),
                         jvae_shape_text(b, sizeof b, src->ndim, src->shape));
    }
    if (dst != src) memmove(dst->data, src->data, src->numel * sizeof(float));
    return JVAE_OK;
}

jvae_status jvae_tensor_copy_from(jvae_tensor *dst, const float *data, int64_t count)
{
    JVAE_CHECK_NOT_NULL(dst, "jvae_tensor_copy_from");
    JVAE_CHECK_NOT_NULL(data, "jvae_tensor_copy_from");
    if (count < 0 || (uint64_t)count != (uint64_t)dst->numel)
        return jvae_fail(JVAE_ERR_SHAPE, "jvae_tensor_copy_from: tensor holds %zu elements, got %lld",
                         dst->numel, (long long)count);
    memmove(dst->data, data, dst->numel * sizeof(float));
    return JVAE_OK;
}

jvae_status jvae_tensor_reshape(jvae_tensor *tensor, int ndim, const int64_t *shape)
{
    JVAE_CHECK_NOT_NULL(tensor, "jvae_tensor_reshape");
    size_t numel;
    jvae_status st = validate_shape("jvae_tensor_reshape", ndim, shape, &numel);
    if (st) return st;
    if (numel != tensor->numel) {
        char a[96];
        return jvae_fail(JVAE_ERR_SHAPE,
                         "jvae_tensor_reshape: %s holds %zu elements, the tensor holds %zu",
                         jvae_shape_text(a, sizeof a, ndim, shape), numel, tensor->numel);
    }
    tensor->ndim = ndim;
    memcpy(tensor->shape, shape, (size_t)ndim * sizeof *shape);
    return JVAE_OK;
}

jvae_status jvae_tensor_expect(const jvae_tensor *t, const char *what, int ndim,
                               const int64_t *shape)
{
    if (t == NULL) return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", what);
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        if (shape[i] >= 0 && shape[i] != t->shape[i]) ok = 0;
    if (ok) return JVAE_OK;
    char want[96], got[96];
    size_t used = 0;
    used += (size_t)snprintf(want, sizeof want, "(");
    for (int i = 0; i < ndim && used < sizeof want; i++) {
        if (shape[i] >= 0)
            used += (size_t)snprintf(want + used, sizeof want - used, i ? ", %lld" : "%lld",
                                     (long long)shape[i]);
        else
            used += (size_t)snprintf(want + used, sizeof want - used, i ? ", N" : "N");
    }
    if (used < sizeof want) snprintf(want + used, sizeof want - used, ")");
    return jvae_fail(JVAE_ERR_SHAPE, "%s: expected shape %s, got %s", what, want,
                     jvae_shape_text(got, sizeof got, t->ndim, t->shape));
}
