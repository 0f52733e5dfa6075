# perim — top-level build. Outputs go to .output/; one pattern rule makes every
# BPF object, one every skeleton and one every user-space object. Each object
# depends on what it really includes (-MMD -MP: the .d files next to it).
# V=1 shows the commands.
#
#   make            perimd and perimctl
#   make tests      the unit tests, the test tools (make tools) and the VM tier's
#                   programs (make vm-progs)
#   make test       builds all of that, then runs tests/run.sh
#   make bench      builds the benchmarks, then runs tests/bench/run.sh
#   make soak       the soak test (DURATION=SECONDS, default 1800)
.DELETE_ON_ERROR:
# BPF objects stay after their skeletons are made (benchmarks and the VM tier read them).
.SECONDARY:
.SUFFIXES:
.DEFAULT_GOAL := all

# SAN=1: ASan+UBSan builds in their own directory (the sanitizer block at the end).
OUTPUT    := $(if $(filter 1,$(SAN)),.output-san,.output)
CLANG     ?= clang
BPFTOOL   ?= bpftool
LLVM_STRIP ?= llvm-strip
CC        ?= gcc
MULTIARCH := $(shell $(CC) -print-multiarch)
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Libraries, through pkg-config, per binary: perimctl speaks JSON over a
# socket; perimd (and the tests and benchmarks linking its modules) loads BPF
# and talks rtnetlink; libmicrohttpd is dlopen()ed when metrics start
# (ctl/perimd/metrics.c), not linked; libnftables writes the SYN protections'
# synproxy tables (ctl/perimd/syn/synproxy.c). A missing library stops the build with
# its name, except for the goals that compile nothing (deps installs them).
PKGS := libbpf libxdp libnl-route-3.0 libnl-genl-3.0 json-c zlib libnats libcrypto libmicrohttpd libnftables
ifneq ($(filter-out clean deps,$(or $(MAKECMDGOALS),all)),)
MISSING_PKGS := $(strip $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) && echo yes),,$(p))))
ifneq ($(MISSING_PKGS),)
$(error pkg-config knows no $(MISSING_PKGS): install the build dependencies with scripts/deps.sh)
endif
PKG_CFLAGS     := $(shell pkg-config --cflags $(PKGS))
PERIMCTL_LIBS  := $(shell pkg-config --libs json-c)
PERIMD_LIBS    := $(shell pkg-config --libs libbpf libxdp libnl-route-3.0 libnl-genl-3.0 json-c zlib libnats libcrypto libnftables)
# The fleet tests' NATS helpers (tests/tools/nats*.c).
NATS_LIBS      := $(shell pkg-config --libs libnats libcrypto)
VM_LOADER_LIBS := $(shell pkg-config --libs libbpf)
endif

INCLUDES  := -Iinclude -I$(OUTPUT) -Ictl/common -Ictl/perimd
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
             -D_GNU_SOURCE $(INCLUDES) $(PKG_CFLAGS)
# Test code finds the assertion kit; a unit test also gets its generated case table.
$(OUTPUT)/tests/%.o: CFLAGS += -Itests/lib
$(OUTPUT)/tests/unit/%.o: CFLAGS += -include $(@:.o=.cases.h)

BPF_CFLAGS := -target bpf -g -O2 -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror \
              -Iinclude -I$(OUTPUT) -I/usr/include/$(MULTIARCH)
DEPFLAGS  := -MMD -MP

