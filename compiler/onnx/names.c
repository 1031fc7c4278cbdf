/* names.c: sanitising and reserving .lyr names (see names.h). */
#include "names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_LEN 64

static const char *const keywords[] = { "model", "input", "weight", "frozen", "layer", "output",
                                        "loss", "train" };
/* What layerc appends to a layer's name for the weights it creates. */
static const char *const weight_suffixes[] = { "W", "b", "gamma", "beta", "mean", "var" };

/* part is op_type, or op_type_N */
static int is_op_part(const char *part, size_t len, const char *op)
{
    size_t n = op ? strlen(op) : 0;
    if (!n || len < n || strncmp(part, op, n)) return 0;
    if (len == n) return 1;
    if (part[n] != '_' || len == n + 1) return 0;
    for (size_t i = n + 1; i < len; i++)
        if (!isdigit((unsigned char)part[i])) return 0;
    return 1;
}

char *names_sanitize(Arena *a, const char *name, const char *op)
{
    /* the parts of a torch scope path */
    const char *part[32];
    size_t len[32];
    int np = 0;
    for (const char *p = name; *p && np < 32;) {
        while (*p == '/' || *p == ':') p++;
        const char *s = p;
        while (*p && *p != '/' && !(p[0] == ':' && p[1] == ':')) p++;
        if (p > s) part[np] = s, len[np] = (size_t)(p - s), np++;
    }
    if (np > 1 && len[0] == 4 && !strncmp(part[0], "onnx", 4)) {   /* onnx::Gemm_5 */
        memmove(part, part + 1, sizeof(part[0]) * (size_t)(np - 1));
        memmove(len, len + 1, sizeof(len[0]) * (size_t)(np - 1));
        np--;
    }
    int lower = 0;
    if (np > 1 && is_op_part(part[np - 1], len[np - 1], op)) np--;
    else if (np == 1 && is_op_part(part[0], len[0], op)) lower = 1;
    char buf[MAX_LEN + 8];
    size_t k = 0;
    for (int i = 0; i < np; i++) {
        /* "/layer1/layer1.0/conv1": a module's scope repeats its parent's name */
        if (i + 1 < np && len[i + 1] > len[i] && !strncmp(part[i + 1], part[i], len[i]) &&
            part[i + 1][len[i]] == '.')
            continue;
        for (size_t j = 0; j < len[i] && k < MAX_LEN; j++) {
            unsigned char c = (unsigned char)part[i][j];
            char o = isalnum(c) && c < 128 ? (char)(lower ? tolower(c) : c) : '_';
            if (o == '_' && (k == 0 || buf[k - 1] == '_')) continue;
            buf[k++] = o;
        }
        if (k && buf[k - 1] != '_' && k < MAX_LEN) buf[k++] = '_';
    }
    while (k && buf[k - 1] == '_') k--;
    buf[k] = '\0';
    if (!k) return arena_strdup(a, "n");
    if (isdigit((unsigned char)buf[0])) return arena_printf(a, "n%s", buf);
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
        if (!strcmp(buf, keywords[i])) return arena_printf(a, "%s_", buf);
    return arena_strdup(a, buf);
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

int names_taken(const NameSet *s, const char *name)
{
    if (!s->cap) return 0;
    for (unsigned i = hash(name) & (unsigned)(s->cap - 1); s->taken[i]; i = (i + 1) & (unsigned)(s->cap - 1))
        if (!strcmp(s->taken[i], name)) return 1;
    return 0;
}

/* open addressing, at most half full */
static void add(NameSet *s, const char *name)
{
    if (names_taken(s, name)) return;
    if (2 * (s->n + 1) > s->cap) {
        const char **old = s->taken;
        int oldcap = s->cap;
        s->cap = oldcap ? 2 * oldcap : 256;
        s->taken = arena_alloc(s->a, sizeof(char *) * (size_t)s->cap);
        s->n = 0;
        for (int i = 0; i < oldcap; i++)
            if (old[i]) add(s, old[i]);
    }
    unsigned i = hash(name) & (unsigned)(s->cap - 1);
    while (s->taken[i]) i = (i + 1) & (unsigned)(s->cap - 1);
    s->taken[i] = name;
    s->n++;
}

/* name, and the C names of the weights a layer called name may create, are free */
static int is_free(const NameSet *s, const char *name)
{
    char c[MAX_LEN + 32];
    if (names_taken(s, name)) return 0;
    for (size_t i = 0; i < sizeof weight_suffixes / sizeof *weight_suffixes; i++) {
        snprintf(c, sizeof c, "%s_%s", name, weight_suffixes[i]);
        if (names_taken(s, c)) return 0;
    }
    return 1;
}

const char *names_take(NameSet *s, const char *name)
{
    const char *pick = name;
    for (int k = 2; !is_free(s, pick); k++) pick = arena_printf(s->a, "%s_%d", name, k);
    add(s, pick);
    for (size_t i = 0; i < sizeof weight_suffixes / sizeof *weight_suffixes; i++)
        add(s, arena_printf(s->a, "%s_%s", pick, weight_suffixes[i]));
    return pick;
}
