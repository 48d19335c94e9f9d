/*
 * Internal: the loss terms of JointVAE (Dupont 2018, eq. 7) and its β-VAE and
 * capacity (Burgess 2018) variants, as forward/backward pairs over the
 * encoder's outputs. The reconstruction term is nn's BCE from logits; the
 * model scales it (see jvae_loss_options.official_scaling).
 *
 * Legend: N batch, Dz continuous units, ΣK discrete columns. Sums run in
 * double; backward functions accumulate (+=) scale·∂/∂input.
 */
#ifndef JVAE_MODEL_LOSS_H
#define JVAE_MODEL_LOSS_H

#include "jointvae/model.h"

/* The official code's guard inside logarithms: log(α + 1e-12). */
#define JVAE_LOG_EPS 1e-12

/* Continuous KL to N(0, I): units[j] = (1/N) Σ_n −½(1 + lv − μ² − e^lv) for
 * mu, logvar (N, Dz); returns Σ_j units[j]. units may be NULL. */
double jvae_kl_continuous_forward(float *units, const float *mu, const float *logvar, int n,
                                  int dz);
/* dmu += scale·μ/N, dlogvar += scale·½(e^lv − 1)/N, all (N, Dz). */
void jvae_kl_continuous_backward(float *dmu, float *dlogvar, const float *mu,
                                 const float *logvar, int n, int dz, double scale);

/* Discrete KL to uniform priors for alpha (N, ΣK), the variables of
 * sizes[0..count) side by side: units[i] = log K_i + (1/N) Σ_n Σ_k α log(α + 1e-12)
 * (the official code's form, 1e-12 included); returns Σ_i units[i]. units may be NULL. */
double jvae_kl_discrete_forward(float *units, const float *alpha, int n, const int *sizes,
                                int count);
/* dalpha += scale·(log(α + 1e-12) + α/(α + 1e-12))/N over the n·width values. */
void jvae_kl_discrete_backward(float *dalpha, const float *alpha, int n, int width,
                               double scale);

/* The capacity (or β) terms of `mode` from the KLs already in terms
 * (kl_continuous, kl_discrete) and the reconstruction: fills
 * capacity_continuous/discrete, capacity_term_continuous/discrete and total,
 * and the derivatives of the two terms' sum with respect to KL_z and KL_c.
 *   JOINTVAE: γ_z|KL_z − C_z| (0 without continuous latents) and γ_c|KL_c − C_c|
 *             with C_c clipped to disc_capacity_max (0 without discrete ones).
 *   BETA_VAE: β·KL_z and β·KL_c; both capacities reported as 0.
 *   CAPACITY: γ|KL_z + KL_c − C| with C = cap_cont, in the continuous slot;
 *             the discrete capacity and term are 0.
 * d|x|/dx is taken as 0 at x = 0. */
void jvae_loss_combine(jvae_loss_terms *terms, double *dkl_cont, double *dkl_disc,
                       const jvae_loss_options *loss, int has_cont, int has_disc,
                       double disc_capacity_max, double cap_cont, double cap_disc);

#endif
