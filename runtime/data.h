/* data.h: data sets for training, evaluation and prediction (SPEC section 4).
 *
 * A data set is n samples of `in` floats and, when present, the truth: `out`
 * floats per sample (a one-hot row when the model is a classifier) and, for
 * classifiers, the class index.  Every loader checks everything and reports
 * the first problem naming the file and the place ("data.csv:12: ...").
 */
#ifndef LC_DATA_H
#define LC_DATA_H

#include <stddef.h>

typedef struct {
    int n;          /* samples */
    int in;         /* floats per input sample */
    int out;        /* floats per truth row; 0 when the file had no truth */
    float *x;       /* [n, in] */
    float *y;       /* [n, out] or NULL; may be x itself (dataprep.h, --truth input) */
    int *label;     /* [n] class indices when classes > 0 and truth present, else NULL */
} LcData;

typedef struct {
    int in;          /* floats per input sample the model takes */
    int out;         /* floats per truth row (the model's output size) */
    int classes;     /* > 0: the truth is ONE class index in [0, classes) per
                        sample, expanded to a one-hot row of `out` floats */
    int truth_optional; /* predict: rows may carry the input only */
    const char *labels_option; /* the option naming the labels, for messages (NULL: --labels) */
    int one_hot_hint;   /* the command takes --one-hot: a row of the inputs and one more value says so */
} LcDataSpec;

/* CSV: numbers separated by commas, optional header line (a first line that
 * does not parse as numbers), blank lines ignored, CRLF accepted.  Each row:
 * `in` values, then the truth (`out` values, or one class index). */
int lc_load_csv(const char *path, const LcDataSpec *spec, LcData *d,
                char *err, size_t errlen);

/* IDX images (ubyte, any rank >= 1 after the count) and labels, plain or
 * gzip-compressed (.gz or by magic).  Bytes are scaled to [0, 1].
 * labels_path may be NULL when the truth is optional. */
int lc_load_idx(const char *images_path, const char *labels_path,
                const LcDataSpec *spec, LcData *d, char *err, size_t errlen);

/* Chooses by content: IDX magic (plain or gzip) or CSV.  The file is opened
 * and read once, so it may be a pipe, a FIFO or /dev/stdin. */
int lc_load_data(const char *path, const char *labels_path,
                 const LcDataSpec *spec, LcData *d, char *err, size_t errlen);

void lc_data_free(LcData *d);

#endif
