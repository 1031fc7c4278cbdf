/* impctx.h: what an ONNX node translator (an op descriptor's onnx_import, in
 * compiler/ops/, and fold.c) works with.
 *
 * The importer walks the graph in order and hands each node to the
 * translator of its op type.  A translator reads the node's inputs (each a
 * constant tensor or the output of a layer already made) and attributes,
 * makes the layers of the .lyr that compute the node (usually one), and
 * binds the node's outputs to them.  When the node cannot be expressed
 * exactly, it refuses (imp_refuse): the message names the file, the node,
 * its op type and the opset, and nothing is written.
 *
 * Shapes are those of one sample: the batch is the data's rows, so an ONNX
 * value [N, C, H, W] is a layer [C, H, W].  A value remembers its ONNX shape,
 * which may differ from the shape of the layer holding it when the elements
 * are the same in the same order (global_avgpool gives [C] for ONNX's
 * [C, 1, 1]); imp_want() adds a reshape when an op needs the ONNX one.
 */
#ifndef LC_ONNX_IMPCTX_H
#define LC_ONNX_IMPCTX_H

#include <stdint.h>

#include "graph.h"
#include "ir.h"
#include "names.h"
#include "tensor.h"

typedef enum { IMP_NONE, IMP_CONST, IMP_LAYER } ImpKind;

typedef struct {
    ImpKind kind;
    OxTensor *t;          /* IMP_CONST */
    int layer;            /* IMP_LAYER: the layer whose output holds it */
    Shape shape;          /* IMP_LAYER: the ONNX shape of one sample (rank 0: a scalar) */
} ImpValue;

typedef struct {
    const char *key;      /* NULL: positional */
    const char *text;
} ImpArg;

#define IMP_MAX_ARGS 12
#define IMP_MAX_WEIGHTS 4

typedef struct {
    const char *suffix;   /* the layer's weight LAYER.suffix ("W", "b", "gamma", ...) */
    OxTensor *t;          /* the values, in layerc's layout */
} ImpWeight;

typedef struct {
    const char *name;
    const char *op;               /* NULL for the input layer */
    int in[LC_MAX_INPUTS], nin;
    ImpArg args[IMP_MAX_ARGS];
    int nargs;
    ImpWeight w[IMP_MAX_WEIGHTS];
    int nw;
    Shape shape;                  /* what layerc will infer for it */
    const char *comment;          /* where it comes from */
    int node;                     /* the ONNX node, -1 for layers the importer adds */
    int uses;                     /* layers that read it */
    int fuse;                     /* "bias": a dense/conv without bias that a following Add
                                     may complete; "sigmoid": may become silu */
    int line;                     /* in the written text */
    int meta;                     /* an argument came from layerc's metadata (init=) */
} ImpLayer;

#define IMP_FUSE_BIAS 1
#define IMP_FUSE_SIGMOID 2

/* A weight declared with `weight NAME [...]` (layerc's own export marks them). */
typedef struct {
    const char *name;
    int frozen;
    const char *init;     /* INIT text, or NULL */
    OxTensor *t;
    int line;             /* in the written text */
} ImpDeclared;

typedef struct ImpCtx ImpCtx;
struct ImpCtx {
    Arena *a;
    OxGraph *g;
    const char *path;
    ImpValue *values;             /* by OxGraph value index */
    ImpLayer *layers;
    int nlayers, cap_layers;
    ImpDeclared *declared;
    int ndeclared, cap_declared;
    NameSet names;
    int64_t batch;                /* the input's first dimension when fixed, else 0 */
    int node;                     /* being translated */
    const Onnx__NodeProto *n;
    unsigned char *taken;         /* per node: translated with an earlier one (imp_take) */
    char *err;
    size_t errlen;
    int failed;
    /* the layerc metadata of a file layerc wrote (export.c), or NULL */
    const char *(*meta)(ImpCtx *cx, const char *key);
    /* whether layerc has op (and, when key is given, its option): a fusion
     * into another op's layer (silu) asks */
    int (*have)(const char *op, const char *key);
};

/* ---- the node being translated ---- */
int imp_opset(const ImpCtx *cx);
/* Input k (NULL when absent or given as ""). */
ImpValue *imp_in(ImpCtx *cx, int k);
int imp_nin(const ImpCtx *cx);
/* Readers of input k's value, and whether output k is read by anything. */
int imp_in_readers(const ImpCtx *cx, int k);
int imp_out_used(const ImpCtx *cx, int k);
/* A constant input as a tensor: NULL (refused) when it is not one. */
const OxTensor *imp_const_in(ImpCtx *cx, int k, const char *what);
/* The node's doc_string says layerc's exporter added it to feed layer X. */
int imp_marked(const ImpCtx *cx);

