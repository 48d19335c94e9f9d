/* Model files: the parameter tensors under their PyTorch state-dict names,
 * the model and loss options in __metadata__ (docs/file-format.md). */
#include "io/model_file.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "io/metadata.h"
#include "jointvae/io.h"
#include "model/model.h"

jvae_status jvae_io_put_model(jvae_st_writer *writer, const jvae_model *model, const char *kind)
{
    jvae_status st = jvae_meta_put_header(writer, kind);
    if (st) return st;
    if ((st = jvae_meta_put_options(writer, &model->options, &model->loss))) return st;
    const int count = jvae_model_param_tensor_count(model);
    for (int i = 0; i < count; i++) {
        const char *name;
        int ndim;
        int64_t shape[JVAE_TENSOR_MAX_DIMS], offset;
        if ((st = jvae_model_param_info(model, i, &name, &ndim, shape, &offset))) return st;
        const float *data = model->params + offset;
        int64_t numel = 1;
        for (int d = 0; d < ndim; d++) numel *= shape[d];
        for (int64_t k = 0; k < numel; k++)
            if (!isfinite(data[k]))
                return jvae_fail(JVAE_ERR_NUMERIC,
                                 "parameter '%s' element %lld is %g; a model with non-finite "
                                 "parameters is not saved",
                                 name, (long long)k, (double)data[k]);
        if ((st = jvae_st_writer_tensor(writer, name, ndim, shape, data))) return st;
    }
    return JVAE_OK;
}

jvae_status jvae_io_read_checked(jvae_st_file *file, jvae_st_tensor *tensor, float *dst,
                                 int non_negative)
{
    jvae_status st = jvae_st_read(file, tensor, dst);
    if (st) return st;
    for (uint64_t k = 0; k < tensor->numel; k++) {
        if (!isfinite(dst[k]))
            return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s' element %llu is %g (not finite)",
                             file->path, tensor->name, (unsigned long long)k, (double)dst[k]);
        if (non_negative && dst[k] < 0.0f)
            return jvae_fail(JVAE_ERR_FORMAT,
                             "%s: tensor '%s' element %llu is %g, but it must be >= 0",
                             file->path, tensor->name, (unsigned long long)k, (double)dst[k]);
    }
    tensor->claimed = 1;
    return JVAE_OK;
}

static jvae_status invalid_options(const jvae_st_file *file, jvae_status st)
{
    if (st == JVAE_ERR_OUT_OF_MEMORY) return st;
    char reason[400];
    snprintf(reason, sizeof reason, "%s", jvae_last_error());
    return jvae_fail(JVAE_ERR_FORMAT, "%s: the metadata describes an invalid model: %s",
                     file->path, reason);
}

/* The file's tensor for parameter tensor i of the planned model, checked
 * against the layer table: present, with the shape the options give. */
static jvae_status find_param_tensor(jvae_st_file *file, const jvae_model *model, int i,
                                     jvae_st_tensor **tensor, int64_t *offset)
{
    const char *name;
    int ndim;
    int64_t shape[JVAE_TENSOR_MAX_DIMS];
    jvae_status st = jvae_model_param_info(model, i, &name, &ndim, shape, offset);
    if (st) return st;
    *tensor = jvae_st_find(file, name);
    if (*tensor == NULL)
        return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s' is missing", file->path, name);
    if ((*tensor)->ndim != ndim || memcmp((*tensor)->shape, shape, (size_t)ndim * sizeof *shape)) {
        char expected[96], got[96];
        jvae_shape_text(expected, sizeof expected, ndim, shape);
        jvae_shape_text(got, sizeof got, (*tensor)->ndim, (*tensor)->shape);
        return jvae_fail(JVAE_ERR_FORMAT,
                         "%s: tensor '%s': expected shape %s for the options in the metadata, "
                         "got %s",
                         file->path, name, expected, got);
    }
    return JVAE_OK;
}

jvae_status jvae_io_get_model(jvae_st_file *file, jvae_model **out)
{
    *out = NULL;
    jvae_model_options options;
    jvae_loss_options loss;
    jvae_status st = jvae_meta_get_options(file, &options, &loss);
    if (st) return st;
    jvae_model *model = NULL;
    if ((st = jvae_model_plan("jvae_model_create", &options, &model)) ||
        (st = jvae_model_set_loss(model, &loss))) {
        jvae_model_free(model);
        return invalid_options(file, st);
    }
    /* Every tensor is checked before the blocks are allocated: a few bytes of
     * metadata can describe a model of gigabytes, and only tensors of the
     * right shapes, which the data section holds, can fill it. */
    const int tensors = jvae_model_param_tensor_count(model);
    jvae_st_tensor *found[JVAE_MAX_PARAM_TENSORS];
    int64_t offsets[JVAE_MAX_PARAM_TENSORS];
    for (int i = 0; i < tensors && st == JVAE_OK; i++)
        st = find_param_tensor(file, model, i, &found[i], &offsets[i]);
    if (st == JVAE_OK) st = jvae_model_allocate(file->path, model);
    for (int i = 0; i < tensors && st == JVAE_OK; i++)
        st = jvae_io_read_checked(file, found[i], model->params + offsets[i], 0);
    if (st) {
        jvae_model_free(model);
        return st;
    }
    *out = model;
    return JVAE_OK;
}

jvae_status jvae_io_check_all_claimed(const jvae_st_file *file, const char *allowed_prefix)
{
    size_t prefix = allowed_prefix ? strlen(allowed_prefix) : 0;
    for (size_t i = 0; i < file->count; i++) {
        const jvae_st_tensor *t = &file->tensors[i];
        if (t->claimed) continue;
        if (allowed_prefix != NULL && strncmp(t->name, allowed_prefix, prefix) == 0) continue;
        return jvae_fail(JVAE_ERR_FORMAT, "%s: unexpected tensor '%s'", file->path, t->name);
    }
    return JVAE_OK;
}

jvae_status jvae_model_save(const jvae_model *model, const char *path)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_save");
    JVAE_CHECK_NOT_NULL(path, "jvae_model_save");
    jvae_st_writer writer;
    jvae_status st = jvae_st_writer_init(&writer);
    if (st) return st;
    if (!(st = jvae_io_put_model(&writer, model, JVAE_FILE_KIND_MODEL)))
        st = jvae_st_writer_save(&writer, path);
    jvae_st_writer_free(&writer);
    return st;
}

jvae_status jvae_model_load(jvae_model **out, const char *path)
{
    JVAE_CHECK_NOT_NULL(out, "jvae_model_load");
    *out = NULL;
    JVAE_CHECK_NOT_NULL(path, "jvae_model_load");
    jvae_st_file file;
    jvae_status st = jvae_st_open(&file, path);
    if (st) return st;
    int is_checkpoint = 0;
    jvae_model *model = NULL;
    if (!(st = jvae_meta_get_header(&file, &is_checkpoint)) &&
        !(st = jvae_io_get_model(&file, &model)))
        /* A checkpoint is a model file plus optimizer tensors: its model loads. */
        st = jvae_io_check_all_claimed(&file, is_checkpoint ? "optimizer." : NULL);
    jvae_st_close(&file);
    if (st) {
        jvae_model_free(model);
        return st;
    }
    *out = model;
    return JVAE_OK;
}
