/*
 * libjointvae — metrics: unsupervised accuracy of a discrete latent, the
 * FactorVAE disentanglement metric, MIG, and the information (KL) per latent
 * unit. The definitions are those of docs/metrics.md.
 *
 * Every metric has a pure core (numbers in, numbers out, no model) and a
 * convenience that takes a model and a data set:
 *   accuracy   jvae_cluster_accuracy  ← cluster ids and labels
 *              jvae_discrete_accuracy ← model + labelled data set
 *   FactorVAE  jvae_factorvae_score   ← a factor → code callback
 *              jvae_factorvae_dsprites ← model (dSprites rendered on the fly)
 *   MIG        jvae_mig_from_codes / jvae_mig_score ← codes / callback
 *              jvae_mig_dsprites      ← model
 *   KL         jvae_kl_per_unit_images ← model + images
 *              jvae_kl_per_unit       ← model + data set
 *
 * The code of a model (what FactorVAE and MIG score) is its deterministic
 * representation: the Dz continuous means, then ONE dimension per discrete
 * variable holding the argmax index of α (first index on ties), as the
 * CascadeVAE authors scored joint continuous/discrete models. An index
 * dimension's spread is its Gini variance
 *   gini_var(labels) = (N² − Σ_k n_k²) / (2·N·(N − 1))   (0 when all agree).
 *
 * Random draws come from a generator seeded by the options' seed: same seed,
 * same score. Threads: every call only reads its inputs (and the model, see
 * model.h); calls may run concurrently.
 */
#ifndef JOINTVAE_METRICS_H
#define JOINTVAE_METRICS_H

#include "jointvae/core.h"
#include "jointvae/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ assignment */

/* Largest sizes of the accuracy tables and of the assignment problem. */
#define JVAE_MAX_CLUSTERS 4096

/* Maximum-weight one-to-one assignment of rows to columns of weights
 * (rows, cols), row-major (Kuhn–Munkres with potentials, O(K³) for
 * K = max(rows, cols); the matrix is padded to K x K with zeros).
 * assignment[r] receives the column of row r, or −1 when row r is left to a
 * padding column (rows > cols). *total (may be NULL) receives the sum of the
 * matched weights. Ties are broken deterministically.
 * Errors: INVALID_ARGUMENT (NULL, rows or cols outside 1..JVAE_MAX_CLUSTERS),
 *         NUMERIC (a weight is NaN or Inf), OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_assignment_max(int *assignment, double *total, const double *weights,
                                         int rows, int cols);

/* ------------------------------------------------------------ accuracy */

/* table (n_clusters, n_labels), row-major: table[c][y] = number of items i with
 * clusters[i] = c and labels[i] = y.
 * Errors: INVALID_ARGUMENT (NULL, n < 1, sizes outside 1..JVAE_MAX_CLUSTERS,
 *         an id out of range: the message gives the item). */
JVAE_API jvae_status jvae_contingency_table(int64_t *table, const int32_t *clusters,
                                            const int32_t *labels, int64_t n, int n_clusters,
                                            int n_labels);

typedef struct jvae_accuracy {
    double hungarian;          /* best one-to-one cluster → label map: matched / n */
    double majority;           /* each cluster → its most frequent label: correct / n */
    int64_t hungarian_correct; /* items the one-to-one map gets right */
    int64_t majority_correct;  /* items the majority map gets right */
    int64_t n;                 /* items scored */
} jvae_accuracy;

