# perim — top-level build. Outputs go to .output/; one pattern rule makes every
# BPF object and one every skeleton. V=1 shows the commands.
.DELETE_ON_ERROR:
# BPF objects stay after their skeletons are made (benchmarks and the VM tier read them).
.SECONDARY:
.SUFFIXES:

OUTPUT    := .output
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

PKGS      := libbpf libxdp libnl-route-3.0 libnl-genl-3.0 json-c libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libmicrohttpd is dlopen()ed when metrics start (ctl/perimd/metrics.c), not linked.
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libmicrohttpd,$(PKGS)) 2>/dev/null)

INCLUDES  := -Iinclude -I$(OUTPUT) -Ictl/common -Ictl/perimd
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
             -D_GNU_SOURCE $(INCLUDES) $(PKG_CFLAGS)
LDLIBS    := $(PKG_LIBS) -lelf -lz -lpthread
# libnftables: perimd's synproxy tables (ctl/perimd/netfilter/), so perimd and the tests linking its modules.
PERIMD_LDLIBS := $(shell pkg-config --libs libnftables 2>/dev/null)

BPF_CFLAGS := -target bpf -g -O2 -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror \
              -Iinclude -I$(OUTPUT) -I/usr/include/$(MULTIARCH)

# BPF programs: xdp/*.bpf.c, tracers/*.bpf.c and the benchmarks' own
# tests/bench/progs/*.bpf.c, each with a skeleton.
BPF_SRCS  := $(wildcard xdp/*.bpf.c tracers/*.bpf.c tests/bench/progs/*.bpf.c)
BPF_OBJS  := $(patsubst %.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst %.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
BPF_HDRS  := $(wildcard include/*.h xdp/lib/*.h tracers/lib/*.h)

# User space: ctl/common/ is linked into everything, ctl/perimd/ into the
# daemon, ctl/perimctl/ into the CLI.
COMMON_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(wildcard ctl/common/*.c))
PERIMD_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(shell find ctl/perimd -name '*.c'))
PERIMCTL_OBJS:= $(patsubst %.c,$(OUTPUT)/%.o,$(wildcard ctl/perimctl/*.c))
# Daemon modules without main() are linkable into tests and benchmarks.
PERIMD_LIB_OBJS := $(filter-out $(OUTPUT)/ctl/perimd/main.o,$(PERIMD_OBJS))
USER_HDRS := $(wildcard include/*.h ctl/common/*.h ctl/perimctl/*.h) $(shell find ctl/perimd -name '*.h')

# Test and benchmark programs: one binary per .c file.
TEST_SRCS := $(wildcard tests/unit/*.c tests/tools/*.c tests/bench/*.c)
TEST_BINS := $(patsubst %.c,$(OUTPUT)/%,$(TEST_SRCS))

BINS := $(OUTPUT)/perimd $(OUTPUT)/perimctl

.PHONY: all bpf test vmtest bench lab deps clean install
all: $(BINS) $(TEST_BINS)
bpf: $(SKELS)

$(OUTPUT)/vmlinux.h: $(VMLINUX_BTF)
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $< format c > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(OUTPUT)/%.bpf.o: %.bpf.c $(BPF_HDRS) $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The object a skeleton embeds needs BTF, not DWARF: stripped, it costs perimd less memory.
$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(LLVM_STRIP) -g -o $@.o $<
	$(Q)$(BPFTOOL) gen skeleton $@.o name $(notdir $(basename $(basename $<))) > $@
	$(Q)rm -f $@.o

$(OUTPUT)/%.o: %.c $(USER_HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/perimd: $(PERIMD_OBJS) $(COMMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) $(PERIMD_LDLIBS) -o $@

$(OUTPUT)/perimctl: $(PERIMCTL_OBJS) $(COMMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/%.c $(USER_HDRS) $(SKELS) $(COMMON_OBJS) $(PERIMD_LIB_OBJS) tests/lib/*.h
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $< $(COMMON_OBJS) $(PERIMD_LIB_OBJS) $(LDLIBS) $(PERIMD_LDLIBS) -o $@

test: all
	$(Q)tests/run.sh

vmtest: all
	$(Q)tests/vm/run.sh

bench: all
	$(Q)tests/bench/run.sh

lab: all
	$(Q)scripts/lab.sh

deps:
	$(Q)scripts/deps.sh

install: $(BINS)
	install -D -m 0755 $(OUTPUT)/perimd $(DESTDIR)/usr/local/sbin/perimd
	install -D -m 0755 $(OUTPUT)/perimctl $(DESTDIR)/usr/local/sbin/perimctl

clean:
	rm -rf $(OUTPUT)
