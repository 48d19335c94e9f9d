/* The instruction set the kernels may use (lib/core/cpu.c): what the CPU
 * has, capped by JVAE_MAX_ISA. ctest runs this with the variable unset and
 * set to each value and to one it does not know. */
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "test_util.h"

static jvae_isa cpu_has(void)
{
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f")) return JVAE_ISA_AVX512;
    return avx2 ? JVAE_ISA_AVX2 : JVAE_ISA_BASELINE;
}

static void test_the_cap(void **state)
{
    (void)state;
    const char *cap = getenv("JVAE_MAX_ISA");
    const jvae_isa has = cpu_has();
    jvae_isa want = has;
    if (cap != NULL && strcmp(cap, "avx512") != 0)
        want = strcmp(cap, "avx2") == 0 && has >= JVAE_ISA_AVX2 ? JVAE_ISA_AVX2
                                                                : JVAE_ISA_BASELINE;
    assert_int_equal(jvae_cpu_isa(), want);
    assert_int_equal(jvae_cpu_isa(), want); /* read once, then kept */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_the_cap)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
