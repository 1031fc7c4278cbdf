/* paths.c: conflicts between the files of a command line (see paths.h). */
#include "paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"

/* What a path names: the file itself when it exists; else the directory it
 * would be created in, and its name there (so `-o a.c -H a.c` is caught
 * before either exists).  Symbolic links are followed, as a save does. */
typedef struct {
    int known;            /* 0: nothing to compare (a missing input, a missing directory) */
    int exists, chardev;
    dev_t dev;
    ino_t ino;
    char *name;           /* when !exists: the last component, malloc'd */
} FileId;

static FileId identify(const char *path, int output)
{
    FileId id = { 0, 0, 0, 0, 0, NULL };
    struct stat st;
    char *target = output ? lc_output_target(path) : strdup(path);
    if (!target) return id;
    if (stat(target, &st) == 0) {
        id.known = id.exists = 1;
        id.chardev = S_ISCHR(st.st_mode);
        id.dev = st.st_dev;
        id.ino = st.st_ino;
    } else if (output) {
        char *slash = strrchr(target, '/');
        const char *dir = !slash ? "." : slash == target ? "/" : target;
        if (slash && slash != target) *slash = '\0';
        if (stat(dir, &st) == 0) {
            id.known = 1;
            id.dev = st.st_dev;
            id.ino = st.st_ino;
            id.name = strdup(slash ? slash + 1 : target);
            id.known = id.name != NULL;
        }
    }
    free(target);
    return id;
}

static int same(const FileId *a, const FileId *b)
{
    if (!a->known || !b->known || a->exists != b->exists || a->dev != b->dev || a->ino != b->ino) return 0;
    if (a->exists) return !a->chardev;
    return !strcmp(a->name, b->name);
}

int paths_check(const PathUse *inputs, int nin, const PathUse *outputs, int nout)
{
    FileId *in = calloc((size_t)nin + 1, sizeof *in), *out = calloc((size_t)nout + 1, sizeof *out);
    int status = 0;
    if (!in || !out) {
        fprintf(stderr, "layerc: error: out of memory\n");
        free(in), free(out);
        return 1;
    }
    for (int i = 0; i < nin; i++)
        if (inputs[i].path) in[i] = identify(inputs[i].path, 0);
    for (int o = 0; o < nout; o++)
        if (outputs[o].path) out[o] = identify(outputs[o].path, 1);
    for (int o = 0; o < nout && !status; o++) {
        for (int i = 0; i < nin && !status; i++)
            if (same(&out[o], &in[i])) {
                fprintf(stderr, "layerc: error: %s %s would overwrite %s %s\n", outputs[o].what,
                        outputs[o].path, inputs[i].what, inputs[i].path);
                status = 2;
            }
        for (int p = 0; p < o && !status; p++)
            if (same(&out[o], &out[p])) {
                fprintf(stderr, "layerc: error: %s %s and %s %s are the same file: one would overwrite "
                        "the other\n", outputs[p].what, outputs[p].path, outputs[o].what, outputs[o].path);
                status = 2;
            }
    }
    for (int o = 0; o < nout && !status; o++) {
        char err[1024];
        if (outputs[o].path && !lc_output_check(outputs[o].path, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            status = 1;
        }
    }
    for (int i = 0; i < nin; i++) free(in[i].name);
    for (int o = 0; o < nout; o++) free(out[o].name);
    free(in), free(out);
    return status;
}
