/* Adam and SGD with momentum over the model's parameter block.
 *
 * Both follow torch.optim's single-tensor code path (PyTorch 1.13), operation by
 * operation, in float: the scalar coefficients (1 − β, bias corrections, step
 * size) are computed in double, like PyTorch's Python floats, and rounded to
 * float once before the element-wise update, like PyTorch's wrapped scalars.
 *
 * Adam, for each element, step t (t = 1 on the first update):
 *   g  = grad + wd·p                       (only when wd != 0)
 *   m  = m·β1;  m = m + (1 − β1)·g
 *   v  = v·β2;  v = v + ((1 − β2)·g)·g
 *   denom = sqrt(v) / sqrt(1 − β2^t) + ε
 *   p  = p + (−lr / (1 − β1^t))·m / denom
 * SGD (dampening 0, no Nesterov):
 *   g  = grad + wd·p                       (only when wd != 0)
 *   b  = g on the first step, else b·μ + g (only when μ != 0; otherwise b = g)
 *   p  = p + (−lr)·b
 * Results agree with PyTorch to float rounding; they are not always bit-equal,
 * because PyTorch's vectorised kernels use fused multiply-add on AVX2 hosts.
 *
 * The finiteness check and the update run on the model's pool (NULL: the
 * caller alone), each worker over a contiguous block of the parameter block
 * whose edges fall on multiples of 16 floats. Every element is updated by the
 * same operations whichever worker (and whichever of the SSE or the scalar
 * loop) takes it, so the bits do not depend on the thread count. */
#include "train/optimizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/block.h"
#include "core/cpu.h"
#include "core/error.h"
#include "core/fp_mode.h"
#include "model/model.h"
#include "model/network.h"

jvae_status jvae_optimizer_options_init(jvae_optimizer_options *options)
{
    JVAE_CHECK_NOT_NULL(options, "jvae_optimizer_options_init");
    memset(options, 0, sizeof *options);
    options->version = JVAE_OPTIMIZER_OPTIONS_VERSION;
    options->kind = JVAE_OPTIMIZER_ADAM;
    options->learning_rate = 5e-4f;
    options->beta1 = 0.9f;
    options->beta2 = 0.999f;
    options->epsilon = 1e-8f;
    options->weight_decay = 0.0f;
    options->momentum = 0.9f;
    return JVAE_OK;
}

static jvae_status check_learning_rate(const char *fn, float lr)
{
    if (!isfinite(lr) || lr < 0.0f)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: learning_rate must be finite and >= 0, got %g", fn, (double)lr);
    return JVAE_OK;
}

/* The same bounds as torch.optim, plus finiteness. */
jvae_status jvae_optimizer_check_options(const char *fn, const jvae_optimizer_options *o)
{
    JVAE_CHECK_NOT_NULL(o, fn);
    if (o->version != JVAE_OPTIMIZER_OPTIONS_VERSION)
        return jvae_fail(JVAE_ERR_VERSION,
                         "%s: options version %u is not supported (this library knows %u)", fn,
                         o->version, (unsigned)JVAE_OPTIMIZER_OPTIONS_VERSION);
    if (o->kind != JVAE_OPTIMIZER_ADAM && o->kind != JVAE_OPTIMIZER_SGD)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: unknown optimizer kind %d", fn,
                         (int)o->kind);
    jvae_status st = check_learning_rate(fn, o->learning_rate);
    if (st) return st;
    if (!isfinite(o->weight_decay) || o->weight_decay < 0.0f)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: weight_decay must be finite and >= 0, got %g", fn,
                         (double)o->weight_decay);
    if (o->kind == JVAE_OPTIMIZER_ADAM) {
        if (!(o->beta1 >= 0.0f && o->beta1 < 1.0f))
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: beta1 must be in [0, 1), got %g",
                             fn, (double)o->beta1);
        if (!(o->beta2 >= 0.0f && o->beta2 < 1.0f))
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: beta2 must be in [0, 1), got %g",
                             fn, (double)o->beta2);
        if (!isfinite(o->epsilon) || o->epsilon < 0.0f)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                             "%s: epsilon must be finite and >= 0, got %g", fn,
                             (double)o->epsilon);
    } else if (!isfinite(o->momentum) || o->momentum < 0.0f) {
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: momentum must be finite and >= 0, got %g",
                         fn, (double)o->momentum);
    }
    return JVAE_OK;
}

