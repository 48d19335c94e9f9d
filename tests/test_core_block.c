/*
 * The big blocks of core/block.h: what malloc and calloc promise (writable,
 * zeroed, NULL on overflow), plus a 2 MiB start and, on Linux kernels with
 * transparent huge pages, the MADV_HUGEPAGE advice ("hg" among the VmFlags
 * of the block's mapping in /proc/self/smaps) over the block's whole huge
 * pages; and that a model's parameters, gradients, workspace and Adam
 * moments are such blocks.
 */
#include <stdint.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "core/block.h"
#include "jointvae/model.h"
#include "model/model.h"
#include "train/optimizer.h"

#define HUGE_PAGE ((size_t)2 << 20)

/* Whether this kernel has transparent huge pages at all: then madvise
 * accepts MADV_HUGEPAGE whatever the current policy is. */
static int kernel_has_thp(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f == NULL) return 0;
    fclose(f);
    return 1;
}

/* The VmFlags of the mapping that holds `address`, from /proc/self/smaps;
 * 0 when no mapping holds it. */
static int mapping_flags(const void *address, char *flags, size_t size)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    const uintptr_t a = (uintptr_t)address;
    char line[512];
    int inside = 0, found = 0;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        unsigned long long begin, end;
        if (sscanf(line, "%llx-%llx ", &begin, &end) == 2)
            inside = a >= begin && a < end;
        else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(flags, size, "%.*s", (int)(size - 1), line + 8);
            found = 1;
        }
    }
    fclose(f);
    return found;
}

static int advised_huge(const void *address)
{
    char flags[256];
    assert_true(mapping_flags(address, flags, sizeof flags));
    return strstr(flags, " hg") != NULL;
}

static void check_huge_block(void *block, size_t bytes)
{
    assert_non_null(block);
    assert_int_equal((uintptr_t)block % HUGE_PAGE, 0);
    if (!kernel_has_thp()) return;
    for (size_t page = 0; page + HUGE_PAGE <= bytes; page += HUGE_PAGE)
        assert_true(advised_huge((const char *)block + page));
}

static void test_small_blocks_are_plain(void **state)
{
    (void)state;
    unsigned char *a = jvae_block_alloc(1000);
    assert_non_null(a);
    memset(a, 0xab, 1000);
    unsigned char *z = jvae_block_calloc(250, 4);
    assert_non_null(z);
    for (int i = 0; i < 1000; i++) assert_int_equal(z[i], 0);
    void *empty = jvae_block_alloc(0), *none = jvae_block_calloc(0, 4);
    assert_non_null(empty);
    assert_non_null(none);
    free(a);
    free(z);
    free(empty);
    free(none);
}

static void test_large_blocks_start_on_huge_pages(void **state)
{
    (void)state;
    const size_t bytes = 5 * HUGE_PAGE + 12345;
#ifdef __GLIBC__
    /* Keep blocks of this size on glibc's heap and freed ones there, so that
     * the zeroed block below reuses the dirty one: fresh pages from mmap are
     * zero anyway and would hide a missing clear. (A sanitizer's allocator
     * ignores this; the test then only checks the zeros.) */
    (void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
    (void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
    unsigned char *a = jvae_block_alloc(bytes);
    check_huge_block(a, bytes);
    memset(a, 0xcd, bytes); /* all of it is ours */
    /* The compiler would drop a fill that nothing reads before free. */
    __asm__ __volatile__("" : : "r"(a) : "memory");
    free(a);
    unsigned char *z = jvae_block_calloc(bytes / 4, 4);
    check_huge_block(z, bytes);
    for (size_t i = 0; i < bytes / 4 * 4; i++)
        if (z[i] != 0) fail_msg("byte %zu of a zeroed block is %d", i, z[i]);
    free(z);
}

static void test_calloc_overflow(void **state)
{
    (void)state;
    assert_null(jvae_block_calloc(SIZE_MAX / 2, 3));
    assert_null(jvae_block_calloc(3, SIZE_MAX / 2));
}

/* The MNIST network's blocks (2.7 MB of parameters, as much of gradients
 * and of each Adam moment, and its workspace) are all advised. */
static void test_model_blocks_are_huge(void **state)
{
    (void)state;
    jvae_model_options o;
    jvae_model_options_init(&o);
    jvae_model *m = NULL;
    assert_int_equal(jvae_model_create(&m, &o), JVAE_OK);
    assert_int_equal(jvae_model_reserve(m, 64), JVAE_OK);
    jvae_optimizer_options oo;
    jvae_optimizer_options_init(&oo);
    jvae_optimizer *opt = NULL;
    assert_int_equal(jvae_optimizer_create(&opt, m, &oo), JVAE_OK);
    const size_t param_bytes = (size_t)m->param_count * sizeof(float);
    assert_true(param_bytes > HUGE_PAGE);
    check_huge_block(m->params, param_bytes);
    check_huge_block(m->grads, param_bytes);
    check_huge_block(m->workspace, HUGE_PAGE);
    check_huge_block(opt->first, param_bytes);
    check_huge_block(opt->second, param_bytes);
    jvae_optimizer_free(opt);
    jvae_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_blocks_are_plain),
        cmocka_unit_test(test_large_blocks_start_on_huge_pages),
        cmocka_unit_test(test_calloc_overflow),
        cmocka_unit_test(test_model_blocks_are_huge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
