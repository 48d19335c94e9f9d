/*
 * The network of the official JointVAE code, its parameter tensors (names,
 * shapes and order of the PyTorch state dict) and their initialisation.
 *
 * Encoder, S = log2(H) − 2 stride-2 convs (4x4, padding 1, ReLU after each):
 *   C→32, (S−3)×(32→32), 32→64, 64→64; then (64, 4, 4) → F = 1024 →
 *   Linear(F→Hd)+ReLU → heads fc_mean, fc_log_var (Hd→Dz) and fc_alphas.i (Hd→K_i).
 * Decoder: Linear(L→Hd)+ReLU, Linear(Hd→F)+ReLU, (64, 4, 4), S transposed convs:
 *   S = 3 (32x32, the official layout): 64→32, 32→32, 32→C;
 *   S ≥ 4: 64→64, 64→32, (S−3)×(32→32), 32→C (64x64 is the official layout,
 *   larger sizes mirror the encoder), ReLU after each but the last (logits).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/block.h"
#include "core/error.h"
#include "core/fp_mode.h"
#include "model/model.h"

#define KERNEL 4
#define STRIDE 2
#define PADDING 1

static void add_tensor(jvae_model *m, int64_t fan_in, int ndim, const int64_t *shape,
                       const char *fmt, ...) JVAE_PRINTF(5, 6);

static void add_tensor(jvae_model *m, int64_t fan_in, int ndim, const int64_t *shape,
                       const char *fmt, ...)
{
    jvae_param_tensor *t = &m->tensors[m->tensor_count++];
    va_list args;
    va_start(args, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, args);
    va_end(args);
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->numel *= shape[i];
    }
    t->offset = m->param_count;
    t->fan_in = fan_in;
    m->param_count += t->numel;
}

/* Linear(in → out): weight (out, in), bias (out); PyTorch's fan_in is `in`. */
static void add_linear(jvae_model *m, jvae_linear_layer *layer, const char *name, int in,
                       int out)
{
    layer->tensor = m->tensor_count;
    layer->in = in;
    layer->out = out;
    const int64_t weight[2] = {out, in}, bias[1] = {out};
    add_tensor(m, in, 2, weight, "%s.weight", name);
    add_tensor(m, in, 1, bias, "%s.bias", name);
}

/* Conv2d (out, in, 4, 4) with fan_in in·16, or ConvTranspose2d (in, out, 4, 4)
 * whose PyTorch fan_in is weight.size(1)·16 = out·16. Returns the output side. */
static int add_conv(jvae_model *m, jvae_conv_layer *layer, int transpose, const char *module,
                    int index, int in_c, int out_c, int side)
{
    layer->tensor = m->tensor_count;
    const int64_t weight[4] = {transpose ? in_c : out_c, transpose ? out_c : in_c, KERNEL,
                               KERNEL};
    const int64_t bias[1] = {out_c};
    const int64_t fan_in = weight[1] * KERNEL * KERNEL;
    add_tensor(m, fan_in, 4, weight, "%s.%d.weight", module, index);
    add_tensor(m, fan_in, 1, bias, "%s.%d.bias", module, index);
    /* The geometry is valid by construction: sides are powers of two ≥ 4 and
     * every extent fits an int for one image of at most 4096x4096. */
    if (transpose)
        jvae_conv_transpose_dims_init(&layer->dims, 1, in_c, side, side, out_c, KERNEL, KERNEL,
                                      STRIDE, PADDING);
    else
        jvae_conv_dims_init(&layer->dims, 1, in_c, side, side, out_c, KERNEL, KERNEL, STRIDE,
                            PADDING);
    return layer->dims.out_h;
}

static void build_layers(jvae_model *m)
{
    const jvae_model_options *o = &m->options;
    const int stages = m->stages;
    int side = o->height;
    int channels = o->channels;
    /* nn.Sequential numbers a ReLU after every conv, so convs sit at even indices. */
    for (int s = 0; s < stages; s++) {
        const int out_c = s < stages - 2 ? 32 : 64;
        side = add_conv(m, &m->encoder[s], 0, "img_to_features", 2 * s, channels, out_c, side);
        channels = out_c;
    }
    add_linear(m, &m->to_hidden, "features_to_hidden.0", JVAE_FEATURES, o->hidden);
    if (o->n_continuous > 0) {
        add_linear(m, &m->mean, "fc_mean", o->hidden, o->n_continuous);
        add_linear(m, &m->log_var, "fc_log_var", o->hidden, o->n_continuous);
    }
    for (int i = 0; i < o->n_discrete; i++) {
        char name[32];
        snprintf(name, sizeof name, "fc_alphas.%d", i);
        add_linear(m, &m->alpha[i], name, o->hidden, o->discrete_sizes[i]);
    }
    add_linear(m, &m->latent_to_hidden, "latent_to_features.0", m->latent_dim, o->hidden);
    add_linear(m, &m->hidden_to_features, "latent_to_features.2", o->hidden, JVAE_FEATURES);
    side = JVAE_FEATURE_SIDE;
    channels = JVAE_FEATURE_CHANNELS;
    for (int s = 0; s < stages; s++) {
        int out_c = 32;
        if (s == stages - 1) out_c = o->channels;
        else if (s == 0 && stages >= 4) out_c = 64;
        side = add_conv(m, &m->decoder[s], 1, "features_to_img", 2 * s, channels, out_c, side);
        channels = out_c;
    }
}