/* jvae_block_calloc checks count · size for overflow itself. */
static float *alloc_moment(int64_t count)
{
    return jvae_block_calloc((size_t)count, sizeof(float));
}

jvae_status jvae_optimizer_create(jvae_optimizer **out, jvae_model *model,
                                  const jvae_optimizer_options *options)
{
    static const char fn[] = "jvae_optimizer_create";
    JVAE_CHECK_NOT_NULL(out, fn);
    *out = NULL;
    JVAE_CHECK_NOT_NULL(model, fn);
    jvae_status st = jvae_optimizer_check_options(fn, options);
    if (st) return st;
    if (model->param_count < 1 || model->params == NULL || model->grads == NULL)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: the model has no parameter block", fn);

    jvae_optimizer *opt = calloc(1, sizeof *opt);
    if (opt == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    opt->options = *options;
    opt->model = model;
    opt->param_count = model->param_count;
    int needs_first = options->kind == JVAE_OPTIMIZER_ADAM || options->momentum != 0.0f;
    int needs_second = options->kind == JVAE_OPTIMIZER_ADAM;
    if ((needs_first && (opt->first = alloc_moment(opt->param_count)) == NULL) ||
        (needs_second && (opt->second = alloc_moment(opt->param_count)) == NULL)) {
        jvae_optimizer_free(opt);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate moments of %lld floats",
                         fn, (long long)model->param_count);
    }
    *out = opt;
    return JVAE_OK;
}

void jvae_optimizer_free(jvae_optimizer *optimizer)
{
    if (optimizer == NULL) return;
    free(optimizer->first);
    free(optimizer->second);
    free(optimizer);
}

jvae_status jvae_optimizer_get_options(const jvae_optimizer *optimizer,
                                       jvae_optimizer_options *out)
{
    JVAE_CHECK_NOT_NULL(optimizer, "jvae_optimizer_get_options");
    JVAE_CHECK_NOT_NULL(out, "jvae_optimizer_get_options");
    *out = optimizer->options;
    return JVAE_OK;
}

jvae_status jvae_optimizer_set_learning_rate(jvae_optimizer *optimizer, float lr)
{
    static const char fn[] = "jvae_optimizer_set_learning_rate";
    JVAE_CHECK_NOT_NULL(optimizer, fn);
    jvae_status st = check_learning_rate(fn, lr);
    if (st) return st;
    optimizer->options.learning_rate = lr;
    return JVAE_OK;
}

