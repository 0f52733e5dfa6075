# shellcheck shell=bash
# Hook-family capability cases: each loads one of tests/vm/progs/*.bpf.c with
# hookcheck, which performs an action in a child and checks the hook saw it.

hookcheck() { "$VM_OUT/hookcheck" "$VM_OUT/$1.bpf.o" "${@:2}"; }

case_bpf_feature_probe() {
	local out t
	out=$(bpftool feature probe kernel 2>&1) || fail "bpftool feature probe: $out" || return 1
	for t in kprobe tracepoint tracing lsm xdp ext; do
		expect_match "$out" "eBPF program_type $t is available" "program type $t" || return 1
	done
	expect_match "$out" "eBPF map_type ringbuf is available" "ring buffer"
}

case_kprobe_unlink() {
	echo x > "$TMP/victim"
	hookcheck kprobe unlink "$TMP/victim"
}

case_fentry_unlink() {
	echo x > "$TMP/victim"
	hookcheck fentry unlink "$TMP/victim"
}

case_tracepoint_exec() { hookcheck tracepoint exec /bin/true; }

case_tracepoint_btf_exec() { hookcheck tp_btf exec /bin/true; }

# BPF LSM programs only run when "bpf" is in the active LSM list (lsm= boot option).
case_lsm_active() {
	local lsms
	lsms=$(cat /sys/kernel/security/lsm) || return 1
	expect_match "$lsms" '(^|,)bpf(,|$)' "active LSMs"
}

case_lsm_file_open() { hookcheck lsm_open open /etc/hostname; }

# The target is refused; hookcheck's bystander child, doing the same while the
# program is attached, must not be.
case_lsm_deny_open() { hookcheck lsm_open --deny open /etc/hostname; }

case_lsm_deny_exec() { hookcheck lsm_exec --deny exec /bin/true; }
