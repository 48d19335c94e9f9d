/* Softmax, reparametrisation and Gumbel-softmax of the latent layer. */
#include "model/latent.h"

#include <math.h>
#include <stddef.h>

#include "model/loss.h"

/* Row softmax in double with the maximum subtracted, so exp never overflows.
 * logit(j) is recomputed on each pass instead of being buffered, so rows of
 * any width need no memory. */
typedef double (*logit_fn)(const void *row, int j);

static void softmax_row(float *out, logit_fn logit, const void *row, int k)
{
    double top = logit(row, 0);
    for (int j = 1; j < k; j++) top = fmax(top, logit(row, j));
    double sum = 0.0;
    for (int j = 0; j < k; j++) sum += exp(logit(row, j) - top);
    for (int j = 0; j < k; j++) out[j] = (float)(exp(logit(row, j) - top) / sum);
}

static double plain_logit(const void *row, int j)
{
    return ((const float *)row)[j];
}

void jvae_softmax_rows_forward(float *probs, int probs_stride, const float *logits,
                               int logits_stride, int n, int k)
{
    for (int i = 0; i < n; i++)
        softmax_row(probs + (size_t)i * probs_stride, plain_logit,
                    logits + (size_t)i * logits_stride, k);
}

void jvae_softmax_rows_backward(float *dlogits, int dlogits_stride, const float *dprobs,
                                int dprobs_stride, const float *probs, int probs_stride, int n,
                                int k)
{
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * probs_stride;
        const float *dp = dprobs + (size_t)i * dprobs_stride;
        double dot = 0.0;
        for (int j = 0; j < k; j++) dot += (double)p[j] * dp[j];
        float *dl = dlogits + (size_t)i * dlogits_stride;
        for (int j = 0; j < k; j++) dl[j] += (float)((double)p[j] * ((double)dp[j] - dot));
    }
}

void jvae_reparam_forward(float *z, int z_stride, const float *mu, const float *logvar,
                          const float *eps, int n, int dz)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < dz; j++) {
            const size_t at = (size_t)i * dz + j;
            z[(size_t)i * z_stride + j] =
                (float)((double)mu[at] + exp(0.5 * (double)logvar[at]) * (double)eps[at]);
        }
}

void jvae_reparam_backward(float *dmu, float *dlogvar, const float *dz, int dz_stride,
                           const float *logvar, const float *eps, int n, int dz_count)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < dz_count; j++) {
            const size_t at = (size_t)i * dz_count + j;
            const double g = dz[(size_t)i * dz_stride + j];
            dmu[at] += (float)g;
            dlogvar[at] += (float)(g * (double)eps[at] * 0.5 * exp(0.5 * (double)logvar[at]));
        }
}

/* One row of the Gumbel-softmax: its α, its uniforms and T. */
typedef struct gumbel_row {
    const float *alpha, *uniform;
    double temperature;
} gumbel_row;

static double gumbel_logit(const void *row, int j)
{
    const gumbel_row *r = row;
    const double gumbel = -log(-log((double)r->uniform[j] + JVAE_LOG_EPS) + JVAE_LOG_EPS);
    return (log((double)r->alpha[j] + JVAE_LOG_EPS) + gumbel) / r->temperature;
}

void jvae_gumbel_softmax_forward(float *y, int y_stride, const float *alpha,
                                 const float *uniform, int stride, int n, int k,
                                 float temperature)
{
    for (int i = 0; i < n; i++) {
        const gumbel_row row = {alpha + (size_t)i * stride, uniform + (size_t)i * stride,
                                (double)temperature};
        softmax_row(y + (size_t)i * y_stride, gumbel_logit, &row, k);
    }
}

void jvae_gumbel_softmax_backward(float *dalpha, const float *dy, const float *y, int y_stride,
                                  const float *alpha, int stride, int n, int k,
                                  float temperature)
{
    for (int i = 0; i < n; i++) {
        const float *yr = y + (size_t)i * y_stride;
        const float *dyr = dy + (size_t)i * y_stride;
        double dot = 0.0;
        for (int j = 0; j < k; j++) dot += (double)yr[j] * dyr[j];
        const float *a = alpha + (size_t)i * stride;
        float *da = dalpha + (size_t)i * stride;
        for (int j = 0; j < k; j++) {
            const double dlogit = (double)yr[j] * ((double)dyr[j] - dot);
            da[j] += (float)(dlogit / ((double)temperature * ((double)a[j] + JVAE_LOG_EPS)));
        }
    }
}

int jvae_argmax_first(const float *x, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

void jvae_draw_latent_noise(jvae_rng *rng, float *eps, int dz, float *uniform, int width)
{
    for (int j = 0; j < dz; j++) eps[j] = jvae_rng_normal(rng);
    for (int j = 0; j < width; j++) uniform[j] = jvae_rng_uniform(rng);
}
