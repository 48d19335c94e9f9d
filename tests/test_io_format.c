/* The safetensors container: a valid round trip, every malformed-file case
 * rejected with its message, and atomic writes. No model is needed here. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "test_util.h"

static char scratch[1024];

static int setup(void **state)
{
    (void)state;
    const char *dir = test_scratch_dir("io_format");
    if (dir == NULL) return -1;
    snprintf(scratch, sizeof scratch, "%s", dir);
    return 0;
}

static const char *scratch_path(const char *name)
{
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    return path;
}

/* Write `length_field` as the header length, then `header`, then `data`. */
static void write_raw(const char *path, uint64_t length_field, const char *header,
                      size_t header_bytes, const void *data, size_t data_bytes)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)(length_field >> (8 * i));
    assert_int_equal(fwrite(prefix, 1, 8, f), 8);
    if (header_bytes) assert_int_equal(fwrite(header, 1, header_bytes, f), header_bytes);
    if (data_bytes) assert_int_equal(fwrite(data, 1, data_bytes, f), data_bytes);
    assert_int_equal(fclose(f), 0);
}

/* A file whose header is `header` (exact length) followed by `data_bytes` zero bytes. */
static void write_with_header(const char *path, const char *header, size_t data_bytes)
{
    static const unsigned char zeros[256] = {0};
    assert_true(data_bytes <= sizeof zeros);
    write_raw(path, strlen(header), header, strlen(header), zeros, data_bytes);
}

static void expect_rejected(const char *path, jvae_status status, const char *needle)
{
    jvae_st_file file;
    jvae_clear_error();
    jvae_status st = jvae_st_open(&file, path);
    if (st != status || strstr(jvae_last_error(), needle) == NULL) {
        print_error("expected status %d with \"%s\", got %d: \"%s\"\n", (int)status, needle,
                    (int)st, jvae_last_error());
        fail();
    }
}

static void expect_header_rejected(const char *header, size_t data_bytes, const char *needle)
{
    const char *path = scratch_path("hostile.safetensors");
    write_with_header(path, header, data_bytes);
    expect_rejected(path, JVAE_ERR_FORMAT, needle);
}

