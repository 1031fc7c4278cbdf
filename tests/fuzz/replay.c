/* replay.c: runs a fuzz target's LLVMFuzzerTestOneInput on files, without
 * libFuzzer, so that `make test` replays the seeds and every input that once
 * failed (tests/fuzz/regressions/) with the ordinary compiler (and under
 * make test-asan, with the sanitizers).  A target signals a broken invariant
 * with abort(); a crash fails the test the same way. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int ran = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "replay: cannot open %s\n", argv[i]);
            return 1;
        }
        size_t cap = 1 << 16, n = 0;
        uint8_t *b = malloc(cap);
        for (size_t got; b && (got = fread(b + n, 1, cap - n, f)) > 0;) {
            n += got;
            if (n == cap) b = realloc(b, cap *= 2);
        }
        fclose(f);
        if (!b) return 1;
        /* said first, so that a crash names its input */
        fprintf(stderr, "replay: %s\n", argv[i]);
        LLVMFuzzerTestOneInput(b, n);
        free(b);
        ran++;
    }
    printf("replayed %d inputs\n", ran);
    return 0;
}
