/* Binary cross-entropy from logits, the reconstruction loss of binary-ish images. */
#include "nn/nn.h"

#include <math.h>

/* Σ_p softplus(x) − t·x over one image, in double. */
static double image_sum(const float *x, const float *t, size_t pixels)
{
    double sum = 0.0;
    for (size_t p = 0; p < pixels; p++) {
        /* softplus(x) − t·x = max(x, 0) − t·x + log1p(e^−|x|): exp never
         * overflows and log never sees 0, for any finite logit. */
        const double xv = x[p];
        sum += fmax(xv, 0.0) - (double)t[p] * xv + log1p(exp(-fabs(xv)));
    }
    return sum;
}

void jvae_bce_logits_image_sums(double *sums, const float *logits, const float *targets, int n,
                                size_t pixels)
{
    for (int i = 0; i < n; i++)
        sums[i] = image_sum(logits + (size_t)i * pixels, targets + (size_t)i * pixels, pixels);
}

double jvae_bce_logits_forward(float *per_image, const float *logits, const float *targets,
                               int n, size_t pixels)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const double sum =
            image_sum(logits + (size_t)i * pixels, targets + (size_t)i * pixels, pixels);
        if (per_image != NULL) per_image[i] = (float)sum;
        total += sum;
    }
    return total;
}

void jvae_bce_logits_backward(float *dlogits, const float *logits, const float *targets,
                              size_t count, float scale)
{
    for (size_t i = 0; i < count; i++) {
        const float x = logits[i];
        float s;
        if (x >= 0.0f) {
            s = 1.0f / (1.0f + expf(-x));
        } else {
            const float e = expf(x);
            s = e / (1.0f + e);
        }
        dlogits[i] += scale * (s - targets[i]);
    }
}
