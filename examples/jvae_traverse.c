/*
 * jvae-traverse: draw the pictures of a saved model into a folder.
 *
 *   jvae-traverse --model runs/mnist/model.safetensors --out pictures
 *   jvae-traverse --model M --out DIR --data /data/mnist/t10k --log runs/mnist/log.csv
 *   jvae-traverse --model M --out DIR --dsprites --pictures traversals,grid2d --units 3,6
 *
 * Pictures (--pictures, comma-separated; default "all": every one whose inputs
 * are given):
 *   samples          samples.png           prior samples, rows x columns
 *   conditional      samples_c<i>.png      one row per category of discrete variable i
 *   traversals       traversals.png        every latent unit, ranked by KL on the data
 *   grid2d           traversal_2d.png      two units against each other (--units A,B)
 *   reconstructions  reconstructions.png   needs data
 *   edits            edits.png             the first --rows images edited along --edit-unit;
 *                                          needs data
 *   curves           curves_*.png          needs --log
 * It uses only the public header.
 */
#include <jointvae/jointvae.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    PICTURE_SAMPLES = 1 << 0,
    PICTURE_CONDITIONAL = 1 << 1,
    PICTURE_TRAVERSALS = 1 << 2,
    PICTURE_GRID2D = 1 << 3,
    PICTURE_RECONSTRUCTIONS = 1 << 4,
    PICTURE_EDITS = 1 << 5,
    PICTURE_CURVES = 1 << 6,
    PICTURE_ALL = (1 << 7) - 1
};

static const struct {
    const char *name;
    unsigned bit;
} picture_names[] = {
    {"samples", PICTURE_SAMPLES},       {"conditional", PICTURE_CONDITIONAL},
    {"traversals", PICTURE_TRAVERSALS}, {"grid2d", PICTURE_GRID2D},
    {"reconstructions", PICTURE_RECONSTRUCTIONS}, {"edits", PICTURE_EDITS},
    {"curves", PICTURE_CURVES},         {"all", PICTURE_ALL},
};

typedef struct arguments {
    const char *model, *out, *data, *folder, *log;
    int dsprites;
    unsigned pictures;
    int unit_a, unit_b, edit_unit;
    long long kl_images;
    jvae_picture_options picture;
} arguments;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: jvae-traverse --model FILE --out DIR [options]\n"
            "  --data PREFIX      IDX images PREFIX-images-idx3-ubyte[.gz] (e.g. MNIST t10k)\n"
            "  --folder DIR       a folder of PNG/JPEG images\n"
            "  --dsprites         dSprites, rendered\n"
            "  --log FILE         a training log.csv, for the curves\n"
            "  --pictures LIST    samples,conditional,traversals,grid2d,reconstructions,edits,\n"
            "                     curves or all (default all)\n"
            "  --columns N        images per row and traversal steps (default 10)\n"
            "  --rows N           rows of samples and of edited images (default 8)\n"
            "  --padding P        pixels between images (default 2)\n"
            "  --scale S          upscaling factor (default 1)\n"
            "  --seed S           seed of every random draw (default 1)\n"
            "  --prior-base       traverse around a prior draw instead of 0 / category 0\n"
            "  --quantiles LO,HI  traversal quantiles (default 0.05,0.95)\n"
            "  --units A,B        the two units of grid2d (default: largest KL, or 0,1)\n"
            "  --edit-unit U      the unit the edits change (default: largest KL, or 0)\n"
            "  --kl-images N      data items for the KL ranking (default 10000, 0: all)\n"
            "Units: 0..Dz-1 are the continuous latents, Dz+i discrete variable i.\n");
}

static int parse_int(const char *text, long long low, long long high, long long *out)
{
    char *end = NULL;
    long long value = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || value < low || value > high) return -1;
    *out = value;
    return 0;
}

static int parse_pictures(const char *list, unsigned *out)
{
    char buffer[256];
    snprintf(buffer, sizeof buffer, "%s", list);
    *out = 0;
    for (char *name = strtok(buffer, ","); name != NULL; name = strtok(NULL, ",")) {
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof picture_names / sizeof picture_names[0]; i++)
            if (strcmp(name, picture_names[i].name) == 0) bit = picture_names[i].bit;
        if (bit == 0) {
            fprintf(stderr, "jvae-traverse: unknown picture '%s'\n", name);
            return -1;
        }
        *out |= bit;
    }
    return 0;
}

