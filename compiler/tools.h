/* tools.h: looking at a model: `layerc graph` and `layerc summary`. */
#ifndef LC_TOOLS_H
#define LC_TOOLS_H

#include <stdio.h>

#include "ir.h"
#include "plan.h"

/* Graphviz DOT to out_path (.dot), or rendered by `dot` (.svg, .png). Returns an exit status. */
int tool_graph(const Model *m, const char *source_name, const char *out_path);
/* A table like Keras' model.summary(), then the RAM, flash and scratch of
 * build b, exactly as the generated C has them. Returns an exit status. */
int tool_summary(const Model *m, const Build *b, FILE *out);
/* The DOT text, malloc'd. */
char *graph_dot(const Model *m, const char *source_name);

#endif
