# fuzz.mk: libFuzzer targets (tests/fuzz/fuzz_*.c), included by the Makefile.
#
#   make fuzz                      every target for FUZZ_SECONDS (60) each
#   make fuzz FUZZ_SECONDS=600     the 10-minute runs docs/ROBUSTNESS.md reports
#   make fuzz-build                just build them (build/fuzz/fuzz_*)
#
# Each target starts from its seeds (tests/fuzz/corpus/TARGET) and the inputs
# that once failed (tests/fuzz/regressions/TARGET); what it finds new goes to
# build/fuzz/corpus/TARGET, and a crash to build/fuzz/crash-TARGET-*.  Needs
# clang with compiler-rt (Debian: clang, libclang-rt-14-dev).
#
# The library is rebuilt with the sanitizers and coverage in build/fuzz/ from
# the Makefile's source lists, less the JIT (jit.c, run.c, gradcheck.c, trace.c): no
# target reaches libtcc.  The op table and the kernels (which the op
# descriptors point to) are in, the kernels built once as the portable set;
# their text, which the emitter pastes into generated C, comes from kernels_src.c.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR      = $(BUILD)/fuzz
FUZZ_TARGETS  = frontend data weights npz onnx
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c11 -g -O1 $(WARN) $(FUZZ_SAN)
FUZZ_LIB_SRC  = $(filter-out compiler/jit.c compiler/run.c compiler/gradcheck.c compiler/trace.c,$(COMPILER_SRC)) \
                $(RUNTIME_SRC)
FUZZ_LIB_OBJ  = $(FUZZ_LIB_SRC:%.c=$(FUZZ_DIR)/%.o) $(FUZZ_DIR)/lyr.tab.o \
                $(FUZZ_DIR)/lyr.yy.o $(FUZZ_DIR)/kernels_src.o $(FUZZ_DIR)/onnx.pb-c.o $(FUZZ_DIR)/ops_table.o \
                $(FUZZ_DIR)/runtime/kernels_portable.o
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
# -timeout: a single input taking 10 s is a hang; -rss_limit_mb: 2 GiB is an
# allocation no 4 KiB input deserves.
FUZZ_RUN_FLAGS ?= -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/%.o: %.c $(wildcard compiler/*.h compiler/onnx/*.h runtime/*.h) $(BUILD)/lyr.tab.h $(BUILD)/onnx/onnx.pb-c.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(CPPFLAGS) -c -o $@ $<

$(FUZZ_DIR)/lyr.tab.o $(FUZZ_DIR)/lyr.yy.o: $(FUZZ_DIR)/%.o: $(BUILD)/%.c compiler/ast.h compiler/diag.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(CPPFLAGS) -c -o $@ $<

$(FUZZ_DIR)/onnx.pb-c.o: $(BUILD)/onnx/onnx.pb-c.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(CPPFLAGS) -c -o $@ $<

$(FUZZ_DIR)/runtime/kernels_portable.o: runtime/kernels.c runtime/kernels.h $(BUILD)/kernels_list.h $(KERNEL_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -DLC_ISA=portable -DLC_POOL $(CPPFLAGS) -c -o $@ $<

$(FUZZ_DIR)/kernels_src.o: $(BUILD)/kernels_src.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/ops_table.o: $(BUILD)/ops_table.c compiler/op.h compiler/ir.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(FUZZ_DIR)/libfuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libfuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(CPPFLAGS) -o $@ $< $(FUZZ_DIR)/libfuzz.a -lprotobuf-c -lz -lm

# One target after another, each from its seeds; the first failing one stops
# the run (libFuzzer exits non-zero and leaves the input as crash-*).
fuzz: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t tests/fuzz/regressions/$$t; \
	    dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	    echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
	    $(FUZZ_DIR)/fuzz_$$t $(FUZZ_RUN_FLAGS) $$dict -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=$(FUZZ_DIR)/crash-$$t- \
	        $(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t tests/fuzz/regressions/$$t \
	        || exit 1; \
	done
