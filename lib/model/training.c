/*
 * The training pass: workspace reservation, forward of the loss and its exact
 * backward into the gradient block. Nothing here allocates after
 * jvae_model_reserve; the activations of a forward stay in the workspace for
 * the one backward that follows it.
 *
 * Backward walks the network in reverse with two ping-pong buffers: one
 * holds ∂loss/∂(a layer's output before its ReLU), the other receives
 * ∂loss/∂(its input). The linear kernels accumulate, so their target is
 * zeroed first; the conv kernels store the gradient at the input's ReLU
 * outright (the ReLU's backward fused, nn.h), and the two buffers swap roles
 * after each conv stage.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/block.h"
#include "core/error.h"
#include "core/fp_mode.h"
#include "core/tensor.h"
#include "model/latent.h"
#include "model/loss.h"
#include "model/model.h"
#include "model/network.h"

static size_t image_floats(const jvae_model *m)
{
    return (size_t)m->options.channels * (size_t)m->options.height * (size_t)m->options.width;
}

/* Lay the training buffers for a batch of B and `threads` kernel threads out
 * over base (or only count the floats when base is NULL). 0 on overflow. */
static int plan_workspace(const jvae_model *m, int batch, int threads, float *base,
                          jvae_train_buffers *b, size_t *floats)
{
    jvae_carver c = {base, 0, 0};
    const size_t n = (size_t)batch;
    const size_t hidden = (size_t)m->options.hidden, dz = (size_t)m->options.n_continuous;
    const size_t width = (size_t)m->discrete_dim, latent = (size_t)m->latent_dim;
    size_t largest = image_floats(m);
    if (jvae_encoder_max_floats(m) > largest) largest = jvae_encoder_max_floats(m);
    if (jvae_decoder_max_floats(m) > largest) largest = jvae_decoder_max_floats(m);
    const size_t scratch = jvae_network_scratch_floats(m, batch, threads);

    b->images = jvae_carve(&c, n, image_floats(m));
    for (int s = 0; s < m->stages; s++)
        b->enc_act[s] = jvae_carve(&c, n, jvae_stage_floats(&m->encoder[s]));
    b->hidden = jvae_carve(&c, n, hidden);
    b->mu = jvae_carve(&c, n, dz);
    b->logvar = jvae_carve(&c, n, dz);
    b->eps = jvae_carve(&c, n, dz);
    b->alpha = jvae_carve(&c, n, width);
    b->uniform = jvae_carve(&c, n, width);
    b->latent = jvae_carve(&c, n, latent);
    b->dec_hidden = jvae_carve(&c, n, hidden);
    b->dec_features = jvae_carve(&c, n, JVAE_FEATURES);
    for (int s = 0; s < m->stages; s++)
        b->dec_act[s] = jvae_carve(&c, n, jvae_stage_floats(&m->decoder[s]));
    b->grad_a = jvae_carve(&c, n, largest);
    b->grad_b = jvae_carve(&c, n, largest);
    b->dmu = jvae_carve(&c, n, dz);
    b->dlogvar = jvae_carve(&c, n, dz);
    b->dalpha = jvae_carve(&c, n, width);
    b->head_blocks = jvae_carve(&c, n, width);
    b->dlatent = jvae_carve(&c, n, latent);
    b->scratch = jvae_carve(&c, scratch, 1);
    *floats = c.used;
    return !c.overflow && scratch > 0;
}

/* Workspace bytes for a batch, or 0 when the size overflows. */
static size_t workspace_bytes(const jvae_model *m, int batch, int threads)
{
    jvae_train_buffers unused;
    size_t floats, bytes;
    if (!plan_workspace(m, batch, threads, NULL, &unused, &floats) ||
        !jvae_mul_ok(floats, sizeof(float), &bytes))
        return 0;
    return bytes;
}

