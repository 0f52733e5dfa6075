# shellcheck shell=bash
# Where perimd's CPU goes while it handles drop samples (sec_tracers.sh's
# drop storm): a perf profile of the storms' perimd during one more drop
# storm, call graphs through DWARF (perimd is built without frame pointers).
# Each stack under drops.c's drain timer counts for the first function, from
# the leaf up, that names a part of the drop path; other stacks are perimd's
# other work meanwhile (tracer events of the rest of the machine, the
# benchmark's status requests, timers).

# "function part": the first match from the leaf up wins
drop_profile_parts() {
	cat <<'PARTS'
perim_xdp_drop_text the_event's_line,_written_as_it_is_filled_(fields,_addresses_as_text,_time)
perimd_listeners_find listener_lookup_(drops_aimed_at_a_local_port)
perimd_drops_agg_add top's_window
perimd_bus_flush write(2)_of_the_lines
perimd_bus_publish_drop bus:_line_to_the_sink's_buffer,_backlog,_followers
ring_buffer__consume ring_read_(libbpf)_and_the_callback
on_drain_timer the_drain_timer
PARTS
}

# drop_profile_split: perf script's call chains on stdin; "samples part" lines
# (the drop path's parts, "other" for the rest of perimd's work)
drop_profile_split() {
	awk 'NR == FNR { part[$1] = $2; next }
	     /^$/ { if (n) done(); next }
	     { f[++n] = $2 }
	     function done(   i, p) {
		p = ""
		for (i = 1; i <= n; i++) if (f[i] == "on_drain_timer") p = "drain"
		if (p == "") { c["other_work_(not_drop_samples)"]++; n = 0; return }
		p = "other_(drop_path)"
		for (i = 1; i <= n; i++) if (f[i] in part) { p = part[f[i]]; break }
		c[p]++; n = 0
	     }
	     END { if (n) done(); for (p in c) print c[p], p }' <(drop_profile_parts) - | sort -rn
}

# drop_profile PID N: profile PID through a drop storm of N frames and its
# drain; "samples part" lines to $TMP/drop_profile, or the reason to $TMP/drop_profile.skip
drop_profile() {
	local pp g
	rm -f "$TMP/drop_profile" "$TMP/drop_profile.skip"
	command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)" > "$TMP/drop_profile.skip"; return 0; }
	perf record -q -F 4999 --call-graph dwarf,16384 -p "$1" -o "$TMP/perf.data" >/dev/null 2>"$TMP/perf.err" &
	pp=$!
	track_pid "$pp"
	wait_until 10 test -s "$TMP/perf.data" || { echo "perf record did not start: $(head -c 200 "$TMP/perf.err")" > "$TMP/drop_profile.skip"; return 0; }
	drop_storm "$2" >/dev/null || return 1
	read -r g _ _ < <(hook_counts) && wait_until 5 counts_drained "$g"
	kill -INT "$pp"
	wait "$pp" 2>/dev/null
	perf script -i "$TMP/perf.data" -F ip,sym 2>/dev/null | drop_profile_split > "$TMP/drop_profile"
	rm -f "$TMP/perf.data"
	[ -s "$TMP/drop_profile" ] || echo "perf recorded no samples: $(head -c 200 "$TMP/perf.err")" > "$TMP/drop_profile.skip"
	return 0
}

# drop_profile_table US_PER_EVENT: the parts as shares of the drop path's samples, and
# each part's, other work's too, µs of the drop storm's perimd CPU per event
# (US_PER_EVENT, from the storm's row: everything perimd did meanwhile, by events delivered)
drop_profile_table() {
	if [ -f "$TMP/drop_profile.skip" ]; then
		echo "(no profile: $(cat "$TMP/drop_profile.skip"))"
		return 0
	fi
	echo "| part of perimd's drop path | perf samples | share of the drop path | µs per event |"
	echo "|---|---:|---:|---:|"
	awk -v us="$1" '{ n[NR] = $1; p[NR] = $2; all += $1; if ($2 !~ /^other_work/) t += $1 }
		END { for (i = 1; i <= NR; i++) { gsub(/_/, " ", p[i])
			if (p[i] ~ /^other work/) printf "| %s | %d | | %.2f |\n", p[i], n[i], us * n[i] / all
			else printf "| %s | %d | %.1f%% | %.2f |\n", p[i], n[i], 100 * n[i] / t, us * n[i] / all } }' "$TMP/drop_profile"
}
