/*
 * libjointvae — data sets and minibatches.
 *
 * A jvae_dataset is an indexed, read-only collection of images that all have
 * one shape (C, H, W), with values in [0, 1], each with the same number of
 * integer labels (0 .. JVAE_DATASET_MAX_LABELS):
 *   IDX files (MNIST, Fashion-MNIST)   1 label, the class (0 without a labels file);
 *   dSprites, rendered procedurally     6 labels, the factor classes;
 *   image folders (PNG, JPEG)           no labels.
 * Images are written planar (C, H, W), row 0 at the top, as float32.
 *
 * Views (jvae_dataset_subset, jvae_dataset_split) select items of another data
 * set by index, without copying images. A view BORROWS its source: the source
 * must outlive every view made from it.
 *
 * A jvae_loader walks a data set in minibatches written into a caller's tensor;
 * the order of epoch e is a pure function of (seed, e), so a run resumed with
 * jvae_loader_seek sees the same batches as an uninterrupted one.
 *
 * Limits (hostile files are refused with FORMAT before anything is allocated):
 * JVAE_IDX_MAX_SIDE, JVAE_IDX_MAX_BYTES for IDX files, JVAE_IMAGE_MAX_PIXELS for
 * the files of an image folder.
 *
 * Threads: a data set never changes after creation, so any number of threads
 * may read one data set at once (jvae_dataset_read, jvae_dataset_read_batch,
 * jvae_dsprites_render, making views), as long as no thread frees it. A loader
 * is one cursor: it must not be used by two threads at once (give each thread
 * its own loader; several loaders may share a data set).
 */
#ifndef JOINTVAE_DATA_H
#define JOINTVAE_DATA_H

#include "jointvae/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest number of labels per item of any data set. */
#define JVAE_DATASET_MAX_LABELS 8

/* ------------------------------------------------------------ resizing */

/* How images are resized. Every filter is separable: a horizontal pass then a
 * vertical pass, each rounded to 8 bits, exactly like PIL (Pillow) resizes an
 * 8-bit image, so results can be compared bit for bit with a torchvision
 * pipeline. */
typedef enum jvae_resize_filter {
    JVAE_RESIZE_AUTO = 0,     /* AREA when shrinking, BILINEAR when enlarging */
    JVAE_RESIZE_BILINEAR = 1, /* PIL's Image.BILINEAR: a triangle filter with pixel-centre
                                 alignment, widened by the scale factor when shrinking */
    JVAE_RESIZE_AREA = 2      /* each output pixel is the mean of the source area it
                                 covers (partial pixels weighted by their overlap) */
} jvae_resize_filter;

/* ------------------------------------------------------------ common interface */

/* Free a data set and everything it owns. NULL is a no-op. Views made from it
 * must be freed first (or never used again). */
JVAE_API void jvae_dataset_free(jvae_dataset *dataset);

/* Number of items; 0 on NULL. */
JVAE_API int64_t jvae_dataset_size(const jvae_dataset *dataset);

/* Shape of every image: channels, height, width (any output may be NULL).
 * Errors: INVALID_ARGUMENT on a NULL data set. */
JVAE_API jvae_status jvae_dataset_image_shape(const jvae_dataset *dataset, int *channels,
                                              int *height, int *width);

/* Labels per item (0 .. JVAE_DATASET_MAX_LABELS); 0 on NULL. */
JVAE_API int jvae_dataset_label_count(const jvae_dataset *dataset);

/* Number of classes of label `label` (0-based): its values lie in
 * 0 .. classes − 1. IDX: 1 + the largest label in the file; dSprites: the
 * factor sizes {1, 3, 6, 40, 32, 32}. 0 on NULL or `label` out of range. */
JVAE_API int jvae_dataset_label_classes(const jvae_dataset *dataset, int label);

/* Read item `index` (0 .. size − 1): its image into image[0 .. C·H·W − 1] and,
 * when labels is not NULL, its labels into labels[0 .. label_count − 1].
 * image_capacity and label_capacity are the lengths of the caller's buffers
 * (label_capacity is ignored when labels is NULL). Both buffers stay owned by
 * the caller. On failure the buffers may be partly written.
 * Errors: INVALID_ARGUMENT (NULL data set or image, index out of range, a
 *         buffer too small: the message gives both lengths), and for image
 *         folders, which decode on demand: IO (file vanished or unreadable),
 *         FORMAT (corrupt or non-image file: the message names the file),
 *         UNSUPPORTED (e.g. a CMYK JPEG), OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_dataset_read(const jvae_dataset *dataset, int64_t index, float *image,
                                       size_t image_capacity, int32_t *labels,
                                       size_t label_capacity);

/* Read the items indices[0 .. N − 1] into images (N, C, H, W) and, when labels
 * is not NULL, their labels into labels[0 .. N·label_count − 1] (item-major).
 * `indices` must hold N values; `labels` N·label_count values.
 * Errors: as jvae_dataset_read, plus SHAPE (images is not (N, C, H, W) for this
 * data set's C, H, W: the message gives both shapes). */