jvae_status jvae_model_reserve_for(const char *fn, jvae_model *model, int max_batch,
                                   int threads)
{
    const size_t bytes = workspace_bytes(model, max_batch, threads);
    if (bytes == 0)
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: the workspace for %d images overflows", fn,
                         max_batch);
    float *block = jvae_block_alloc(bytes);
    if (block == NULL)
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes for %d images",
                         fn, bytes, max_batch);
    if (threads != jvae_pool_threads(model->pool)) {
        jvae_pool *pool = NULL;
        jvae_status st = threads > 1 ? jvae_pool_create(&pool, threads, fn) : JVAE_OK;
        if (st) {
            free(block);
            return st;
        }
        jvae_pool_free(model->pool);
        model->pool = pool;
    }
    free(model->workspace);
    model->workspace = block;
    size_t floats;
    plan_workspace(model, max_batch, threads, block, &model->buf, &floats);
    model->reserved_batch = max_batch;
    model->pending_batch = 0;
    return JVAE_OK;
}

jvae_status jvae_model_reserve(jvae_model *model, int max_batch)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_reserve");
    if (max_batch < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "jvae_model_reserve: max_batch must be >= 1, got %d", max_batch);
    if (max_batch == model->reserved_batch) return JVAE_OK;
    return jvae_model_reserve_for("jvae_model_reserve", model, max_batch,
                                  model->options.threads);
}

jvae_status jvae_model_memory(const jvae_model *model, int max_batch, size_t *params_bytes,
                              size_t *workspace_bytes_out)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_memory");
    if (max_batch < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "jvae_model_memory: max_batch must be >= 1, got %d", max_batch);
    const size_t bytes = workspace_bytes(model, max_batch, model->options.threads);
    if (bytes == 0)
        return jvae_fail(JVAE_ERR_OVERFLOW,
                         "jvae_model_memory: the workspace for %d images overflows", max_batch);
    if (params_bytes != NULL) *params_bytes = 2 * (size_t)model->param_count * sizeof(float);
    if (workspace_bytes_out != NULL) *workspace_bytes_out = bytes;
    return JVAE_OK;
}

/* ------------------------------------------------------------ forward */

/* Copy the images into the workspace, checking that each is a finite value in [0, 1]. */
static jvae_status take_images(float *dst, const float *src, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const float v = src[i];
        if (!isfinite(v))
            return jvae_fail(JVAE_ERR_NUMERIC, "jvae_model_forward: images[%zu] is %g", i,
                             (double)v);
        if (v < 0.0f || v > 1.0f)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                             "jvae_model_forward: images[%zu] = %g is outside [0, 1]", i,
                             (double)v);
        dst[i] = v;
    }
    return JVAE_OK;
}

static jvae_status check_noise(const jvae_tensor *eps, const jvae_tensor *uniform)
{
    if (eps != NULL)
        for (size_t i = 0; i < eps->numel; i++)
            if (!isfinite(eps->data[i]))
                return jvae_fail(JVAE_ERR_NUMERIC, "jvae_model_forward: eps[%zu] is %g", i,
                                 (double)eps->data[i]);
    if (uniform != NULL)
        for (size_t i = 0; i < uniform->numel; i++) {
            const float u = uniform->data[i];
            if (!isfinite(u))
                return jvae_fail(JVAE_ERR_NUMERIC, "jvae_model_forward: uniform[%zu] is %g", i,
                                 (double)u);
            if (u < 0.0f || u >= 1.0f)
                return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                                 "jvae_model_forward: uniform[%zu] = %g is outside [0, 1)", i,
                                 (double)u);
        }
    return JVAE_OK;
}

static jvae_status check_capacity(const char *name, double value)
{
    if (!isfinite(value) || value < 0.0)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "jvae_model_forward: %s must be finite and >= 0, got %g", name, value);
    return JVAE_OK;
}

/* Validate the call; on success *n is the batch and the noise tensors to use
 * (NULL, NULL when the generator draws them). */