/* PyTorch's default init of Conv2d, ConvTranspose2d and Linear: weight by
 * kaiming_uniform_(a = √5), i.e. U(±1/√fan_in), and bias U(±1/√fan_in),
 * drawn tensor by tensor in state-dict order. */
static void init_parameters(jvae_model *m)
{
    for (int t = 0; t < m->tensor_count; t++) {
        const jvae_param_tensor *info = &m->tensors[t];
        const float bound = (float)(1.0 / sqrt((double)info->fan_in));
        float *p = m->params + info->offset;
        for (int64_t i = 0; i < info->numel; i++)
            p[i] = jvae_rng_uniform_range(&m->rng, -bound, bound);
    }
}

jvae_status jvae_model_plan(const char *fn, const jvae_model_options *options,
                            jvae_model **out)
{
    *out = NULL;
    jvae_status st = jvae_model_options_check(fn, options);
    if (st) return st;
    jvae_model *m = calloc(1, sizeof *m);
    if (m == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate the model", fn);
    m->options = *options;
    for (int i = m->options.n_discrete; i < JVAE_MAX_DISCRETE; i++)
        m->options.discrete_sizes[i] = 0;
    jvae_loss_options_init(&m->loss);
    jvae_rng_seed(&m->rng, options->seed);

    for (int i = 0; i < options->n_discrete; i++) {
        m->disc_offset[i] = m->discrete_dim;
        m->discrete_dim += options->discrete_sizes[i];
        m->disc_capacity_max += log((double)options->discrete_sizes[i]);
    }
    m->latent_dim = options->n_continuous + m->discrete_dim;
    int stages = 0;
    for (int side = options->height; side > JVAE_FEATURE_SIDE; side /= 2) stages++;
    m->stages = stages;
    build_layers(m);
    *out = m;
    return JVAE_OK;
}

jvae_status jvae_model_allocate(const char *fn, jvae_model *m)
{
    size_t bytes;
    const long long count = (long long)m->param_count;
    if (!jvae_mul_ok((size_t)m->param_count, sizeof(float), &bytes))
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: %lld parameters overflow", fn, count);
    m->params = jvae_block_alloc(bytes);
    m->grads = jvae_block_calloc((size_t)m->param_count, sizeof(float));
    m->kl_units =
        calloc((size_t)(m->options.n_continuous + m->options.n_discrete), sizeof(float));
    if (m->params == NULL || m->grads == NULL || m->kl_units == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %lld parameters", fn,
                         count);
    /* In the library's floating-point mode, so that a seed gives the same
     * parameters whatever the host's mode (core/fp_mode.h). */
    const jvae_fp_mode fp = jvae_fp_enter();
    init_parameters(m);
    jvae_fp_leave(fp);
    return JVAE_OK;
}

jvae_status jvae_model_create(jvae_model **out, const jvae_model_options *options)
{
    JVAE_CHECK_NOT_NULL(out, "jvae_model_create");
    jvae_model *m = NULL;
    jvae_status st = jvae_model_plan("jvae_model_create", options, &m);
    if (st == JVAE_OK && (st = jvae_model_allocate("jvae_model_create", m))) {
        jvae_model_free(m);
        m = NULL;
    }
    *out = m;
    return st;
}

void jvae_model_free(jvae_model *model)
{
    if (model == NULL) return;
    free(model->params);
    free(model->grads);
    free(model->kl_units);
    free(model->workspace);
    jvae_pool_free(model->pool);
    free(model);
}

int jvae_model_latent_dim(const jvae_model *model)
{
    return model ? model->latent_dim : 0;
}

int jvae_model_discrete_dim(const jvae_model *model)
{
    return model ? model->discrete_dim : 0;
}

int64_t jvae_model_param_count(const jvae_model *model)
{
    return model ? model->param_count : 0;
}

float *jvae_model_params(jvae_model *model)
{
    return model ? model->params : NULL;
}

float *jvae_model_grads(jvae_model *model)
{
    return model ? model->grads : NULL;
}

int jvae_model_param_tensor_count(const jvae_model *model)
{
    return model ? model->tensor_count : 0;
}

jvae_status jvae_model_param_info(const jvae_model *model, int index, const char **name,
                                  int *ndim, int64_t shape[JVAE_TENSOR_MAX_DIMS],
                                  int64_t *offset)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_param_info");
    if (index < 0 || index >= model->tensor_count)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "jvae_model_param_info: index must be 0..%d, got %d",
                         model->tensor_count - 1, index);
    const jvae_param_tensor *t = &model->tensors[index];
    if (name != NULL) *name = t->name;
    if (ndim != NULL) *ndim = t->ndim;
    if (shape != NULL) memcpy(shape, t->shape, (size_t)t->ndim * sizeof *shape);
    if (offset != NULL) *offset = t->offset;
    return JVAE_OK;
}