static int parse_arguments(int argc, char **argv, arguments *a)
{
    memset(a, 0, sizeof *a);
    a->pictures = PICTURE_ALL;
    a->unit_a = a->unit_b = a->edit_unit = -1;
    a->kl_images = 10000;
    jvae_picture_options_init(&a->picture);
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        long long n = 0;
        int takes_value = 1, bad = 0;
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(flag, "--dsprites") == 0) {
            a->dsprites = 1;
            takes_value = 0;
        } else if (strcmp(flag, "--prior-base") == 0) {
            a->picture.base = JVAE_TRAVERSAL_BASE_PRIOR;
            takes_value = 0;
        } else if (value == NULL) {
            fprintf(stderr, "jvae-traverse: %s needs a value\n", flag);
            return -1;
        } else if (strcmp(flag, "--model") == 0) {
            a->model = value;
        } else if (strcmp(flag, "--out") == 0) {
            a->out = value;
        } else if (strcmp(flag, "--data") == 0) {
            a->data = value;
        } else if (strcmp(flag, "--folder") == 0) {
            a->folder = value;
        } else if (strcmp(flag, "--log") == 0) {
            a->log = value;
        } else if (strcmp(flag, "--pictures") == 0) {
            bad = parse_pictures(value, &a->pictures);
        } else if (strcmp(flag, "--columns") == 0) {
            bad = parse_int(value, 1, 1024, &n);
            a->picture.columns = (int)n;
        } else if (strcmp(flag, "--rows") == 0) {
            bad = parse_int(value, 1, 1024, &n);
            a->picture.rows = (int)n;
        } else if (strcmp(flag, "--padding") == 0) {
            bad = parse_int(value, 0, 1024, &n);
            a->picture.padding = (int)n;
        } else if (strcmp(flag, "--scale") == 0) {
            bad = parse_int(value, 1, 64, &n);
            a->picture.scale = (int)n;
        } else if (strcmp(flag, "--seed") == 0) {
            char *end = NULL;
            a->picture.seed = strtoull(value, &end, 10);
            bad = end == value || *end != '\0';
        } else if (strcmp(flag, "--quantiles") == 0) {
            bad = sscanf(value, "%lf,%lf", &a->picture.quantile_low, &a->picture.quantile_high) != 2;
        } else if (strcmp(flag, "--units") == 0) {
            bad = sscanf(value, "%d,%d", &a->unit_a, &a->unit_b) != 2;
        } else if (strcmp(flag, "--edit-unit") == 0) {
            bad = parse_int(value, 0, 1 << 20, &n);
            a->edit_unit = (int)n;
        } else if (strcmp(flag, "--kl-images") == 0) {
            bad = parse_int(value, 0, 1LL << 40, &n);
            a->kl_images = n;
        } else {
            fprintf(stderr, "jvae-traverse: unknown option %s\n", flag);
            usage(stderr);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "jvae-traverse: bad value '%s' for %s\n", value, flag);
            return -1;
        }
        i += takes_value;
    }
    if (a->model == NULL || a->out == NULL) {
        usage(stderr);
        return -1;
    }
    if (mkdir(a->out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "jvae-traverse: cannot create %s: %s\n", a->out, strerror(errno));
        return -1;
    }
    if ((a->data != NULL) + (a->folder != NULL) + a->dsprites > 1) {
        fprintf(stderr, "jvae-traverse: give at most one of --data, --folder, --dsprites\n");
        return -1;
    }
    return 0;
}

static int failed(jvae_status status, const char *what)
{
    if (status == JVAE_OK) return 0;
    fprintf(stderr, "jvae-traverse: %s: %s (%s)\n", what, jvae_last_error(),
            jvae_status_string(status));
    return 1;
}

/* The data set in the model's image shape (IDX files are resized if needed). */
static jvae_status open_data(jvae_dataset **out, const arguments *a,
                             const jvae_model_options *model)
{
    *out = NULL;
    if (a->dsprites) return jvae_dataset_dsprites(out);
    if (a->folder != NULL) {
        jvae_folder_options options;
        jvae_folder_options_init(&options);
        options.channels = model->channels;
        options.size = model->height;
        return jvae_dataset_folder_open(out, a->folder, &options);
    }
    if (a->data == NULL) return JVAE_OK;
    jvae_status st = jvae_dataset_idx_open_prefix(out, a->data, NULL);
    int height = 0;
    if (st == JVAE_OK) st = jvae_dataset_image_shape(*out, NULL, &height, NULL);
    if (st == JVAE_OK && height != model->height) {
        jvae_dataset_free(*out);
        jvae_idx_options options;
        jvae_idx_options_init(&options);
        options.resize = model->height;
        st = jvae_dataset_idx_open_prefix(out, a->data, &options);
    }
    return st;
}

