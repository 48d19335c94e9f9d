/* madvise and MADV_HUGEPAGE are outside POSIX; glibc shows them with this. */
#define _DEFAULT_SOURCE
#include "core/block.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

void *jvae_block_alloc(size_t bytes)
{
    /* Below one huge page there is nothing to advise: keep malloc's packing. */
    if (bytes < HUGE_PAGE) return malloc(bytes > 0 ? bytes : 1);
    void *block = NULL;
    if (posix_memalign(&block, HUGE_PAGE, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    /* A hint: its failure (no THP in this kernel) leaves ordinary pages. */
    (void)madvise(block, bytes / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
#endif
    return block;
}

void *jvae_block_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    const size_t bytes = count * size;
    if (bytes < HUGE_PAGE) return calloc(count > 0 ? count : 1, size > 0 ? size : 1);
    void *block = jvae_block_alloc(bytes);
    if (block != NULL) memset(block, 0, bytes);
    return block;
}
