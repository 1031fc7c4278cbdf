/* lyrtext.h: the imported model as .lyr text, written as a person would:
 * one statement a line, the layer's shape and ONNX origin in a comment. */
#ifndef LC_ONNX_LYRTEXT_H
#define LC_ONNX_LYRTEXT_H

#include "impctx.h"

typedef struct {
    const char *name;            /* model NAME */
    const char *source;          /* the .onnx file, its producer and opset, for the header */
    const char *producer;
    int opset;
    const char *weights;         /* where the weights went, or NULL */
    ImpLayer *layers;            /* layer 0 is the input */
    int nlayers;
    ImpDeclared *declared;
    int ndeclared;
    int output;
    const char *loss;            /* mse, cross_entropy, bce */
    const char *loss_comment;    /* or NULL */
    const char *train;           /* "optimizer = sgd(lr=0.1); batch = 64;" or NULL */
    int train_line;              /* set: where the train block starts, or 0 */
} LyrModel;

/* malloc'd text; sets each layer's line.  Strings from the file go only
 * into comments, with their control characters replaced: a name holding a
 * newline cannot start a statement. */
char *lyrtext_write(LyrModel *m);

#endif
