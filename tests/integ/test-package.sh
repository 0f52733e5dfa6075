#!/bin/bash
# The Debian package: `make deb` builds it with the Debian tools, then its
# contents are checked as dpkg would install them (dpkg-deb -c / -x into a
# scratch directory, never dpkg -i on this host: the VM tier installs it),
# lintian reports no error, the unit passes `systemd-analyze verify` against
# the package's own files, the man pages render without a warning, and the
# bash completion completes.
. "$(dirname "$0")/../lib/lib.sh"

# `make deb` builds the package as shipped, without sanitizers, whichever build
# PERIM_OUT names for the other tests.
DEB_DIR=$TOP/.output/deb
ROOT=$TMP/root      # the package's files, extracted

missing_tools() {
	local t m=
	for t in dpkg-buildpackage dh lintian systemd-analyze man; do
		command -v "$t" >/dev/null || m="$m $t"
	done
	echo "${m# }"
}

# The package is built once for every case; a failed build fails them all.
build_package() {
	[ -z "$(missing_tools)" ] || return 0
	( cd "$TOP" && make -s deb ) > "$TMP/deb.log" 2>&1 || return 1
	DEB=$(ls "$DEB_DIR"/perim_*_amd64.deb) || return 1
	dpkg-deb -x "$DEB" "$ROOT"
}
BUILD_OK=1
build_package || BUILD_OK=0

needs_package() {
	if [ -n "$(missing_tools)" ]; then
		skip "missing tools: $(missing_tools) (scripts/deps.sh installs them)"
		return 1
	fi
	[ "$BUILD_OK" = 1 ] || { fail "make deb failed:"; tail -n 30 "$TMP/deb.log" >&2; return 1; }
}

case_deb_holds_the_installed_layout() {
	local f listing
	needs_package || return 1
	listing=$(dpkg-deb -c "$DEB" | awk '{print $1, $6}')
	for f in ./usr/sbin/perimd ./usr/sbin/perimctl; do
		expect_match "$listing" "^-rwxr-xr-x $f\$" "$f, executable" || return 1
	done
	for f in ./etc/perim/perimd.conf ./lib/systemd/system/perimd.service ./etc/logrotate.d/perim \
		 ./usr/share/doc/perim/copyright; do
		expect_match "$listing" "^-rw-r--r-- $f\$" "$f" || return 1
	done
	for f in ./usr/lib/perim/btf/ ./var/lib/perim/ ./var/log/perim/; do
		expect_match "$listing" "^d[rwx-]+ $f\$" "directory $f" || return 1
	done
	# The binaries run from where the package puts them, and are the ones built here.
	"$ROOT/usr/sbin/perimd" --help | grep -q '^Usage: perimd' || fail "packaged perimd --help" || return 1
	"$ROOT/usr/sbin/perimctl" help | grep -q '^Usage: perimctl' || fail "packaged perimctl help" || return 1
}

# Depends comes from what the binaries link (${shlibs:Depends}): every library
# in their NEEDED entries has its package there.
case_deb_depends_on_what_the_binaries_link() {
	local depends lib pkg
	needs_package || return 1
	depends=$(dpkg-deb -f "$DEB" Depends)
	for lib in $(objdump -p "$ROOT/usr/sbin/perimd" "$ROOT/usr/sbin/perimctl" | awk '/NEEDED/ {print $2}' | sort -u); do
		pkg=$(dpkg -S "*/$lib" 2>/dev/null | grep -v -- '-dev' | head -n 1 | cut -d: -f1)
		[ -n "$pkg" ] || { fail "no package holds $lib"; return 1; }
		expect_match "$depends" "(^|, )$pkg( |,|$)" "Depends names $pkg (for $lib)" || return 1
	done
	expect_match "$(dpkg-deb -f "$DEB" Recommends)" "libmicrohttpd12" "libmicrohttpd (dlopen()ed) recommended" || return 1
}

