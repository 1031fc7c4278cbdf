# layerc: `make` builds ./layerc; `make test` builds and runs the tests;
# `make demo` trains Fashion-MNIST and deploys it as C.  See README.md.

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
SAN      ?=
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra
CPPFLAGS  = -D_DEFAULT_SOURCE -Icompiler -Iruntime -I$(BUILD) -I$(BUILD)/onnx
# The kernels are the hot loops the JIT calls: always optimised, and built once
# per instruction set (KERNEL_ISAS below; runtime/dispatch.c picks one at start-up).
KFLAGS   ?= -O3 -ffp-contract=fast
LDLIBS    = -ltcc -lprotobuf-c -lz -lm -ldl -lpthread
# ONNX import/export: the C for onnx.proto is generated at build time by
# protoc-c (Debian: protobuf-c-compiler, libprotobuf-c-dev, libonnx-dev).
ONNX_PROTO ?= /usr/include/onnx/onnx.proto
# [MPI] make MPI=1: data-parallel training over MPI (runtime/dist.c, docs/SCALING.md),
# with the flags of mpicc (Debian: libopenmpi-dev openmpi-bin), built in build-mpi/.
ifeq ($(MPI),1)
ifeq ($(shell command -v mpicc),)
$(error make MPI=1 needs mpicc: apt-get install libopenmpi-dev openmpi-bin)
endif
BUILD    := $(if $(filter build,$(BUILD)),build-mpi,$(BUILD))
CPPFLAGS += -DLC_MPI $(shell mpicc --showme:compile)
LDLIBS   += $(shell mpicc --showme:link)
endif
# make NATIVE=1: one set of kernels for this CPU alone (-march=native), in build-native/;
# the binary may die with an illegal instruction on another CPU.
ifeq ($(NATIVE),1)
BUILD    := $(if $(filter build,$(BUILD)),build-native,$(BUILD))
endif
ALL_CFLAGS = -std=c11 $(CFLAGS) $(WARN) $(SAN)

# The kernel sets: x86-64 baseline, AVX2 + FMA and AVX-512 on x86-64 (each with the
# flags ISA_name), one portable set elsewhere.  AVX-512 at full width (bench/gemm.c:
# flags; -march=native on this Xeon tunes for 256-bit vectors: products 25% slower).
MACHINE := $(shell $(CC) -dumpmachine 2>/dev/null)
ifeq ($(NATIVE),1)
KERNEL_ISAS = native
DISPATCH    = -DLC_DISPATCH_NATIVE
else ifneq ($(filter x86_64-% amd64-%,$(MACHINE)),)
KERNEL_ISAS = baseline avx2 avx512
DISPATCH    = -DLC_DISPATCH_X86
else
KERNEL_ISAS = portable
DISPATCH    =
endif
ISA_native   = -march=native
ISA_baseline =
ISA_portable =
ISA_avx2     = -mavx2 -mfma
ISA_avx512   = -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mprefer-vector-width=512
KERNEL_OBJ   = $(KERNEL_ISAS:%=$(BUILD)/runtime/kernels_%.o)

EMBED = sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/'