JVAE_API jvae_status jvae_dataset_read_batch(const jvae_dataset *dataset, const int64_t *indices,
                                             jvae_tensor *images, int32_t *labels);

/* ------------------------------------------------------------ views */

/* A view of `source` holding its items indices[0 .. count − 1], in that order
 * (repeats allowed). The indices are copied; the source is borrowed and must
 * outlive the view. A view of a view is a view of the same items.
 * Errors: INVALID_ARGUMENT (NULL, count < 1, an index out of range: the
 *         message names it), OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_dataset_subset(jvae_dataset **out, const jvae_dataset *source,
                                         const int64_t *indices, int64_t count);

/* Split `source` into two disjoint views that together hold every item once:
 * round(size · test_fraction) items chosen at random (generator seeded with
 * `seed`) go to *test_out, the rest to *train_out; each view lists its items in
 * increasing source index. Same seed, same split. Both views borrow the source.
 * On failure both outputs are NULL.
 * Errors: INVALID_ARGUMENT (NULL, test_fraction not strictly between 0 and 1,
 *         or a side that would be empty), OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_dataset_split(jvae_dataset **train_out, jvae_dataset **test_out,
                                        const jvae_dataset *source, double test_fraction,
                                        uint64_t seed);

/* ------------------------------------------------------------ IDX (MNIST) */

/* IDX files hold unsigned bytes: images with 3 dimensions (N, rows, columns),
 * labels with 1 dimension (N). Files may be gzipped or not (told apart by
 * their first bytes). Anything else, and any file whose size disagrees with its
 * header, is FORMAT. Limits, checked on the header before any allocation: */
#define JVAE_IDX_MAX_SIDE 4096                    /* rows and columns of one image */
#define JVAE_IDX_MAX_BYTES ((int64_t)1 << 32)     /* N·rows·columns, before and after resizing */

#define JVAE_IDX_OPTIONS_VERSION 1

typedef struct jvae_idx_options {
    unsigned version;          /* JVAE_IDX_OPTIONS_VERSION */
    int resize;                /* 0 (default): keep the file's size; otherwise 1..JVAE_IDX_MAX_SIDE,
                                  every image becomes resize x resize, as PIL's
                                  Image.resize((resize, resize), filter) — e.g. 32 for the
                                  paper's MNIST (torchvision Resize(32) on 28x28) */
    jvae_resize_filter filter; /* default JVAE_RESIZE_BILINEAR (torchvision's choice) */
} jvae_idx_options;

/* Fill the defaults above. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_idx_options_init(jvae_idx_options *options);

/* Open an IDX images file and, unless labels_path is NULL, its labels file. The
 * whole file is read into memory as bytes (resized once here when asked) and
 * images are converted to floats value/255 when read. options may be NULL
 * (defaults). *out is NULL on failure.
 * Errors: INVALID_ARGUMENT (NULL out or images_path, bad option), VERSION,
 *         IO (cannot open or read: path and errno text), FORMAT (bad magic,
 *         unsupported element type or rank, zero or over-limit dimensions, size
 *         disagreeing with the header, truncated or corrupt gzip stream, label
 *         count != image count), OVERFLOW (on a 32-bit host, a payload over
 *         SIZE_MAX), OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_dataset_idx_open(jvae_dataset **out, const char *images_path,
                                           const char *labels_path,
                                           const jvae_idx_options *options);

/* Open the MNIST pair named by `prefix` after the MNIST convention:
 * "<prefix>-images-idx3-ubyte.gz" (or without ".gz") and
 * "<prefix>-labels-idx1-ubyte.gz" (or without ".gz"), e.g. prefix
 * "/usr/share/datasets/fashion-mnist/train" or ".../t10k". Both files must exist.
 * Errors: as jvae_dataset_idx_open; IO names the paths tried when a file is
 * missing. */
JVAE_API jvae_status jvae_dataset_idx_open_prefix(jvae_dataset **out, const char *prefix,
                                                  const jvae_idx_options *options);

/* ------------------------------------------------------------ dSprites */

