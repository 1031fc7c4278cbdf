/* expctx.h: what a layer exporter (an op descriptor's onnx_export, in
 * compiler/ops/) works with.
 *
 * The exporter walks the layers in order and hands each to the exporter of
 * its op, which adds the ONNX nodes computing it; it reads the layer's
 * arguments and weights through model_view.h.  Value names are layer
 * names, initializers are named as in the weight table ("c1.W"), and node
 * names are layer names, so the file reads like the .lyr in Netron.  Nodes
 * that only reshape a layer's input for ONNX (the Flatten before a Gemm)
 * carry the doc_string "layerc: ...", which the importer recognises.
 */
#ifndef LC_ONNX_EXPCTX_H
#define LC_ONNX_EXPCTX_H

#include <stdint.h>

#include "arena.h"
#include "ir.h"
#include "model_view.h"
#include "onnx.pb-c.h"

typedef struct ExpCtx ExpCtx;   /* op.h names it too */
struct ExpCtx {
    Arena *a;
    const char *source;   /* the .lyr file, for messages */
    const Model *m;
    const float *params;
    Onnx__GraphProto *g;
    int cap_node, cap_init;
    int opset;            /* the highest any exporter needs */
    int layer;            /* being exported */
    char *err;
    size_t errlen;
    int failed;
    unsigned char *weight_done;   /* initializer written, per weight */
};

/* Refuses the layer ("FILE: error: layer NAME (OP): ..."); returns 0. */
int exp_fail(ExpCtx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void exp_need_opset(ExpCtx *cx, int opset);

/* The value name of input k of the layer; _flat: as [N, n] (adding a Flatten
 * when the input layer has more than one axis). */
const char *exp_in(ExpCtx *cx, int k);
const char *exp_in_flat(ExpCtx *cx, int k);
/* The layer's own output value (its name). */
const char *exp_out(ExpCtx *cx);
/* The initializer of weight w (written once). */
const char *exp_weight(ExpCtx *cx, int w);
/* Constant initializers the layer needs, named LAYER.what. */
const char *exp_const_ints(ExpCtx *cx, const char *what, const int64_t *v, int n);
const char *exp_const_float(ExpCtx *cx, const char *what, float v);
const char *exp_const_floats(ExpCtx *cx, const char *what, const float *v, int rank, const int64_t *dims);

/* A node; name NULL = the layer's name; marked nodes get layerc's doc_string. */
Onnx__NodeProto *exp_node(ExpCtx *cx, const char *op_type, const char *name, const char *const *in, int nin,
                          const char *out);
void exp_mark(ExpCtx *cx, Onnx__NodeProto *n, const char *why);
void exp_attr_int(ExpCtx *cx, Onnx__NodeProto *n, const char *name, int64_t v);
void exp_attr_float(ExpCtx *cx, Onnx__NodeProto *n, const char *name, float v);
void exp_attr_ints(ExpCtx *cx, Onnx__NodeProto *n, const char *name, const int64_t *v, int count);

/* The usual one-input op: op_type(input 0) -> the layer. */
Onnx__NodeProto *exp_unary(ExpCtx *cx, const char *op_type);
/* kernel_shape, strides and pads of a window (a Conv's or a pool's), and
 * for a Conv its dilations and group. */
void exp_window(ExpCtx *cx, Onnx__NodeProto *n, const MvWindow *w, int conv);

#endif
