/*
 * Internal: which instruction sets the kernels may use.
 *
 * The fast kernels of lib/nn come in widths: AVX-512 (AVX-512F), AVX2 with
 * FMA, and the baseline, which leaves the arithmetic to OpenBLAS. Each pass
 * takes the widest the CPU has, checked at run time, so one build runs on
 * any x86-64. The environment variable JVAE_MAX_ISA caps the choice, as
 * OPENBLAS_CORETYPE does for OpenBLAS: "avx512" (no cap), "avx2" or
 * "baseline"; any other value means "baseline". It is read once, at the
 * first kernel call of the process. Results differ between widths by float
 * rounding, so a cap is how two machines give the same bits (with the same
 * OPENBLAS_CORETYPE), and how the tests reach the narrower kernels on a CPU
 * that has the wider ones.
 */
#ifndef JVAE_CORE_CPU_H
#define JVAE_CORE_CPU_H

typedef enum jvae_isa {
    JVAE_ISA_BASELINE = 0,
    JVAE_ISA_AVX2 = 1,  /* AVX2 and FMA */
    JVAE_ISA_AVX512 = 2 /* AVX-512F, AVX2 and FMA */
} jvae_isa;

/* The widest instruction set the kernels may use: what the CPU has, capped
 * by JVAE_MAX_ISA. Thread-safe. */
jvae_isa jvae_cpu_isa(void);

#endif
