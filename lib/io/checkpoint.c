/* Checkpoints: a model file plus the optimizer's moments (tensors
 * "optimizer.<moment>.<parameter name>"), its options and step count, and the
 * model's generator state, so that training resumes bit-exactly. */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "io/metadata.h"
#include "io/model_file.h"
#include "jointvae/io.h"
#include "model/model.h"
#include "train/optimizer.h"

#define MOMENT_NAME_BYTES 192

/* The moment buffers of an optimizer under torch.optim's state names. */
typedef struct moment {
    const char *torch_name;
    float *data;
    int non_negative;
} moment;

static int optimizer_moments(const jvae_optimizer *optimizer, moment out[2])
{
    int count = 0;
    if (optimizer->options.kind == JVAE_OPTIMIZER_ADAM) {
        out[count++] = (moment){"exp_avg", optimizer->first, 0};
        out[count++] = (moment){"exp_avg_sq", optimizer->second, 1};
    } else if (optimizer->first != NULL) {
        out[count++] = (moment){"momentum_buffer", optimizer->first, 0};
    }
    return count;
}

static void moment_name(char *buf, const char *torch_name, const char *param_name)
{
    snprintf(buf, MOMENT_NAME_BYTES, "optimizer.%s.%s", torch_name, param_name);
}

jvae_status jvae_checkpoint_save(const char *path, const jvae_model *model,
                                 const jvae_optimizer *optimizer)
{
    static const char fn[] = "jvae_checkpoint_save";
    JVAE_CHECK_NOT_NULL(path, fn);
    JVAE_CHECK_NOT_NULL(model, fn);
    JVAE_CHECK_NOT_NULL(optimizer, fn);
    if (optimizer->model != model)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: the optimizer belongs to another model",
                         fn);
    jvae_st_writer writer;
    jvae_status st = jvae_st_writer_init(&writer);
    if (st) return st;
    moment moments[2];
    const int n_moments = optimizer_moments(optimizer, moments);
    const int count = jvae_model_param_tensor_count(model);
    if (!(st = jvae_io_put_model(&writer, model, JVAE_FILE_KIND_CHECKPOINT)))
        st = jvae_meta_put_training(&writer, &optimizer->options, optimizer->step_count,
                                    &model->rng);
    for (int m = 0; m < n_moments && st == JVAE_OK; m++) {
        for (int i = 0; i < count && st == JVAE_OK; i++) {
            const char *name;
            int ndim;
            int64_t shape[JVAE_TENSOR_MAX_DIMS], offset;
            if ((st = jvae_model_param_info(model, i, &name, &ndim, shape, &offset))) break;
            char full[MOMENT_NAME_BYTES];
            moment_name(full, moments[m].torch_name, name);
            st = jvae_st_writer_tensor(&writer, full, ndim, shape, moments[m].data + offset);
        }
    }
    if (st == JVAE_OK) st = jvae_st_writer_save(&writer, path);
    jvae_st_writer_free(&writer);
    return st;
}

static jvae_status read_moments(jvae_st_file *file, const jvae_model *model,
                                jvae_optimizer *optimizer)
{
    moment moments[2];
    const int n_moments = optimizer_moments(optimizer, moments);
    const int count = jvae_model_param_tensor_count(model);
    for (int m = 0; m < n_moments; m++) {
        for (int i = 0; i < count; i++) {
            const char *name;
            int ndim;
            int64_t shape[JVAE_TENSOR_MAX_DIMS], offset;
            jvae_status st = jvae_model_param_info(model, i, &name, &ndim, shape, &offset);
            if (st) return st;
            char full[MOMENT_NAME_BYTES];
            moment_name(full, moments[m].torch_name, name);
            jvae_st_tensor *tensor = jvae_st_find(file, full);
            if (tensor == NULL)
                return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s' is missing", file->path,
                                 full);
            if (tensor->ndim != ndim ||
                memcmp(tensor->shape, shape, (size_t)ndim * sizeof *shape) != 0) {
                char expected[96], got[96];
                jvae_shape_text(expected, sizeof expected, ndim, shape);
                jvae_shape_text(got, sizeof got, tensor->ndim, tensor->shape);
                return jvae_fail(JVAE_ERR_FORMAT, "%s: tensor '%s': expected shape %s, got %s",
                                 file->path, full, expected, got);
            }
            st = jvae_io_read_checked(file, tensor, moments[m].data + offset,
                                      moments[m].non_negative);
            if (st) return st;
        }
    }
    return JVAE_OK;
}

static jvae_status load_training(jvae_st_file *file, jvae_model *model,
                                 jvae_optimizer **optimizer_out)
{
    jvae_optimizer_options options;
    int64_t step_count;
    jvae_rng rng;
    jvae_status st = jvae_meta_get_training(file, &options, &step_count, &rng);
    if (st) return st;
    if ((st = jvae_optimizer_check_options("optimizer", &options))) {
        char reason[400];
        snprintf(reason, sizeof reason, "%s", jvae_last_error());
        return jvae_fail(JVAE_ERR_FORMAT, "%s: invalid optimizer options in the metadata: %s",
                         file->path, reason);
    }
    jvae_optimizer *optimizer = NULL;
    if ((st = jvae_optimizer_create(&optimizer, model, &options))) return st;
    optimizer->step_count = step_count;
    if ((st = read_moments(file, model, optimizer)) ||
        (st = jvae_io_check_all_claimed(file, NULL))) {
        jvae_optimizer_free(optimizer);
        return st;
    }
    model->rng = rng;
    *optimizer_out = optimizer;
    return JVAE_OK;
}

jvae_status jvae_checkpoint_load(jvae_model **model_out, jvae_optimizer **optimizer_out,
                                 const char *path)
{
    static const char fn[] = "jvae_checkpoint_load";
    JVAE_CHECK_NOT_NULL(model_out, fn);
    JVAE_CHECK_NOT_NULL(optimizer_out, fn);
    *model_out = NULL;
    *optimizer_out = NULL;
    JVAE_CHECK_NOT_NULL(path, fn);
    jvae_st_file file;
    jvae_status st = jvae_st_open(&file, path);
    if (st) return st;
    int is_checkpoint = 0;
    jvae_model *model = NULL;
    if (!(st = jvae_meta_get_header(&file, &is_checkpoint)) && !is_checkpoint)
        st = jvae_fail(JVAE_ERR_FORMAT,
                       "%s: a model file, not a checkpoint (it has no optimizer state)", path);
    if (st == JVAE_OK && !(st = jvae_io_get_model(&file, &model)))
        st = load_training(&file, model, optimizer_out);
    jvae_st_close(&file);
    if (st) {
        jvae_model_free(model);
        return st;
    }
    *model_out = model;
    return JVAE_OK;
}
