# kernels_list.awk: makes kernels_list.h from runtime/kernels.h (the Makefile
# runs it): every public kernel once, for the runtime dispatch
# (runtime/dispatch.c).  layerc builds runtime/kernels.c once per instruction
# set, each build a table of its kernels (lc_kernel_set); dispatch.c defines
# the public functions, which call the table chosen at start-up.
# LC_KERNEL_LIST(V, R) applies V(name, (parameters), (arguments)) to each
# kernel that returns nothing and R(type, name, (parameters), (arguments))
# to each that returns a value.  A declaration is a line starting with its
# return type and an lc_ name, up to the line with its ");".
function flush(    type, name, params, n, parts, i, args, w, k) {
    decl = decl
    gsub(/[ \t]+/, " ", decl)
    if (!match(decl, /^[a-z_]+ lc_[a-z0-9_]+\(/)) return
    type = substr(decl, 1, index(decl, " ") - 1)
    name = substr(decl, index(decl, " ") + 1)
    name = substr(name, 1, index(name, "(") - 1)
    params = substr(decl, index(decl, "(") + 1)
    params = substr(params, 1, length(params) - 2)   # drop ");"
    n = split(params, parts, ",")
    args = ""
    for (i = 1; i <= n; i++) {
        k = split(parts[i], w, /[^A-Za-z0-9_]+/)
        while (k > 0 && w[k] == "") k--
        args = args (i > 1 ? ", " : "") w[k]
    }
    if (type == "void") printf "    V(%s, (%s), (%s)) \\\n", name, params, args
    else printf "    R(%s, %s, (%s), (%s)) \\\n", type, name, params, args
}
BEGIN {
    print "/* kernels_list.h: made from runtime/kernels.h by runtime/kernels_list.awk. */"
    print "#ifndef LC_KERNELS_LIST_H"
    print "#define LC_KERNELS_LIST_H"
    print ""
    print "#define LC_KERNEL_LIST(V, R) \\"
}
/^(void|double|float|int|lc_real) lc_[a-z0-9_]+\(/ { decl = ""; in_decl = 1 }
in_decl {
    line = $0
    sub(/\/\*.*\*\//, "", line)
    decl = decl " " line
    if (line ~ /\);/) { in_decl = 0; sub(/^ /, "", decl); flush() }
}
END {
    print ""
    print "/* One instruction set's kernels. */"
    print "#define LC__SET_V(name, params, args) void (*name) params;"
    print "#define LC__SET_R(type, name, params, args) type (*name) params;"
    print "typedef struct lc_kernel_set {"
    print "    const char *name;"
    print "    LC_KERNEL_LIST(LC__SET_V, LC__SET_R)"
    print "} lc_kernel_set;"
    print ""
    print "#endif"
}
