/*
 * libjointvae — the public header.
 *
 * JointVAE (Dupont 2018): a variational autoencoder that learns disentangled
 * continuous and discrete latent factors without labels. This umbrella header
 * is the whole public API; include it and link -ljointvae (or
 * find_package(jointvae) / pkg-config jointvae).
 *
 *   jointvae/core.h     version, status codes and messages, tensors
 *   jointvae/model.h    model options, encode/decode/sample, loss, training loop
 *   jointvae/train.h    capacity schedules, optimizers, one-call training step
 *   jointvae/io.h       model files and checkpoints
 *   jointvae/data.h     data sets and minibatches
 *   jointvae/viz.h      pictures (PNG)
 *   jointvae/metrics.h  accuracy, FactorVAE, MIG, KL per unit
 */
#ifndef JOINTVAE_JOINTVAE_H
#define JOINTVAE_JOINTVAE_H

#include "jointvae/core.h"
#include "jointvae/model.h"
#include "jointvae/train.h"
#include "jointvae/io.h"
#include "jointvae/data.h"
#include "jointvae/viz.h"
#include "jointvae/metrics.h"

#endif /* JOINTVAE_JOINTVAE_H */
