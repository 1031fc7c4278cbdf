# lib.sh: what every tests/t_*.sh shares.  Source it first:
#     . "$(dirname "$0")/lib.sh"
# It runs the group from the top of the repository, gives it $LAYERC (the
# binary under test), a scratch directory $tmp removed on exit, and the
# counters behind `result`, `ok`, `bad` and `finish`.
cd "$(dirname "$0")/.." || exit 1
LAYERC=${LAYERC:-./layerc}
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0

# result STATUS WHAT: counts a check whose exit status is STATUS (0 = passed).
result() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $2"; fi; }
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# finish GROUP: the summary line tests/run.sh adds up; exits 1 if a check failed.
finish() { echo "$1: $pass passed, $fail failed"; [ $fail -eq 0 ]; exit $?; }

# same_numbers A B: two files of comma-separated numbers agree within 1e-5
# relative (1e-7 absolute below 1e-2), line by line.
same_numbers() {
    paste -d'|' "$1" "$2" | awk -F'|' '{
        n = split($1, a, ","); m = split($2, b, ",");
        if (n != m) bad = 1;
        for (i = 1; i <= n; i++) {
            d = a[i] - b[i]; if (d < 0) d = -d;
            s = a[i] < 0 ? -a[i] : a[i]; if (s < 1e-2) s = 1e-2;
            if (d > 1e-5 * s) { bad = 1; print "differ: " a[i] " " b[i] > "/dev/stderr" }
        }
     } END { exit bad || NR == 0 }'
}

# sanitizer_report FILE: the file holds an ASan/UBSan/LSan report.
sanitizer_report() { grep -q 'AddressSanitizer\|runtime error\|LeakSanitizer' "$1"; }
