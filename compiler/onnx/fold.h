/* fold.h: constant folding of the nodes whose inputs are all known.
 *
 * torch.onnx.export writes small subgraphs that compute shapes at run time
 * (Shape -> Gather -> Unsqueeze -> Concat -> Reshape around x.view(N, -1)).
 * Their inputs are known when the graph is imported, except the batch size,
 * which travels as OXT_BATCH: it may be moved around (gathered, concatenated,
 * reshaped) but any arithmetic on it is refused.
 */
#ifndef LC_ONNX_FOLD_H
#define LC_ONNX_FOLD_H

#include "impctx.h"

/* Folds the current node when its op can be folded and every input it
 * has is a constant (Shape: known shapes).  Returns 1 when folded, 0 when
 * the node is not for folding, -1 when refused (message in cx). */
int fold_node(ImpCtx *cx);
/* op is one fold_node may fold. */
int fold_knows(const char *op);

#endif
