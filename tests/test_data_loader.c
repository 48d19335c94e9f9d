/* Views (subset, split) and the minibatch loader. The items come from
 * dSprites, whose labels are their factor classes and so name their source
 * index exactly: coverage and order can be checked item by item. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "jointvae/data.h"

#define ITEMS 100
#define PIXELS (64 * 64)

static jvae_dataset *dsprites, *items; /* items: 100 spread-out dSprites images */
static int64_t item_index[ITEMS];      /* dSprites index of each item */

static int setup(void **state)
{
    (void)state;
    if (jvae_dataset_dsprites(&dsprites) != JVAE_OK) return -1;
    for (int i = 0; i < ITEMS; i++) item_index[i] = (int64_t)i * 7331;
    return jvae_dataset_subset(&items, dsprites, item_index, ITEMS) == JVAE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    jvae_dataset_free(items);
    jvae_dataset_free(dsprites);
    return 0;
}

/* dSprites index of the item whose labels are `labels`. */
static int64_t index_of(const int32_t *labels)
{
    int64_t index;
    assert_int_equal(jvae_dsprites_index(&index, labels), JVAE_OK);
    return index;
}

/* Position of a dSprites index among the items, -1 if not one of them. */
static int item_of(int64_t index)
{
    if (index % 7331 != 0 || index / 7331 >= ITEMS) return -1;
    return (int)(index / 7331);
}

/* Every index of a view, through its labels. */
static void view_indices(const jvae_dataset *view, int64_t *out)
{
    float image[PIXELS];
    int32_t labels[6];
    for (int64_t i = 0; i < jvae_dataset_size(view); i++) {
        assert_int_equal(jvae_dataset_read(view, i, image, PIXELS, labels, 6), JVAE_OK);
        out[i] = index_of(labels);
    }
}

static void test_subset(void **state)
{
    (void)state;
    assert_int_equal(jvae_dataset_size(items), ITEMS);
    assert_int_equal(jvae_dataset_label_count(items), 6);
    assert_int_equal(jvae_dataset_label_classes(items, 3), 40);
    int64_t got[ITEMS];
    view_indices(items, got);
    assert_memory_equal(got, item_index, sizeof got);

    /* a view of a view, with repeats, reads the same images as its source */
    int64_t pick[4] = {99, 0, 99, 50};
    jvae_dataset *view = NULL;
    assert_int_equal(jvae_dataset_subset(&view, items, pick, 4), JVAE_OK);
    float a[PIXELS], b[PIXELS];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(jvae_dataset_read(view, i, a, PIXELS, NULL, 0), JVAE_OK);
        assert_int_equal(jvae_dataset_read(dsprites, item_index[pick[i]], b, PIXELS, NULL, 0), JVAE_OK);
        assert_memory_equal(a, b, sizeof a);
    }
    jvae_dataset_free(view);

    view = (jvae_dataset *)a;
    int64_t bad[2] = {3, ITEMS};
    assert_int_equal(jvae_dataset_subset(&view, items, bad, 2), JVAE_ERR_INVALID_ARGUMENT);
    assert_null(view);
    assert_error_contains("indices[1] = 100 out of range [0, 100)");
    assert_int_equal(jvae_dataset_subset(&view, items, bad, 0), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_dataset_subset(&view, NULL, bad, 1), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_dataset_subset(&view, items, NULL, 1), JVAE_ERR_INVALID_ARGUMENT);
}

