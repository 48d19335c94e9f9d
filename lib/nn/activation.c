/* Element-wise activations (count values); backward reads the forward output. */
#include "nn/nn.h"

#include <math.h>

void jvae_relu_forward(float *out, const float *in, size_t count)
{
    /* `x < 0` rather than `x > 0`: a NaN passes through, as in PyTorch, so a
     * diverging model is noticed instead of silently zeroed. */
    for (size_t i = 0; i < count; i++) out[i] = in[i] < 0.0f ? 0.0f : in[i];
}

void jvae_relu_backward(float *din, const float *dout, const float *out, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (out[i] > 0.0f) din[i] += dout[i];
}

void jvae_sigmoid_forward(float *out, const float *in, size_t count)
{
    /* exp only ever sees −|x|, so it cannot overflow: for x ≥ 0, 1/(1 + e^−x);
     * for x < 0, e^x/(1 + e^x), which keeps tiny results instead of 1 − 1. */
    for (size_t i = 0; i < count; i++) {
        const float x = in[i];
        if (x >= 0.0f) {
            out[i] = 1.0f / (1.0f + expf(-x));
        } else {
            const float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    }
}

void jvae_sigmoid_backward(float *din, const float *dout, const float *out, size_t count)
{
    for (size_t i = 0; i < count; i++) din[i] += dout[i] * out[i] * (1.0f - out[i]);
}
