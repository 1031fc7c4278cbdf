#!/bin/sh
# The generated C of every sample (training and --inference) builds with
# gcc -std=c99 -Wall -Wextra -pedantic -Werror, with clang and with tcc;
# two different models link into one program.
. "$(dirname "$0")/lib.sh"
compilers="gcc clang tcc"
for m in samples/*.lyr; do
    name=$(basename "$m" .lyr)
    for mode in train inference; do
        flag=""; [ $mode = inference ] && flag=--inference
        "$LAYERC" "$m" $flag -o "$tmp/$name.c" 2>/dev/null
        result $? "layerc $m $flag"
        for cc in $compilers; do
            command -v $cc >/dev/null || { bad "$cc is not installed (sh tests/deps.sh test)"; continue; }
            case $cc in
            tcc) flags="-Wall -Werror" ;;
            *) flags="-std=c99 -Wall -Wextra -pedantic -Werror -O1" ;;
            esac
            $cc $flags -c "$tmp/$name.c" -o "$tmp/$name.o" 2> "$tmp/err"
            result $? "$cc $flags $m $flag: $(head -5 "$tmp/err")"
        done
    done
done
"$LAYERC" samples/shape.lyr -o "$tmp/shape.c" && "$LAYERC" samples/xor.lyr -o "$tmp/xor.c" &&
gcc -std=c99 -Wall -Wextra -pedantic -Werror -I"$tmp" tests/c/two_models.c "$tmp/shape.c" "$tmp/xor.c" -lm -o "$tmp/two" &&
"$tmp/two" > /dev/null
result $? "two models link into one program"
finish "generated C builds"