static void test_writer_reader_round_trip(void **state)
{
    (void)state;
    const float a[6] = {1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -7.0f};
    const float b[3] = {9.0f, 8.0f, 7.0f};
    const int64_t shape_a[2] = {2, 3}, shape_b[1] = {3};
    jvae_st_writer writer;
    assert_int_equal(jvae_st_writer_init(&writer), JVAE_OK);
    assert_int_equal(jvae_st_writer_meta(&writer, "greeting", "hello"), JVAE_OK);
    assert_int_equal(jvae_st_writer_tensor(&writer, "layer.weight", 2, shape_a, a), JVAE_OK);
    assert_int_equal(jvae_st_writer_tensor(&writer, "layer.bias", 1, shape_b, b), JVAE_OK);
    assert_int_equal(jvae_st_writer_tensor(&writer, "layer.bias", 1, shape_b, b),
                     JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("duplicate tensor 'layer.bias'");
    const char *path = scratch_path("round_trip.safetensors");
    assert_int_equal(jvae_st_writer_save(&writer, path), JVAE_OK);
    jvae_st_writer_free(&writer);

    jvae_st_file file;
    assert_int_equal(jvae_st_open(&file, path), JVAE_OK);
    /* The data section starts 8-byte aligned, like the reference writer's. */
    const uint64_t data_start = file.data_start;
    assert_int_equal(data_start % 8, 0);
    assert_int_equal(file.data_bytes, sizeof a + sizeof b);
    assert_int_equal(file.count, 2);
    assert_string_equal(jvae_st_meta(&file, "greeting"), "hello");
    assert_null(jvae_st_meta(&file, "absent"));
    assert_null(jvae_st_find(&file, "absent"));
    jvae_st_tensor *ta = jvae_st_find(&file, "layer.weight");
    jvae_st_tensor *tb = jvae_st_find(&file, "layer.bias");
    assert_non_null(ta);
    assert_non_null(tb);
    assert_int_equal(ta->ndim, 2);
    assert_int_equal(ta->shape[0], 2);
    assert_int_equal(ta->shape[1], 3);
    assert_int_equal(ta->begin, 0);
    assert_int_equal(ta->end, sizeof a);
    float got_a[6], got_b[3];
    assert_int_equal(jvae_st_read(&file, ta, got_a), JVAE_OK);
    assert_int_equal(jvae_st_read(&file, tb, got_b), JVAE_OK);
    assert_memory_equal(got_a, a, sizeof a);
    assert_memory_equal(got_b, b, sizeof b);
    jvae_st_close(&file);

    /* The bytes on disk are the little-endian layout the format requires. */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char prefix[8];
    assert_int_equal(fread(prefix, 1, 8, f), 8);
    uint64_t length = 0;
    for (int i = 7; i >= 0; i--) length = (length << 8) | prefix[i];
    assert_int_equal(length + 8, data_start);
    assert_int_equal(fseek(f, (long)(8 + length), SEEK_SET), 0);
    unsigned char first[4];
    assert_int_equal(fread(first, 1, 4, f), 4);
    fclose(f);
    /* 1.5f = 0x3fc00000, least significant byte first. */
    const unsigned char expected[4] = {0x00, 0x00, 0xc0, 0x3f};
    assert_memory_equal(first, expected, 4);
}

static void test_short_files_and_header_length(void **state)
{
    (void)state;
    const char *path = scratch_path("short.safetensors");
    for (size_t size = 0; size < 8; size++) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        static const unsigned char bytes[8] = {2, 0, 0, 0, 0, 0, 0, 0};
        if (size) assert_int_equal(fwrite(bytes, 1, size, f), size);
        fclose(f);
        expect_rejected(path, JVAE_ERR_FORMAT, "fewer than the 8-byte header length");
    }
    write_raw(path, 200000000ull, "{}", 2, NULL, 0);
    expect_rejected(path, JVAE_ERR_FORMAT, "exceeds the limit of 100000000 bytes");
    write_raw(path, UINT64_MAX, "{}", 2, NULL, 0);
    expect_rejected(path, JVAE_ERR_FORMAT, "exceeds the limit");
    write_raw(path, 3, "{}", 2, NULL, 0);
    expect_rejected(path, JVAE_ERR_FORMAT, "header length 3 runs past the end of the file (10 bytes)");
    write_raw(path, 1, "{}", 2, NULL, 0);
    expect_rejected(path, JVAE_ERR_FORMAT, "too short for a JSON object");
    write_raw(path, 0, "", 0, NULL, 0);
    expect_rejected(path, JVAE_ERR_FORMAT, "too short");
    /* The smallest valid file: no tensor at all. */
    write_raw(path, 2, "{}", 2, NULL, 0);
    jvae_st_file file;
    assert_int_equal(jvae_st_open(&file, path), JVAE_OK);
    assert_int_equal(file.count, 0);
    jvae_st_close(&file);
}

