/* Element-wise activations (count values); backward reads the forward output. */
#include "nn/nn.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The ReLU's tests on the bits of a float, which the compiler vectorises
 * (it does not vectorise the float comparisons: with -ftrapping-math, the
 * default, it may not evaluate them for lanes the scalar code would not).
 * Unsigned bit patterns: +0 is 0, +inf 0x7f800000, −0 0x80000000, −inf
 * 0xff800000, NaNs above each infinity. */
static inline uint32_t bits_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float float_of(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* All ones when x > 0 (a positive finite value or +inf; never a NaN), else 0. */
static inline uint32_t positive_mask(uint32_t x)
{
    return x - 1u < 0x7f800000u ? 0xffffffffu : 0u;
}

void jvae_relu_forward(float *out, const float *in, size_t count)
{
    /* Zero exactly the x < 0 values (negative finite or −inf): a NaN passes
     * through, as in PyTorch, so a diverging model is noticed instead of
     * silently zeroed; −0 stays −0. */
    for (size_t i = 0; i < count; i++) {
        const uint32_t x = bits_of(in[i]);
        const uint32_t negative = x - 0x80000001u < 0x7f800000u ? 0xffffffffu : 0u;
        out[i] = float_of(x & ~negative);
    }
}

void jvae_relu_backward(float *din, const float *dout, const float *out, size_t count)
{
    /* Both operands are loaded unconditionally and selected, so the loop
     * vectorises (the sign pattern of a ReLU layer is random: a branch
     * mispredicts half the time); din += 0 changes nothing but the sign of
     * a −0. */
    for (size_t i = 0; i < count; i++) {
        const float g = dout[i], keep = out[i];
        din[i] += keep > 0.0f ? g : 0.0f;
    }
}

/* dout where out > 0, else +0, with −0 made +0 (as 0 + dout would). */
static inline float relu_gate(float dout, float out)
{
    uint32_t g = bits_of(dout);
    g = g == 0x80000000u ? 0u : g;
    return float_of(g & positive_mask(bits_of(out)));
}

void jvae_relu_backward_store(float *restrict din, const float *restrict dout,
                              const float *restrict out, size_t count)
{
    /* Bit for bit what zeroing din and calling jvae_relu_backward gives. */
    for (size_t i = 0; i < count; i++) din[i] = relu_gate(dout[i], out[i]);
}

void jvae_relu_backward_in_place(float *restrict grad, const float *restrict out, size_t count)
{
    for (size_t i = 0; i < count; i++) grad[i] = relu_gate(grad[i], out[i]);
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