# The configuration is a conffile, and names every option of perimd --help.
case_config_is_a_conffile_naming_every_option() {
	local opt conf
	needs_package || return 1
	dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles > "$TMP/conffiles"
	expect_match "$(cat "$TMP/conffiles")" '^/etc/perim/perimd.conf$' "conffiles" || return 1
	conf=$(cat "$ROOT/etc/perim/perimd.conf")
	for opt in $("$ROOT/usr/sbin/perimd" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		[ "$opt" = --help ] && continue
		expect_match "$conf" "^#?${opt#--}( |$)" "perimd.conf names $opt" || return 1
	done
	# As shipped, it parses: perimd reads it and stops at --help.
	"$ROOT/usr/sbin/perimd" --config "$ROOT/etc/perim/perimd.conf" --help >/dev/null ||
		fail "perimd rejects the shipped perimd.conf" || return 1
}

# lintian: no error. Its warnings are listed in the case's output.
case_lintian_reports_no_error() {
	local tags
	needs_package || return 1
	tags=$(lintian --suppress-tags-from-file /dev/null "$DEB_DIR"/perim_*_amd64.changes 2>/dev/null)
	echo "lintian: ${tags:-nothing}"
	if grep -q '^E:' <<<"$tags"; then
		fail "lintian errors: $(grep '^E:' <<<"$tags")"
		return 1
	fi
}

# systemd-analyze verify checks the unit as the package installs it: its
# ExecStart binary and its Documentation= man pages are the package's own
# (bind-mounted over /usr/sbin and /usr/share/man in a private mount namespace).
case_unit_verifies_clean() {
	local out
	needs_package || return 1
	out=$(unshare -m sh -c '
		mount --bind "$1/usr/sbin" /usr/sbin &&
		{ [ ! -d "$1/usr/share/man" ] || mount --bind "$1/usr/share/man" /usr/share/man; } &&
		systemd-analyze verify "$1/lib/systemd/system/perimd.service"' _ "$ROOT" 2>&1)
	local rc=$?
	[ "$rc" = 0 ] && [ -z "$out" ] || fail "systemd-analyze verify (exit $rc): $out"
}

# The exposure score README.md reports; a unit loosened past it fails here.
case_unit_security_exposure() {
	local out score
	needs_package || return 1
	out=$(systemd-analyze security --offline=true --threshold=40 "$ROOT/lib/systemd/system/perimd.service" 2>&1)
	local rc=$?
	score=$(sed -nE 's/.*Overall exposure level for perimd.service: ([0-9.]+).*/\1/p' <<<"$out")
	echo "systemd-analyze security: $score"
	[ "$rc" = 0 ] || fail "exposure $score over 4.0 (exit $rc)" || return 1
	expect_match "$(grep -o 'exposure [0-9.]*' "$TOP/README.md")" "exposure $score" "README reports $score" || return 1
	# The unit's promises: notify, restart on failure, reload by SIGHUP, a stop keeps enforcement.
	local unit=$ROOT/lib/systemd/system/perimd.service
	for line in '^Type=notify$' '^Restart=on-failure$' '^ExecReload=/bin/kill -HUP \$MAINPID$' \
		    '^RuntimeDirectory=perim$' '^StateDirectory=perim$' '^ProtectSystem=strict$' \
		    '^# +perimctl detach DEV$'; do
		grep -qE "$line" "$unit" || fail "unit lacks /$line/" || return 1
	done
}

# ---- man pages: rendered without a warning, and saying what the help says ----

# man_text PAGE: the page as man renders it, wide (no line breaks inside a word).
man_text() { MANWIDTH=1000 man -l "$1" 2>/dev/null | col -b; }

# help_words: the words "perimctl help" and every "perimctl help OBJECT" name
# as literal syntax (lower case: objects, commands, keywords, options, units),
# one per line; placeholders (DEV, PREFIX, N) are upper case and left out.
help_words() {
	local ctl=$1 o
	"$ctl" help | sed -nE 's/^OBJECT := \{(.*)\}$/\1/p' | tr '|' '\n' | tr -d ' '
	"$ctl" help | grep -oE -- '(^|[ [|])-{1,2}[a-z][a-z-]*' | tr -d ' [|'
	for o in $("$ctl" help | sed -nE 's/^OBJECT := \{(.*)\}$/\1/p' | tr -d '|'); do
		# The usage block, then each described item's name (the text before two spaces).
		"$ctl" help "$o" | awk '
			/^Usage:/ { u = 1 } u && !/^(Usage:|       )/ { u = 0 }
			u { sub(/^Usage:/, ""); print; next }
			/^  [^ ]/ { sub(/^  /, ""); sub(/  .*/, ""); print }'
	done | tr '[]{}|,.= ' '\n' | grep -E '^-{0,2}[a-z][a-z0-9_-]*$' | grep -vx perimctl
}

# perimd_words: every option of perimd --help, and the signals it names.
perimd_words() {
	"$1" --help | grep -oE -- '(^|[ ,])-{1,2}[a-z][a-z-]*' | tr -d ' ,'
	"$1" --help | grep -oE 'SIG[A-Z]+'
}

# missing_from PAGE: the words on stdin the rendered page does not hold.
missing_from() {
	local text w
	text=$(man_text "$1")
	sort -u | while read -r w; do
		grep -qwF -- "$w" <<<"$text" || echo "$w"
	done
}

case_man_pages_render_without_warnings() {
	local page out
	needs_package || return 1
	for page in perimd perimctl; do
		[ -f "$ROOT/usr/share/man/man8/$page.8.gz" ] || fail "no $page.8.gz in the package" || return 1
		out=$(MANWIDTH=80 man --warnings -l "$ROOT/usr/share/man/man8/$page.8.gz" 2>&1 >/dev/null)
		[ -z "$out" ] || fail "$page(8) warnings: $out" || return 1
		expect_match "$(man_text "$ROOT/usr/share/man/man8/$page.8.gz" | head -n 1)" "^${page^^}\(8\)" "$page(8) header" || return 1
	done
}

# Every object, command, keyword and option of "perimctl help" is in perimctl(8);
# every option and signal of "perimd --help" is in perimd(8). A command added
# to the help without its man page entry fails here.
case_man_pages_cover_the_help() {
	local missing n
	needs_package || return 1
	n=$(help_words "$ROOT/usr/sbin/perimctl" | sort -u | wc -l)
	expect_range "$n" 50 100000 "words taken from perimctl's help (the extraction works)" || return 1
	missing=$(help_words "$ROOT/usr/sbin/perimctl" | missing_from "$ROOT/usr/share/man/man8/perimctl.8.gz")
	expect_eq "$(echo $missing)" "" "perimctl help words missing from perimctl(8)" || return 1
	missing=$(perimd_words "$ROOT/usr/sbin/perimd" | missing_from "$ROOT/usr/share/man/man8/perimd.8.gz")
	expect_eq "$(echo $missing)" "" "perimd --help words missing from perimd(8)" || return 1
	# Both pages give the exit statuses the programs use.
	for page in perimd perimctl; do
		man_text "$ROOT/usr/share/man/man8/$page.8.gz" |
			awk '/^EXIT STATUS/ {e = 1; next} /^[A-Z]/ {e = 0} e && $1 ~ /^[0-9]+$/ {printf "%s ", $1}' > "$TMP/codes"
		expect_eq "$(cat "$TMP/codes")" "0 1 2 " "$page(8) exit statuses" || return 1
	done
}

# The check above is not vacuous: a word the page lacks is reported.
case_man_check_reports_a_missing_word() {
	needs_package || return 1
	expect_eq "$(printf 'limit\nfrobnicate\n' | missing_from "$ROOT/usr/share/man/man8/perimctl.8.gz")" \
		frobnicate "missing word reported"
}

# ---- bash completion ----

# complete_line WORD...: what the installed completion offers for the last word,
# with the packaged perimctl first in PATH; $COMPLETE_IN runs it elsewhere.
complete_line() {
	${COMPLETE_IN:-} env PATH="$ROOT/usr/sbin:$PATH" bash -c '
		. "$1"; shift
		spec=$(complete -p perimctl) || exit 1
		fn=$(sed -nE "s/.* -F ([^ ]+) .*/\1/p" <<<"$spec")
		COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		"$fn" perimctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		echo "${COMPREPLY[*]}"' _ "$ROOT/usr/share/bash-completion/completions/perimctl" "$@"
}

case_completion_completes_objects_and_keywords() {
	local comp=$ROOT/usr/share/bash-completion/completions/perimctl
	needs_package || return 1
	[ -f "$comp" ] || fail "no completion in the package" || return 1
	bash -n "$comp" || fail "bash -n $comp" || return 1
	expect_eq "$(complete_line perimctl li)" limit "perimctl li<TAB>" || return 1
	expect_eq "$(complete_line perimctl -j st)" "stats status" "perimctl -j st<TAB>" || return 1
	expect_eq "$(complete_line perimctl limit s)" set "perimctl limit s<TAB>" || return 1
	expect_eq "$(complete_line perimctl limit set lo proto "")" "tcp udp icmp any" "proto values" || return 1
	expect_eq "$(complete_line perimctl limit set lo rate 5pps per-s)" per-source "keywords" || return 1
	expect_eq "$(complete_line perimctl limit set lo rate 5pps r)" "" "a keyword given once is not offered again" || return 1
	expect_eq "$(complete_line perimctl events --type exec,con)" exec,connect "event types in a list" || return 1
	# Every object of "perimctl help" is offered.
	expect_eq "$(complete_line perimctl "")" \
		"$("$ROOT/usr/sbin/perimctl" help | sed -nE 's/^OBJECT := \{ (.*) \}$/\1/p' | tr -d '|' | tr -s ' ')" \
		"objects" || return 1
}

# Interface names come from the system, rule ids from the running perimd.
case_completion_names_interfaces_and_rule_ids() {
	local a b
	needs_package || return 1
	ns_add gw || return 1
	ip -n "$T-gw" link add "${T}g" type veth peer name "${T}p" && ip -n "$T-gw" link set "${T}g" up || return 1
	expect_match "$(complete_line perimctl attach l)" '(^| )lo( |$)' "the host's lo" || return 1
	# ip netns exec remounts /sys: /sys/class/net lists the namespace's links.
	expect_eq "$(COMPLETE_IN="ip netns exec $T-gw" complete_line perimctl attach "$T")" \
		"${T}g ${T}p" "interfaces of the namespace" || return 1
	perimd_start gw --interface "${T}g" --events /dev/null || return 1
	a=$(pctl -j limit set "${T}g" src 10.9.0.0/16 rate 5pps | jq -r .id)
	b=$(pctl -j limit set "${T}g" src 10.8.0.0/16 rate 5pps | jq -r .id)
	expect_eq "$(complete_line perimctl -s "$SOCK" limit del "${T}g" "")" "$a $b" "rule ids" || return 1
	expect_eq "$(complete_line perimctl -s "$SOCK" limit del "${T}g" "$b")" "$b" "one rule id"
}

run_cases "$@"