static void test_not_a_file(void **state)
{
    (void)state;
    expect_rejected(scratch_path("does-not-exist"), JVAE_ERR_IO, "cannot open");
    expect_rejected(scratch, JVAE_ERR_IO, "not a regular file");
    const char *fifo = scratch_path("fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_rejected(fifo, JVAE_ERR_IO, "not a regular file");
    unlink(fifo);
}

static void test_bad_json(void **state)
{
    (void)state;
    expect_header_rejected("[1, 2]", 0, "does not start with '{'");
    expect_header_rejected(" {}", 0, "does not start with '{'");
    expect_header_rejected("{\"a\": ", 0, "not valid JSON");
    expect_header_rejected("{garbage}", 0, "not valid JSON");
    expect_header_rejected("{} trailing", 0, "not valid JSON");
    expect_header_rejected("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, "
                           "99999999999999999999999]}}",
                           0, "not valid JSON");
    expect_header_rejected("{\"\xff\": 1}", 0, "not valid JSON");
    const char *path = scratch_path("nul.safetensors");
    const char with_nul[] = "{\"a\0\": 1}";
    write_raw(path, sizeof with_nul - 1, with_nul, sizeof with_nul - 1, NULL, 0);
    expect_rejected(path, JVAE_ERR_FORMAT, "not valid JSON");
    /* Two tensors with one name. */
    expect_header_rejected(
        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
        " \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
        8, "duplicate");
    /* Trailing spaces are the format's padding and are accepted. */
    path = scratch_path("padded.safetensors");
    const char padded[] = "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}   ";
    const float one = 1.0f;
    write_raw(path, sizeof padded - 1, padded, sizeof padded - 1, &one, sizeof one);
    jvae_st_file file;
    assert_int_equal(jvae_st_open(&file, path), JVAE_OK);
    jvae_st_close(&file);
}

static void test_bad_metadata(void **state)
{
    (void)state;
    expect_header_rejected("{\"__metadata__\": [\"x\"]}", 0, "__metadata__ is not an object");
    expect_header_rejected("{\"__metadata__\": {\"format\": 1}}", 0,
                           "__metadata__ value of 'format' is not a string");
    expect_header_rejected("{\"__metadata__\": {\"a\": \"b\", \"n\": null}}", 0,
                           "value of 'n' is not a string");
}

static void test_bad_tensor_entries(void **state)
{
    (void)state;
    expect_header_rejected("{\"w\": 5}", 0, "tensor 'w': entry is not a JSON object");
    expect_header_rejected("{\"\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                           4, "empty name");
    expect_header_rejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", 0,
                           "needs the fields dtype, shape and data_offsets");
    expect_header_rejected(
        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4], \"x\": 1}}", 4,
        "unknown field 'x'");
    expect_header_rejected("{\"w\": {\"dtype\": 32, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
                           "dtype is not a string");
    expect_header_rejected("{\"w\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [0, 4]}}",
                           4, "dtype F16 is not supported (only F32)");
    expect_header_rejected("{\"w\": {\"dtype\": \"F32\", \"shape\": 4, \"data_offsets\": [0, 4]}}",
                           4, "shape is not an array");
    expect_header_rejected(
        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1], \"data_offsets\": [0, 4]}}", 4,
        "5 dimensions, at most 4");
    expect_header_rejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}",
                           4, "shape[0] is not a non-negative integer");
    expect_header_rejected(
        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4,
        "shape[0] is not a non-negative integer");
    expect_header_rejected(
        "{\"w\": {\"dtype\": \"F32\", \"shape\": [\"1\"], \"data_offsets\": [0, 4]}}", 4,
        "shape[0] is not a non-negative integer");
}

static void test_huge_and_inconsistent_sizes(void **state)
{
    (void)state;
    /* 2^32 · 2^32 elements overflow 64 bits. */
    expect_header_rejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], "
                           "\"data_offsets\": [0, 4]}}",
                           4, "element count overflows");
    /* 2^62 elements fit, their 2^64 bytes do not. */
    expect_header_rejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904], "
                           "\"data_offsets\": [0, 4]}}",
                           4, "byte size overflows");
    /* A plausible but huge declared size, far beyond the file. */
    expect_header_rejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [1000000000], "
                           "\"data_offsets\": [0, 4000000000]}}",
                           4, "fall outside the data section of 4 bytes");
    expect_header_rejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}",
                           4, "data_offsets is not an array of two integers");
    expect_header_rejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": {}}}",
                           4, "data_offsets is not an array of two integers");
    expect_header_rejected(
        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", 4,
        "data_offsets are not non-negative integers");
    expect_header_rejected(
        "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 0]}}", 4,
        "data_offsets [4, 0] fall outside");
    expect_header_rejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
                           4, "data_offsets [4, 8] fall outside the data section of 4 bytes");
    expect_header_rejected("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}",
                           4, "data_offsets span 4 bytes but the shape needs 8");
}