static void test_split(void **state)
{
    (void)state;
    jvae_dataset *train = NULL, *test = NULL;
    assert_int_equal(jvae_dataset_split(&train, &test, items, 0.2, 5), JVAE_OK);
    assert_int_equal(jvae_dataset_size(train), 80);
    assert_int_equal(jvae_dataset_size(test), 20);
    int64_t train_idx[80], test_idx[20];
    view_indices(train, train_idx);
    view_indices(test, test_idx);
    int seen[ITEMS] = {0};
    for (int i = 0; i < 80; i++) {
        if (i > 0) assert_true(train_idx[i] > train_idx[i - 1]); /* source order */
        seen[item_of(train_idx[i])]++;
    }
    for (int i = 0; i < 20; i++) {
        if (i > 0) assert_true(test_idx[i] > test_idx[i - 1]);
        seen[item_of(test_idx[i])]++;
    }
    for (int i = 0; i < ITEMS; i++) assert_int_equal(seen[i], 1); /* disjoint, complete */

    /* same seed, same split; another seed, another split */
    jvae_dataset *train2 = NULL, *test2 = NULL;
    int64_t again[20];
    assert_int_equal(jvae_dataset_split(&train2, &test2, items, 0.2, 5), JVAE_OK);
    view_indices(test2, again);
    assert_memory_equal(again, test_idx, sizeof again);
    jvae_dataset_free(train2);
    jvae_dataset_free(test2);
    assert_int_equal(jvae_dataset_split(&train2, &test2, items, 0.2, 6), JVAE_OK);
    view_indices(test2, again);
    assert_memory_not_equal(again, test_idx, sizeof again);
    jvae_dataset_free(train2);
    jvae_dataset_free(test2);
    jvae_dataset_free(train);
    jvae_dataset_free(test);

    /* fractions that leave a side empty, or are not fractions */
    static const double bad[] = {0.0, 1.0, -0.5, 0.004, 0.996, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        train = test = (jvae_dataset *)seen;
        assert_int_equal(jvae_dataset_split(&train, &test, items, bad[i], 1),
                         JVAE_ERR_INVALID_ARGUMENT);
        assert_null(train);
        assert_null(test);
    }
    assert_int_equal(jvae_dataset_split(&train, &test, items, 0.004, 1), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("leaves 0 test and 100 training items");
}

/* Walk one epoch; order[] receives the item positions in the order served,
 * sizes[] each batch's count. Returns the number of batches. */
static int walk_epoch(jvae_loader *loader, jvae_tensor *images, int batch, int *order, int *sizes)
{
    int32_t labels[64 * 6];
    int served = 0, batches = 0, count;
    for (;;) {
        assert_int_equal(jvae_loader_next(loader, images, labels, &count), JVAE_OK);
        if (count == 0) break;
        assert_true(count <= batch);
        const float *data = jvae_tensor_data(images);
        for (int i = 0; i < count; i++) {
            int64_t index = index_of(labels + i * 6);
            order[served++] = item_of(index);
            /* the image written is the one of those labels */
            float expected[PIXELS];
            assert_int_equal(jvae_dataset_read(dsprites, index, expected, PIXELS, NULL, 0), JVAE_OK);
            assert_memory_equal(data + (size_t)i * PIXELS, expected, sizeof expected);
        }
        sizes[batches++] = count;
    }
    return batches;
}

static jvae_tensor *batch_tensor(int batch)
{
    int64_t shape[4] = {batch, 1, 64, 64};
    jvae_tensor *images = NULL;
    assert_int_equal(jvae_tensor_create(&images, 4, shape), JVAE_OK);
    return images;
}

static jvae_loader *make_loader(int batch, int shuffle, int drop_last, uint64_t seed)
{
    jvae_loader_options options;
    assert_int_equal(jvae_loader_options_init(&options), JVAE_OK);
    options.batch_size = batch;
    options.shuffle = shuffle;
    options.drop_last = drop_last;
    options.seed = seed;
    jvae_loader *loader = NULL;
    assert_int_equal(jvae_loader_create(&loader, items, &options), JVAE_OK);
    return loader;
}

static void test_loader_epochs_cover_every_item_once(void **state)
{
    (void)state;
    jvae_tensor *images = batch_tensor(16);
    jvae_loader *loader = make_loader(16, 1, 0, 42);
    assert_int_equal(jvae_loader_batches_per_epoch(loader), 7);
    int first[ITEMS], second[ITEMS], sizes[8];
    assert_int_equal(walk_epoch(loader, images, 16, first, sizes), 7);
    for (int b = 0; b < 6; b++) assert_int_equal(sizes[b], 16);
    assert_int_equal(sizes[6], 4); /* the remainder */
    int64_t epoch, batch;
    assert_int_equal(jvae_loader_tell(loader, &epoch, &batch), JVAE_OK);
    assert_true(epoch == 1 && batch == 0);
    assert_int_equal(walk_epoch(loader, images, 16, second, sizes), 7);
    int seen_first[ITEMS] = {0}, seen_second[ITEMS] = {0}, in_order = 1;
    for (int i = 0; i < ITEMS; i++) {
        seen_first[first[i]]++;
        seen_second[second[i]]++;
        in_order &= first[i] == i;
    }
    for (int i = 0; i < ITEMS; i++) {
        assert_int_equal(seen_first[i], 1);
        assert_int_equal(seen_second[i], 1);
    }
    assert_false(in_order);                                 /* shuffled */
    assert_memory_not_equal(first, second, sizeof first); /* reshuffled per epoch */

    /* same seed: the same two epochs; another seed: another order */
    jvae_loader *twin = make_loader(16, 1, 0, 42);
    int again[ITEMS];
    walk_epoch(twin, images, 16, again, sizes);
    assert_memory_equal(again, first, sizeof again);
    walk_epoch(twin, images, 16, again, sizes);
    assert_memory_equal(again, second, sizeof again);
    jvae_loader_free(twin);
    jvae_loader *other = make_loader(16, 1, 0, 43);
    walk_epoch(other, images, 16, again, sizes);
    assert_memory_not_equal(again, first, sizeof again);
    jvae_loader_free(other);

    /* seek to epoch 1, batch 3 gives what the walk gave there */
    assert_int_equal(jvae_loader_seek(loader, 1, 3), JVAE_OK);
    int32_t labels[16 * 6];
    int count;
    assert_int_equal(jvae_loader_next(loader, images, labels, &count), JVAE_OK);
    assert_int_equal(count, 16);
    for (int i = 0; i < 16; i++) assert_int_equal(item_of(index_of(labels + i * 6)), second[48 + i]);
    assert_int_equal(jvae_loader_seek(loader, 0, 7), JVAE_OK); /* the end of epoch 0 */
    assert_int_equal(jvae_loader_next(loader, images, labels, &count), JVAE_OK);
    assert_int_equal(count, 0);
    assert_int_equal(jvae_loader_tell(loader, &epoch, &batch), JVAE_OK);
    assert_true(epoch == 1 && batch == 0);
    assert_int_equal(jvae_loader_seek(loader, 0, 8), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_loader_seek(loader, -1, 0), JVAE_ERR_INVALID_ARGUMENT);
    jvae_loader_free(loader);
    jvae_tensor_free(images);
}

static void test_loader_drop_last_and_no_shuffle(void **state)
{
    (void)state;
    jvae_tensor *images = batch_tensor(16);
    int order[ITEMS], sizes[8];
    jvae_loader *loader = make_loader(16, 1, 1, 7);
    assert_int_equal(jvae_loader_batches_per_epoch(loader), 6);
    assert_int_equal(walk_epoch(loader, images, 16, order, sizes), 6);
    int seen[ITEMS] = {0};
    for (int i = 0; i < 96; i++) seen[order[i]]++;
    int dropped = 0;
    for (int i = 0; i < ITEMS; i++) {
        assert_true(seen[i] <= 1);
        dropped += seen[i] == 0;
    }
    assert_int_equal(dropped, 4);
    jvae_loader_free(loader);

    loader = make_loader(16, 0, 0, 7);
    walk_epoch(loader, images, 16, order, sizes);
    for (int i = 0; i < ITEMS; i++) assert_int_equal(order[i], i);
    jvae_loader_free(loader);
    jvae_tensor_free(images);

    /* a batch as large as the data set: one batch per epoch */
    images = batch_tensor(64);
    jvae_dataset *few = NULL;
    int64_t three[3] = {1, 2, 3};
    assert_int_equal(jvae_dataset_subset(&few, items, three, 3),
                     JVAE_OK);
    jvae_loader_options options;
    jvae_loader_options_init(&options);
    assert_true(options.batch_size == 64 && options.shuffle == 1 && options.drop_last == 0 &&
                options.seed == 1);
    assert_int_equal(jvae_loader_create(&loader, few, &options), JVAE_OK);
    int count;
    assert_int_equal(jvae_loader_next(loader, images, NULL, &count), JVAE_OK);
    assert_int_equal(count, 3);
    assert_int_equal(jvae_loader_next(loader, images, NULL, &count), JVAE_OK);
    assert_int_equal(count, 0);
    jvae_loader_free(loader);
    options.drop_last = 1; /* would never yield a batch */
    loader = (jvae_loader *)few;
    assert_int_equal(jvae_loader_create(&loader, few, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_null(loader);
    assert_error_contains("drop_last with batch_size 64 over 3 items gives empty epochs");
    jvae_dataset_free(few);
    jvae_tensor_free(images);
}

static void test_loader_and_batch_errors(void **state)
{
    (void)state;
    jvae_loader *loader = make_loader(8, 1, 0, 1);
    jvae_tensor *wrong = batch_tensor(16);
    int count = 5;
    assert_int_equal(jvae_loader_next(loader, wrong, NULL, &count), JVAE_ERR_SHAPE);
    assert_int_equal(count, 0);
    assert_error_contains("jvae_loader_next: images: expected shape (8, 1, 64, 64), got (16, 1, 64, 64)");
    int64_t epoch, batch;
    assert_int_equal(jvae_loader_tell(loader, &epoch, &batch), JVAE_OK);
    assert_true(epoch == 0 && batch == 0); /* a failed call does not move */
    assert_int_equal(jvae_loader_next(loader, NULL, NULL, &count), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_loader_next(loader, wrong, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_loader_next(NULL, wrong, NULL, &count), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_loader_tell(NULL, &epoch, &batch), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_loader_batches_per_epoch(NULL), 0);
    jvae_loader_free(loader);
    jvae_loader_free(NULL);

    jvae_loader_options options;
    jvae_loader_options_init(&options);
    options.batch_size = 0;
    assert_int_equal(jvae_loader_create(&loader, items, &options), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("batch_size must be >= 1, got 0");
    options.batch_size = 4;
    options.shuffle = 2;
    assert_int_equal(jvae_loader_create(&loader, items, &options), JVAE_ERR_INVALID_ARGUMENT);
    options.shuffle = 1;
    options.version = 0;
    assert_int_equal(jvae_loader_create(&loader, items, &options), JVAE_ERR_VERSION);
    assert_int_equal(jvae_loader_create(&loader, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    assert_int_equal(jvae_loader_options_init(NULL), JVAE_ERR_INVALID_ARGUMENT);

    /* read_batch: shape and index checks */
    int64_t indices[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, ITEMS};
    int32_t labels[16 * 6];
    assert_int_equal(jvae_dataset_read_batch(items, indices, wrong, labels), JVAE_ERR_INVALID_ARGUMENT);
    assert_error_contains("indices[15] = 100 out of range [0, 100)");
    indices[15] = 15;
    assert_int_equal(jvae_dataset_read_batch(items, indices, wrong, labels), JVAE_OK);
    for (int i = 0; i < 16; i++) assert_int_equal(index_of(labels + i * 6), item_index[i]);
    jvae_tensor *small = NULL;
    int64_t shape[4] = {16, 1, 32, 32};
    assert_int_equal(jvae_tensor_create(&small, 4, shape), JVAE_OK);
    assert_int_equal(jvae_dataset_read_batch(items, indices, small, NULL), JVAE_ERR_SHAPE);
    assert_error_contains("expected shape (N, 1, 64, 64), got (16, 1, 32, 32)");
    jvae_tensor_free(small);
    jvae_tensor_free(wrong);
    assert_int_equal(jvae_dataset_size(NULL), 0);
    assert_int_equal(jvae_dataset_label_count(NULL), 0);
    assert_int_equal(jvae_dataset_label_classes(NULL, 0), 0);
    assert_int_equal(jvae_dataset_image_shape(NULL, NULL, NULL, NULL), JVAE_ERR_INVALID_ARGUMENT);
    jvae_dataset_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subset),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_loader_epochs_cover_every_item_once),
        cmocka_unit_test(test_loader_drop_last_and_no_shuffle),
        cmocka_unit_test(test_loader_and_batch_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
