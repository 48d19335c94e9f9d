/*
 * Internal: the big, long-lived float blocks of a model and its trainer (the
 * parameters, their gradients, the optimizer's moments, the workspaces).
 *
 * Why not plain malloc: a training step of the MNIST network walks about
 * 22 MB of such blocks, some 5,500 pages of 4 KiB, well over the 2,048
 * entries of the second-level TLB of the team's Zen 3 machine. These blocks start on
 * a 2 MiB boundary and ask Linux for transparent huge pages
 * (madvise(MADV_HUGEPAGE)), which Debian's kernels grant only to memory that
 * asks ("madvise" is their default): training ran 2-3 % faster (bench/README).
 * Only whole 2 MiB pages inside the block are advised, so the block's
 * resident memory grows by nothing but the rounding of the pages it touches.
 * The advice is a hint: where the kernel has no huge pages, or on systems
 * without madvise, these are ordinary aligned blocks.
 *
 * Blocks are released with free().
 */
#ifndef JVAE_CORE_BLOCK_H
#define JVAE_CORE_BLOCK_H

#include <stddef.h>

/* `bytes` of uninitialised memory, or NULL when out of memory. */
void *jvae_block_alloc(size_t bytes);

/* count · size bytes of zeros, or NULL when out of memory or when the
 * product overflows. */
void *jvae_block_calloc(size_t count, size_t size);

#endif
