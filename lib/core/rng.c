#include "core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void jvae_rng_seed(jvae_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t jvae_rng_next(jvae_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float jvae_rng_uniform(jvae_rng *rng)
{
    return (float)(jvae_rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

float jvae_rng_uniform_range(jvae_rng *rng, float lo, float hi)
{
    return lo + (hi - lo) * jvae_rng_uniform(rng);
}

float jvae_rng_normal(jvae_rng *rng)
{
    /* u1 in (0, 1] so the log is finite; 53-bit doubles keep the tails right. */
    double u1 = ((double)(jvae_rng_next(rng) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(jvae_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint64_t jvae_rng_below(jvae_rng *rng, uint64_t bound)
{
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t r = jvae_rng_next(rng);
        if (r >= threshold) return r % bound;
    }
}
