/* import_ops.h: which translator takes an ONNX op type.
 *
 * The translators live with the layerc ops they make, in their descriptors
 * (OpDef.onnx_import, compiler/ops/): the importer finds them here by the
 * node's op type, so adding an op with an ONNX form needs no edit in
 * compiler/onnx/.
 */
#ifndef LC_ONNX_IMPORT_OPS_H
#define LC_ONNX_IMPORT_OPS_H

#include "impctx.h"

typedef int (*ImpTranslate)(ImpCtx *cx);   /* 1 done, 0 refused (imp_refuse) */

/* The translator of op_type, or NULL. */
ImpTranslate imp_op_find(const char *op_type);

#endif
