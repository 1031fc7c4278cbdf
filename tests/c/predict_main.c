/* predict_main: what `layerc predict` does, through a generated .c/.h pair.
 *     cc -DMODEL=xor -include xor.h predict_main.c xor.c -lm
 * Reads CSV rows (a header line is skipped) of MODEL_IN inputs (extra columns,
 * the truth, are ignored) and prints the outputs as layerc predict does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define SYM(s) CAT(MODEL, s)

int main(int argc, char **argv)
{
    static SYM(_t) m;
    float x[SYM(_IN)], y[SYM(_OUT)];
    char line[1 << 16];
    FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
    if (!f) return 2;
    SYM(_init)(&m, 1);
    while (fgets(line, sizeof line, f)) {
        char *p = line, *end;
        int k = 0;
        for (; k < SYM(_IN); k++) {
            x[k] = strtof(p, &end);
            if (end == p) break;
            p = end + (*end == ',');
        }
        if (k < SYM(_IN)) continue;   /* the header */
        SYM(_forward)(&m, x, y, 1);
        for (int j = 0; j < SYM(_OUT); j++) printf("%s%.9g", j ? "," : "", y[j]);
        printf("\n");
    }
    fclose(f);
    return 0;
}