# BPF programs with a skeleton: the product's (xdp/, tracers/) and the
# benchmarks' own (tests/bench/progs/). The VM tier's probe programs are plain
# objects its loader opens by path.
PRODUCT_BPF := $(wildcard xdp/*.bpf.c tracers/*.bpf.c)
BENCH_BPF   := $(wildcard tests/bench/progs/*.bpf.c)
VM_BPF      := $(wildcard tests/vm/progs/*.bpf.c)
bpf_objs = $(patsubst %.bpf.c,$(OUTPUT)/%.bpf.o,$(1))
skels    = $(patsubst %.bpf.c,$(OUTPUT)/%.skel.h,$(1))
PRODUCT_SKELS := $(call skels,$(PRODUCT_BPF))
BENCH_SKELS   := $(call skels,$(BENCH_BPF))
VM_LOADERS    := $(OUTPUT)/tests/vm/progs/hookcheck $(OUTPUT)/tests/vm/progs/bpfget
VM_PROGS      := $(call bpf_objs,$(VM_BPF)) $(VM_LOADERS)

objs = $(patsubst %.c,$(OUTPUT)/%.o,$(1))

# User space: ctl/common/ (any depth) is an archive, so each binary takes only
# the files it calls into; ctl/perimd/ (any depth) is the daemon, ctl/perimctl/ the CLI.
COMMON_OBJS   := $(call objs,$(shell find ctl/common -name '*.c'))
COMMON_LIB    := $(OUTPUT)/libperim_common.a
PERIMD_OBJS   := $(call objs,$(shell find ctl/perimd -name '*.c'))
PERIMCTL_OBJS := $(call objs,$(wildcard ctl/perimctl/*.c))
# Daemon modules without main() are linkable into tests and benchmarks.
PERIMD_LIB_OBJS := $(filter-out $(OUTPUT)/ctl/perimd/main.o,$(PERIMD_OBJS))

# Test programs: one binary per .c file. A unit test's cases are its test_*
# functions, listed by tests/lib/cases.sh; tests/lib/*.c holds their main().
UNIT_SRCS  := $(wildcard tests/unit/*.c)
TOOL_SRCS  := $(wildcard tests/tools/*.c)
BENCH_SRCS := $(wildcard tests/bench/*.c)
UNIT_BINS  := $(patsubst %.c,$(OUTPUT)/%,$(UNIT_SRCS))
TOOL_BINS  := $(patsubst %.c,$(OUTPUT)/%,$(TOOL_SRCS))
BENCH_BINS := $(patsubst %.c,$(OUTPUT)/%,$(BENCH_SRCS))
TEST_LIB_OBJS := $(call objs,$(wildcard tests/lib/*.c))
# A test build of perimd: the daemon's objects plus the test-only switches (tests/daemon/).
PERIMD_TEST_OBJS := $(call objs,$(wildcard tests/daemon/*.c)) $(filter-out %/test_main.o,$(TEST_LIB_OBJS))
PERIMD_TEST := $(OUTPUT)/tests/perimd-test

BINS := $(OUTPUT)/perimd $(OUTPUT)/perimctl

ALL_OBJS := $(COMMON_OBJS) $(PERIMD_OBJS) $(PERIMCTL_OBJS) $(PERIMD_TEST_OBJS) \
            $(call objs,$(UNIT_SRCS) $(TOOL_SRCS) $(BENCH_SRCS) tests/vm/progs/hookcheck.c tests/vm/progs/bpfget.c) \
            $(call bpf_objs,$(PRODUCT_BPF) $(BENCH_BPF) $(VM_BPF))
-include $(ALL_OBJS:.o=.d)

.PHONY: all bpf tests tools vm-progs test vmtest bench soak lab deps clean install deb
all: $(BINS)
bpf: $(PRODUCT_SKELS)
# test-fleet.sh drives fleet_load (a benchmark tool) for its cap case.
tests: $(BINS) $(UNIT_BINS) $(PERIMD_TEST) $(OUTPUT)/tests/bench/fleet_load $(OUTPUT)/tests/bench/storm $(OUTPUT)/tests/bench/xdp_live tools vm-progs
tools: $(TOOL_BINS)
vm-progs: $(VM_PROGS)

$(OUTPUT)/vmlinux.h: $(VMLINUX_BTF)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $< format c > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(OUTPUT)/%.bpf.o: %.bpf.c $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

# The object a skeleton embeds needs BTF, not DWARF: stripped, it costs perimd less memory.
$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(LLVM_STRIP) -g -o $@.o $<
	$(Q)$(BPFTOOL) gen skeleton $@.o name $(notdir $(basename $(basename $<))) > $@
	$(Q)rm -f $@.o

$(OUTPUT)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# A first build has no .d files yet: the skeletons a file may include exist
# before it compiles (order-only: a new skeleton alone rebuilds nothing; the
# .d files then name the ones each object really includes).
$(PERIMD_OBJS) $(call objs,$(UNIT_SRCS)): | $(PRODUCT_SKELS)
$(call objs,$(BENCH_SRCS)): | $(PRODUCT_SKELS) $(BENCH_SKELS)
$(call objs,$(UNIT_SRCS)): $(OUTPUT)/%.o: $(OUTPUT)/%.cases.h

$(OUTPUT)/tests/unit/%.cases.h: tests/unit/%.c tests/lib/cases.sh
	$(call msg,CASES,$@)
	$(Q)mkdir -p $(@D)
	$(Q)tests/lib/cases.sh $< > $@

$(COMMON_LIB): $(COMMON_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(OUTPUT)/perimd: $(PERIMD_OBJS) $(COMMON_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PERIMD_LIBS) -o $@

$(OUTPUT)/perimctl: $(PERIMCTL_OBJS) $(COMMON_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PERIMCTL_LIBS) -o $@

$(PERIMD_TEST): $(PERIMD_OBJS) $(PERIMD_TEST_OBJS) $(COMMON_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PERIMD_LIBS) -o $@

$(UNIT_BINS): $(OUTPUT)/%: $(OUTPUT)/%.o $(TEST_LIB_OBJS) $(PERIMD_LIB_OBJS) $(COMMON_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PERIMD_LIBS) -o $@

$(BENCH_BINS): $(OUTPUT)/%: $(OUTPUT)/%.o $(PERIMD_LIB_OBJS) $(COMMON_LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PERIMD_LIBS) -o $@

# storm's exec storm runs exec_nop, found beside it: static and without a C library, so an
# exec pays neither a loader nor libc's start-up.
$(OUTPUT)/tests/bench/exec_nop: tests/bench/nop/exec_nop.c
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O2 -Wall -Wextra -Werror -static -nostdlib -ffreestanding -fno-stack-protector $< -o $@
$(OUTPUT)/tests/bench/storm: | $(OUTPUT)/tests/bench/exec_nop

# proc_rss fills a process table as the tests' synthetic one does.
$(OUTPUT)/tests/bench/proc_rss: $(OUTPUT)/tests/lib/proctable_synth.o

# The test tools (packet senders, listeners) stand alone: libc only, but for
# the fleet tests' NATS helpers.
$(TOOL_BINS): $(OUTPUT)/%: $(OUTPUT)/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(if $(filter nats%,$(notdir $@)),$(NATS_LIBS)) $(TOOL_EXTRA_LIBS) -o $@

# natsnkey and natsjwt make the nkeys perimd reads (the same encoding, not a second copy of it).
$(OUTPUT)/tests/tools/natsnkey $(OUTPUT)/tests/tools/natsjwt: $(OUTPUT)/ctl/perimd/fleet/nkey.o
$(OUTPUT)/tests/tools/natsjwt: TOOL_EXTRA_LIBS := $(shell pkg-config --libs json-c)

$(VM_LOADERS): $(OUTPUT)/%: $(OUTPUT)/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(VM_LOADER_LIBS) -o $@

test: tests
	$(Q)tests/run.sh

vmtest: all tools vm-progs
	$(Q)tests/vm/run.sh

bench: all tools $(BENCH_BINS)
	$(Q)tests/bench/run.sh

# make soak [DURATION=SECONDS]: everything at once on a perimeter veth for
# DURATION seconds (default 1800), measured (tests/soak/soak.sh).
DURATION ?= 1800
soak: all tools
	$(Q)DURATION=$(DURATION) tests/soak/soak.sh

lab: all tools
	$(Q)scripts/lab.sh

deps:
	$(Q)scripts/deps.sh

# Installed layout (debian/rules runs this with DESTDIR). The unit goes where
# this system's systemd looks (/lib/systemd/system on Debian 12).
PREFIX    ?= /usr
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
BTFDIR    ?= $(PREFIX)/lib/perim/btf
UNITDIR   ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
MAN_PAGES := $(wildcard dist/*.8)

install: $(BINS)
	install -D -m 0755 $(OUTPUT)/perimd $(DESTDIR)$(SBINDIR)/perimd
	install -D -m 0755 $(OUTPUT)/perimctl $(DESTDIR)$(SBINDIR)/perimctl
	install -D -m 0644 dist/perimd.conf $(DESTDIR)$(SYSCONFDIR)/perim/perimd.conf
	install -D -m 0644 dist/perimd.service $(DESTDIR)$(UNITDIR)/perimd.service
	install -d -m 0755 $(DESTDIR)$(BTFDIR)
	$(if $(MAN_PAGES),install -D -m 0644 -t $(DESTDIR)$(MANDIR)/man8 $(MAN_PAGES))
	$(if $(wildcard dist/perimctl.bash-completion),install -D -m 0644 dist/perimctl.bash-completion $(DESTDIR)$(COMPLETIONDIR)/perimctl)

# The Debian package, built by the Debian tools from a copy of the tree (what
# git tracks plus new files it does not ignore) under $(DEB_WORK), so
# dpkg-buildpackage's clean step and its writes to the parent directory touch
# neither this tree nor .output/. The .deb lands in $(DEB_OUT).
DEB_WORK  := $(OUTPUT)/deb-work
DEB_OUT   := $(OUTPUT)/deb

deb:
	$(call msg,DEB,$(DEB_OUT))
	$(Q)rm -rf $(DEB_WORK) && mkdir -p $(DEB_WORK)/src $(DEB_OUT)
	$(Q)git ls-files -z --cached --others --exclude-standard | \
		xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' _ | \
		tar --null -T - -cf - | tar -xf - -C $(DEB_WORK)/src
	$(Q)cd $(DEB_WORK)/src && dpkg-buildpackage -us -uc -b > ../build.log 2>&1 || \
		{ tail -n 40 ../build.log; exit 1; }
	$(Q)rm -f $(DEB_OUT)/*.deb && mv $(DEB_WORK)/*.deb $(DEB_WORK)/*.buildinfo $(DEB_WORK)/*.changes $(DEB_OUT)/
	$(Q)ls $(DEB_OUT)/*.deb

clean:
	rm -rf $(OUTPUT)

# ---- sanitizers, fuzzing, differential XDP parser test ----
# SAN=1 (see OUTPUT above): perimd, perimctl and the test tools with ASan and
# UBSan, every UBSan finding fatal. Run the tests against it with
# PERIM_OUT=.output-san (tests/lib/lib.sh).
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CFLAGS    += $(SAN_FLAGS)
endif

# make fuzz [FUZZ_SECONDS=N]: each libFuzzer target (tests/fuzz/fuzz_*.c) for
# N seconds on its corpus (tests/fuzz/corpus/NAME/); any crash fails.
# The code under test is compiled again with clang and the sanitizers into
# $(FUZZ_OUT), so the normal objects are untouched.
FUZZ_OUT     := $(OUTPUT)/fuzz
FUZZ_HDRS    := $(shell find include ctl tests/lib -name '*.h')
FUZZ_SECONDS ?= 60
# perimd is written for gcc: clang warns of a GNU extension it uses on purpose (nicstats.c).
FUZZ_FLAGS   := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer -g -O1 -Wno-gnu-variable-sized-type-not-at-end
FUZZ_CFLAGS   = $(filter-out -O2,$(CFLAGS)) $(FUZZ_FLAGS) -Itests/fuzz
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(FUZZ_SRCS))
FUZZ_LIB_OBJS := $(patsubst $(OUTPUT)/%,$(FUZZ_OUT)/%,$(COMMON_OBJS) $(PERIMD_LIB_OBJS))

$(FUZZ_OUT)/ctl/%.o: ctl/%.c $(FUZZ_HDRS) $(PRODUCT_SKELS)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/*.h $(FUZZ_HDRS) $(FUZZ_LIB_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_OBJS) $(PERIMD_LIBS) -o $@

.PHONY: fuzz fuzz-build xdp-diff
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_OUT) $(FUZZ_SECONDS)

# The XDP parser against an independent decoder: XDP_DIFF_FRAMES frames (default 1,000,000).
XDP_DIFF_FRAMES ?= 1000000
xdp-diff: $(OUTPUT)/tests/fuzz/xdp_diff
	$(Q)$(OUTPUT)/tests/fuzz/xdp_diff $(XDP_DIFF_FRAMES)

$(OUTPUT)/tests/fuzz/xdp_diff: tests/fuzz/xdp_diff/*.c tests/fuzz/xdp_diff/*.h $(FUZZ_HDRS) $(PRODUCT_SKELS) tests/lib/*.h
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $(filter %.c,$^) $(PERIMD_LIBS) -o $@

# Seed capture (tests/fuzz/capture-seeds.sh): the kernel's raw netlink and ethtool answers.
$(OUTPUT)/tests/fuzz/nl_capture: tests/fuzz/capture/nl_capture.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -o $@
