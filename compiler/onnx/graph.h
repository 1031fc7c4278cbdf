/* graph.h: an ONNX graph checked and indexed for walking.
 *
 * Every value name is resolved once: a node input that nothing produces (a
 * dangling input), a value produced twice, a cycle, or a graph output that
 * does not exist is an error naming the node and the value.  Nodes are
 * given in a topological order (ONNX requires one, but files are not always
 * sorted).
 */
#ifndef LC_ONNX_GRAPH_H
#define LC_ONNX_GRAPH_H

#include <stddef.h>

#include "arena.h"
#include "onnx.pb-c.h"

typedef struct {
    const char *name;
    int producer;             /* node index, or -1 */
    int output_slot;          /* which output of the producer */
    const Onnx__TensorProto *init;      /* an initializer, or NULL */
    const Onnx__ValueInfoProto *input;  /* a graph input (not an initializer), or NULL */
    int consumers;            /* node inputs that read it */
    int graph_output;         /* listed in graph.output */
} OxValue;

typedef struct {
    const Onnx__ModelProto *model;
    const Onnx__GraphProto *g;
    const char *path;         /* the file, for messages */
    int opset;                /* of the default domain; 0 when the model imports none */
    OxValue *values;
    int nvalues;
    int *slots, nslots;       /* name hash: value index + 1, 0 = empty */
    int **in, **out;          /* per node: value index of each input/output (-1: omitted) */
    int *order;               /* node indices, producers before consumers */
} OxGraph;

/* Returns 0 with "PATH: error: ..." in err when the graph is not well formed. */
int oxg_build(OxGraph *g, const Onnx__ModelProto *m, const char *path, Arena *a, char *err, size_t errlen);
/* Value index of name, or -1. */
int oxg_find(const OxGraph *g, const char *name);
/* "node \"/c1/Conv\" (Conv, opset 13)" for messages, in buf. */
const char *oxg_node_str(const OxGraph *g, int node, char *buf, size_t len);
/* NULL-safe string from the protobuf. */
static inline const char *oxg_s(const char *s) { return s ? s : ""; }

#endif
