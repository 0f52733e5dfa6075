# shellcheck shell=bash
# The fleet topology shared by tests/integ/test-fleet.sh and the fleet benchmark:
# a "hub" namespace runs nats-server on $HUB (its own network namespace, so the
# port cannot clash with anything on the host) behind a bridge; each gateway
# namespace gwI has a management veth into the hub (10.99.0.1I) and a perimeter
# veth to the "inet" namespace (10.7I.0.1 <-> 10.7I.0.2), on which its perimd
# runs with its own pin root, socket, state and events file. Sourced after lib.sh.

NATS_PORT=4222
HUB=10.99.0.1

# gw_dev I: gateway I's perimeter NIC; $GW_DEV names them all alike (a group ruleset names its NIC).
gw_dev() { echo "${GW_DEV:-${T}g$1}"; }

hub_setup() {
	ns_add hub || return 1
	ip -n "$T-hub" link add "${T}br" type bridge || return 1
	ip -n "$T-hub" addr add "$HUB/24" dev "${T}br"
	ip -n "$T-hub" link set "${T}br" up
}

# gw_net I: namespace gwI, management veth into the hub, perimeter veth to inet.
gw_net() {
	local i=$1
	ns_add "gw$i" || return 1
	ip link add "${T}m$i" netns "$T-gw$i" type veth peer name "${T}h$i" netns "$T-hub" || return 1
	ip -n "$T-gw$i" addr add "10.99.0.1$i/24" dev "${T}m$i"
	ip -n "$T-gw$i" link set "${T}m$i" up
	ip -n "$T-hub" link set "${T}h$i" master "${T}br" up
	veth_add "gw$i" "$(gw_dev "$i")" "10.7$i.0.1/24" inet "${T}i$i" "10.7$i.0.2/24" || return 1
}

# nats_start NAME [ARGS...]: nats-server -js in the hub on $NATS_PORT; its store is this case's
# own (a restart in the same case finds the bucket again, the next case starts empty).
nats_start() {
	local name=$1; shift
	: "${NATS_STORE:=$(mktemp -d "$TMP/js.XXXXXX")}"
	: >"$NATS_STORE/$name.log"
	ip netns exec "$T-hub" nats-server -js -a "$HUB" -p "$NATS_PORT" -sd "$NATS_STORE/$name" "$@" \
		>>"$NATS_STORE/$name.log" 2>&1 &
	NATS_PID=$!
	track_pid "$NATS_PID"
	wait_until 10 grep -q "Server is ready" "$NATS_STORE/$name.log" || { cat "$NATS_STORE/$name.log"; return 1; }
}

# nats_node N: node N (1..3) of a JetStream cluster in the hub, client port 4221+N, route port 6221+N.
nats_node() {
	local n=$1 routes="" m
	for m in 1 2 3; do [ "$m" = "$n" ] || routes="$routes${routes:+,}nats://$HUB:$(( 6221 + m ))"; done
	: "${NATS_STORE:=$(mktemp -d "$TMP/js.XXXXXX")}"
	ip netns exec "$T-hub" nats-server -js -a "$HUB" -p $(( 4221 + n )) -n "n$n" -sd "$NATS_STORE/n$n" \
		--cluster_name perim --cluster "nats://$HUB:$(( 6221 + n ))" --routes "$routes" \
		>"$NATS_STORE/n$n.log" 2>&1 &
	eval "NODE${n}_PID=$!"
	track_pid "$!"
}

cluster_urls() { echo "nats://$HUB:4222,nats://$HUB:4223,nats://$HUB:4224"; }

# retry_block I PREFIX: while a cluster elects leaders a write may be refused; nothing is stored then.
retry_block() { wait_until 20 gctl "$1" fleet block "$2"; }

nats_kill() { kill -9 "$NATS_PID" 2>/dev/null; wait "$NATS_PID" 2>/dev/null; }

# gw_start I [OPTIONS...]: perimd in gwI, joined to the fleet as gwI.
gw_start() {
	local i=$1 name=(); shift
	[[ " $* " == *" --fleet "* ]] && name=(--fleet-name "gw$i")
	# State files are the case's own (a case runs in a subshell): a local allow added in
	# one case must not be restored into the next.
	: "${GW_STATE_DIR:=$(mktemp -d "$TMP/state.XXXXXX")}"
	mount_bpffs
	track_path "$PIN_ROOT-$i"
	: >"$TMP/gw$i.log"
	nsenter --net="/run/netns/$T-gw$i" "$PERIMD" --socket "$TMP/gw$i.sock" --pin-root "$PIN_ROOT-$i" \
		--state "$GW_STATE_DIR/gw$i.state" --interface "$(gw_dev "$i")" --events "$TMP/gw$i.events" "${name[@]}" "$@" >>"$TMP/gw$i.log" 2>&1 &
	eval "GW${i}_PID=$!"
	track_pid "$!"
	wait_until 20 grep -q 'perimd: ready' "$TMP/gw$i.log" || { cat "$TMP/gw$i.log"; return 1; }
}