int64_t jvae_optimizer_step_count(const jvae_optimizer *optimizer)
{
    return optimizer == NULL ? 0 : optimizer->step_count;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The constants of one Adam update, as adam_update computes them. */
typedef struct adam_terms {
    float beta1, beta2, one_minus_beta1, one_minus_beta2, neg_step_size, bias_correction2_sqrt,
        eps, wd;
} adam_terms;

/* Sixteen lanes at a time, the operations of the SSE loop below in the same
 * order, so the same bits; Adam's divisions and square roots make it a
 * twentieth of a training step at four lanes. Returns where it stopped. */
__attribute__((target("avx512f"))) static int64_t adam_update_avx512(
    const adam_terms *t, float *params, const float *grads, float *m, float *v, int64_t i,
    int64_t end)
{
    const __m512 b1 = _mm512_set1_ps(t->beta1), b2 = _mm512_set1_ps(t->beta2);
    const __m512 omb1 = _mm512_set1_ps(t->one_minus_beta1);
    const __m512 omb2 = _mm512_set1_ps(t->one_minus_beta2);
    const __m512 step_size = _mm512_set1_ps(t->neg_step_size);
    const __m512 bc2 = _mm512_set1_ps(t->bias_correction2_sqrt);
    const __m512 epsilon = _mm512_set1_ps(t->eps), decay = _mm512_set1_ps(t->wd);
    for (; i + 16 <= end; i += 16) {
        const __m512 p = _mm512_loadu_ps(params + i);
        __m512 g = _mm512_loadu_ps(grads + i);
        if (t->wd != 0.0f) g = _mm512_add_ps(g, _mm512_mul_ps(decay, p));
        __m512 mi = _mm512_mul_ps(_mm512_loadu_ps(m + i), b1);
        mi = _mm512_add_ps(mi, _mm512_mul_ps(omb1, g));
        __m512 vi = _mm512_mul_ps(_mm512_loadu_ps(v + i), b2);
        vi = _mm512_add_ps(vi, _mm512_mul_ps(_mm512_mul_ps(omb2, g), g));
        const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), bc2), epsilon);
        _mm512_storeu_ps(params + i,
                         _mm512_add_ps(p, _mm512_div_ps(_mm512_mul_ps(step_size, mi), denom)));
        _mm512_storeu_ps(m + i, mi);
        _mm512_storeu_ps(v + i, vi);
    }
    return i;
}
#endif

/* Adam on elements [begin, end). */
static void adam_update(const jvae_optimizer *opt, float *params, const float *grads,
                        int64_t step, int64_t begin, int64_t end)
{
    const jvae_optimizer_options *o = &opt->options;
    const double beta1 = o->beta1, beta2 = o->beta2;
    const float beta1_f = o->beta1, beta2_f = o->beta2;
    const float one_minus_beta1 = (float)(1.0 - beta1);
    const float one_minus_beta2 = (float)(1.0 - beta2);
    const double bias_correction1 = 1.0 - pow(beta1, (double)step);
    const double bias_correction2 = 1.0 - pow(beta2, (double)step);
    const float neg_step_size = (float)(-((double)o->learning_rate / bias_correction1));
    const float bias_correction2_sqrt = (float)sqrt(bias_correction2);
    const float eps = o->epsilon, wd = o->weight_decay;
    float *m = opt->first, *v = opt->second;
    int64_t i = begin;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (jvae_cpu_isa() == JVAE_ISA_AVX512) {
        const adam_terms terms = {beta1_f, beta2_f, one_minus_beta1, one_minus_beta2,
                                  neg_step_size, bias_correction2_sqrt, eps, wd};
        i = adam_update_avx512(&terms, params, grads, m, v, i, end);
    }
#endif
#if defined(__SSE2__)
    /* Four lanes at a time, operation by operation as in the scalar loop
     * below: SSE's multiply, add, divide and square root round exactly like
     * the scalar ones (IEEE, round to nearest), so the bits are the same; the
     * compiler cannot vectorise the scalar loop itself because sqrtf may set
     * errno. */
    const __m128 b1 = _mm_set1_ps(beta1_f), b2 = _mm_set1_ps(beta2_f);
    const __m128 omb1 = _mm_set1_ps(one_minus_beta1), omb2 = _mm_set1_ps(one_minus_beta2);
    const __m128 step_size = _mm_set1_ps(neg_step_size), bc2 = _mm_set1_ps(bias_correction2_sqrt);
    const __m128 epsilon = _mm_set1_ps(eps), decay = _mm_set1_ps(wd);
    for (; i + 4 <= end; i += 4) {
        const __m128 p = _mm_loadu_ps(params + i);
        __m128 g = _mm_loadu_ps(grads + i);
        if (wd != 0.0f) g = _mm_add_ps(g, _mm_mul_ps(decay, p));
        __m128 mi = _mm_mul_ps(_mm_loadu_ps(m + i), b1);
        mi = _mm_add_ps(mi, _mm_mul_ps(omb1, g));
        __m128 vi = _mm_mul_ps(_mm_loadu_ps(v + i), b2);
        vi = _mm_add_ps(vi, _mm_mul_ps(_mm_mul_ps(omb2, g), g));
        const __m128 denom = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vi), bc2), epsilon);
        _mm_storeu_ps(params + i, _mm_add_ps(p, _mm_div_ps(_mm_mul_ps(step_size, mi), denom)));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
    }