static jvae_status check_forward(jvae_model *m, const jvae_tensor *images,
                                 const jvae_tensor **eps, const jvae_tensor **uniform,
                                 double cap_continuous, double cap_discrete, int *n)
{
    static const char *fn = "jvae_model_forward";
    if (m->reserved_batch == 0)
        return jvae_fail(JVAE_ERR_STATE, "%s: no training workspace (call jvae_model_reserve)",
                         fn);
    JVAE_CHECK_NOT_NULL(images, fn);
    const int64_t shape[4] = {-1, m->options.channels, m->options.height, m->options.width};
    jvae_status st = jvae_tensor_expect(images, "jvae_model_forward: images", 4, shape);
    if (st) return st;
    const int64_t batch = images->shape[0];
    if (batch > m->reserved_batch)
        return jvae_fail(JVAE_ERR_SHAPE,
                         "%s: images: batch of %lld exceeds the reserved batch of %d", fn,
                         (long long)batch, m->reserved_batch);
    if ((st = check_capacity("cap_continuous", cap_continuous)) ||
        (st = check_capacity("cap_discrete", cap_discrete)))
        return st;

    const int need_eps = m->options.n_continuous > 0, need_uniform = m->discrete_dim > 0;
    const jvae_tensor *e = need_eps ? *eps : NULL, *u = need_uniform ? *uniform : NULL;
    if ((e != NULL || u != NULL) && ((need_eps && e == NULL) || (need_uniform && u == NULL)))
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: %s is NULL but %s is given: pass every noise tensor the model "
                         "needs, or none",
                         fn, e == NULL ? "eps" : "uniform", e == NULL ? "uniform" : "eps");
    if (e != NULL) {
        const int64_t want[2] = {batch, m->options.n_continuous};
        if ((st = jvae_tensor_expect(e, "jvae_model_forward: eps", 2, want))) return st;
    }
    if (u != NULL) {
        const int64_t want[2] = {batch, m->discrete_dim};
        if ((st = jvae_tensor_expect(u, "jvae_model_forward: uniform", 2, want))) return st;
    }
    if ((st = check_noise(e, u))) return st;
    *eps = e;
    *uniform = u;
    *n = (int)batch;
    return JVAE_OK;
}

static jvae_status forward_flushed(jvae_model *model, const jvae_tensor *images,
                                   const jvae_tensor *eps, const jvae_tensor *uniform,
                                   double cap_continuous, double cap_discrete,
                                   jvae_loss_terms *terms)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_forward");
    jvae_model *m = model;
    int n = 0;
    /* Whatever happens below, the previous forward is gone. */
    m->pending_batch = 0;
    m->has_forward = 0;
    jvae_status st = check_forward(m, images, &eps, &uniform, cap_continuous, cap_discrete, &n);
    if (st) return st;
    const jvae_train_buffers *b = &m->buf;
    const int dz = m->options.n_continuous, width = m->discrete_dim, latent = m->latent_dim;
    const size_t pixels = image_floats(m);
    if ((st = take_images(b->images, images->data, (size_t)n * pixels))) return st;

    /* The noise: the caller's, or drawn row by row like jvae_latent_sample. */
    const float *uniform_values = b->uniform;
    if (eps == NULL && uniform == NULL) {
        for (int i = 0; i < n; i++)
            jvae_draw_latent_noise(&m->rng, b->eps + (size_t)i * dz, dz,
                                   b->uniform + (size_t)i * width, width);
    } else {
        if (eps != NULL) memcpy(b->eps, eps->data, (size_t)n * dz * sizeof(float));
        if (uniform != NULL) uniform_values = uniform->data;
    }

    jvae_encoder_buffers enc = {.hidden = b->hidden,
                                .mu = b->mu,
                                .logvar = b->logvar,
                                .alpha = b->alpha,
                                .head_blocks = b->head_blocks,
                                .scratch = b->scratch,
                                .pool = m->pool};
    memcpy(enc.act, b->enc_act, sizeof enc.act);
    jvae_encoder_forward(m, n, b->images, &enc);

    if (dz > 0) jvae_reparam_forward(b->latent, latent, b->mu, b->logvar, b->eps, n, dz);
    for (int v = 0; v < m->options.n_discrete; v++) {
        const int off = m->disc_offset[v];
        jvae_gumbel_softmax_forward(b->latent + dz + off, latent, b->alpha + off,
                                    uniform_values + off, width, n,
                                    m->options.discrete_sizes[v], m->options.temperature);
    }

    jvae_decoder_buffers dec = {
        .hidden = b->dec_hidden, .features = b->dec_features, .scratch = b->scratch,
        .pool = m->pool};
    memcpy(dec.act, b->dec_act, sizeof dec.act);
    jvae_decoder_forward(m, n, b->latent, &dec);

    const int official = m->loss.official_scaling;
    const double recon_sum =
        jvae_pool_bce_logits_forward(m->pool, NULL, b->dec_act[m->stages - 1], b->images, n,
                                     pixels);
    /* Official: BCE averaged over N·C·H·W, times H·W, i.e. the sum over N·C. */
    const double recon_divisor = official ? (double)n * m->options.channels : (double)n;
    jvae_loss_terms t = {0};
    t.batch = n;
    t.reconstruction = recon_sum / recon_divisor;
    if (dz > 0) t.kl_continuous = jvae_kl_continuous_forward(m->kl_units, b->mu, b->logvar, n, dz);
    if (width > 0)
        t.kl_discrete = jvae_kl_discrete_forward(m->kl_units + dz, b->alpha, n,
                                                 m->options.discrete_sizes, m->options.n_discrete);
    double dkl_cont, dkl_disc;
    jvae_loss_combine(&t, &dkl_cont, &dkl_disc, &m->loss, dz > 0, width > 0,
                      m->disc_capacity_max, cap_continuous, cap_discrete);
    if (!isfinite(t.total))
        return jvae_fail(JVAE_ERR_NUMERIC,
                         "jvae_model_forward: the loss is not finite (reconstruction %g, "
                         "KL continuous %g, KL discrete %g)",
                         t.reconstruction, t.kl_continuous, t.kl_discrete);

    /* Official scaling backpropagates total/(H·W). */
    const double scale =
        official ? 1.0 / ((double)m->options.height * m->options.width) : 1.0;
    m->dtotal_drecon_sum = scale / recon_divisor;
    m->dtotal_dkl_cont = scale * dkl_cont;
    m->dtotal_dkl_disc = scale * dkl_disc;
    m->pending_batch = n;
    m->has_forward = 1;
    if (terms != NULL) *terms = t;
    return JVAE_OK;
}