/* Unsupervised accuracy of cluster ids against labels: the contingency table,
 * then the Hungarian (one-to-one; clusters left unmatched when n_clusters >
 * n_labels score 0) and majority (many-to-one) accuracies;
 * majority >= hungarian. mapping (may be NULL; n_clusters values) receives the
 * label of each cluster under the one-to-one map, −1 if unmatched.
 * Errors: those of jvae_contingency_table, OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_cluster_accuracy(jvae_accuracy *out, int32_t *mapping,
                                           const int32_t *clusters, const int32_t *labels,
                                           int64_t n, int n_clusters, int n_labels);

/* Accuracy of discrete variable `discrete_index` of the model on the labelled
 * data set (label number `label`, e.g. 0 for MNIST's class): the cluster of
 * image i is the argmax of its α (first on ties). max_images > 0 scores
 * max_images items spread over the set (items 0, s, 2s, … with
 * s = size / max_images), 0 all of them. Images are encoded `batch` at a time
 * (>= 1; 256 is a good value). mapping as in jvae_cluster_accuracy (K values).
 * table (may be NULL) receives the K x n_labels contingency table, as
 * jvae_contingency_table writes it (n_labels = jvae_dataset_label_classes).
 * Errors: INVALID_ARGUMENT (NULL, index/label out of range, bad counts),
 *         SHAPE (data set images are not the model's shape), and those of
 *         jvae_dataset_read_batch and jvae_encode. */
JVAE_API jvae_status jvae_discrete_accuracy(jvae_accuracy *out, int32_t *mapping, int64_t *table,
                                            const jvae_model *model, const jvae_dataset *data,
                                            int discrete_index, int label, int64_t max_images,
                                            int batch);

/* ------------------------------------------------------------ factor → code */

/* Largest number of ground-truth factors and of code dimensions. */
#define JVAE_MAX_FACTORS 32
#define JVAE_MAX_CODE_DIM 65536

/* Write the codes of `count` items whose ground-truth factor classes are
 * factors[0 .. count·n_factors − 1] (item-major) into
 * codes[0 .. count·code_dim − 1] (item-major). Return JVAE_OK, or a failing
 * status (with jvae_fail-style message set by the callee) to stop the metric,
 * which then returns that status. */
typedef jvae_status (*jvae_factor_code_fn)(float *codes, const int32_t *factors, int count,
                                           void *payload);

/* Where a metric gets codes from: a generative process with n_factors
 * independent uniform factors, and an encoder of it. */
typedef struct jvae_factor_code {
    int n_factors;                /* 1..JVAE_MAX_FACTORS */
    const int32_t *factor_sizes;  /* (n_factors) classes of each factor, >= 2 */
    int code_dim;                 /* 1..JVAE_MAX_CODE_DIM */
    const int32_t *code_categories; /* (code_dim): 0 for a continuous dimension, K >= 2 for
                                       an index dimension holding 0 .. K−1; NULL: all
                                       continuous */
    const double *code_kl;        /* (code_dim) mean KL of each dimension in nats, for the
                                     "paper" preset's pruning; NULL: nothing pruned by KL */
    jvae_factor_code_fn encode;
    void *payload;                /* passed to encode; borrowed */
} jvae_factor_code;

/* Progress of a long metric: called on the calling thread after each encode
 * call with the images encoded so far and the total the metric will encode
 * (done reaches total at the end). Return 0 to go on, anything else to stop:
 * the metric then frees what it holds and returns JVAE_ERR_CANCELLED. */
typedef int (*jvae_progress_fn)(int64_t done, int64_t total, void *payload);

/* ------------------------------------------------------------ FactorVAE */

typedef enum jvae_factorvae_preset {
    JVAE_FACTORVAE_DLIB = 0, /* google-research/disentanglement_lib, factor_vae.py */
    JVAE_FACTORVAE_PAPER = 1 /* Kim & Mnih as usually reimplemented */
} jvae_factorvae_preset;

/* Static name of a preset: "dlib", "paper", or "unknown". */
JVAE_API const char *jvae_factorvae_preset_name(jvae_factorvae_preset preset);

#define JVAE_FACTORVAE_OPTIONS_VERSION 2

