/* import_ops.h: the table of ONNX op types the importer translates.
 *
 * One row an op type: a translator with the uniform signature below, which
 * reads the current node through impctx.h and makes the layers for it.
 * Moving an op's knowledge into layerc's op descriptors means moving its
 * translator next to the op and listing it here (or letting the descriptor
 * name the ONNX op types it takes).
 */
#ifndef LC_ONNX_IMPORT_OPS_H
#define LC_ONNX_IMPORT_OPS_H

#include "impctx.h"

typedef int (*ImpTranslate)(ImpCtx *cx);   /* 1 done, 0 refused (imp_refuse) */

typedef struct {
    const char *op_type;
    ImpTranslate translate;
} ImpOp;

extern const ImpOp imp_ops[];
extern const int imp_nops;

const ImpOp *imp_op_find(const char *op_type);

/* The translators (tr_activation.c, tr_shape.c, tr_dense.c, tr_conv.c, tr_norm.c). */
int tr_add(ImpCtx *cx);
int tr_avgpool(ImpCtx *cx);
int tr_batchnorm(ImpCtx *cx);
int tr_clip(ImpCtx *cx);
int tr_concat(ImpCtx *cx);
int tr_conv(ImpCtx *cx);
int tr_dropout(ImpCtx *cx);
int tr_elu(ImpCtx *cx);
int tr_flatten(ImpCtx *cx);
int tr_gemm(ImpCtx *cx);
int tr_global_avgpool(ImpCtx *cx);
int tr_global_maxpool(ImpCtx *cx);
int tr_hardswish(ImpCtx *cx);
int tr_identity(ImpCtx *cx);
int tr_layernorm(ImpCtx *cx);
int tr_leaky_relu(ImpCtx *cx);
int tr_matmul(ImpCtx *cx);
int tr_maxpool(ImpCtx *cx);
int tr_mul(ImpCtx *cx);
int tr_pad(ImpCtx *cx);
int tr_relu(ImpCtx *cx);
int tr_reshape(ImpCtx *cx);
int tr_sigmoid(ImpCtx *cx);
int tr_softmax(ImpCtx *cx);
int tr_squeeze(ImpCtx *cx);
int tr_tanh(ImpCtx *cx);
int tr_unsqueeze(ImpCtx *cx);

#endif