COMPILER_SRC = $(filter-out compiler/main.c,$(wildcard compiler/*.c compiler/onnx/*.c)) $(OPS_SRC)
# Every op file defines `const OpDef lc_op_NAME`; the table of them is made from the files.
OPS_SRC      = $(wildcard compiler/ops/*.c)
ONNX_OBJ     = $(patsubst %.c,$(BUILD)/%.o,$(wildcard compiler/onnx/*.c))
RUNTIME_SRC  = $(filter-out runtime/kernels.c runtime/kernels_double.c,$(wildcard runtime/*.c))
LIB_OBJ = $(COMPILER_SRC:%.c=$(BUILD)/%.o) $(RUNTIME_SRC:%.c=$(BUILD)/%.o) \
          $(KERNEL_OBJ) $(BUILD)/runtime/kernels_double.o \
          $(BUILD)/lyr.tab.o $(BUILD)/lyr.yy.o \
          $(BUILD)/kernels_src.o $(BUILD)/ops_table.o $(BUILD)/onnx/onnx.pb-c.o
UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

# layerc is phony: ./layerc is always the build of this make's BUILD (plain or MPI)
.PHONY: layerc all deps test test-asan test-torch demo bench mutate install clean
all: deps layerc

# Installs what the build needs on Debian when it is missing, saying so.
deps:
	@sh tests/deps.sh build

# (through a rename, so a running ./layerc does not make the copy fail)
layerc: $(BUILD)/layerc
	cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/layerc: $(BUILD)/compiler/main.o $(BUILD)/liblayerc.a
	$(CC) $(ALL_CFLAGS) -o $@.tmp $^ $(LDLIBS) && mv -f $@.tmp $@

$(BUILD)/liblayerc.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c $(wildcard compiler/*.h compiler/ops/*.h runtime/*.h) $(BUILD)/lyr.tab.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

# The kernel units, in paste order (runtime/kernels/*.c; kernels.c includes them all).
KERNEL_UNITS = common vmath gemm fused conv dwconv pool elementwise activation loss norm optim int8
# Small-core versions of some units (--target mcu), pasted in their place, never compiled into layerc.
MCU_UNITS    = gemm_mcu conv_mcu loss_mcu
PASTE_UNITS  = $(KERNEL_UNITS) $(MCU_UNITS)
KERNEL_SRC   = $(KERNEL_UNITS:%=runtime/kernels/%.c)
PASTE_SRC    = $(PASTE_UNITS:%=runtime/kernels/%.c)

# The list of every kernel, for the dispatch: made from kernels.h.
$(BUILD)/kernels_list.h: runtime/kernels.h runtime/kernels_list.awk
	@mkdir -p $(BUILD)
	awk -f runtime/kernels_list.awk runtime/kernels.h > $@.tmp && mv $@.tmp $@
$(BUILD)/runtime/dispatch.o: $(BUILD)/kernels_list.h

# One object a kernel set; -DLC_POOL: the kernels split their work over
# runtime/threads.c's pool.
$(KERNEL_OBJ): $(BUILD)/runtime/kernels_%.o: runtime/kernels.c runtime/kernels.h $(BUILD)/kernels_list.h $(KERNEL_SRC)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(KFLAGS) $(ISA_$*) -DLC_ISA=$* -DLC_POOL -g $(WARN) $(SAN) $(CPPFLAGS) -c -o $@ $<
$(BUILD)/runtime/dispatch.o: CPPFLAGS += $(DISPATCH)
# The same units in double precision, for `layerc check` (runtime/kernels_double.c);
# serial (no -DLC_POOL), as the check's generated code sizes its scratch for one thread.
# build/kernels_f64.h renames every kernel that runtime/kernels.h declares.
$(BUILD)/kernels_f64.h: runtime/kernels.h
	@mkdir -p $(BUILD)
	{ echo '/* made from runtime/kernels.h by the Makefile */'; \
	  names=$$(sed -n 's/^[a-z_]* \(lc_[a-z0-9_]*\)(.*/\1/p' runtime/kernels.h | LC_ALL=C sort -u); \
	  for k in $$names; do echo "#define $$k $${k}_f64"; done; \
	  printf '#define LC_F64_KERNELS'; for k in $$names; do printf ' LC_F64(%s)' $$k; done; echo; } > $@.tmp && mv $@.tmp $@
$(BUILD)/runtime/kernels_double.o: runtime/kernels_double.c runtime/kernels.c runtime/kernels_double.h \
                                   $(KERNEL_SRC) $(BUILD)/kernels_f64.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(KFLAGS) -g $(WARN) $(SAN) $(CPPFLAGS) -c -o $@ $<

# Each kernel unit's source as a string, for pasting into generated C, with
# the table of units; and the pool's ([threads], pasted by `layerc --threads N -o m.c`).
$(BUILD)/kernels_src.c: $(PASTE_SRC) runtime/kernels.h runtime/threads.c Makefile
	@mkdir -p $(BUILD)
	{ for u in $(PASTE_UNITS); do echo "static const char unit_$$u[] ="; \
	      $(EMBED) runtime/kernels/$$u.c; echo ';'; done; \
	  echo 'const char *const lc_kernel_unit_names[] = {'; \
	  for u in $(PASTE_UNITS); do echo "    \"$$u\","; done; echo '    0 };'; \
	  echo 'const char *const lc_kernel_unit_sources[] = {'; \
	  for u in $(PASTE_UNITS); do echo "    unit_$$u,"; done; echo '    0 };'; \
	  echo 'const char lc_kernels_header[] ='; $(EMBED) runtime/kernels.h; echo ';'; \
	  echo 'const char lc_threads_source[] ='; $(EMBED) runtime/threads.c; echo ';'; } > $@.tmp && mv $@.tmp $@

# The ONNX protobuf code, generated from Debian's onnx.proto into the build directory.
$(BUILD)/onnx/onnx.pb-c.c $(BUILD)/onnx/onnx.pb-c.h &: $(ONNX_PROTO)
	@command -v protoc-c >/dev/null 2>&1 && [ -f /usr/include/protobuf-c/protobuf-c.h ] || \
	    { echo "layerc: building ONNX support needs protoc-c and protobuf-c:" \
	           "apt-get install protobuf-c-compiler libprotobuf-c-dev libonnx-dev" >&2; exit 1; }
	@mkdir -p $(BUILD)/onnx
	protoc-c --proto_path=$(dir $(ONNX_PROTO)) --c_out=$(BUILD)/onnx $(notdir $(ONNX_PROTO))

$(ONNX_PROTO):
	@echo "layerc: $@ is missing: apt-get install libonnx-dev" >&2; exit 1

$(BUILD)/onnx/onnx.pb-c.o: $(BUILD)/onnx/onnx.pb-c.c
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<

# The ONNX files, the op files (their ONNX hooks) and main.c see the generated header.
$(ONNX_OBJ) $(OPS_SRC:%.c=$(BUILD)/%.o) $(BUILD)/compiler/main.o: $(wildcard compiler/onnx/*.h) $(BUILD)/onnx/onnx.pb-c.h

# One bison run writes both files (a grouped target: with two plain targets
# a parallel make may run it twice, one run truncating what the other compiles).
$(BUILD)/lyr.tab.c $(BUILD)/lyr.tab.h &: grammar/lyr.y
	@mkdir -p $(BUILD)
	bison -Wall -Werror -d -o $(BUILD)/lyr.tab.c $<

$(BUILD)/lyr.yy.c: grammar/lyr.l $(BUILD)/lyr.tab.h
	flex -o $@ $<

$(BUILD)/lyr.tab.o $(BUILD)/lyr.yy.o: $(BUILD)/%.o: $(BUILD)/%.c compiler/ast.h compiler/diag.h
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<
# The op table: every `const OpDef lc_op_NAME` of compiler/ops/*.c, by name.
$(BUILD)/ops_table.c: $(OPS_SRC) Makefile
	@mkdir -p $(BUILD)
	{ echo '#include "op.h"'; \
	  ops=$$(sed -n 's/^const OpDef \(lc_op_[A-Za-z0-9_]*\) = .*/\1/p' $(OPS_SRC) | LC_ALL=C sort); \
	  for o in $$ops; do echo "extern const OpDef $$o;"; done; \
	  echo 'const OpDef *const lc_op_table[] = {'; \
	  for o in $$ops; do echo "    &$$o,"; done; echo '    0 };'; } > $@.tmp && mv $@.tmp $@
$(BUILD)/ops_table.o: $(BUILD)/ops_table.c compiler/op.h compiler/ir.h
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -c -o $@ $<
$(BUILD)/kernels_src.o: $(BUILD)/kernels_src.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/liblayerc.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CPPFLAGS) -Itests/unit -o $@ $< $(BUILD)/liblayerc.a $(LDLIBS)

# The suite's own packages first (PyTorch, NumPy, Open MPI, ...: tests/deps.sh
# test), so that a fresh machine runs every group; a group that cannot run fails.
test: all $(UNIT_TESTS)
	@sh tests/deps.sh test
	@BUILD=$(BUILD) sh tests/run.sh

# The same suite, built and run under AddressSanitizer + UBSan.
test-asan: deps
	@sh tests/deps.sh test
	$(MAKE) BUILD=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" CFLAGS="-O1 -g" build-asan/layerc-asan-tests
	@BUILD=build-asan LAYERC=build-asan/layerc ASAN_OPTIONS=detect_leaks=1 sh tests/run.sh

build-asan/layerc-asan-tests: $(BUILD)/layerc $(UNIT_TESTS)
	@touch $@

# Numbers against PyTorch (issue: every op, loss and optimizer); needs python3-torch.
test-torch: all
	@sh tests/deps.sh torch
	@/usr/bin/python3 tests/torch/verify.py

demo: all
	@sh tests/deps.sh demo
	@sh samples/demo.sh

bench: all
	@sh bench/run.sh

# Mutation testing (tests/mutate/): plants each deliberate bug of
# tests/mutate/mutants.txt in a scratch copy, rebuilds, runs the groups it
# names and reports the survivors; an hour or more, so not part of make test
# or CI.  MUTANTS="id ..." runs some; the report goes to build/mutate.txt.
mutate: all
	@mkdir -p $(BUILD)
	@sh tests/mutate/run.sh -o $(BUILD)/mutate.txt $(MUTANTS)

# The kernels and runtime are compiled into layerc (and pasted into the C it
# writes), so the binary stands alone; samples and docs go beside it.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/layerc/samples $(DESTDIR)$(PREFIX)/share/doc/layerc
	install -m 755 layerc $(DESTDIR)$(PREFIX)/bin/layerc
	install -m 644 docs/layerc.1 $(DESTDIR)$(PREFIX)/share/man/man1/layerc.1
	install -m 644 samples/*.lyr samples/*.csv samples/*.c $(DESTDIR)$(PREFIX)/share/layerc/samples
	install -m 644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/layerc

clean:
	rm -rf build build-asan build-mpi build-native layerc

# fuzzing (libFuzzer): make fuzz FUZZ_SECONDS=N
-include tests/fuzz/fuzz.mk