/* dSprites (Matthey et al.), rendered on demand as specified in
 * docs/data.md: 737,280 binary 64x64 images (values exactly 0 or 1), one per
 * combination of 6 factors. The labels of item i are its factor classes, in
 * this order; the index of an image is Σ class_f · base_f with bases
 * {737280, 245760, 40960, 1024, 32, 1} (the last factor changes fastest). */
#define JVAE_DSPRITES_COUNT 737280
#define JVAE_DSPRITES_FACTORS 6
#define JVAE_DSPRITES_SIDE 64

enum {
    JVAE_DSPRITES_COLOR = 0,       /* 1 class (white) */
    JVAE_DSPRITES_SHAPE = 1,       /* 3: square, ellipse, heart */
    JVAE_DSPRITES_SCALE = 2,       /* 6: 0.5, 0.6, … 1.0 */
    JVAE_DSPRITES_ORIENTATION = 3, /* 40: θ_k = k·2π/39 (k = 0 and 39 give identical images) */
    JVAE_DSPRITES_POS_X = 4,       /* 32: k/31 */
    JVAE_DSPRITES_POS_Y = 5        /* 32: k/31 */
};

/* The dSprites data set: 1 x 64 x 64 images, 6 labels. It holds only the heart
 * polygon (a few kilobytes): nothing is cached, each read renders.
 * Errors: INVALID_ARGUMENT (NULL out), OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_dataset_dsprites(jvae_dataset **out);

/* Index of the image with factor classes classes[0 .. 5].
 * Errors: INVALID_ARGUMENT (NULL, a class out of range: the message names the factor). */
JVAE_API jvae_status jvae_dsprites_index(int64_t *index_out, const int32_t *classes);

/* Factor classes classes_out[0 .. 5] of image `index` (0 .. JVAE_DSPRITES_COUNT − 1).
 * Errors: INVALID_ARGUMENT (NULL, index out of range). */
JVAE_API jvae_status jvae_dsprites_classes(int32_t *classes_out, int64_t index);

/* Draw `count` factor combinations, each factor uniform over its classes
 * (color always 0), into classes_out[0 .. count·6 − 1] (item-major), from a
 * generator seeded with `seed`: same seed, same draws. To hold a factor fixed
 * (as the FactorVAE metric does), overwrite its column afterwards.
 * Errors: INVALID_ARGUMENT (NULL, count < 0). */
JVAE_API jvae_status jvae_dsprites_sample(int32_t *classes_out, int64_t count, uint64_t seed);

/* Render images (N, 1, 64, 64) for the factor classes classes[0 .. N·6 − 1]
 * (item-major). `dsprites` is the data set from jvae_dataset_dsprites or any
 * view of it (it holds the heart polygon).
 * Errors: INVALID_ARGUMENT (NULL, not a dSprites data set, a class out of
 *         range: the message gives the item and factor), SHAPE. */
JVAE_API jvae_status jvae_dsprites_render(const jvae_dataset *dsprites, const int32_t *classes,
                                          jvae_tensor *images);

/* ------------------------------------------------------------ image folders */

/* The images of one folder (not its subfolders). Listing rule: a regular file
 * (symbolic links followed) whose name does not start with '.' and ends in
 * ".png", ".jpg" or ".jpeg" (any case) is an item; every other entry is
 * skipped. Items are sorted by file name (byte order), so the order does not
 * depend on the file system. Each image is decoded when read (the decoder is
 * chosen by the file's first bytes, not its name), centre-cropped to a square
 * (side min(w, h), offset ⌊(w − side)/2⌋, ⌊(h − side)/2⌋), and resized to
 * size x size. PNG: 16-bit samples are reduced to 8, palettes expanded, alpha
 * (and tRNS transparency) dropped. JPEG: grey, YCbCr and RGB files; a JPEG
 * that libjpeg decodes only with a warning (e.g. truncated data) is FORMAT.
 * Grey from colour: L = (19595·R + 38470·G + 7471·B + 32768) >> 16, as PIL's
 * convert("L"); colour from grey: R = G = B = L. */
#define JVAE_IMAGE_MAX_PIXELS ((int64_t)1 << 26) /* width·height of one file */

#define JVAE_FOLDER_OPTIONS_VERSION 1

typedef struct jvae_folder_options {
    unsigned version;          /* JVAE_FOLDER_OPTIONS_VERSION */
    int channels;              /* 1 (grey) or 3 (RGB, default) */
    int size;                  /* output side, 1..4096 (default 64) */
    jvae_resize_filter filter; /* default JVAE_RESIZE_AUTO */
    int validate;              /* 1: at open, read every file's header and fail on the
                                  first that is not a readable PNG or JPEG within the
                                  limits; 0 (default): files are only read when used */
} jvae_folder_options;

