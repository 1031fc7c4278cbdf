#!/bin/sh
# tests/mutate/run.sh: mutation testing.  Plants the deliberate bugs of
# tests/mutate/mutants.txt one at a time in a scratch copy of the tree,
# rebuilds it, runs the test groups the mutant names and reports whether the
# suite caught it.  `make mutate`; not part of `make test` or CI (it takes an
# hour or more).  Usage:
#     sh tests/mutate/run.sh [-o REPORT] [-l LIST] [-k] [--no-baseline] [ID ...]
# IDs (or shell patterns) select mutants; -k keeps the scratch copy.
# Environment: MUTATE_DIR (the scratch copy; default a new /tmp/layerc-mutate.*),
# MUTATE_TIMEOUT (seconds a group may take; 900).
#
# The list: one mutant a line, `ID FILE GROUPS SED-SCRIPT`, the sed script
# being the rest of the line; # starts a comment.  GROUPS is comma-separated:
#     test_NAME      build/tests/test_NAME (a unit test)
#     t_NAME         sh tests/t_NAME.sh
#     torch:SUB      the PyTorch cases of the quick set whose name holds SUB
#     all            sh tests/run.sh (every group)
# A mutant is refused (and counted apart) when its sed script leaves the
# file as it was, or the rebuilt layerc is byte for byte the old one; a
# mutant that does not compile is reported as such and not scored.
# The copy is built once with the kernels for this CPU alone (NATIVE=1,
# into build/): one kernel set to rebuild a mutant instead of three.  Each
# mutant is rebuilt incrementally from a snapshot of that build, and the
# snapshot and the file's original (with its time stamp) are put back after.
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
report=
list=tests/mutate/mutants.txt
keep=0 baseline=1
while [ $# -gt 0 ]; do
    case $1 in
        -o) report=$2; shift 2 ;;
        -l) list=$2; shift 2 ;;
        -k) keep=1; shift ;;
        --no-baseline) baseline=0; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        -*) echo "mutate: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ -f "$list" ] || { echo "mutate: no list $list" >&2; exit 2; }
