/*
 * Internal: the floating-point mode of the library's arithmetic.
 *
 * A model that trains produces values below FLT_MIN (denormals) in its
 * activations and gradients, and on Intel CPUs each multiply or add that meets
 * one takes a microcode assist of about a hundred cycles: the demo (the
 * dSprites network, 1,500 steps) trained at 26 steps/s for its first 600
 * steps and at 5 after them, 162 s in all, and in 59 s with denormals flushed.
 * So the library computes with denormals flushed to zero (MXCSR's FTZ and DAZ
 * bits on x86-64; nothing elsewhere): a value below 1.2e-38 counts as 0, far
 * below anything training moves. The mode also rounds to nearest with every
 * exception masked, whatever the caller's mode, so that the same seed gives
 * the same bits in any host. Each public call that computes enters it on the
 * calling thread and restores the caller's mode (and its exception flags)
 * on return; the library's worker threads keep it for their lifetime.
 */
#ifndef JVAE_CORE_FP_MODE_H
#define JVAE_CORE_FP_MODE_H

/* The mode a thread had before jvae_fp_enter. */
typedef struct jvae_fp_mode {
    unsigned saved;
} jvae_fp_mode;

/* Flush denormals on this thread; returns the mode to restore. */
jvae_fp_mode jvae_fp_enter(void);

/* Put back the mode jvae_fp_enter returned. */
void jvae_fp_leave(jvae_fp_mode mode);

#endif
