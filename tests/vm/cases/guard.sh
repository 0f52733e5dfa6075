# shellcheck shell=bash
# perimd's LSM guard rails (--guard-rules) on the guest kernel, beyond the
# enforce case in perim.sh: the bpf rule guarding perim's own pins, open rules
# by inode, audit mode; and the module_load hook, with a module of the guest
# kernel that build-initramfs.sh packs as a spare (/run/perim-vm-modules).
# Uses perim.sh's helpers (perim_setup, pctl, expect_hook_family).

# guard_event JQ-CONDITION: the first guard event in the sink matching it.
guard_event() { jq -c "select(.type == \"guard\" and ($1))" "$TMP/events.jsonl" 2>/dev/null | head -n 1; }
guard_seen() { [ -n "$(guard_event "$1")" ]; }

# await_guard_event JQ-CONDITION: wait for it, print it.
await_guard_event() {
	wait_until 30 guard_seen "$1" || { fail "no guard event matching: $1"; return 1; }
	guard_event "$1"
}

# record_pid FILE CMD...: run CMD as this very process after writing its pid
# to FILE (so the event's pid can be checked); CMD's exit code and stderr.
record_pid() {
	local file=$1; shift
	bash -c 'echo $$ > "$0"; exec "$@"' "$file" "$@"
}

# denied CMD...: CMD fails, and says so with EPERM.
denied() {
	local out
	out=$("$@" 2>&1) && { fail "'$*' succeeded: $out"; return 1; }
	expect_match "$out" "Operation not permitted" "'$*'"
}

# bpf rule over perimd's pin root: every process but perimd (recognised by pid
# and start time) is refused bpf(BPF_OBJ_GET) below it, even one named perimd;
# perimd itself keeps pinning and opening its maps (attach, limit set).
case_perim_lsm_guard_bpf_pins() {
	perim_require
	command -v bpftool >/dev/null || vm_skip "bpftool not installed"
	printf 'bpf %s/ enforce\n' "$PIN_ROOT" > "$TMP/guard.rules"
	perim_setup --events "$TMP/events.jsonl" --guard-rules "$TMP/guard.rules" || return 1
	expect_hook_family '^lsm$' || return 1
	pctl attach "$GW" mode native || fail "perimctl attach under the bpf guard" || return 1
	pctl limit set "$GW" src 10.77.0.2/32 proto udp dport 5001 rate 1pps burst 1 ||
		fail "perimctl limit set under the bpf guard" || return 1
	local list
	list=$(pctl -j limit list "$GW") || fail "perimctl limit list" || return 1
	expect_match "$list" 5001 "rule listed" || return 1
	[ -e "$PIN_ROOT/perim_rules" ] || fail "no $PIN_ROOT/perim_rules pinned: $(ls "$PIN_ROOT")" || return 1
	# pinned by perimd after the rule was active (bpf(BPF_OBJ_PIN) under it)
	compgen -G "$PIN_ROOT/perim_lpm4_*" >/dev/null || fail "no prefix map pinned: $(ls "$PIN_ROOT")" || return 1

	# any other process: refused, and reported with the process and the path
	record_pid "$TMP/other.pid" bpftool map show pinned "$PIN_ROOT/perim_rules" > "$TMP/other.out" 2>&1 &&
		fail "bpftool opened $PIN_ROOT/perim_rules: $(cat "$TMP/other.out")" && return 1
	expect_match "$(cat "$TMP/other.out")" "Operation not permitted" "bpftool's error" || return 1
	local ev
	ev=$(await_guard_event ".op == \"bpf\" and .pid == $(cat "$TMP/other.pid")") || return 1
	echo "$ev"
	expect_eq "$(jq -r .denied <<<"$ev")" true "denied" &&
		expect_eq "$(jq -r .path <<<"$ev")" "$PIN_ROOT/perim_rules" "path" &&
		expect_eq "$(jq -r .comm <<<"$ev")" bpftool "comm" || return 1

	# every pin below the root, map or program: bpf(BPF_OBJ_GET) is refused
	local pin n=0
	while read -r pin; do
		denied bpftool prog show pinned "$pin" || return 1
		n=$((n + 1))
	done < <(find "$PIN_ROOT" -type f)
	echo "all $n pins under $PIN_ROOT refused to bpftool"

	# a process named perimd (comm and argv[0]) is still not perimd
	mkdir -p "$TMP/$T-d" && cp "$(command -v bpftool)" "$TMP/$T-d/perimd" || return 1
	record_pid "$TMP/fake.pid" "$TMP/$T-d/perimd" map show pinned "$PIN_ROOT/perim_rules" > "$TMP/fake.out" 2>&1 &&
		fail "a process named perimd opened $PIN_ROOT/perim_rules: $(cat "$TMP/fake.out")" && return 1
	expect_match "$(cat "$TMP/fake.out")" "Operation not permitted" "the fake perimd's error" || return 1
	ev=$(await_guard_event ".op == \"bpf\" and .pid == $(cat "$TMP/fake.pid")") || return 1
	echo "$ev"
	expect_eq "$(jq -r .comm <<<"$ev")" perimd "the fake's comm" &&
		expect_ne "$(jq -r .pid <<<"$ev")" "$PERIMD_PID" "the fake's pid" || return 1

	# perimd still works on its pins after all that
	pctl limit set "$GW" src 10.77.0.3/32 proto udp dport 5002 rate 1pps burst 1 ||
		fail "perimctl limit set after the refusals" || return 1
	list=$(pctl -j limit list "$GW") || return 1
	expect_match "$list" 5002 "second rule listed" || return 1
	# perimd's own pin operations were never reported
	! guard_seen ".pid == $PERIMD_PID" || fail "perimd was reported: $(guard_event ".pid == $PERIMD_PID")"
}

