/* The KL terms and the capacity combination of the JointVAE loss. */
#include "model/loss.h"

#include <math.h>
#include <stddef.h>

double jvae_kl_continuous_forward(float *units, const float *mu, const float *logvar, int n,
                                  int dz)
{
    double total = 0.0;
    for (int j = 0; j < dz; j++) {
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            const double m = mu[(size_t)i * dz + j], lv = logvar[(size_t)i * dz + j];
            sum += -0.5 * (1.0 + lv - m * m - exp(lv));
        }
        const double mean = sum / n;
        if (units != NULL) units[j] = (float)mean;
        total += mean;
    }
    return total;
}

void jvae_kl_continuous_backward(float *dmu, float *dlogvar, const float *mu,
                                 const float *logvar, int n, int dz, double scale)
{
    const double per_row = scale / n;
    for (size_t i = 0; i < (size_t)n * (size_t)dz; i++) {
        dmu[i] += (float)(per_row * mu[i]);
        dlogvar[i] += (float)(per_row * 0.5 * (exp((double)logvar[i]) - 1.0));
    }
}

double jvae_kl_discrete_forward(float *units, const float *alpha, int n, const int *sizes,
                                int count)
{
    int width = 0;
    for (int v = 0; v < count; v++) width += sizes[v];
    double total = 0.0;
    int offset = 0;
    for (int v = 0; v < count; v++) {
        double neg_entropy = 0.0;
        for (int i = 0; i < n; i++) {
            const float *a = alpha + (size_t)i * width + offset;
            for (int k = 0; k < sizes[v]; k++)
                neg_entropy += (double)a[k] * log((double)a[k] + JVAE_LOG_EPS);
        }
        const double kl = log((double)sizes[v]) + neg_entropy / n;
        if (units != NULL) units[v] = (float)kl;
        total += kl;
        offset += sizes[v];
    }
    return total;
}

void jvae_kl_discrete_backward(float *dalpha, const float *alpha, int n, int width,
                               double scale)
{
    const double per_row = scale / n;
    for (size_t i = 0; i < (size_t)n * (size_t)width; i++) {
        const double a = alpha[i];
        dalpha[i] += (float)(per_row * (log(a + JVAE_LOG_EPS) + a / (a + JVAE_LOG_EPS)));
    }
}

/* d|x|/dx with the subgradient 0 at the kink, as PyTorch's abs backward. */
static double sign_of(double x)
{
    return (x > 0.0) - (x < 0.0);
}

void jvae_loss_combine(jvae_loss_terms *terms, double *dkl_cont, double *dkl_disc,
                       const jvae_loss_options *loss, int has_cont, int has_disc,
                       double disc_capacity_max, double cap_cont, double cap_disc)
{
    const double kl_z = terms->kl_continuous, kl_c = terms->kl_discrete;
    terms->capacity_continuous = 0.0;
    terms->capacity_discrete = 0.0;
    terms->capacity_term_continuous = 0.0;
    terms->capacity_term_discrete = 0.0;
    *dkl_cont = 0.0;
    *dkl_disc = 0.0;
    switch (loss->mode) {
    case JVAE_LOSS_JOINTVAE:
        if (has_cont) {
            const double gamma = loss->gamma_continuous;
            terms->capacity_continuous = cap_cont;
            terms->capacity_term_continuous = gamma * fabs(kl_z - cap_cont);
            *dkl_cont = gamma * sign_of(kl_z - cap_cont);
        }
        if (has_disc) {
            const double gamma = loss->gamma_discrete;
            const double cap = fmin(cap_disc, disc_capacity_max);
            terms->capacity_discrete = cap;
            terms->capacity_term_discrete = gamma * fabs(kl_c - cap);
            *dkl_disc = gamma * sign_of(kl_c - cap);
        }
        break;
    case JVAE_LOSS_BETA_VAE:
        terms->capacity_term_continuous = loss->beta * kl_z;
        terms->capacity_term_discrete = loss->beta * kl_c;
        *dkl_cont = has_cont ? loss->beta : 0.0;
        *dkl_disc = has_disc ? loss->beta : 0.0;
        break;
    case JVAE_LOSS_CAPACITY: {
        const double gamma = loss->gamma;
        const double gap = kl_z + kl_c - cap_cont;
        terms->capacity_continuous = cap_cont;
        terms->capacity_term_continuous = gamma * fabs(gap);
        *dkl_cont = has_cont ? gamma * sign_of(gap) : 0.0;
        *dkl_disc = has_disc ? gamma * sign_of(gap) : 0.0;
        break;
    }
    }
    terms->total =
        terms->reconstruction + terms->capacity_term_continuous + terms->capacity_term_discrete;
}
