/* test_csv_numbers.c: the CSV reader's fast decimal path (runtime/data.c)
 * promises the float strtof gives, bit for bit.  Checked on 330,000 values
 * generated deterministically: every kind of decimal the fast path takes
 * (short decimals, whole numbers, 15 digits) and the ones it must hand to
 * strtof (9 significant digits as %.9g prints floats, 17 as %.17g prints
 * doubles, exponents, decimals next to the midpoint of two floats, where
 * rounding twice goes wrong). */
#define _XOPEN_SOURCE 700

#include "test.h"
#include "data.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define COLS 100            /* 99 inputs + 1 truth value a row */
#define ROWS 3300
#define KINDS 9

static char dir[64];

static const char *path_of(const char *name)
{
    static char buf[2][256];
    static int k;
    char *p = buf[k++ % 2];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unit(void) { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }

/* A finite float of any exponent, normal or subnormal. */
static float any_float(void)
{
    for (;;) {
        uint32_t u = (uint32_t)next();
        float f;
        memcpy(&f, &u, 4);
        if (isfinite(f)) return f;
    }
}

/* One value's text, of kind k (the kinds take turns). */
static void value_text(int k, char *buf, size_t n)
{
    const char *sign = next() & 1 ? "-" : "";
    switch (k) {
    case 0:   /* how %.9g prints a float: 9 significant digits, exponents too */
        snprintf(buf, n, "%.9g", any_float());
        break;
    case 1:   /* a double's 17 digits, in the float range */
        snprintf(buf, n, "%s%.17g", sign, unit() * pow(10, (int)(next() % 60) - 30));
        break;
    case 2: { /* short decimals, 1 to 7 places, as data files hold them */
        int places = 1 + (int)(next() % 7);
        snprintf(buf, n, "%s%.*f", sign, places, unit() * pow(10, (int)(next() % 7)));
        break;
    }
    case 3:   /* whole numbers around 2^24, where floats are 2 apart: odd ones are midpoints */
        snprintf(buf, n, "%s%lld%s", sign, (long long)(16777216 + (next() % 4096) * (next() % 4096)),
                 next() & 1 ? ".0" : "");
        break;
    case 4: { /* 15 and 16 digits: the last the fast path takes, the first it leaves */
        int digits = 15 + (int)(next() % 2), point = (int)(next() % (unsigned)digits);
        char d[20];
        for (int i = 0; i < digits; i++) d[i] = (char)('0' + next() % 10);
        snprintf(buf, n, "%s%.*s.%.*s", sign, point, d, digits - point, d + point);
        break;
    }
    case 5:   /* the midpoint of two floats cut to 15, 16 or 17 digits: */
    case 7:   /* right next to it, where rounding to double and then to */
    case 8: { /* float goes wrong unless the fast path leaves such values */
        float f = (float)(unit() * pow(10, (int)(next() % 12) - 5));
        double mid = ((double)f + (double)nextafterf(f, INFINITY)) / 2;
        snprintf(buf, n, "%s%.*g", sign, k == 5 ? 15 : k == 7 ? 16 : 17, mid);
        break;
    }
    case 6:   /* a midpoint in full */
    default: {
        float f = (float)(unit() * 1000);
        double mid = ((double)f + (double)nextafterf(f, INFINITY)) / 2;
        snprintf(buf, n, "%s%.40f", sign, mid);   /* many digits, exact */
        break;
    }
    }
}

TEST(fast_path_equals_strtof)
{
    static char text[ROWS * COLS][64];
    const char *path = path_of("numbers.csv");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < COLS; c++) {
            char *t = text[r * COLS + c];
            value_text((r * COLS + c) % KINDS, t, sizeof text[0]);
            fprintf(f, "%s%s", t, c + 1 < COLS ? "," : "\n");
        }
    CHECK(fclose(f) == 0);
    LcDataSpec spec = { .in = COLS - 1, .out = 1 };
    LcData d;
    char err[512];
    CHECK(lc_load_csv(path, &spec, &d, err, sizeof err));
    if (d.n != ROWS) {
        fprintf(stderr, "%s\n", err);
        CHECK(d.n == ROWS);
        return;
    }
    long differ = 0, kinds[KINDS] = { 0 };
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < COLS; c++) {
            float got = c < COLS - 1 ? d.x[(size_t)r * (COLS - 1) + (size_t)c] : d.y[r];
            float want = strtof(text[r * COLS + c], NULL);
            if (memcmp(&got, &want, sizeof got) != 0) {
                if (differ++ < 5)
                    fprintf(stderr, "'%s': the reader gives %.9g, strtof %.9g\n", text[r * COLS + c], got, want);
                kinds[(r * COLS + c) % KINDS]++;
            }
        }
    if (differ) {
        fprintf(stderr, "%ld of %d values differ from strtof; by kind:", differ, ROWS * COLS);
        for (int k = 0; k < KINDS; k++) fprintf(stderr, " %ld", kinds[k]);
        fprintf(stderr, "\n");
    }
    CHECK(differ == 0);
    lc_data_free(&d);
}

/* The cases one by one, so that a failure names its number. */
TEST(known_hard_cases)
{
    static const char *const cases[] = {
        "16777217", "16777217.0", "-16777219", "33554435",   /* midpoints between floats: ties to even */
        "0.1", "0.2", "0.3", "3.4028234e38", "3.40282356e38",
        "1.17549435e-38", "1.4e-45", "0.000000000000000000000000000000000000011754943",
        "123456789012345", "1234567890123456", "12345678901234567",
        "0.500000029802322387695312", "0.50000002980232238769531250001",   /* 0.5 + 2^-25 and just above */
        "9007199254740993", "-0", "+2.5", "1e10", ".5", "5.",
    };
    const int n = (int)(sizeof cases / sizeof *cases);
    const char *path = path_of("hard.csv");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    for (int i = 0; i < n; i++) fprintf(f, "%s,0\n", cases[i]);
    fclose(f);
    LcDataSpec spec = { .in = 1, .out = 1 };
    LcData d;
    char err[512];
    CHECK(lc_load_csv(path, &spec, &d, err, sizeof err));
    CHECK(d.n == n);
    for (int i = 0; i < n && i < d.n; i++) {
        float want = strtof(cases[i], NULL);
        if (memcmp(&d.x[i], &want, sizeof want) != 0) {
            fprintf(stderr, "'%s': the reader gives %a, strtof %a\n", cases[i], d.x[i], want);
            CHECK(memcmp(&d.x[i], &want, sizeof want) == 0);
        }
    }
    lc_data_free(&d);
}

int main(void)
{
    strcpy(dir, "/tmp/lc_test_csv_numbers.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN(fast_path_equals_strtof);
    RUN(known_hard_cases);
    unlink(path_of("numbers.csv"));
    unlink(path_of("hard.csv"));
    rmdir(dir);
    return test_report("csv numbers");
}
