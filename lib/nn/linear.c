/*
 * linear: in (N, I) -> out (N, O) = in · Wᵀ + b, weight (O, I), bias (O).
 * Each pass is one GEMM: out = in·Wᵀ, dW += doutᵀ·in, din += dout·W.
 */
#include "nn/nn.h"

#include <cblas.h>

void jvae_linear_forward(float *out, const float *in, const float *weight, const float *bias,
                         int n, int in_features, int out_features)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out_features; o++) out[(size_t)i * out_features + o] = bias[o];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out_features, in_features, 1.0f, in,
                in_features, weight, in_features, 1.0f, out, out_features);
}

void jvae_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                          const float *in, const float *weight, int n, int in_features,
                          int out_features)
{
    for (int o = 0; o < out_features; o++) {
        double sum = 0.0; /* a column sum over the batch, in double like every bias sum */
        for (int i = 0; i < n; i++) sum += dout[(size_t)i * out_features + o];
        dbias[o] += (float)sum;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_features, in_features, n, 1.0f, dout,
                out_features, in, in_features, 1.0f, dweight, in_features);
    if (din == NULL) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in_features, out_features, 1.0f,
                dout, out_features, weight, in_features, 1.0f, din, in_features);
}

void jvae_linear_forward_ref(float *out, const float *in, const float *weight, const float *bias,
                             int n, int in_features, int out_features)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out_features; o++) {
            double sum = bias[o];
            for (int k = 0; k < in_features; k++)
                sum += (double)in[(size_t)i * in_features + k] *
                       weight[(size_t)o * in_features + k];
            out[(size_t)i * out_features + o] = (float)sum;
        }
}

void jvae_linear_backward_ref(float *din, float *dweight, float *dbias, const float *dout,
                              const float *in, const float *weight, int n, int in_features,
                              int out_features)
{
    for (int o = 0; o < out_features; o++) {
        double bias_sum = 0.0;
        for (int i = 0; i < n; i++) bias_sum += dout[(size_t)i * out_features + o];
        dbias[o] += (float)bias_sum;
        for (int k = 0; k < in_features; k++) {
            double sum = 0.0;
            for (int i = 0; i < n; i++)
                sum += (double)dout[(size_t)i * out_features + o] * in[(size_t)i * in_features + k];
            dweight[(size_t)o * in_features + k] += (float)sum;
        }
    }
    if (din == NULL) return;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < in_features; k++) {
            double sum = 0.0;
            for (int o = 0; o < out_features; o++)
                sum += (double)dout[(size_t)i * out_features + o] *
                       weight[(size_t)o * in_features + k];
            din[(size_t)i * in_features + k] += (float)sum;
        }
}