case $list in /*) ;; *) list=$ROOT/$list ;; esac
case $report in ''|/*) ;; *) report=$ROOT/$report ;; esac
timeout_s=${MUTATE_TIMEOUT:-900}
W=${MUTATE_DIR:-$(mktemp -d /tmp/layerc-mutate.XXXXXX)}
[ $keep = 1 ] || trap 'rm -rf "$W"' EXIT
log() { echo "$*"; [ -z "$report" ] || echo "$*" >> "$report"; }
[ -z "$report" ] || : > "$report"

# the mutants chosen (all, or those whose ID matches an argument)
sel=$(mktemp)
grep -v '^[[:space:]]*\(#\|$\)' "$list" | while read -r id file groups script; do
    if [ $# -eq 0 ]; then echo "$id"; continue; fi
    for pat in "$@"; do
        # shellcheck disable=SC2254
        case $id in $pat) echo "$id"; break ;; esac
    done
done > "$sel"
[ -s "$sel" ] || { echo "mutate: no mutant selected" >&2; exit 2; }

# the scratch copy: the files git knows, as they are in the working tree
mkdir -p "$W"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -C "$W" -xf - || exit 1
cd "$W" || exit 1
UNITS=$(ls tests/unit/test_*.c | sed 's|tests/unit/\(.*\)\.c|build/tests/\1|')
MAKE_ARGS="NATIVE=1 BUILD=build"
log "mutation testing: $(wc -l < "$sel") mutants of $list, in $W ($(date -u '+%Y-%m-%d %H:%M UTC'))"
# (a fresh -j2 build has been seen to fail to link once; a second make finishes it)
# shellcheck disable=SC2086
if ! make -j2 $MAKE_ARGS layerc $UNITS > build.log 2>&1 && ! make -j2 $MAKE_ARGS layerc $UNITS >> build.log 2>&1; then
    tail -20 build.log; echo "mutate: the unmutated tree does not build" >&2; exit 1
fi
cp -a build build.base && cp -p layerc layerc.base

# run_group GROUP: 0 when the group passes
run_group() {
    g=$1
    if ! group_exists "$g"; then echo "mutate: no test group $g" >&2; return 2; fi
    case $g in
        all) BUILD=build LAYERC=./layerc timeout "$timeout_s" sh tests/run.sh ;;
        torch:*) timeout "$timeout_s" /usr/bin/python3 tests/torch/verify.py --quick --no-report --only "${g#torch:}" ;;
        test_*) timeout "$timeout_s" "build/tests/$g" ;;
        t_*) BUILD=build LAYERC=./layerc timeout "$timeout_s" sh "tests/$g.sh" ;;
        *) echo "mutate: unknown group $g" >&2; return 2 ;;
    esac
}
# group_exists GROUP: its test is in the scratch copy (a group added since
# the copy was made is not, and its absence must not pass for a catch)
group_exists() {
    case $1 in
        all|torch:*) [ -f tests/torch/verify.py ] ;;
        test_*) [ -f "tests/unit/$1.c" ] ;;
        t_*) [ -f "tests/$1.sh" ] ;;
        *) return 1 ;;
    esac
}
# passed_some LOG: the group's log counts at least one passed check
passed_some() { grep -Eq '(^|[^0-9])[1-9][0-9]* passed|^OK|PASS' "$1"; }

# units_of GROUPS: the unit tests to rebuild for these groups
units_of() {
    echo "$1" | tr ',' '\n' | while read -r g; do
        case $g in test_*) echo "build/tests/$g" ;; all) echo "$UNITS" ;; esac
    done
}

for g in $(grep -v '^[[:space:]]*\(#\|$\)' "$list" | awk '{ print $3 }' | tr ',' '\n' | sort -u); do
    group_exists "$g" || { log "mutate: the list names a test group that does not exist: $g"; exit 2; }
done
if [ $baseline = 1 ]; then
    # every group the chosen mutants name must pass on the unmutated tree, or a
    # mutant "caught" by it means nothing
    groups=$(grep -v '^[[:space:]]*\(#\|$\)' "$list" | awk 'NR == FNR { want[$1] = 1; next } $1 in want { print $3 }' "$sel" - |
             tr ',' '\n' | sort -u)
    for g in $groups; do
        s=$(date +%s)
        if run_group "$g" < /dev/null > "base.$g.log" 2>&1 && passed_some "base.$g.log"; then
            log "baseline $g: passes ($(($(date +%s) - s)) s)"
        else
            tail -20 "base.$g.log"; log "baseline $g: FAILS on the unmutated tree; stopping"; exit 1
        fi
    done
fi

caught=0 survived=0 refused=0 broken=0 n=0
survivors=
while read -r want; do
    line=$(grep -v '^[[:space:]]*\(#\|$\)' "$list" | awk -v id="$want" '$1 == id' | head -1)
    id=$(printf '%s\n' "$line" | awk '{ print $1 }')
    file=$(printf '%s\n' "$line" | awk '{ print $2 }')
    groups=$(printf '%s\n' "$line" | awk '{ print $3 }')
    script=$(printf '%s\n' "$line" | sed 's/^[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*//')
    n=$((n + 1))
    if [ ! -f "$file" ]; then log "REFUSED  $id: no file $file"; refused=$((refused + 1)); continue; fi
    cp -p "$file" "$file.orig"
    if ! sed -e "$script" "$file.orig" > "$file" 2> sed.err; then
        log "REFUSED  $id: the sed script fails: $(cat sed.err)"; mv -f "$file.orig" "$file"; refused=$((refused + 1)); continue
    fi
    if cmp -s "$file" "$file.orig"; then
        log "REFUSED  $id: the pattern does not match in $file"; mv -f "$file.orig" "$file"; refused=$((refused + 1)); continue
    fi
    changed=$(diff "$file.orig" "$file" | grep -c '^>')
    s=$(date +%s)
    # shellcheck disable=SC2046,SC2086
    if ! make -j2 $MAKE_ARGS layerc $(units_of "$groups") < /dev/null > "mut.$id.build.log" 2>&1; then
        log "BROKEN   $id: does not compile ($file)"; broken=$((broken + 1)); verdict=broken
    elif cmp -s layerc layerc.base; then
        log "REFUSED  $id: the build is unchanged"; refused=$((refused + 1)); verdict=refused
    else
        verdict=survived by=
        for g in $(echo "$groups" | tr ',' ' '); do
            if ! run_group "$g" < /dev/null > "mut.$id.$g.log" 2>&1; then verdict=caught by=$g; break; fi
        done
        t=$(($(date +%s) - s))
        if [ $verdict = caught ]; then
            caught=$((caught + 1))
            log "caught   $id by $by ($file, $changed line(s), $t s)"
        else
            survived=$((survived + 1)); survivors="$survivors $id"
            log "SURVIVED $id: $groups all pass ($file, $changed line(s), $t s)"
        fi
    fi
    mv -f "$file.orig" "$file"
    rm -rf build && cp -a build.base build && cp -p layerc.base layerc
done < "$sel"
rm -f "$sel"
scored=$((caught + survived))
log "mutation score: $caught of $scored caught ($survived survived, $refused refused, $broken did not build)"
[ -z "$survivors" ] || log "survivors:$survivors"
[ $survived -eq 0 ] && [ $refused -eq 0 ] && [ $broken -eq 0 ]