/* Fill the defaults above. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_folder_options_init(jvae_folder_options *options);

/* Open the image folder `directory`. options may be NULL (defaults). The file
 * names are listed (and, with validate, checked) now; pixels are decoded by
 * each read.
 * Errors: INVALID_ARGUMENT (NULL, bad option), VERSION, IO (cannot list the
 *         folder), FORMAT (no image file in the folder; with validate, the
 *         first bad file and why), UNSUPPORTED (with validate: a CMYK JPEG),
 *         OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_dataset_folder_open(jvae_dataset **out, const char *directory,
                                              const jvae_folder_options *options);

/* File name (without the folder) of item `index` of a folder data set, owned by
 * the data set, valid until it is freed; NULL when `dataset` is not a folder
 * data set or index is out of range. */
JVAE_API const char *jvae_dataset_folder_file(const jvae_dataset *dataset, int64_t index);

/* ------------------------------------------------------------ loader */

#define JVAE_LOADER_OPTIONS_VERSION 1

typedef struct jvae_loader_options {
    unsigned version; /* JVAE_LOADER_OPTIONS_VERSION */
    int batch_size;   /* images per batch, >= 1 (default 64) */
    int shuffle;      /* 1 (default): a new random order every epoch; 0: index order */
    int drop_last;    /* 0 (default): the last batch of an epoch holds the remainder;
                         1: a last batch smaller than batch_size is skipped */
    uint64_t seed;    /* seeds the epoch orders (default 1) */
} jvae_loader_options;

/* Fill the defaults above. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_loader_options_init(jvae_loader_options *options);

/* A loader over `dataset`, positioned at the start of epoch 0. It allocates its
 * index order (8 bytes per item) here and nothing afterwards. The data set is
 * borrowed and must outlive the loader. options may be NULL (defaults).
 * Errors: INVALID_ARGUMENT (NULL, bad option, drop_last with a batch larger
 *         than the data set, which would give empty epochs), VERSION,
 *         OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_loader_create(jvae_loader **out, const jvae_dataset *dataset,
                                        const jvae_loader_options *options);

/* Free the loader (not its data set). NULL is a no-op. */
JVAE_API void jvae_loader_free(jvae_loader *loader);

/* Write the next batch of the current epoch into images (batch_size, C, H, W)
 * and, when labels is not NULL, its labels into labels[0 .. batch_size·label_count − 1]
 * (item-major), and set *count to the number of items written (the first
 * *count images; the rest of the tensor is left as it was). When the epoch has
 * no batch left, nothing is written, *count is 0, and the loader moves to the
 * start of the next epoch, so `while (next(…, &n) == JVAE_OK && n > 0)` walks
 * exactly one epoch. Every item appears exactly once per epoch (drop_last
 * aside). The loader allocates nothing here (an image folder's decoders do,
 * per image). To feed a partial last batch to a call that takes (N, C, H, W),
 * wrap the first *count images with jvae_tensor_wrap, or set drop_last.
 * On failure *count is 0 and the position does not move (the batch can be retried).
 * Errors: INVALID_ARGUMENT (NULL), SHAPE (images not (batch_size, C, H, W)),
 *         and the errors of jvae_dataset_read. */
JVAE_API jvae_status jvae_loader_next(jvae_loader *loader, jvae_tensor *images, int32_t *labels,
                                      int *count);

/* Batches in one epoch: ceil(size / batch_size), or floor with drop_last; 0 on NULL. */
JVAE_API int64_t jvae_loader_batches_per_epoch(const jvae_loader *loader);

/* Where the loader is: the current epoch (0-based) and the batch the next call
 * returns (0 .. batches_per_epoch; equal to batches_per_epoch when the next call
 * ends the epoch). Either output may be NULL. Errors: INVALID_ARGUMENT on NULL loader. */
JVAE_API jvae_status jvae_loader_tell(const jvae_loader *loader, int64_t *epoch, int64_t *batch);

/* Move to batch `batch` of epoch `epoch` (e.g. to resume a run), as if every
 * earlier batch had been read. Errors: INVALID_ARGUMENT (NULL, epoch < 0,
 * batch outside 0 .. batches_per_epoch). */
JVAE_API jvae_status jvae_loader_seek(jvae_loader *loader, int64_t epoch, int64_t batch);

#ifdef __cplusplus
}
#endif

#endif /* JOINTVAE_DATA_H */
