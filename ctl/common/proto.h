/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket protocol between perimctl and perimd.
 *
 * A Unix SOCK_STREAM socket; every message is a 4-byte length (host order)
 * followed by that many bytes of JSON, at most PERIM_PROTO_MAX.
 *
 * Request:  {"argv": ["limit", "set", "eth0", "rate", "1kpps"]}, valid UTF-8, nothing after
 *           the object, no NUL in an argument (each is refused with status 2)
 * Response: {"status": 0, "result": {...}}            success
 *           {"status": 2, "error": "Error: argument \"x\" is wrong: ..."}
 * status is the exit code perimctl returns (PERIM_EXIT_*). One request per
 * connection, except "events --follow", whose response is followed by one
 * message per event until either side closes.
 *
 * Result objects (stable keys; perimctl renders them for humans, -j prints them):
 *   attach:   {"dev","ifindex","slot","mode":"native|skb","dispatcher":"multiprog|single",
 *              "programs":[{"name","priority","chain_call_actions":["pass",...]}]}
 *   detach:   {"dev"}
 *   limit set:{"dev","id","replaced"}   (replaced: an existing rule with the same selector was updated)
 *   limit del:{"dev","id"}
 *   limit list: {"limits":[{"dev","id","src","proto":"any|tcp|udp|icmp","dport":"53"|"1000-2000"|null,
 *              "syn","rate_pps","burst","bytes_per_s","mode":"per-source|per-destination|aggregate",
 *              "block_s","dry_run","dir","dst","cgroup","active","inactive_reason"}]}
 *   allow/deny add|del: {"dev","prefix","list":"allow|deny"}
 *   allow/deny list: {"entries":[{"dev","prefix","list"}]}
 *   stats:    {"time_ns", "interfaces":[{"dev","ifindex","attached","mode","dispatcher",
 *              "counters":{"rx_packets","rx_bytes","passed_packets","passed_bytes",
 *                          "allowed_packets","would_drop_packets",
 *                          "dropped":{"rate-pps":{"packets","bytes"},"rate-bytes":{...},
 *                                     "new-source":{...},"blocked":{...},"deny":{...},"malformed":{...}}},
 *              "rates":{"rx_pps","passed_pps","dropped_pps","rx_bps"},   (per second, over the last sample)
 *              "rules":[{"id","matched_packets","matched_bytes","passed_packets","passed_bytes",
 *                        "dropped_packets","dropped_bytes","would_drop_packets","would_drop_bytes",
 *                        "rates":{"matched_pps","dropped_pps"}}]}]}
 *   show:     {"text"}  (the ruleset lines)
 *   apply/diff: {"file","interfaces":[DEV...],"added","removed","replaced","changed","applied",
 *              "changes":[{"op":"added|removed|replaced","line"}]
 *              [,"confirm_deadline","confirm_deadline_unix_ms"]}   (also on any change made with --confirm)
 *   confirm/rollback: {"done":"confirmed|rolled back"}
 *   status:   {"pid","version","pin_root","btf":{"path","source":"kernel|config|bundled"},
 *              "drop_samples":{"rate" (--drop-sample-rate),"sent" (put on the ring, null: no ring),
 *                              "received" (drained by this perimd)},
 *              "interfaces":[...as in stats, without counters, with "drop_sample_rate":
 *                            the attached program's (null: unknown or not attached)...],
 *              "hooks":[{"name","family":"xdp|tracepoint|kprobe|fentry|lsm","attached":bool,
 *                        "how","reason"}],
 *              "confirm":{"pending"[,"deadline","deadline_unix_ms","ms_left"]}}
 */
#ifndef PERIM_PROTO_H
#define PERIM_PROTO_H

#include <stddef.h>

#define PERIM_SOCKET_DEFAULT "/run/perim/perimd.sock"
#define PERIM_PROTO_MAX (16u << 20)

/* Write one framed message. Returns 0 or -errno. */
int perim_proto_send(int fd, const char *json, size_t len);
/* Read one framed message into a malloc'd NUL-terminated buffer. 0, -errno, or -EPROTO (bad length). */
int perim_proto_recv(int fd, char **json, size_t *len);
/* Connect to the daemon's socket. Returns the fd or -errno. */
int perim_proto_connect(const char *path);

#endif /* PERIM_PROTO_H */
