/* test_files.h: files for the loader tests, in a temporary directory
 * (`dir`, made by the test's main with mkdtemp).  Header-only: every unit
 * test is a program of its own. */
#ifndef LC_TEST_FILES_H
#define LC_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>

#include "test.h"

static char dir[64];

/* dir/name; four rotating buffers, so a few can be used at once. */
static const char *path_of(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(b, 1, n, f) == n);
    fclose(f);
}

/* The file's bytes (malloc'd), or NULL. */
static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long len;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc(len > 0 ? (size_t)len : 1);
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    return b;
}

#endif