# open rules match by inode, resolved when perimd starts: a hard link to the
# guarded file (same inode, another name and directory) is refused too, and so
# is the file after a rename; a copy (another inode) is not. A directory rule
# guards what is reached through that directory: a hard link made outside it
# to a file inside is not guarded.
case_perim_lsm_guard_inode() {
	perim_require
	mkdir -p "$TMP/$T-vault" "$TMP/$T-out" || return 1
	echo secret > "$TMP/$T-secret" && ln "$TMP/$T-secret" "$TMP/$T-out/link" &&
		cp "$TMP/$T-secret" "$TMP/$T-copy" || return 1
	echo inside > "$TMP/$T-vault/file" && ln "$TMP/$T-vault/file" "$TMP/$T-out/vault-link" || return 1
	printf 'open %s enforce\nopen %s enforce\n' "$TMP/$T-secret" "$TMP/$T-vault" > "$TMP/guard.rules"
	perim_setup --events "$TMP/events.jsonl" --guard-rules "$TMP/guard.rules" || return 1
	expect_hook_family '^lsm$' || return 1
	denied cat "$TMP/$T-secret" || return 1
	denied cat "$TMP/$T-out/link" || return 1
	mv "$TMP/$T-secret" "$TMP/$T-renamed" || return 1
	denied cat "$TMP/$T-renamed" || return 1
	expect_eq "$(cat "$TMP/$T-copy")" secret "the copy" || return 1
	denied cat "$TMP/$T-vault/file" || return 1
	expect_eq "$(cat "$TMP/$T-out/vault-link")" inside "the file below the directory, through a link outside" ||
		return 1
	local ev
	ev=$(await_guard_event '.op == "open" and .path == "link"') || return 1
	echo "$ev"
	expect_eq "$(jq -r '.rule' <<<"$ev")" 0 "the link's rule" &&
		expect_eq "$(jq -r '.denied' <<<"$ev")" true "denied"
}

