/* paths.h: the files of one command line, checked before any work: an
 * output never replaces an input or another output, and every output can be
 * written (so that a run of hours does not fail at its last step). */
#ifndef LC_PATHS_H
#define LC_PATHS_H

typedef struct {
    const char *what;     /* as the user knows it: "-o", "--save", "the model" */
    const char *path;     /* NULL: not given */
} PathUse;

/* 0 when all is well; else prints "layerc: error: ..." on stderr and
 * returns 2 (an output is an input, or two outputs are one file) or 1 (an
 * output cannot be written).  A character device (/dev/null, a terminal)
 * is no conflict: writing it destroys nothing. */
int paths_check(const PathUse *inputs, int nin, const PathUse *outputs, int nout);

#endif
