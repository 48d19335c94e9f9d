/*
 * The three configurations of bench/README.md and their synthetic pixels,
 * shared by jvae-bench and jvae-ab.
 */
#ifndef JVAE_BENCH_CONFIGS_H
#define JVAE_BENCH_CONFIGS_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_config {
    char key;
    const char *name;
    int channels, side;
    int n_continuous, discrete_size;
    /* Official capacity settings: [C_min, C_max, iterations, γ]. */
    double cont_capacity[4], disc_capacity[4];
    int binary_pixels; /* dSprites pixels are exactly 0 or 1 */
} bench_config;

static const bench_config CONFIGS[] = {
    {'A', "MNIST", 1, 32, 10, 10, {0.0, 5.0, 25000, 30.0}, {0.0, 5.0, 25000, 30.0}, 0},
    {'B', "dSprites", 1, 64, 6, 3, {0.0, 40.0, 300000, 150.0}, {0.0, 1.1, 300000, 150.0}, 1},
    {'C', "CelebA", 3, 64, 32, 10, {0.0, 50.0, 100000, 100.0}, {0.0, 10.0, 100000, 100.0}, 0},
};

static inline const bench_config *config_named(const char *name)
{
    for (size_t i = 0; i < sizeof CONFIGS / sizeof CONFIGS[0]; i++)
        if (name[0] == CONFIGS[i].key && name[1] == '\0') return &CONFIGS[i];
    return NULL;
}

/* splitmix64: the synthetic pixels only need to be fixed and spread out. */
static inline uint64_t next_bits(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform grey levels in [0, 1) (MNIST, CelebA) or exact 0/1 pixels (dSprites),
 * the distributions bench/torch_jointvae.py draws. */
static inline void bench_fill_pixels(float *pixels, int64_t count, const bench_config *c,
                                     uint64_t seed)
{
    for (int64_t i = 0; i < count; i++) {
        const float u = (float)(next_bits(&seed) >> 40) * 0x1.0p-24f;
        pixels[i] = c->binary_pixels ? (u < 0.5f ? 0.0f : 1.0f) : u;
    }
}

#endif