typedef struct jvae_factorvae_options {
    unsigned version;              /* JVAE_FACTORVAE_OPTIONS_VERSION */
    jvae_factorvae_preset preset;  /* labels the result; set by _init */
    int images_per_vote;           /* L, >= 2: dlib 64, paper 100 */
    int train_votes;               /* >= 1: dlib 10,000, paper 800 */
    int eval_votes;                /* >= 0: dlib 5,000; 0 (paper): the accuracy is measured
                                      on the training votes */
    int balanced;                  /* 1 (paper): vote v fixes factor v mod n_factors;
                                      0 (dlib): a uniformly random factor per vote */
    int64_t variance_images;       /* images for the global variance: dlib 10,000 random;
                                      0 (paper): every combination of the factors once */
    double prune_std;              /* continuous dims with global std below this are
                                      inactive: dlib 0.05, paper 0 */
    double prune_kl;               /* dims with code_kl below this are inactive (needs
                                      code_kl): paper 0.1, dlib 0 */
    int encode_batch;              /* items per encode call for the variance, >= 1 (256) */
    uint64_t seed;                 /* (default 0) */
    jvae_progress_fn progress;     /* NULL (default): no reports. Version 2; options of
                                      version 1 (without these two fields) are still
                                      accepted and report nothing */
    void *progress_payload;        /* passed to progress; borrowed */
} jvae_factorvae_options;

/* Fill the settings of `preset` (docs/metrics.md). Errors: INVALID_ARGUMENT
 * (NULL, unknown preset). */
JVAE_API jvae_status jvae_factorvae_options_init(jvae_factorvae_options *options,
                                                 jvae_factorvae_preset preset);

typedef struct jvae_factorvae_result {
    jvae_factorvae_preset preset; /* which settings produced the numbers: always report it */
    double train_accuracy;        /* of the majority-vote classifier on its training votes */
    double eval_accuracy;         /* on the evaluation votes (= train_accuracy when
                                     eval_votes is 0); the score to report */
    int active_dims;              /* dims left after pruning; 0 gives a score of 0 */
    int train_votes, eval_votes;
} jvae_factorvae_result;

/* The FactorVAE metric (Kim & Mnih 2018). Global variance of each code
 * dimension over options->variance_images items (unbiased, ddof = 1; Gini
 * variance for index dims), pruning, then votes: pick a factor k, fix it to
 * one uniform class, draw L items (other factors uniform), encode, and vote
 * for d = argmin over active dims of local_var / global_var (first on ties);
 * a dimension whose global variance is 0 scores +∞ there (it cannot tell
 * factors apart), so a constant code gives every vote to the first active
 * dimension and the score is chance (the share of the most voted factor).
 * Errors: INVALID_ARGUMENT (NULL, a bad field of code or options: named),
 *         VERSION, NUMERIC (the encoder returned NaN/Inf), OVERFLOW
 *         (variance_images 0 and more than 2^31 factor combinations, or more
 *         than 2^60 variance images or vote images),
 *         OUT_OF_MEMORY, CANCELLED (by options->progress), or the status the
 *         encoder returned. */
JVAE_API jvae_status jvae_factorvae_score(jvae_factorvae_result *out,
                                          const jvae_factor_code *code,
                                          const jvae_factorvae_options *options);

/* ------------------------------------------------------------ MIG */

/* MIG (Chen et al. 2018) of n items: codes (n, code_dim) item-major,
 * code_categories as in jvae_factor_code (NULL: all continuous), factors
 * (n, n_factors) item-major. A continuous dim is cut into `bins` equal-width
 * bins between its min and max (all in one bin when constant); an index dim is
 * its own bins. m[j][k] = plug-in mutual information (nats) of dim j and
 * factor k; H[k] the entropy of factor k;
 * MIG = mean over k of (largest m[·][k] − second largest) / H[k]; a factor
 * whose entropy in the sample is 0 contributes 0, and with one code dim the
 * second largest is 0. per_factor (may be NULL) receives the n_factors gaps.
 * Errors: INVALID_ARGUMENT (NULL, n < 2, bins < 2, a bad size, an index or
 *         factor class out of range), NUMERIC (NaN/Inf in a continuous dim),
 *         OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_mig_from_codes(double *mig, double *per_factor, const float *codes,
                                         int64_t n, int code_dim, const int32_t *code_categories,
                                         const int32_t *factors, int n_factors,
                                         const int32_t *factor_sizes, int bins);

#define JVAE_MIG_OPTIONS_VERSION 2

typedef struct jvae_mig_options {
    unsigned version;  /* JVAE_MIG_OPTIONS_VERSION */
    int64_t images;    /* random items, >= 2 (default 10,000, disentanglement_lib's) */
    int bins;          /* >= 2 (default 20) */
    int encode_batch;  /* items per encode call, >= 1 (default 256) */
    uint64_t seed;     /* (default 0) */
    jvae_progress_fn progress; /* NULL (default): no reports. Version 2; version 1
                                  options (without these fields) are still accepted */
    void *progress_payload;    /* passed to progress; borrowed */
} jvae_mig_options;

