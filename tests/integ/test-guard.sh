#!/bin/bash
# perimd --guard-rules on the host kernel: a valid file lets perimd start, and
# on a kernel without BPF LSM (this host: LSM programs cannot attach) every
# guard hook is reported unavailable with its reason, and perimd's log says at
# start which rules are not enforced; a rule naming a missing file is logged as
# not applied. A bad file stops perimd before it changes
# anything: exit 2 and one line naming the bad word, the file and the line.
# Enforcement itself is proven in the VM tier (tests/vm/cases/guard.sh).
. "$(dirname "$0")/../lib/lib.sh"

RULES=$TMP/guard.rules
GUARD_HOOKS="guard_open guard_exec guard_bpf"

guard_hook() { pctl -j status | jq -c --arg n "$1" '.hooks[] | select(.name == $n)'; }

case_valid_file_starts_and_reports_hooks() {
	ns_add gw || return 1
	cat > "$RULES" <<-EOF
		# perim's guard rails
		open /etc/shadow enforce
		exec /tmp/$T-nowhere/ audit

		bpf $PIN_ROOT/ enforce    # perim's own pins
		open	/etc/gshadow
		write /etc/$T-sensitive/
	EOF
	perimd_start gw --guard-rules "$RULES" || return 1
	local h hook
	for h in $GUARD_HOOKS; do
		hook=$(guard_hook "$h")
		echo "$hook"
		[ -n "$hook" ] || fail "perimctl status lists no hook $h" || return 1
		expect_eq "$(jq -r .family <<<"$hook")" lsm "$h family" || return 1
		if [ "$(jq -r .attached <<<"$hook")" = true ]; then
			# a kernel with BPF LSM: attached, and saying how
			expect_ne "$(jq -r .how <<<"$hook")" null "$h how" || return 1
		else
			expect_match "$(jq -r .reason <<<"$hook")" "LSM" "$h reason" || return 1
		fi
	done
	# the human table says the same
	local table
	table=$(pctl status)
	for h in $GUARD_HOOKS; do
		expect_match "$(grep -E "^ +$h " <<<"$table")" "lsm +(not attached: .*LSM|attached via)" "$h row" || return 1
	done
	# a rule whose file does not exist is reported, not fatal
	expect_match "$(cat "$TMP/perimd.log")" "guard rule exec /tmp/$T-nowhere/ \\(line 3\\) not applied: No such file or directory" \
		"perimd's log" || return 1
	# without BPF LSM, the log says at start, in one line, which rules are not enforced and why
	local unenforced
	unenforced=$(grep -v "^{" "$TMP/perimd.log" | grep -F "guard rules NOT enforced")
	if [ "$(guard_hook guard_open | jq -r .attached)" = true ]; then
		expect_eq "$unenforced" "" "no warning with BPF LSM"
		return
	fi
	echo "$unenforced"
	expect_eq "$(grep -c . <<<"$unenforced")" 1 "warning lines" &&
		expect_match "$unenforced" "open /etc/shadow \\(line 2\\), exec /tmp/$T-nowhere/ \\(line 3\\), bpf $PIN_ROOT/ \\(line 5\\), open /etc/gshadow \\(line 6\\): " \
			"the rules named" &&
		expect_match "$unenforced" "hook guard_open: .*LSM" "the reason"
}

# refused CONTENT TOKEN WHERE: perimd refuses a rule file holding CONTENT with
# exit 2 and one line naming TOKEN and WHERE, before creating anything.
refused() {
	local content=$1 token=$2 where=$3
	printf '%b' "$content" > "$RULES"
	timeout 20 "$PERIMD" --foreground --socket "$SOCK" --pin-root "$PIN_ROOT" --state "$STATE" \
		--guard-rules "$RULES" > "$TMP/out" 2> "$TMP/err"
	local rc=$?
	local err
	err=$(cat "$TMP/err")
	echo "$err"
	expect_eq "$rc" 2 "exit code for $(head -c 60 "$RULES" | tr '\n' '|')" || return 1
	expect_eq "$(wc -l < "$TMP/err")" 1 "lines on stderr" || return 1
	expect_eq "$(cat "$TMP/out")" "" "stdout" || return 1
	expect_match "$err" "\"$token\"" "names the bad word" || return 1
	expect_match "$err" "$where" "names where" || return 1
	[ ! -e "$PIN_ROOT" ] || fail "$PIN_ROOT created by a refused start" || return 1
	[ ! -e "$SOCK" ] || fail "$SOCK created by a refused start"
}

case_bad_files_refused() {
	local f=$RULES
	refused '# rules\n\nfrob /etc/shadow enforce\n' frob "$f:3: operation must be open, exec, bpf or write" &&
	refused 'open /etc/shadow deny\n' deny "$f:1: mode must be audit or enforce" &&
	refused 'open /etc/shadow ENFORCE\n' ENFORCE "$f:1: mode must be" &&
	refused 'open /etc/shadow\nopen etc/passwd audit\n' etc/passwd "$f:2: PREFIX must be absolute" &&
	refused 'exec\n' exec "$f:1: needs a PREFIX" &&
	refused 'open /etc/shadow audit now\n' now "$f:1: too many words" &&
	refused "bpf /$(printf 'x%.0s' $(seq 64))\n" "/x+" "$f:1: PREFIX must be absolute, at most 64 bytes" &&
	refused 'open /etc/shadow\nexec /usr/bin/\nopen /etc/shadow enforce\n' /etc/shadow "$f:3: a second open rule for it \\(line 1\\)" &&
	refused 'write /etc/ audit\n' audit "$f:1: write takes no mode" &&
	refused "$(for i in $(seq 17); do printf 'open /tmp/%s-%d\\n' "$T" "$i"; done)" "/tmp/$T-17" "$f:17: more than 16 guard rules" &&
	refused "open /$(printf 'y%.0s' $(seq 600))\n" "$f:1" "line longer than 510 bytes"
}

case_missing_file_refused() {
	timeout 20 "$PERIMD" --foreground --socket "$SOCK" --pin-root "$PIN_ROOT" --state "$STATE" \
		--guard-rules "$TMP/$T-absent.rules" > "$TMP/out" 2> "$TMP/err"
	local rc=$?
	cat "$TMP/err"
	expect_eq "$rc" 2 "exit code" &&
		expect_eq "$(wc -l < "$TMP/err")" 1 "lines on stderr" &&
		expect_match "$(cat "$TMP/err")" "\"$TMP/$T-absent.rules\" is wrong: No such file or directory" "message" &&
		{ [ ! -e "$PIN_ROOT" ] || fail "$PIN_ROOT created by a refused start"; }
}

# the same check through --config: the guard-rules key takes the file
case_bad_file_via_config_refused() {
	printf 'open /etc/shadow enforce\nopen /etc/gshadow audit\nexec /bin/ sometimes\n' > "$RULES"
	printf 'guard-rules %s\n' "$RULES" > "$TMP/perimd.conf"
	timeout 20 "$PERIMD" --foreground --socket "$SOCK" --pin-root "$PIN_ROOT" --state "$STATE" \
		--config "$TMP/perimd.conf" > "$TMP/out" 2> "$TMP/err"
	local rc=$?
	cat "$TMP/err"
	expect_eq "$rc" 2 "exit code" &&
		expect_eq "$(wc -l < "$TMP/err")" 1 "lines on stderr" &&
		expect_match "$(cat "$TMP/err")" "\"sometimes\" is wrong: $RULES:3: mode must be audit or enforce" "message"
}

run_cases "$@"
