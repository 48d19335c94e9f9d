/* Internal: a numeric CSV table, as the training log (log.csv) is written:
 * a header of comma-separated names, then one line of numbers per record. */
#ifndef JVAE_VIZ_CSV_H
#define JVAE_VIZ_CSV_H

#include <stdint.h>

#include "jointvae/core.h"

/* Logs larger than this are refused rather than read into memory. */
#define JVAE_CSV_MAX_BYTES ((size_t)256 << 20)

typedef struct jvae_csv_table {
    int n_columns;
    char **names;     /* (n_columns) */
    int64_t n_rows;
    double *values;   /* (n_rows, n_columns); NaN where a field is empty, "nan" or not finite */
} jvae_csv_table;

/* Read and parse path. Blank lines are skipped; "\r\n" endings are accepted.
 * Errors: IO (cannot open or read: path and errno text), FORMAT (too large,
 * empty, an empty column name, a line whose field count differs from the
 * header's, a field that is not a number: the message has the line number),
 * OVERFLOW, OUT_OF_MEMORY. `fn` names the public call in messages. */
jvae_status jvae_csv_read(jvae_csv_table *table, const char *path, const char *fn);
void jvae_csv_release(jvae_csv_table *table);

/* Index of the first column called `name`, or -1. */
int jvae_csv_column(const jvae_csv_table *table, const char *name);

#endif
