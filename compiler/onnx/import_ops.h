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

#endif