gw_stop() {
	local pid
	eval "pid=\${GW$1_PID:-}"
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

gctl() { local i=$1; shift; "$PERIMCTL" -s "$TMP/gw$i.sock" "$@"; }

fleet_url() { echo "nats://$HUB:$NATS_PORT"; }

fleet_connected() { [ "$(gctl "$1" -j fleet status | jq -r .connected)" = true ]; }

# fleet-deny drops counted on gateway I's perimeter NIC
fleet_drops() { gctl "$1" -j stats "$(gw_dev "$1")" | jq -r '.interfaces[0].counters.dropped["fleet-deny"].packets'; }

# flood I SRC COUNT [PORT]: COUNT packets from SRC (a prefix: sources spread over it) into gateway I
flood() {
	local i=$1 mac
	mac=$(mac_of "gw$i" "$(gw_dev "$i")")
	in_ns inet "$TOOLS/udpflood" send --dev "${T}i$i" --dst-mac "$mac" --dst "10.7$i.0.1" \
		--src "$2" --sources 16 --port "${4:-9}" --rate 2000 --count "$3" >/dev/null
}

# drops_grow I: a probe flood raises gateway I's fleet-deny count
drops_grow() {
	local before
	before=$(fleet_drops "$1")
	flood "$1" "$2" 20
	[ "$(fleet_drops "$1")" -ge $(( before + 20 )) ]
}

# passes I SRC: a probe flood is not dropped as fleet-deny
passes() {
	local before
	before=$(fleet_drops "$1")
	flood "$1" "$2" 20
	[ "$(fleet_drops "$1")" -eq "$before" ]
}

listed() { gctl "$1" -j fleet list | jq -e --arg p "$2" '.decisions[] | select(.prefix == $p)' >/dev/null; }
not_listed() { ! listed "$@"; }

fleet_setup() {
	hub_setup && ns_add inet || return 1
	for i in 1 2 3; do gw_net "$i" || return 1; done
	nats_start nats || return 1
	for i in 1 2 3; do gw_start "$i" --fleet "$(fleet_url)" || return 1; done
	for i in 1 2 3; do wait_until 10 fleet_connected "$i" || { fail "gw$i not connected"; return 1; }; done
}

# natssub_start NAME SUBJECT: a subscriber in the hub; its lines go to $TMP/NAME.msgs
natssub_start() {
	ip netns exec "$T-hub" "$TOOLS/natssub" "$(fleet_url)" "$2" >"$TMP/$1.msgs" 2>"$TMP/$1.err" &
	track_pid $!
	wait_until 5 grep -q subscribed "$TMP/$1.err"
}

status_of() { gctl "$1" -j fleet status | jq -r ".$2"; }

# Conditions for wait_until, read afresh on every poll.
status_at_least() { [ "$(status_of "$1" "$2")" -ge "$3" ]; }
status_above() { [ "$(status_of "$1" "$2")" -gt "$3" ]; }
fleet_drops_above() { [ "$(fleet_drops "$1")" -gt "$2" ]; }
count_at_least() { [ "$(count_of "$1")" -ge "$2" ] 2>/dev/null; }

# NATS permissions as README.md gives them, one subject a line, for gateway NAME of GROUP:
# a gateway account reads the decisions and writes its own events; an operator account adds the
# decisions' writes and the bucket's creation. A gateway of a group also reads its group's ruleset
# and writes its own report; a group's operator (fleet apply, fleet gateways) adds the rulesets'
# writes and creation, the reports' reads and the direct get of the group's current revision.
# shellcheck disable=SC2016 # NATS's own subjects start with a literal $
kv_reader_subjects() {
	printf '%s\n' "\$JS.API.STREAM.INFO.KV_$1" "\$JS.API.CONSUMER.CREATE.KV_$1" "\$JS.API.CONSUMER.CREATE.KV_$1.>" \
		"\$JS.API.CONSUMER.DELETE.KV_$1.>" "\$JS.FC.KV_$1.>"
}
# shellcheck disable=SC2016
gateway_subjects() {
	printf '%s\n' '$JS.API.INFO' '$JS.API.STREAM.NAMES'
	kv_reader_subjects perim-decisions
	printf '%s\n' "perim.events.$1.>" "perim.drops.$1"
}
# shellcheck disable=SC2016
operator_subjects() {
	gateway_subjects "$1"
	printf '%s\n' '$KV.perim-decisions.>' '$JS.API.STREAM.CREATE.KV_perim-decisions'
}
# group_gateway_subjects NAME GROUP
# shellcheck disable=SC2016
group_gateway_subjects() {
	gateway_subjects "$1"
	kv_reader_subjects perim-rulesets
	printf '%s\n' '$JS.API.STREAM.INFO.KV_perim-gateways' "\$KV.perim-gateways.$2.$1"
}
# group_operator_subjects NAME GROUP
# shellcheck disable=SC2016
group_operator_subjects() {
	group_gateway_subjects "$1" "$2"
	printf '%s\n' '$KV.perim-decisions.>' '$JS.API.STREAM.CREATE.KV_perim-decisions'
	printf '%s\n' '$KV.perim-rulesets.>' '$JS.API.STREAM.CREATE.KV_perim-rulesets'
	kv_reader_subjects perim-gateways
	printf '%s\n' '$JS.API.DIRECT.GET.KV_perim-rulesets.>'
}
# account_permissions KIND NAME [GROUP]: the server config's permissions of KIND_subjects
account_permissions() {
	printf 'permissions: { publish: { allow: [ %s ] }, subscribe: { allow: [ "_INBOX.>" ] } }' \
		"$("$1_subjects" "$2" "${3:-}" | sed 's/.*/"&"/' | paste -sd, - | sed 's/,/, /g')"
}