static void test_coverage(void **state)
{
    (void)state;
    expect_header_rejected(
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
        " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
        12, "tensors 'a' and 'b' overlap");
    expect_header_rejected(
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
        " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}",
        12, "data bytes [4, 8) belong to no tensor");
    expect_header_rejected(
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8,
        "data bytes [0, 4) belong to no tensor");
    expect_header_rejected(
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 12,
        "data bytes [4, 12) after the last tensor belong to no tensor");
    expect_header_rejected("{}", 4, "data bytes [0, 4) after the last tensor");
    /* Listed out of order but tiling the data: valid. */
    const char *path = scratch_path("unordered.safetensors");
    write_with_header(path,
                      "{\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]},"
                      " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                      8);
    jvae_st_file file;
    assert_int_equal(jvae_st_open(&file, path), JVAE_OK);
    assert_int_equal(file.count, 2);
    jvae_st_close(&file);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Names of the entries of `dir` other than "." and "..", sorted, joined by '|'. */
static void list_dir(const char *dir, char *out, size_t size)
{
    char names[16][256];
    int count = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < 16) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(names[count++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)count, sizeof names[0], compare_names);
    out[0] = '\0';
    for (int i = 0; i < count; i++) {
        strncat(out, names[i], size - strlen(out) - 1);
        if (i + 1 < count) strncat(out, "|", size - strlen(out) - 1);
    }
}

static jvae_status save_small(const char *path, const float *data, int64_t count)
{
    jvae_st_writer writer;
    jvae_status st = jvae_st_writer_init(&writer);
    if (st) return st;
    st = jvae_st_writer_tensor(&writer, "data", 1, &count, data);
    if (st == JVAE_OK) st = jvae_st_writer_save(&writer, path);
    jvae_st_writer_free(&writer);
    return st;
}

static void test_atomic_write_failures_leave_nothing(void **state)
{
    (void)state;
    const float values[4] = {1, 2, 3, 4};
    const char *dir = test_scratch_dir("io_atomic");
    assert_non_null(dir);
    char folder[1024], path[1200], listing[1024];
    snprintf(folder, sizeof folder, "%s", dir);

    /* A folder that does not exist. */
    snprintf(path, sizeof path, "%s/missing/model.safetensors", folder);
    assert_int_equal(save_small(path, values, 4), JVAE_ERR_IO);
    assert_error_contains("cannot create a temporary file beside it");
    list_dir(folder, listing, sizeof listing);
    assert_string_equal(listing, "");

    /* A path that is a folder: the rename fails, the temporary file goes. */
    snprintf(path, sizeof path, "%s/taken", folder);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(save_small(path, values, 4), JVAE_ERR_IO);
    assert_error_contains("cannot rename the temporary file into place");
    list_dir(folder, listing, sizeof listing);
    assert_string_equal(listing, "taken");

    /* A write that fails half-way (the file size limit stands in for a full
     * disk): the old file is intact and no temporary file is left. */
    snprintf(path, sizeof path, "%s/model.safetensors", folder);
    assert_int_equal(save_small(path, values, 4), JVAE_OK);
    struct stat before;
    assert_int_equal(stat(path, &before), 0);
    static float big[1 << 16];
    struct rlimit saved, limited;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    limited = saved;
    limited.rlim_cur = 4096;
    void (*previous)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &limited), 0);
    jvae_status st = save_small(path, big, 1 << 16);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, previous);
    assert_int_equal(st, JVAE_ERR_IO);
    list_dir(folder, listing, sizeof listing);
    assert_string_equal(listing, "model.safetensors|taken");
    jvae_st_file file;
    assert_int_equal(jvae_st_open(&file, path), JVAE_OK);
    float got[4];
    assert_int_equal(jvae_st_read(&file, jvae_st_find(&file, "data"), got), JVAE_OK);
    assert_memory_equal(got, values, sizeof values);
    jvae_st_close(&file);

    /* A successful save replaces the file and leaves nothing else; the mode
     * is an ordinary document's, not mkstemp's private 0600. */
    assert_int_equal(save_small(path, big, 8), JVAE_OK);
    list_dir(folder, listing, sizeof listing);
    assert_string_equal(listing, "model.safetensors|taken");
    struct stat after;
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_mode & 0777, 0644);
}

static void test_read_only_folder(void **state)
{
    (void)state;
    const float values[2] = {1, 2};
    /* Permission bits do not bind root (the CI runs as root), but /proc takes
     * no new files from anyone. */
    if (geteuid() == 0) {
        const char *path = "/proc/jointvae-read-only.safetensors";
        assert_int_equal(save_small(path, values, 2), JVAE_ERR_IO);
        assert_error_contains("cannot create a temporary file beside it");
        assert_int_equal(access(path, F_OK), -1);
        return;
    }
    const char *dir = test_scratch_dir("io_readonly");
    assert_non_null(dir);
    char folder[1024], path[1200], listing[256];
    snprintf(folder, sizeof folder, "%s", dir);
    snprintf(path, sizeof path, "%s/model.safetensors", folder);
    assert_int_equal(chmod(folder, 0555), 0);
    jvae_status st = save_small(path, values, 2);
    chmod(folder, 0755);
    assert_int_equal(st, JVAE_ERR_IO);
    list_dir(folder, listing, sizeof listing);
    assert_string_equal(listing, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_reader_round_trip),
        cmocka_unit_test(test_short_files_and_header_length),
        cmocka_unit_test(test_not_a_file),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_metadata),
        cmocka_unit_test(test_bad_tensor_entries),
        cmocka_unit_test(test_huge_and_inconsistent_sizes),
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_atomic_write_failures_leave_nothing),
        cmocka_unit_test(test_read_only_folder),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