jvae_status jvae_model_forward(jvae_model *model, const jvae_tensor *images,
                               const jvae_tensor *eps, const jvae_tensor *uniform,
                               double cap_continuous, double cap_discrete,
                               jvae_loss_terms *terms)
{
    const jvae_fp_mode fp = jvae_fp_enter();
    const jvae_status st =
        forward_flushed(model, images, eps, uniform, cap_continuous, cap_discrete, terms);
    jvae_fp_leave(fp);
    return st;
}

/* ------------------------------------------------------------ backward */

/* From ∂loss/∂logits in grad_a down to ∂loss/∂latent in dlatent. */
static void decoder_backward(jvae_model *m, int n)
{
    const jvae_train_buffers *b = &m->buf;
    float *ga = b->grad_a, *gb = b->grad_b;
    for (int s = m->stages - 1; s >= 0; s--) {
        const jvae_conv_layer *layer = &m->decoder[s];
        const jvae_conv_dims d = jvae_stage_dims(layer, n);
        /* Every stage's input is a ReLU's output (the features' included):
         * the kernel writes the gradient at that ReLU's input into gb. */
        const float *in = s > 0 ? b->dec_act[s - 1] : b->dec_features;
        jvae_conv2d_transpose_backward_mt(gb, jvae_layer_weight(m, m->grads, layer->tensor),
                                          jvae_layer_bias(m, m->grads, layer->tensor), ga, in,
                                          jvae_layer_weight(m, m->params, layer->tensor), 1, &d,
                                          b->scratch, m->pool);
        float *spent = ga;
        ga = gb;
        gb = spent;
    }
    const jvae_linear_layer *l2 = &m->hidden_to_features, *l0 = &m->latent_to_hidden;
    const size_t hidden_count = (size_t)n * m->options.hidden;
    jvae_pool_zero(m->pool, gb, hidden_count);
    jvae_linear_backward_mt(gb, jvae_layer_weight(m, m->grads, l2->tensor),
                            jvae_layer_bias(m, m->grads, l2->tensor), ga, b->dec_hidden,
                            jvae_layer_weight(m, m->params, l2->tensor), n, l2->in, l2->out,
                            m->pool);
    jvae_pool_relu_backward_store(m->pool, ga, gb, b->dec_hidden, hidden_count);
    jvae_pool_zero(m->pool, b->dlatent, (size_t)n * m->latent_dim);
    jvae_linear_backward_mt(b->dlatent, jvae_layer_weight(m, m->grads, l0->tensor),
                            jvae_layer_bias(m, m->grads, l0->tensor), ga, b->latent,
                            jvae_layer_weight(m, m->params, l0->tensor), n, l0->in, l0->out,
                            m->pool);
}

