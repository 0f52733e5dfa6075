# shellcheck shell=bash
# The XDP datapath (xdp_bench): perim's cases beside the floor, xdp-filter, the
# lower bounds, the minimal limiter, another perim build's drop and pass paths
# when PERIM_BENCH_BASELINE_OBJ names its perim_xdp.bpf.o, and, when PERIM_BENCH_XDPFW_SRC names a
# gamemann/XDP-Firewall source tree, XDP-Firewall. That tree is never part of
# perim: its XDP program is built here, into the run's temporary directory,
# against the system's libxdp and libbpf headers, with its config.h as shipped
# plus its per-IP rate limit (ENABLE_RL_IP, which it ships disabled).

# xdpfw_build: prints the object's path, or "skip: WHY" when there is none.
xdpfw_build() {
	local src=${PERIM_BENCH_XDPFW_SRC:-} obj=$TMP/xdpfw/xdp_prog.o
	if [ -z "$src" ]; then
		echo "skip: PERIM_BENCH_XDPFW_SRC is not set (a gamemann/XDP-Firewall source tree)"; return
	fi
	if [ ! -f "$src/src/xdp/prog.c" ]; then
		echo "skip: $src has no src/xdp/prog.c: not an XDP-Firewall tree"; return
	fi
	if [ ! -f /usr/include/xdp/prog_dispatcher.h ]; then
		echo "skip: no system libxdp headers (/usr/include/xdp/prog_dispatcher.h; libxdp-dev)"; return
	fi
	mkdir -p "$TMP/xdpfw" || { echo "skip: cannot create $TMP/xdpfw"; return; }
	# -D__x86_64__: glibc's headers, which it includes, pick their 64-bit variant.
	if ! "${CLANG:-clang}" -O2 -g -target bpf -D__x86_64__ -DENABLE_RL_IP -I "$src/src" \
		-I /usr/include -I "/usr/include/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)" \
		-c "$src/src/xdp/prog.c" -o "$obj" 2>"$TMP/xdpfw/build.log"; then
		echo "skip: building $src/src/xdp/prog.c failed: $(grep -m1 'error' "$TMP/xdpfw/build.log")"; return
	fi
	echo "$obj"
}

section_xdp() {
	local args=() fw
	[ "${BENCH_QUICK:-0}" = 1 ] && args=(-r 2 -n 200000 -s 20000)
	fw=$(xdpfw_build)
	case $fw in
	skip:*) args+=(-F "${fw#skip: }") ;;
	*) args+=(-f "$fw") ;;
	esac
	# Another build's perim_xdp.bpf.o (say, main's) beside this one, in the same rounds.
	[ -n "${PERIM_BENCH_BASELINE_OBJ:-}" ] && args+=(-B "$PERIM_BENCH_BASELINE_OBJ")
	.output/tests/bench/xdp_bench "${args[@]}"
}