# audit mode: the open goes through, and a guard event names it and the process.
case_perim_lsm_guard_audit() {
	perim_require
	echo watched > "$TMP/$T-watched" && cp "$(command -v cat)" "$TMP/$T-reader" || return 1
	printf '# audit only\nopen %s audit\n' "$TMP/$T-watched" > "$TMP/guard.rules"
	perim_setup --events "$TMP/events.jsonl" --guard-rules "$TMP/guard.rules" || return 1
	expect_hook_family '^lsm$' || return 1
	local out
	out=$(record_pid "$TMP/reader.pid" "$TMP/$T-reader" "$TMP/$T-watched") ||
		fail "the audited open failed: $out" || return 1
	expect_eq "$out" watched "content read under audit" || return 1
	local ev
	ev=$(await_guard_event ".pid == $(cat "$TMP/reader.pid")") || return 1
	echo "$ev"
	expect_eq "$(jq -r .op <<<"$ev")" open "op" &&
		expect_eq "$(jq -r .mode <<<"$ev")" audit "mode" &&
		expect_eq "$(jq -r .denied <<<"$ev")" false "denied" &&
		expect_eq "$(jq -r .rule <<<"$ev")" 0 "rule (the first rule line, after a comment)" &&
		expect_eq "$(jq -r .path <<<"$ev")" "$T-watched" "path" &&
		expect_eq "$(jq -r .comm <<<"$ev")" "${T}-reader" "comm" &&
		expect_eq "$(jq -r '.argv[1]' <<<"$ev")" "$TMP/$T-watched" "argv" &&
		expect_eq "$(jq -r .exe <<<"$ev")" "$TMP/$T-reader" "exe"
}

# module_load: insmod of a module of the guest kernel is an event naming the
# module and the process that loaded it.
SPARE_MODULES=/run/perim-vm-modules

module_event() { jq -c "select(.type == \"module\" and .name == \"$1\")" "$TMP/events.jsonl" 2>/dev/null | head -n 1; }
module_seen() { [ -n "$(module_event "$1")" ]; }

case_perim_tracepoint_module_load_event() {
	perim_require
	local ko=$SPARE_MODULES/dummy.ko
	[ -f "$ko" ] || fail "no $ko: build-initramfs.sh packs it as a spare module" || return 1
	command -v kmod >/dev/null || vm_skip "kmod not installed"
	[ -d /sys/module/dummy ] && { rmmod dummy || fail "dummy already loaded and busy" || return 1; }
	perim_setup --events "$TMP/events.jsonl" || return 1
	local status
	status=$(perim_status) || return 1
	expect_eq "$(jq -r '.hooks[] | select(.name == "module") | .attached' <<<"$status")" true \
		"module hook attached ($(jq -c '.hooks[] | select(.name == "module")' <<<"$status"))" || return 1
	# kmod picks its applet from argv[0]; the process is named after the file
	cp "$(command -v kmod)" "$TMP/$T-kmod" || return 1
	on_cleanup rmmod dummy
	# shellcheck disable=SC2016 # $0 and $1 are the inner shell's
	record_pid "$TMP/insmod.pid" bash -c 'exec -a insmod "$0" "$1" numdummies=0' "$TMP/$T-kmod" "$ko" ||
		fail "insmod $ko failed" || return 1
	[ -d /sys/module/dummy ] || fail "dummy not loaded after insmod" || return 1
	local pid ev
	pid=$(cat "$TMP/insmod.pid")
	if ! wait_until 30 module_seen dummy; then
		fail "no module event for dummy; the module hook: $(perim_status | jq -c '.hooks[] | select(.name == "module")')"
		echo "module events:"; jq -c 'select(.type == "module")' "$TMP/events.jsonl" | head -n 5
		echo "events naming dummy:"; grep -F dummy "$TMP/events.jsonl" | head -n 5
		return 1
	fi
	ev=$(module_event dummy)
	echo "$ev"
	expect_eq "$(jq -r .pid <<<"$ev")" "$pid" "loading pid" &&
		expect_eq "$(jq -r .comm <<<"$ev")" "$T-kmod" "loading comm" &&
		expect_eq "$(jq -r .exe <<<"$ev")" "$TMP/$T-kmod" "loading exe"
}
