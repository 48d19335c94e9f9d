/* Instruction sets the kernels may use; see cpu.h. */
#include "core/cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static jvae_isa cpu_has(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f")) return JVAE_ISA_AVX512;
    if (avx2) return JVAE_ISA_AVX2;
#endif
    return JVAE_ISA_BASELINE;
}

static jvae_isa cap_of(const char *name)
{
    if (name == NULL || strcmp(name, "avx512") == 0) return JVAE_ISA_AVX512;
    if (strcmp(name, "avx2") == 0) return JVAE_ISA_AVX2;
    return JVAE_ISA_BASELINE;
}

jvae_isa jvae_cpu_isa(void)
{
    /* Every thread that finds it unset computes the same value. */
    static atomic_int known = -1;
    int isa = atomic_load_explicit(&known, memory_order_relaxed);
    if (isa < 0) {
        const jvae_isa has = cpu_has(), cap = cap_of(getenv("JVAE_MAX_ISA"));
        isa = (int)(has < cap ? has : cap);
        atomic_store_explicit(&known, isa, memory_order_relaxed);
    }
    return (jvae_isa)isa;
}
