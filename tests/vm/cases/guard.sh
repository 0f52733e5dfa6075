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

# refused_reported WHAT CMD...: CMD (run as a process of its own) fails with
# EPERM, and a denied bpf guard event names that process; prints the event.
refused_reported() {
	local what=$1 out ev; shift
	out=$(record_pid "$TMP/refused.pid" "$@" 2>&1) && { fail "$what went through: $out"; return 1; }
	expect_match "$out" "Operation not permitted" "$what: the error" || return 1
	ev=$(await_guard_event ".op == \"bpf\" and .pid == $(cat "$TMP/refused.pid")") || return 1
	expect_eq "$(jq -r .denied <<<"$ev")" true "$what: denied" || return 1
	echo "$what: $ev"
}

# ids of perimd's maps (map_id) or programs (prog_id), from its fdinfo
perimd_ids() { grep -h "^$1:" /proc/"$PERIMD_PID"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un; }

# all_refused BPFGET-ARGS...: bpfget (tests/vm/progs/bpfget.c) was refused
# every object it asked for, EPERM each.
all_refused() {
	local out
	out=$("$VM_OUT/bpfget" "$@") || fail "bpfget $1 failed: $out" || return 1
	! grep -v ' Operation not permitted$' <<<"$out" || fail "not refused (above)"
}

# by_ids KIND BPFTOOL-ARGS...: every one of perimd's objects of KIND fetched by
# id is refused: the first to bpftool (and reported), all of them to bpfget
# (one process: a bpftool per object cost a second each under emulation).
by_ids() {
	local kind=$1 ids; shift
	ids=$(perimd_ids "$kind")
	[ -n "$ids" ] || fail "no $kind in perimd's fdinfo" || return 1
	refused_reported "$kind ${ids%%$'\n'*}" bpftool "$@" id "${ids%%$'\n'*}" || return 1
	# shellcheck disable=SC2086 # one id a word
	all_refused "${kind%_id}" $ids || return 1
	echo "all $(wc -w <<<"$ids") of perimd's objects by $kind refused"
}

# bpf rule over perimd's pin root: every process but perimd (recognised by pid
# and start time) is refused a new fd to perimd's maps and programs, however
# it names them (a pin by an absolute, relative or oddly spelled path, an id),
# and the unlink, rename or planting of a pin there, even a process named
# perimd; perimd itself keeps pinning and opening its maps (attach, limit set).
case_perim_lsm_guard_bpf_pins() {
	perim_require
	command -v bpftool >/dev/null || vm_skip "bpftool not installed"
	printf 'bpf %s/ enforce\n' "$PIN_ROOT" > "$TMP/guard.rules"
	perim_setup --events "$TMP/events.jsonl" --guard-rules "$TMP/guard.rules" || return 1
	expect_hook_family '^lsm$' || return 1
	local how h
	how=$(perim_status | jq -r '.hooks[] | select(.name == "guard_bpf") | .how')
	for h in bpf_map bpf_prog inode_unlink inode_rename inode_create; do
		expect_match "$how" "(^|[ ,])$h(,|$)" "guard_bpf attached on $h" || return 1
	done
	pctl attach "$GW" mode native || fail "perimctl attach under the bpf guard" || return 1
	pctl limit set "$GW" src 10.77.0.2/32 proto udp dport 5001 rate 1pps burst 1 ||
		fail "perimctl limit set under the bpf guard" || return 1
	local list
	list=$(pctl -j limit list "$GW") || fail "perimctl limit list" || return 1
	expect_match "$list" 5001 "rule listed" || return 1
	[ -e "$PIN_ROOT/perim_rules" ] || fail "no $PIN_ROOT/perim_rules pinned: $(ls "$PIN_ROOT")" || return 1
	# pinned by perimd after the rule was active (inode_create under it)
	compgen -G "$PIN_ROOT/perim_lpm4_*" >/dev/null || fail "no prefix map pinned: $(ls "$PIN_ROOT")" || return 1

	# any other process: refused, and reported with the process and the map
	local ev
	ev=$(refused_reported "absolute path" bpftool map show pinned "$PIN_ROOT/perim_rules") || return 1
	echo "$ev"
	expect_eq "$(jq -r .path <<<"${ev#*: }")" perim_rules "the map's name" &&
		expect_eq "$(jq -r .comm <<<"${ev#*: }")" bpftool "comm" || return 1

	# the bypasses of a path match: each refused by the object's identity
	( cd "$PIN_ROOT" && refused_reported "relative path" bpftool map show pinned ./perim_rules ) || return 1
	refused_reported "double slash" bpftool map show pinned "${PIN_ROOT%/*}//${PIN_ROOT##*/}//perim_rules" || return 1
	by_ids map_id map dump || return 1
	by_ids prog_id prog show || return 1
	refused_reported "rm of a pin" rm -f "$PIN_ROOT/perim_rules" || return 1
	refused_reported "mv of a pin" mv "$PIN_ROOT/perim_rules" "$PIN_ROOT/$T-moved" || return 1
	[ -e "$PIN_ROOT/perim_rules" ] || fail "$PIN_ROOT/perim_rules gone after the refusals" || return 1
	on_cleanup rm -f "$PIN_ROOT/$T-planted"
	refused_reported "a pin planted" bpftool map create "$PIN_ROOT/$T-planted" type hash key 4 value 4 \
		entries 1 name planted || return 1

	# every pin below the root, map or program: refused
	local pins
	find "$PIN_ROOT" -type f > "$TMP/pins" && mapfile -t pins < "$TMP/pins"
	[ ${#pins[@]} -gt 0 ] || fail "no pins under $PIN_ROOT" || return 1
	all_refused pin "${pins[@]}" || return 1
	echo "all ${#pins[@]} pins under $PIN_ROOT refused"

	# a process named perimd (comm and argv[0]) is still not perimd
	mkdir -p "$TMP/$T-d" && cp "$(command -v bpftool)" "$TMP/$T-d/perimd" || return 1
	ev=$(refused_reported "a process named perimd" "$TMP/$T-d/perimd" map show pinned "$PIN_ROOT/perim_rules") ||
		return 1
	echo "$ev"
	expect_eq "$(jq -r .comm <<<"${ev#*: }")" perimd "the fake's comm" &&
		expect_ne "$(jq -r .pid <<<"${ev#*: }")" "$PERIMD_PID" "the fake's pid" || return 1

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
