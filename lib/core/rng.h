/* Internal: the seeded generator every random draw comes from (xoshiro256**,
 * seeded through splitmix64). Its whole state is four words, so checkpoints
 * store it and resume bit-exactly. */
#ifndef JVAE_CORE_RNG_H
#define JVAE_CORE_RNG_H

#include <stdint.h>

typedef struct jvae_rng {
    uint64_t s[4];
} jvae_rng;

void jvae_rng_seed(jvae_rng *rng, uint64_t seed);
uint64_t jvae_rng_next(jvae_rng *rng);
/* Uniform in [0, 1) with 24 random bits, like torch.rand for float32. */
float jvae_rng_uniform(jvae_rng *rng);
/* Uniform in [lo, hi). */
float jvae_rng_uniform_range(jvae_rng *rng, float lo, float hi);
/* Standard normal by Box–Muller in double (one draw per call, no cached state). */
float jvae_rng_normal(jvae_rng *rng);
/* Uniform integer in [0, bound) without modulo bias; bound >= 1. */
uint64_t jvae_rng_below(jvae_rng *rng, uint64_t bound);

#endif