/* Fill the defaults above. Errors: INVALID_ARGUMENT on NULL. */
JVAE_API jvae_status jvae_mig_options_init(jvae_mig_options *options);

/* MIG of options->images items drawn uniformly from the factors and encoded by
 * code->encode (code_kl is not used). per_factor as in jvae_mig_from_codes.
 * Errors: as jvae_mig_from_codes and jvae_factorvae_score. */
JVAE_API jvae_status jvae_mig_score(double *mig, double *per_factor, const jvae_factor_code *code,
                                    const jvae_mig_options *options);

/* ------------------------------------------------------------ KL per unit */

/* Mean KL of each latent unit over images (N, C, H, W), in nats, in unit order
 * (viz.h): kl[u] for continuous unit u is the mean of
 * −0.5·(1 + logvar − μ² − exp(logvar)); kl[Dz + i] for discrete variable i the
 * mean of log K_i − H(α_i). kl_count must be Dz + n_discrete.
 * Errors: INVALID_ARGUMENT (NULL, kl_count mismatch), SHAPE, NUMERIC,
 *         OUT_OF_MEMORY. */
JVAE_API jvae_status jvae_kl_per_unit_images(float *kl, int kl_count, const jvae_model *model,
                                             const jvae_tensor *images);

/* The same over a data set: max_images items spread over it as in
 * jvae_discrete_accuracy (0: all), encoded
 * `batch` at a time (>= 1). Errors: also SHAPE when the data set's images are
 * not the model's shape, and those of jvae_dataset_read_batch. */
JVAE_API jvae_status jvae_kl_per_unit(float *kl, int kl_count, const jvae_model *model,
                                      const jvae_dataset *data, int64_t max_images, int batch);

/* ------------------------------------------------------------ dSprites */

/* FactorVAE score of a model on dSprites (rendered on the fly; 1x64x64
 * models only) over its 5 factors shape, scale, orientation, posX, posY.
 * The code is the model's (see the top of this header); for the paper preset
 * code_kl is each unit's mean KL over 10,000 random dSprites images, or
 * variance_images when smaller and not 0 (a discrete variable's KL for its
 * index dim). options may be NULL (dlib). The full presets encode about
 * 970 k (dlib) or 827 k (paper) images; options->progress counts the KL
 * images too.
 * Errors: as jvae_factorvae_score, plus UNSUPPORTED (the model is not 1x64x64)
 *         and those of jvae_encode and jvae_dsprites_render. */
JVAE_API jvae_status jvae_factorvae_dsprites(jvae_factorvae_result *out, const jvae_model *model,
                                             const jvae_factorvae_options *options);

/* MIG of a model on dSprites (5 factors, as above). per_factor (may be NULL)
 * receives 5 gaps. options may be NULL (defaults). Errors: as
 * jvae_factorvae_dsprites. */
JVAE_API jvae_status jvae_mig_dsprites(double *mig, double *per_factor, const jvae_model *model,
                                       const jvae_mig_options *options);

#ifdef __cplusplus
}
#endif

#endif /* JOINTVAE_METRICS_H */
