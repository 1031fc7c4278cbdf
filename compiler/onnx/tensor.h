/* tensor.h: ONNX tensors as the importer and exporter hold them.
 *
 * A tensor is floats (float, double, float16 and bfloat16 data become float)
 * or whole numbers (every integer type and bool become int64), row-major.
 * Shapes read from a graph may contain the batch size, which is not known
 * until the data arrives: it is the value OXT_BATCH, and any arithmetic on it
 * is refused rather than guessed.
 */
#ifndef LC_ONNX_TENSOR_H
#define LC_ONNX_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "onnx.pb-c.h"

#define OXT_MAX_RANK 8
/* The batch size of the graph's input, inside folded shape tensors. */
#define OXT_BATCH INT64_MIN
/* No tensor the importer reads or builds has more elements (2^29, as layerc's
 * own limit on a model's state). */
#define OXT_MAX_ELEMS (1L << 29)

typedef enum { OXT_FLOAT, OXT_INT } OxtKind;

typedef struct {
    OxtKind kind;
    int rank;
    int64_t dims[OXT_MAX_RANK];
    long n;                 /* element count (1 for a scalar) */
    float *f;               /* OXT_FLOAT */
    int64_t *i;             /* OXT_INT */
} OxTensor;

/* A tensor of the given kind and shape, zeroed, in arena; NULL when the
 * shape is negative, too large or of too high a rank. */
OxTensor *oxt_new(Arena *a, OxtKind kind, int rank, const int64_t *dims);

/* Converts a TensorProto.  Returns NULL with a reason in err (external data,
 * strings, a data size that does not match the dims, ...). */
OxTensor *oxt_from_proto(Arena *a, const Onnx__TensorProto *t, char *err, size_t errlen);

/* Fills a TensorProto (float or int64) whose arrays live in arena. */
void oxt_to_proto(Arena *a, const OxTensor *t, const char *name, Onnx__TensorProto *out);

/* Element k as a double (ints converted). */
double oxt_get(const OxTensor *t, long k);
/* "[3, 4]" */
const char *oxt_dims_str(const OxTensor *t, char *buf, size_t len);
/* Element count of dims, or -1 when a dimension is negative or the product
 * exceeds OXT_MAX_ELEMS. */
long oxt_count(int rank, const int64_t *dims);

#endif