/* From dlatent through the sampling and the KL terms to ∂loss/∂heads, then
 * through the heads into ∂loss/∂hidden (after ReLU) in grad_b. */
static void latent_backward(jvae_model *m, int n)
{
    const jvae_train_buffers *b = &m->buf;
    const int dz = m->options.n_continuous, width = m->discrete_dim, latent = m->latent_dim;
    const size_t hidden_count = (size_t)n * m->options.hidden;
    jvae_pool_zero(m->pool, b->grad_b, hidden_count);
    if (dz > 0) {
        jvae_pool_zero(m->pool, b->dmu, (size_t)n * dz);
        jvae_pool_zero(m->pool, b->dlogvar, (size_t)n * dz);
        jvae_reparam_backward(b->dmu, b->dlogvar, b->dlatent, latent, b->logvar, b->eps, n, dz);
        jvae_kl_continuous_backward(b->dmu, b->dlogvar, b->mu, b->logvar, n, dz,
                                    m->dtotal_dkl_cont);
        const jvae_linear_layer *heads[2] = {&m->mean, &m->log_var};
        const float *dheads[2] = {b->dmu, b->dlogvar};
        for (int h = 0; h < 2; h++)
            jvae_linear_backward_mt(b->grad_b,
                                    jvae_layer_weight(m, m->grads, heads[h]->tensor),
                                    jvae_layer_bias(m, m->grads, heads[h]->tensor), dheads[h],
                                    b->hidden, jvae_layer_weight(m, m->params, heads[h]->tensor),
                                    n, heads[h]->in, heads[h]->out, m->pool);
    }
    if (width > 0) {
        jvae_pool_zero(m->pool, b->dalpha, (size_t)n * width);
        for (int v = 0; v < m->options.n_discrete; v++) {
            const int off = m->disc_offset[v];
            jvae_gumbel_softmax_backward(b->dalpha + off, b->dlatent + dz + off,
                                         b->latent + dz + off, latent, b->alpha + off, width, n,
                                         m->options.discrete_sizes[v], m->options.temperature);
        }
        jvae_kl_discrete_backward(b->dalpha, b->alpha, n, width, m->dtotal_dkl_disc);
        for (int v = 0; v < m->options.n_discrete; v++) {
            const jvae_linear_layer *a = &m->alpha[v];
            const int off = m->disc_offset[v];
            float *dlogits = b->head_blocks + (size_t)n * off; /* (n, K_v) */
            jvae_pool_zero(m->pool, dlogits, (size_t)n * a->out);
            jvae_softmax_rows_backward(dlogits, a->out, b->dalpha + off, width, b->alpha + off,
                                       width, n, a->out);
            jvae_linear_backward_mt(b->grad_b, jvae_layer_weight(m, m->grads, a->tensor),
                                    jvae_layer_bias(m, m->grads, a->tensor), dlogits, b->hidden,
                                    jvae_layer_weight(m, m->params, a->tensor), n, a->in,
                                    a->out, m->pool);
        }
    }
}

