/* tools.h: looking at a model: `layerc graph` and `layerc summary`. */
#ifndef LC_TOOLS_H
#define LC_TOOLS_H

#include <stdio.h>

#include "ir.h"

/* Graphviz DOT to out_path (.dot), or rendered by `dot` (.svg, .png). Returns an exit status. */
int tool_graph(const Model *m, const char *source_name, const char *out_path);
/* A table like Keras' model.summary(). Returns an exit status. */
int tool_summary(const Model *m, FILE *out);
/* The DOT text, malloc'd. */
char *graph_dot(const Model *m, const char *source_name);

#endif
