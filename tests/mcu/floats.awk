# floats.awk: the "out I LABEL BITS..." lines of a driver's output as CSV,
# each float's IEEE bits (0x3f800000) written back as %.9g, which is exact.
function hexval(h,    v, i) {
    v = 0
    for (i = 3; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
    return v
}
function bits2float(h,    v, s, e, m) {
    v = hexval(h)
    s = v >= 2147483648 ? -1 : 1
    if (s < 0) v -= 2147483648
    e = int(v / 8388608); m = v - e * 8388608
    if (e == 255) return m ? "nan" : (s < 0 ? "-inf" : "inf")
    if (e == 0) return sprintf("%.9g", s * m * 2 ^ -149)
    return sprintf("%.9g", s * (1 + m / 8388608) * 2 ^ (e - 127))
}
$1 == "out" {
    line = ""
    for (i = 4; i <= NF; i++) line = line (i > 4 ? "," : "") bits2float($i)
    print line
}