/* From ∂loss/∂hidden (after ReLU) in grad_b down to the first conv's weights. */
static void encoder_backward(jvae_model *m, int n)
{
    const jvae_train_buffers *b = &m->buf;
    float *ga = b->grad_a, *gb = b->grad_b;
    const jvae_linear_layer *h = &m->to_hidden;
    const size_t hidden_count = (size_t)n * m->options.hidden;
    jvae_pool_relu_backward_store(m->pool, ga, gb, b->hidden, hidden_count);
    jvae_pool_zero(m->pool, gb, (size_t)n * JVAE_FEATURES);
    jvae_linear_backward_mt(gb, jvae_layer_weight(m, m->grads, h->tensor),
                            jvae_layer_bias(m, m->grads, h->tensor), ga,
                            b->enc_act[m->stages - 1], jvae_layer_weight(m, m->params, h->tensor),
                            n, h->in, h->out, m->pool);
    const int top = m->stages - 1;
    jvae_pool_relu_backward_store(m->pool, ga, gb, b->enc_act[top],
                                  (size_t)n * jvae_stage_floats(&m->encoder[top]));
    for (int s = top; s >= 0; s--) {
        const jvae_conv_layer *layer = &m->encoder[s];
        const jvae_conv_dims d = jvae_stage_dims(layer, n);
        /* Below the first stage the input is a ReLU's output: the kernel
         * writes the gradient at that ReLU's input into gb. */
        float *din = s > 0 ? gb : NULL;
        const float *in = s > 0 ? b->enc_act[s - 1] : b->images;
        jvae_conv2d_backward_mt(din, jvae_layer_weight(m, m->grads, layer->tensor),
                                jvae_layer_bias(m, m->grads, layer->tensor), ga, in,
                                jvae_layer_weight(m, m->params, layer->tensor), s > 0, &d,
                                b->scratch, m->pool);
        float *spent = ga;
        ga = gb;
        gb = spent;
    }
}

static jvae_status backward_flushed(jvae_model *model)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_backward");
    const int n = model->pending_batch;
    if (n == 0)
        return jvae_fail(JVAE_ERR_STATE,
                         "jvae_model_backward: no forward pass to differentiate (each "
                         "successful jvae_model_forward allows one backward)");
    model->pending_batch = 0;
    const jvae_train_buffers *b = &model->buf;
    const size_t count = (size_t)n * image_floats(model);
    jvae_pool_zero(model->pool, b->grad_a, count);
    jvae_pool_bce_logits_backward(model->pool, b->grad_a, b->dec_act[model->stages - 1],
                                  b->images, count, (float)model->dtotal_drecon_sum);
    decoder_backward(model, n);
    latent_backward(model, n);
    encoder_backward(model, n);
    /* The tensors tile the gradient block in order, so the lowest non-finite
     * value of the block is the first one of the first tensor that has one. */
    const size_t bad =
        jvae_pool_first_non_finite(model->pool, model->grads, (size_t)model->param_count);
    for (int t = 0; t < model->tensor_count; t++) {
        const jvae_param_tensor *info = &model->tensors[t];
        if (bad >= (size_t)info->offset && bad < (size_t)(info->offset + info->numel)) {
            const int64_t i = (int64_t)bad - info->offset;
            return jvae_fail(JVAE_ERR_NUMERIC,
                             "jvae_model_backward: the gradient of %s[%lld] is %g", info->name,
                             (long long)i, (double)model->grads[bad]);
        }
    }
    return JVAE_OK;
}

jvae_status jvae_model_backward(jvae_model *model)
{
    const jvae_fp_mode fp = jvae_fp_enter();
    const jvae_status st = backward_flushed(model);
    jvae_fp_leave(fp);
    return st;
}

jvae_status jvae_model_zero_grad(jvae_model *model)
{
    JVAE_CHECK_NOT_NULL(model, "jvae_model_zero_grad");
    jvae_pool_zero(model->pool, model->grads, (size_t)model->param_count);
    return JVAE_OK;
}

jvae_status jvae_model_kl_per_unit(const jvae_model *model, float *continuous, int n_continuous,
                                   float *discrete, int n_discrete)
{
    static const char *fn = "jvae_model_kl_per_unit";
    JVAE_CHECK_NOT_NULL(model, fn);
    if (!model->has_forward)
        return jvae_fail(JVAE_ERR_STATE, "%s: no successful forward pass yet", fn);
    const int dz = model->options.n_continuous, nd = model->options.n_discrete;
    if (continuous != NULL && n_continuous != dz)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: n_continuous must be %d (the model's continuous latents), got %d",
                         fn, dz, n_continuous);
    if (discrete != NULL && n_discrete != nd)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: n_discrete must be %d (the model's discrete variables), got %d", fn,
                         nd, n_discrete);
    if (continuous != NULL) memcpy(continuous, model->kl_units, (size_t)dz * sizeof(float));
    if (discrete != NULL) memcpy(discrete, model->kl_units + dz, (size_t)nd * sizeof(float));
    return JVAE_OK;
}