/* Refuses the node: "PATH: error: node "N" (Op, opset K): MESSAGE".  Returns 0. */
int imp_refuse(ImpCtx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Attributes.  Each returns 1 when present (value in *out), 0 when absent
 * (*out = def), -1 (refused) when present with another type.  imp_attr_check
 * refuses any attribute not named in the comma-separated list. */
int imp_attr_check(ImpCtx *cx, const char *known);
int imp_attr_int(ImpCtx *cx, const char *name, int64_t def, int64_t *out);
int imp_attr_float(ImpCtx *cx, const char *name, double def, double *out);
int imp_attr_ints(ImpCtx *cx, const char *name, int64_t *out, int max, int *n);
int imp_attr_string(ImpCtx *cx, const char *name, const char *def, const char **out);
/* The attribute's tensor (Constant's value), or NULL. */
const Onnx__TensorProto *imp_attr_tensor(ImpCtx *cx, const char *name);
/* Whether the attribute is given at all. */
int imp_attr_has(const ImpCtx *cx, const char *name);

/* ---- patterns of several nodes (torch's GELU) ----
 * The node that reads output k of node `node` when it alone reads it (and it
 * is no graph output), its input slot in *slot; -1 otherwise. */
int imp_sole_reader(const ImpCtx *cx, int node, int k, int *slot);
/* Value `v` as a constant: one already, or the output of a Constant node
 * not yet folded (a later node's constant input); NULL when it is neither. */
const OxTensor *imp_peek_const(ImpCtx *cx, int v);
/* The current translator computes node `node` too: its output k becomes
 * layer `layer`, and the importer skips the node. */
void imp_take(ImpCtx *cx, int node, int k, int layer, const Shape *onnx_shape);

/* ---- making layers ----
 * An ImpLayer pointer stays valid until the next layer is made (imp_want
 * may make one): take the inputs first, then make the layer. */
/* A layer for the current node, reading the given layers, named after the
 * node (or after the graph output it produces); its shape is set by the caller. */
ImpLayer *imp_layer(ImpCtx *cx, const char *op, const int *in, int nin);
/* The .lyr name for a layer made from the current node (not yet taken). */
const char *imp_node_name(ImpCtx *cx);
/* The node for comments: Conv "/c1/Conv", or Conv (output "y") when unnamed. */
const char *imp_node_label(ImpCtx *cx);
/* A layer the importer adds (a reshape), named after base. */
ImpLayer *imp_layer_extra(ImpCtx *cx, const char *op, const int *in, int nin, const char *base);
void imp_arg(ImpCtx *cx, ImpLayer *l, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "3" or, when the two differ, "[3, 5]". */
void imp_arg_pair(ImpCtx *cx, ImpLayer *l, const char *key, long h, long w);
/* The layer's weight LAYER.suffix with these values. */
void imp_weight(ImpCtx *cx, ImpLayer *l, const char *suffix, OxTensor *t);
ImpLayer *imp_layer_at(ImpCtx *cx, int i);
int imp_index(const ImpCtx *cx, const ImpLayer *l);

/* The layer holding v, its shape turned into v's ONNX shape when it differs
 * (with a reshape layer), or when want is given, into *want.  -1: refused. */
int imp_want(ImpCtx *cx, const ImpValue *v, const Shape *want);

/* Binds output k of the node. */
void imp_out_layer(ImpCtx *cx, int k, int layer, const Shape *onnx_shape);
void imp_out_const(ImpCtx *cx, int k, OxTensor *t);

/* v is in the range layerc's op takes for its parameter param (SPEC
 * section 1), or the node is refused: "its WHAT V is outside ...". */
int imp_fits(ImpCtx *cx, const char *op, const char *param, double v, const char *what);

/* A float attribute as the shortest text that reads back as the same float. */
const char *imp_num(ImpCtx *cx, double v);

/* ---- what most translators share ---- */
/* Binds output 0 to layer l with the ONNX shape onnx; returns 1. */
int imp_out(ImpCtx *cx, ImpLayer *l, const Shape *onnx);
/* Input k as a layer's value (refused when missing or a constant). */
ImpValue *imp_layer_in(ImpCtx *cx, int k);
/* Refuses when an output from `first` on is read (what: its meaning). */
int imp_unused_from(ImpCtx *cx, int first, const char *what);
/* x -> op(x), elementwise: the layer, its shape and ONNX shape kept. */
int imp_unary(ImpCtx *cx, const char *op, int fuse);
/* A constant input of n values, as a float vector (NULL: refused). */
OxTensor *imp_vector_const(ImpCtx *cx, int k, const char *what, long n);

/* ---- the window of a Conv or a pool ---- */
#define IMP_MAX_SPATIAL 2      /* spatial axes layerc takes: 1-D and 2-D */
typedef struct {
    int n;                          /* spatial axes */
    long in[IMP_MAX_SPATIAL], k[IMP_MAX_SPATIAL], s[IMP_MAX_SPATIAL], d[IMP_MAX_SPATIAL], lo[IMP_MAX_SPATIAL], hi[IMP_MAX_SPATIAL], out[IMP_MAX_SPATIAL];
    int same;                       /* the pads are Keras' `same` (extra at the end) */
} ImpWindow;
/* Kernel, strides, dilations and pads of a Conv or pool node over the
 * spatial axes of x; checks that the output is not empty. */
int imp_window(ImpCtx *cx, const ImpValue *x, const int64_t *kernel, ImpWindow *w);

/* Shape helpers */
int imp_same_shape(const Shape *a, const Shape *b);
const char *imp_shape_str(const Shape *s, char *buf, int len);

#endif
