/* The floating-point mode of the library's arithmetic; see fp_mode.h. */
#include "core/fp_mode.h"

#if defined(__x86_64__) || defined(__SSE2__)
#include <xmmintrin.h>

/* MXCSR: every exception masked (0x1f80, the default), rounding to
 * nearest, flush-to-zero of results (0x8000) and denormals-are-zero of
 * inputs (0x0040). */
#define LIBRARY_MODE (0x1f80u | 0x8000u | 0x0040u)

jvae_fp_mode jvae_fp_enter(void)
{
    const jvae_fp_mode mode = {_mm_getcsr()};
    _mm_setcsr(LIBRARY_MODE);
    return mode;
}

void jvae_fp_leave(jvae_fp_mode mode)
{
    _mm_setcsr(mode.saved);
}

#else

jvae_fp_mode jvae_fp_enter(void)
{
    const jvae_fp_mode mode = {0};
    return mode;
}

void jvae_fp_leave(jvae_fp_mode mode)
{
    (void)mode;
}

#endif
