# ksc: KernelScript toolkit.  `make` builds ./ksc, `make check` runs every test.
CC       ?= cc
CFLAGS   ?= -O2 -g
# One folder per stage or job (docs/design.md, "Where things are"); each is
# an include directory, so a file names another's header by its name alone.
DIRS     := compiler compiler/base compiler/front compiler/emit compiler/ebpf compiler/user \
            compiler/output kfunc kfunc/btf kmodgen kmodgen/build runtime runtime/install \
            runtime/package runtime/verify
KSC_CFLAGS := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
              $(addprefix -I,$(DIRS)) -Ibuild
LDLIBS   := -lbpf -lelf -lz -llzma -lzstd -llz4 -lkmod

# Every C file of the front end, the backends and the kernel tooling goes into
# ksc; runtime/ksc_loader.c is not ksc's but the loader's (embedded below).
SRCS := $(sort $(foreach d,$(filter-out runtime,$(DIRS)),$(wildcard $(d)/*.c)))
OBJS := $(SRCS:%.c=build/%.o) build/stdheaders.o build/runtime_files.o build/names_table.o
KH   := $(sort $(wildcard compiler/include/*.kh))

ksc: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KSC_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# ksc's standard headers are compiled into the binary, so `include "xdp.kh"`
# works wherever ksc is installed.
build/stdheaders.c: $(KH) scripts/embed-headers
	@mkdir -p build
	scripts/embed-headers $(KH) > $@.tmp && mv $@.tmp $@

build/stdheaders.o: build/stdheaders.c
	$(CC) $(KSC_CFLAGS) $(CFLAGS) -c -o $@ $<

# The loader runtime is embedded too: `ksc compile` writes it into every tree.
RUNTIME := runtime/ksc_loader.h runtime/ksc_loader.c
build/runtime_files.c: $(RUNTIME) scripts/embed-headers
	@mkdir -p build
	{ echo '/* Generated from runtime/ by the Makefile. */'; \
	  echo '#include "stdheaders.h"'; \
	  echo 'const struct ks_stdheader ksc_runtime_files[] = {'; \
	  for f in $(RUNTIME); do \
		echo "	{ \"$$(basename $$f)\","; \
		sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/	  "/' -e 's/$$/\\n"/' $$f; \
		echo '	},'; \
	  done; \
	  echo '	{ 0, 0 }'; echo '};'; } > $@.tmp && mv $@.tmp $@

build/runtime_files.o: build/runtime_files.c
	$(CC) $(KSC_CFLAGS) $(CFLAGS) -c -o $@ $<

# The names the headers of generated C declare or define (scripts/gen-names
# makes the lists), as sorted arrays for compiler/names.c to search: each
# list one string of NUL-separated names and their offsets, not an array of
# pointers, which would cost one relocation a name at every start of ksc
# (remade when this recipe changes: names.h follows its layout).
NAMES := $(sort $(wildcard compiler/emit/names/*.txt))
build/names_table.c: $(NAMES) Makefile
	@mkdir -p build
	{ echo '/* Generated from compiler/emit/names/ by the Makefile. */'; \
	  echo '#include "names.h"'; \
	  for f in $(NAMES); do \
		v=$$(basename $$f .txt | tr - _); \
		echo "static const char $${v}_s[] ="; \
		sed -e 's/.*/\t"&\\0"/' $$f; \
		echo '	"";'; \
		echo "static const unsigned $${v}_o[] = {"; \
		awk '{ printf "\t%d,\n", o; o += length($$0) + 1 }' $$f; \
		echo '};'; \
	  done; \
	  echo 'const struct names_list names_lists[] = {'; \
	  for f in $(NAMES); do \
		v=$$(basename $$f .txt | tr - _); \
		echo "\t{ \"$$(basename $$f .txt)\", $${v}_s, $${v}_o, sizeof($${v}_o) / sizeof($${v}_o[0]) },"; \
	  done; \
	  echo '\t{ 0, 0, 0, 0 }'; echo '};'; } > $@.tmp && mv $@.tmp $@

build/names_table.o: build/names_table.c
	$(CC) $(KSC_CFLAGS) $(CFLAGS) -c -o $@ $<

# Sanitizer build used by the test suite for the front end.
asan:
	$(MAKE) BUILD=build-asan ksc-asan
ksc-asan: $(SRCS) build/stdheaders.c build/runtime_files.c build/names_table.c
	$(CC) $(KSC_CFLAGS) -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=all -o $@ $^ $(LDLIBS)

check: ksc ksc-asan
	tests/run

# Man pages, made from ksc's own help (scripts/gen-man), and the install:
# the binary (the standard headers, templates and loader runtime are inside
# it), ksc(1) and ksc-CMD(1), bash completion, and the scripts that
# `--kernel` runs (fetch a Debian kernel, boot it in qemu, a Debian 13
# root to build for it) in share/ksc/scripts, where ksc looks for them.
VM_SCRIPTS := scripts/kernels scripts/vmtest scripts/debroot
PREFIX  ?= /usr/local
DESTDIR ?=
man: ksc scripts/gen-man
	rm -rf build/man
	scripts/gen-man ./ksc build/man

install: ksc man
	install -D -m 0755 ksc $(DESTDIR)$(PREFIX)/bin/ksc
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 build/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -D -m 0644 scripts/ksc.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/ksc
	install -d $(DESTDIR)$(PREFIX)/share/ksc/scripts
	install -m 0755 $(VM_SCRIPTS) $(DESTDIR)$(PREFIX)/share/ksc/scripts/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ksc $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ksc
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/ksc.1 $(DESTDIR)$(PREFIX)/share/man/man1/ksc-*.1
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/ksc/,$(VM_SCRIPTS))
	rmdir --ignore-fail-on-non-empty $(DESTDIR)$(PREFIX)/share/ksc/scripts $(DESTDIR)$(PREFIX)/share/ksc 2>/dev/null || true


# Fuzzers (tests/fuzz): libFuzzer targets built with clang and ASan+UBSan
# from the same sources as ksc minus main.c.  `make fuzz` runs each for
# FUZZ_SECONDS on its seed corpus and saves every crash, minimised, in
# tests/fuzz/regress/; tests/fuzz/t-fuzz.sh replays them and fuzzes briefly.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRCS    := $(filter-out compiler/main.c,$(SRCS)) build/stdheaders.c build/runtime_files.c \
                build/names_table.c
FUZZ_OBJS    := $(FUZZ_SRCS:%.c=build/fuzz/%.o)

build/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(KSC_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build/fuzz/fuzz_front: tests/fuzz/fuzz_front.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(KSC_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# --wrap: the BTF fuzzer's stand-in for the running kernel's BTF (see fuzz_btf.c).
build/fuzz/fuzz_btf: tests/fuzz/fuzz_btf.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(KSC_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Wl,--wrap=btf__parse -o $@ $^ $(LDLIBS)

fuzz-build: build/fuzz/fuzz_front build/fuzz/fuzz_btf

fuzz: fuzz-build
	tests/fuzz/run-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build ksc ksc-asan tests/out bench/out

.PHONY: asan check clean fuzz fuzz-build man install uninstall
-include $(OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
