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

.PHONY: all bpf test vmtest bench lab deps clean install deb
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
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/perimctl: $(PERIMCTL_OBJS) $(COMMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/%.c $(USER_HDRS) $(SKELS) $(COMMON_OBJS) $(PERIMD_LIB_OBJS) tests/lib/*.h
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $< $(COMMON_OBJS) $(PERIMD_LIB_OBJS) $(LDLIBS) -o $@

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