static void join(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

/* The unit of largest KL other than `skip` (first on ties). */
static int top_unit(const float *kl, int units, int skip)
{
    int best = -1;
    for (int u = 0; u < units; u++)
        if (u != skip && (best < 0 || kl[u] > kl[best])) best = u;
    return best;
}

static int run(const arguments *a, jvae_model *model, const jvae_dataset *data)
{
    jvae_model_options options;
    if (failed(jvae_model_get_options(model, &options), "model")) return 1;
    const int units = options.n_continuous + options.n_discrete;
    const unsigned want = a->pictures;
    char path[4096];
    float *kl = NULL;
    int status = 0;
    if (data != NULL && (want & (PICTURE_TRAVERSALS | PICTURE_GRID2D | PICTURE_EDITS))) {
        kl = malloc((size_t)units * sizeof *kl);
        if (kl == NULL) return 1;
        status = failed(jvae_kl_per_unit(kl, units, model, data, a->kl_images, 256), "KL per unit");
    }
    if (!status && (want & PICTURE_SAMPLES)) {
        join(path, sizeof path, a->out, "samples.png");
        status = failed(jvae_picture_prior_samples(path, model, &a->picture), path);
    }
    for (int v = 0; !status && (want & PICTURE_CONDITIONAL) && v < options.n_discrete; v++) {
        char name[64];
        snprintf(name, sizeof name, "samples_c%d.png", v);
        join(path, sizeof path, a->out, name);
        status = failed(jvae_picture_conditional_samples(path, model, v, &a->picture), path);
    }
    if (!status && (want & PICTURE_TRAVERSALS)) {
        join(path, sizeof path, a->out, "traversals.png");
        status = failed(jvae_picture_traversals(path, model, kl, units, &a->picture), path);
    }
    if (!status && (want & PICTURE_GRID2D) && units >= 2) {
        int first = a->unit_a, second = a->unit_b;
        if (first < 0) {
            first = kl != NULL ? top_unit(kl, units, -1) : 0;
            second = kl != NULL ? top_unit(kl, units, first) : 1;
        }
        join(path, sizeof path, a->out, "traversal_2d.png");
        status = failed(jvae_picture_traversal_2d(path, model, first, second, &a->picture), path);
    }
    jvae_tensor *images = NULL;
    if (!status && data != NULL && (want & (PICTURE_RECONSTRUCTIONS | PICTURE_EDITS))) {
        int64_t n = (int64_t)a->picture.columns * ((a->picture.rows + 1) / 2);
        if (n > jvae_dataset_size(data)) n = jvae_dataset_size(data);
        int64_t shape[4] = {n, options.channels, options.height, options.width};
        int64_t *indices = malloc((size_t)n * sizeof *indices);
        if (indices == NULL) status = 1;
        for (int64_t i = 0; !status && i < n; i++) indices[i] = i;
        if (!status) status = failed(jvae_tensor_create(&images, 4, shape), "images");
        if (!status) status = failed(jvae_dataset_read_batch(data, indices, images, NULL), "data");
        free(indices);
    }
    if (!status && images != NULL && (want & PICTURE_RECONSTRUCTIONS)) {
        join(path, sizeof path, a->out, "reconstructions.png");
        status = failed(jvae_picture_reconstructions(path, model, images, &a->picture), path);
    }
    if (!status && images != NULL && (want & PICTURE_EDITS)) {
        int unit = a->edit_unit >= 0 ? a->edit_unit : kl != NULL ? top_unit(kl, units, -1) : 0;
        int64_t rows = jvae_tensor_dim(images, 0) < a->picture.rows ? jvae_tensor_dim(images, 0)
                                                                    : a->picture.rows;
        int64_t shape[4] = {rows, options.channels, options.height, options.width};
        jvae_tensor *first = NULL;
        status = failed(jvae_tensor_wrap(&first, jvae_tensor_data(images), 4, shape), "images");
        join(path, sizeof path, a->out, "edits.png");
        if (!status) status = failed(jvae_picture_edits(path, model, first, unit, &a->picture), path);
        jvae_tensor_free(first);
    }
    jvae_tensor_free(images);
    if (!status && a->log != NULL && (want & PICTURE_CURVES))
        status = failed(jvae_write_training_curves(a->out, a->log, NULL), a->log);
    free(kl);
    if (!status) printf("pictures written to %s/\n", a->out);
    return status;
}

int main(int argc, char **argv)
{
    arguments a;
    if (parse_arguments(argc, argv, &a) != 0) return 2;
    jvae_model *model = NULL;
    if (failed(jvae_model_load(&model, a.model), a.model)) return 1;
    jvae_model_options options;
    jvae_dataset *data = NULL;
    int status = failed(jvae_model_get_options(model, &options), "model");
    if (!status) status = failed(open_data(&data, &a, &options), "data");
    if (!status) status = run(&a, model, data);
    jvae_dataset_free(data);
    jvae_model_free(model);
    return status;
}
