#include "viz/csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static jvae_status read_whole_file(const char *path, const char *fn, char **text_out,
                                   size_t *length_out)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return jvae_fail(JVAE_ERR_IO, "%s: cannot open '%s': %s", fn, path, strerror(errno));
    size_t capacity = 4096, length = 0;
    char *text = malloc(capacity);
    jvae_status st = JVAE_OK;
    if (text == NULL) st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    while (st == JVAE_OK) {
        if (length + 1 == capacity) {
            if (capacity > JVAE_CSV_MAX_BYTES) {
                st = jvae_fail(JVAE_ERR_FORMAT, "%s: '%s' is larger than %zu MiB", fn, path,
                               JVAE_CSV_MAX_BYTES >> 20);
                break;
            }
            char *grown = realloc(text, capacity * 2);
            if (grown == NULL) {
                st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", fn,
                               capacity * 2);
                break;
            }
            text = grown;
            capacity *= 2;
        }
        size_t got = fread(text + length, 1, capacity - 1 - length, file);
        length += got;
        if (got == 0) {
            if (ferror(file))
                st = jvae_fail(JVAE_ERR_IO, "%s: cannot read '%s': %s", fn, path,
                               strerror(errno));
            break;
        }
    }
    fclose(file);
    if (st) {
        free(text);
        return st;
    }
    text[length] = '\0';
    if (memchr(text, '\0', length) != NULL) {
        free(text);
        return jvae_fail(JVAE_ERR_FORMAT, "%s: '%s' is not a text file (it holds a NUL byte)",
                         fn, path);
    }
    *text_out = text;
    *length_out = length;
    return JVAE_OK;
}

/* Cut the next line out of *cursor (in place) and return it, or NULL at the end. */
static char *next_line(char **cursor)
{
    char *line = *cursor;
    if (*line == '\0') return NULL;
    char *end = strchr(line, '\n');
    if (end != NULL) {
        *end = '\0';
        *cursor = end + 1;
    } else {
        *cursor = line + strlen(line);
    }
    size_t length = strlen(line);
    if (length > 0 && line[length - 1] == '\r') line[length - 1] = '\0';
    return line;
}

static char *trim(char *field)
{
    while (isspace((unsigned char)*field)) field++;
    size_t length = strlen(field);
    while (length > 0 && isspace((unsigned char)field[length - 1])) field[--length] = '\0';
    return field;
}

static int is_blank(const char *line)
{
    for (; *line; line++)
        if (!isspace((unsigned char)*line)) return 0;
    return 1;
}

static int count_fields(const char *line)
{
    int count = 1;
    for (; *line; line++)
        if (*line == ',') count++;
    return count;
}

/* Split `line` at commas into fields[0..count-1] (in place). */
static void split_fields(char *line, char **fields, int count)
{
    for (int i = 0; i < count; i++) {
        char *comma = strchr(line, ',');
        if (comma != NULL) *comma = '\0';
        fields[i] = trim(line);
        if (comma != NULL) line = comma + 1;
    }
}

static jvae_status parse_number(const char *field, double *value)
{
    if (field[0] == '\0' || strcmp(field, "nan") == 0 || strcmp(field, "NaN") == 0 ||
        strcmp(field, "NAN") == 0) {
        *value = NAN;
        return JVAE_OK;
    }
    char *end = NULL;
    errno = 0;
    double parsed = strtod(field, &end);
    if (end == field || *end != '\0') return JVAE_ERR_FORMAT;
    *value = isfinite(parsed) ? parsed : NAN;
    return JVAE_OK;
}

static jvae_status parse_header(jvae_csv_table *table, char *line, const char *path,
                                const char *fn)
{
    int count = count_fields(line);
    table->names = calloc((size_t)count, sizeof *table->names);
    char **fields = malloc((size_t)count * sizeof *fields);
    if (table->names == NULL || fields == NULL) {
        free(fields);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %d column names", fn,
                         count);
    }
    table->n_columns = count;
    split_fields(line, fields, count);
    jvae_status st = JVAE_OK;
    for (int i = 0; i < count && st == JVAE_OK; i++) {
        if (fields[i][0] == '\0') {
            st = jvae_fail(JVAE_ERR_FORMAT, "%s: '%s' line 1: column %d has an empty name", fn,
                           path, i + 1);
            break;
        }
        size_t length = strlen(fields[i]);
        table->names[i] = malloc(length + 1);
        if (table->names[i] == NULL)
            st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate a column name", fn);
        else
            memcpy(table->names[i], fields[i], length + 1);
    }
    free(fields);
    return st;
}

static jvae_status parse_rows(jvae_csv_table *table, char *cursor, const char *path,
                              const char *fn)
{
    const int columns = table->n_columns;
    char **fields = malloc((size_t)columns * sizeof *fields);
    if (fields == NULL) return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate", fn);
    size_t capacity = 0;
    jvae_status st = JVAE_OK;
    int64_t line_number = 1;
    char *line;
    while (st == JVAE_OK && (line = next_line(&cursor)) != NULL) {
        line_number++;
        if (is_blank(line)) continue;
        int count = count_fields(line);
        if (count != columns) {
            st = jvae_fail(JVAE_ERR_FORMAT, "%s: '%s' line %lld has %d fields, the header has %d",
                           fn, path, (long long)line_number, count, columns);
            break;
        }
        if ((size_t)table->n_rows == capacity) {
            size_t grown = capacity ? capacity * 2 : 256, bytes;
            if (!jvae_mul_ok(grown, (size_t)columns * sizeof(double), &bytes)) {
                st = jvae_fail(JVAE_ERR_OVERFLOW, "%s: '%s' has too many records", fn, path);
                break;
            }
            double *values = realloc(table->values, bytes);
            if (values == NULL) {
                st = jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", fn,
                               bytes);
                break;
            }
            table->values = values;
            capacity = grown;
        }
        split_fields(line, fields, columns);
        double *row = table->values + (size_t)table->n_rows * (size_t)columns;
        for (int i = 0; i < columns; i++) {
            if (parse_number(fields[i], &row[i]) != JVAE_OK) {
                st = jvae_fail(JVAE_ERR_FORMAT,
                               "%s: '%s' line %lld, column '%s': '%.40s' is not a number", fn,
                               path, (long long)line_number, table->names[i], fields[i]);
                break;
            }
        }
        if (st == JVAE_OK) table->n_rows++;
    }
    free(fields);
    return st;
}

jvae_status jvae_csv_read(jvae_csv_table *table, const char *path, const char *fn)
{
    memset(table, 0, sizeof *table);
    char *text = NULL;
    size_t length = 0;
    jvae_status st = read_whole_file(path, fn, &text, &length);
    if (st) return st;
    char *cursor = text;
    char *header = next_line(&cursor);
    while (header != NULL && is_blank(header)) header = next_line(&cursor);
    if (header == NULL)
        st = jvae_fail(JVAE_ERR_FORMAT, "%s: '%s' is empty (no header line)", fn, path);
    if (st == JVAE_OK) st = parse_header(table, header, path, fn);
    if (st == JVAE_OK) st = parse_rows(table, cursor, path, fn);
    free(text);
    if (st) jvae_csv_release(table);
    return st;
}

void jvae_csv_release(jvae_csv_table *table)
{
    if (table->names != NULL)
        for (int i = 0; i < table->n_columns; i++) free(table->names[i]);
    free(table->names);
    free(table->values);
    memset(table, 0, sizeof *table);
}

int jvae_csv_column(const jvae_csv_table *table, const char *name)
{
    for (int i = 0; i < table->n_columns; i++)
        if (strcmp(table->names[i], name) == 0) return i;
    return -1;
}
