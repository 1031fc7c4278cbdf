/* model_glue.h: the generated model under a fixed name.  The build gives
 * -DMODEL=prefix (the C prefix of the symbols, the model's name unless
 * layerc was given --prefix) and puts the generated header on the include
 * path as model.h. */
#ifndef MODEL_GLUE_H
#define MODEL_GLUE_H

#include "model.h"

#ifndef MODEL
#error "build with -DMODEL=<the generated C prefix>"
#endif
#define MG_CAT_(a, b) a##b
#define MG_CAT(a, b) MG_CAT_(a, b)
#define MG_STR_(a) #a
#define MG_STR(a) MG_STR_(a)

typedef MG_CAT(MODEL, _t) model_t;
#define MODEL_NAME MG_STR(MODEL)
#define MODEL_IN MG_CAT(MODEL, _IN)
#define MODEL_OUT MG_CAT(MODEL, _OUT)
#define model_init MG_CAT(MODEL, _init)
#define model_forward MG_CAT(MODEL, _forward)
#define model_train_step MG_CAT(MODEL, _train_step)

#endif
