/* Unsupervised accuracy of a discrete latent (docs/metrics.md §1). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "jointvae/data.h"
#include "jointvae/metrics.h"
#include "metrics/encoding.h"

static jvae_status check_ids(const char *fn, const char *what, const int32_t *ids, int64_t n,
                             int count)
{
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= count)
            return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: %s[%lld] = %d is outside 0..%d", fn,
                             what, (long long)i, (int)ids[i], count - 1);
    return JVAE_OK;
}

static jvae_status check_sizes(const char *fn, int64_t n, int n_clusters, int n_labels)
{
    if (n < 1) return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: n must be >= 1, got %lld", fn, (long long)n);
    if (n_clusters < 1 || n_clusters > JVAE_MAX_CLUSTERS || n_labels < 1 ||
        n_labels > JVAE_MAX_CLUSTERS)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: n_clusters and n_labels must be 1..%d, got %d and %d", fn,
                         JVAE_MAX_CLUSTERS, n_clusters, n_labels);
    return JVAE_OK;
}

static jvae_status contingency(const char *fn, int64_t *table, const int32_t *clusters,
                               const int32_t *labels, int64_t n, int n_clusters, int n_labels)
{
    JVAE_CHECK_NOT_NULL(table, fn);
    JVAE_CHECK_NOT_NULL(clusters, fn);
    JVAE_CHECK_NOT_NULL(labels, fn);
    jvae_status st = check_sizes(fn, n, n_clusters, n_labels);
    if (st) return st;
    st = check_ids(fn, "clusters", clusters, n, n_clusters);
    if (st == JVAE_OK) st = check_ids(fn, "labels", labels, n, n_labels);
    if (st) return st;
    memset(table, 0, (size_t)n_clusters * (size_t)n_labels * sizeof *table);
    for (int64_t i = 0; i < n; i++) table[(size_t)clusters[i] * (size_t)n_labels + (size_t)labels[i]]++;
    return JVAE_OK;
}

jvae_status jvae_contingency_table(int64_t *table, const int32_t *clusters, const int32_t *labels,
                                   int64_t n, int n_clusters, int n_labels)
{
    return contingency("jvae_contingency_table", table, clusters, labels, n, n_clusters,
                       n_labels);
}

static jvae_status accuracy_of(const char *fn, jvae_accuracy *out, int32_t *mapping,
                               const int32_t *clusters, const int32_t *labels, int64_t n,
                               int n_clusters, int n_labels)
{
    JVAE_CHECK_NOT_NULL(out, fn);
    jvae_status st = check_sizes(fn, n, n_clusters, n_labels);
    if (st) return st;
    const size_t cells = (size_t)n_clusters * (size_t)n_labels;
    int64_t *table = malloc(cells * sizeof *table);
    double *weights = malloc(cells * sizeof *weights);
    int *assignment = malloc((size_t)n_clusters * sizeof *assignment);
    if (!table || !weights || !assignment)
        st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate the table", fn);
    if (st == JVAE_OK) st = contingency(fn, table, clusters, labels, n, n_clusters, n_labels);
    /* Counts up to 2^53 are exact in double, so the assignment is exact. */
    for (size_t i = 0; st == JVAE_OK && i < cells; i++) weights[i] = (double)table[i];
    double matched = 0.0;
    if (st == JVAE_OK) st = jvae_assignment_max(assignment, &matched, weights, n_clusters, n_labels);
    if (st == JVAE_OK) {
        int64_t majority = 0;
        for (int c = 0; c < n_clusters; c++) {
            int64_t best = 0;
            for (int y = 0; y < n_labels; y++)
                if (table[(size_t)c * (size_t)n_labels + (size_t)y] > best)
                    best = table[(size_t)c * (size_t)n_labels + (size_t)y];
            majority += best;
            if (mapping != NULL) mapping[c] = assignment[c];
        }
        out->n = n;
        out->hungarian_correct = (int64_t)matched;
        out->majority_correct = majority;
        out->hungarian = matched / (double)n;
        out->majority = (double)majority / (double)n;
    }
    free(table);
    free(weights);
    free(assignment);
    return st;
}

jvae_status jvae_cluster_accuracy(jvae_accuracy *out, int32_t *mapping, const int32_t *clusters,
                                  const int32_t *labels, int64_t n, int n_clusters, int n_labels)
{
    return accuracy_of("jvae_cluster_accuracy", out, mapping, clusters, labels, n, n_clusters,
                       n_labels);
}

jvae_status jvae_discrete_accuracy(jvae_accuracy *out, int32_t *mapping, int64_t *table,
                                   const jvae_model *model,
                                   const jvae_dataset *data, int discrete_index, int label,
                                   int64_t max_images, int batch)
{
    static const char fn[] = "jvae_discrete_accuracy";
    JVAE_CHECK_NOT_NULL(out, fn);
    JVAE_CHECK_NOT_NULL(model, fn);
    JVAE_CHECK_NOT_NULL(data, fn);
    jvae_model_options options;
    jvae_status st = jvae_model_get_options(model, &options);
    if (st) return st;
    if (discrete_index < 0 || discrete_index >= options.n_discrete)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT,
                         "%s: discrete_index %d, the model has %d discrete variable(s)", fn,
                         discrete_index, options.n_discrete);
    int label_count = jvae_dataset_label_count(data);
    if (label < 0 || label >= label_count)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "%s: label %d, the data set has %d label(s)",
                         fn, label, label_count);
    int n_labels = jvae_dataset_label_classes(data, label);
    int64_t n = 0;
    st = jvae_encoding_count(fn, data, max_images, batch, &n);
    if (st) return st;
    int32_t *clusters = malloc((size_t)n * sizeof *clusters);
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    if (clusters == NULL || labels == NULL)
        st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate for %lld items", fn,
                       (long long)n);
    jvae_encoding_walk walk = {0};
    if (st == JVAE_OK) st = jvae_encoding_walk_begin(&walk, fn, model, data, n, batch);
    int64_t done = 0;
    while (st == JVAE_OK && done < n) {
        int count = 0;
        st = jvae_encoding_walk_next(&walk, &count);
        if (st) break;
        int offset = options.n_continuous;
        for (int d = 0; d < discrete_index; d++) offset += options.discrete_sizes[d];
        const int k = options.discrete_sizes[discrete_index];
        const int sum_k = jvae_model_discrete_dim(model);
        for (int i = 0; i < count; i++) {
            const float *alpha = walk.alpha_data + (size_t)i * (size_t)sum_k + (size_t)(offset - options.n_continuous);
            int best = 0;
            for (int c = 1; c < k; c++)
                if (alpha[c] > alpha[best]) best = c;
            clusters[done + i] = best;
            labels[done + i] = walk.labels[(size_t)i * (size_t)label_count + (size_t)label];
        }
        done += count;
    }
    jvae_encoding_walk_end(&walk);
    if (st == JVAE_OK)
        st = accuracy_of(fn, out, mapping, clusters, labels, n,
                         options.discrete_sizes[discrete_index], n_labels);
    if (st == JVAE_OK && table != NULL)
        st = jvae_contingency_table(table, clusters, labels, n,
                                    options.discrete_sizes[discrete_index], n_labels);
    free(clusters);
    free(labels);
    return st;
}
