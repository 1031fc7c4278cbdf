/* export_ops.h: the table of layerc ops the ONNX exporter writes.
 *
 * One row an op: its name, the lowest opset its ONNX form needs, and an
 * exporter with the uniform signature below, which reads the layer through
 * model_view.h and adds nodes through expctx.h.  Moving an op's knowledge
 * into layerc's op descriptors means moving its exporter next to the op.
 */
#ifndef LC_ONNX_EXPORT_OPS_H
#define LC_ONNX_EXPORT_OPS_H

#include "expctx.h"

typedef int (*ExpWrite)(ExpCtx *cx);   /* 1 done, 0 refused (exp_fail) */

typedef struct {
    const char *op;
    int opset;
    ExpWrite write;
} ExpOp;

extern const ExpOp exp_ops[];
extern const int exp_nops;

const ExpOp *exp_op_find(const char *op);

#endif
