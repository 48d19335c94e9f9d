/*
 * Internal: the latent layer of JointVAE — softmax of the discrete heads, the
 * Gaussian reparametrisation and the Gumbel-softmax relaxation — as
 * forward/backward pairs over row-major blocks with explicit row strides
 * (so a variable's columns can sit inside the concatenated latent).
 *
 * Legend: n rows (the batch), k columns of one variable, dz continuous units.
 * Arithmetic runs in double; no function allocates; backward functions
 * accumulate (+=).
 */
#ifndef JVAE_MODEL_LATENT_H
#define JVAE_MODEL_LATENT_H

#include <stdint.h>

#include "core/rng.h"

/* probs (n, k) = softmax over each row of logits (n, k). */
void jvae_softmax_rows_forward(float *probs, int probs_stride, const float *logits,
                               int logits_stride, int n, int k);
/* dlogits += p ⊙ (dp − Σ_j p_j·dp_j) per row. */
void jvae_softmax_rows_backward(float *dlogits, int dlogits_stride, const float *dprobs,
                                int dprobs_stride, const float *probs, int probs_stride, int n,
                                int k);

/* z (n, dz) = mu + exp(½·logvar)·eps; mu, logvar, eps (n, dz) contiguous. */
void jvae_reparam_forward(float *z, int z_stride, const float *mu, const float *logvar,
                          const float *eps, int n, int dz);
/* dmu += dz, dlogvar += dz·eps·½·exp(½·logvar). */
void jvae_reparam_backward(float *dmu, float *dlogvar, const float *dz, int dz_stride,
                           const float *logvar, const float *eps, int n, int dz_count);

/* y (n, k) = softmax((log(α + 1e-12) + g)/T), g = −log(−log(u + 1e-12) + 1e-12),
 * for one discrete variable: alpha and uniform rows of stride `stride`. */
void jvae_gumbel_softmax_forward(float *y, int y_stride, const float *alpha,
                                 const float *uniform, int stride, int n, int k,
                                 float temperature);
/* dalpha += ∂y/∂α · dy: dl = y ⊙ (dy − Σ y·dy), dα = dl / (T·(α + 1e-12)). */
void jvae_gumbel_softmax_backward(float *dalpha, const float *dy, const float *y, int y_stride,
                                  const float *alpha, int stride, int n, int k,
                                  float temperature);

/* Index of the largest value of x[0..k) (the first one on ties). */
int jvae_argmax_first(const float *x, int k);

/* Draw one latent row's noise: dz standard normals into eps, then width
 * uniforms in [0, 1) into uniform (either may be skipped with a count of 0).
 * Training and jvae_latent_sample draw in this order, row by row. */
void jvae_draw_latent_noise(jvae_rng *rng, float *eps, int dz, float *uniform, int width);

#endif