#endif
    for (; i < end; i++) {
        float g = grads[i];
        if (wd != 0.0f) g = g + wd * params[i];
        float mi = m[i] * beta1_f;
        mi = mi + one_minus_beta1 * g;
        float vi = v[i] * beta2_f;
        vi = vi + (one_minus_beta2 * g) * g;
        float denom = sqrtf(vi) / bias_correction2_sqrt + eps;
        params[i] = params[i] + (neg_step_size * mi) / denom;
        m[i] = mi;
        v[i] = vi;
    }
}

/* SGD on elements [begin, end). */
static void sgd_update(const jvae_optimizer *opt, float *params, const float *grads,
                       int64_t begin, int64_t end)
{
    const jvae_optimizer_options *o = &opt->options;
    const float neg_lr = (float)(-(double)o->learning_rate);
    const float wd = o->weight_decay, momentum = o->momentum;
    float *buf = opt->first;
    const int first_step = opt->step_count == 0;
    for (int64_t i = begin; i < end; i++) {
        float g = grads[i];
        if (wd != 0.0f) g = g + wd * params[i];
        if (buf != NULL) {
            /* torch clones the gradient on the first step rather than
             * scaling a zero buffer. */
            buf[i] = first_step ? g : buf[i] * momentum + g;
            g = buf[i];
        }
        params[i] = params[i] + neg_lr * g;
    }
}

/* What the workers of one update share. */
typedef struct update_job {
    const jvae_optimizer *opt;
    float *params;
    const float *grads;
} update_job;

static void update_worker(void *context, int worker, int workers)
{
    const update_job *j = context;
    size_t begin, count;
    jvae_aligned_block((size_t)j->opt->param_count, worker, workers, &begin, &count);
    const int64_t first = (int64_t)begin, end = (int64_t)(begin + count);
    if (j->opt->options.kind == JVAE_OPTIMIZER_ADAM)
        adam_update(j->opt, j->params, j->grads, j->opt->step_count + 1, first, end);
    else
        sgd_update(j->opt, j->params, j->grads, first, end);
}

static jvae_status step_flushed(jvae_optimizer *optimizer)
{
    static const char fn[] = "jvae_optimizer_step";
    JVAE_CHECK_NOT_NULL(optimizer, fn);
    jvae_model *model = optimizer->model;
    const float *grads = model->grads;
    const size_t count = (size_t)optimizer->param_count;
    const size_t bad = jvae_pool_first_non_finite(model->pool, grads, count);
    if (bad < count)
        return jvae_fail(JVAE_ERR_NUMERIC, "%s: gradient %zu is %g; no parameter was updated",
                         fn, bad, (double)grads[bad]);
    if (optimizer->step_count == INT64_MAX)
        return jvae_fail(JVAE_ERR_OVERFLOW, "%s: step counter is exhausted", fn);
    update_job job = {.opt = optimizer, .params = model->params, .grads = grads};
    jvae_pool_run(model->pool, jvae_pool_value_workers(model->pool, count), update_worker, &job);
    optimizer->step_count++;
    return JVAE_OK;
}

jvae_status jvae_optimizer_step(jvae_optimizer *optimizer)
{
    const jvae_fp_mode fp = jvae_fp_enter();
    const jvae_status st = step_flushed(optimizer);
    jvae_fp_leave(fp);
    return st;
}
