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
# relative, line by line; near 0 the bound is 1e-5 of a tenth of the largest
# magnitude in A (a value near 0 is a sum of larger terms, rounded as they
# are: kernels built for other instruction sets round a little otherwise).
same_numbers() {
    big=$(tr ',' '\n' < "$1" | awk '{ v = $1 < 0 ? -$1 : $1; if (v > m) m = v } END { print m + 0 }')
    paste -d'|' "$1" "$2" | awk -F'|' -v big="$big" '{
        n = split($1, a, ","); m = split($2, b, ",");
        if (n != m) bad = 1;
        for (i = 1; i <= n; i++) {
            d = a[i] - b[i]; if (d < 0) d = -d;
            s = a[i] < 0 ? -a[i] : a[i]; if (s < big / 10) s = big / 10; if (s < 1e-2) s = 1e-2;
            if (d > 1e-5 * s) { bad = 1; print "differ: " a[i] " " b[i] > "/dev/stderr" }
        }
     } END { exit bad || NR == 0 }'
}

# sanitizer_report FILE: the file holds an ASan/UBSan/LSan report.
sanitizer_report() { grep -q 'AddressSanitizer\|runtime error\|LeakSanitizer' "$1"; }

# device NAME: a character device that acts as /dev/NAME (null or full), for
# a test that gives one as an output path.  As root it is a node of its own
# in $tmp, so that a broken layerc that replaces its output with a file
# destroys that node, not the machine's /dev/NAME (only root could do that,
# and only root may make a node).
device() {
    case $1 in null) mm="1 3" ;; full) mm="1 7" ;; *) return 1 ;; esac
    # shellcheck disable=SC2086
    if mknod "$tmp/dev.$1" c $mm 2> /dev/null && { [ $1 = full ] || : > "$tmp/dev.$1"; } 2> /dev/null; then
        echo "$tmp/dev.$1"
    else
        echo "/dev/$1"
    fi
}

# subset FILE.gz N OUT: the first N records of a Fashion-MNIST IDX file
# (28x28 images or labels), with its count rewritten; OUT is gzipped when
# its name ends in .gz.
subset() {
    b3=$(($2 / 256 % 256)) b4=$(($2 % 256))
    case "$3" in *.gz) pack="gzip -1" ;; *) pack=cat ;; esac
    case "$1" in
    *images*) { printf '\000\000\010\003\000\000'; printf "\\$(printf %o $b3)\\$(printf %o $b4)"
                printf '\000\000\000\034\000\000\000\034'
                gzip -dc "$1" | tail -c +17 | head -c $(($2 * 784)); } | $pack > "$3" ;;
    *) { printf '\000\000\010\001\000\000'; printf "\\$(printf %o $b3)\\$(printf %o $b4)"
         gzip -dc "$1" | tail -c +9 | head -c $2; } | $pack > "$3" ;;
    esac
}
