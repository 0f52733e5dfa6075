#!/usr/bin/env python3
"""The soak's verdicts (tests/soak/soak.sh writes DATA; this reads it).

Bounds, stated before the run:
  limited   every second of arrival at the receiver holds at most
            burst + rate x 1 s (+1% for the clocks, +2 packets for the
            datapath's clock ticks): an excess never lasts a second. The
            total over the run is reported against rate x time.
  admitted  the admitted flow arrives in every second its sender sent in
            (the sender records its sends per second: a sender descheduled
            for a whole second is not perim's), except the seconds around a
            link flap (0.5 s before it goes down to 3 s after it is up): a
            second without it while perimd is down after a SIGKILL fails
            too, since enforcement does not depend on the daemon.
  denied    not one packet of the denied flow arrives.
  fds       in the last perimd lifetime (the run's second half), from 20 s
            after it was ready and leaving out the samples taken during a
            burst of clients: the least-squares slope <= 0.01 fd/s.
  RSS       every sample <= 32 MiB (the README's figure for perimd with
            100,000 processes); the slope over the second half of the last
            lifetime (its caches warm: the process table and event backlogs
            fill in its first minutes) <= 1 KiB/s once what the process
            table's growth explains is taken off (it follows the whole
            machine's processes: 166 bytes each), judged when that half
            spans at least 120 s (make soak's 30 minutes; the 3-minute run
            reports it; the table's growth is counted to its high-water
            mark in that half, since the heap keeps what evicted entries
            freed).
  events    every gap a follower sees in a (ring, cpu) sequence is announced
            in its stream: a "lost" event of the ring, or of "follower" for
            events perimd did not send it while its socket was full; a
            follower ended by a perimd that still runs is logged by perimd,
            one line each; perimd's hooks account for every
            event: what was generated at the end is, 1 s later, delivered or
            counted as lost.
  changes   every change is applied or refused for a stated reason (exit 2);
            a failure (exit 1) is allowed only while perimd is down.
  clients   every client of every burst gets its answer.
"""
import glob
import json
import os
import struct
import sys

SECURITY_TYPES = {"bpf", "creds", "guard", "module", "mount", "ptrace", "setid"}
FD_SLOPE_MAX = 0.01          # fds per second
RSS_SLOPE_MAX = 1.0          # KiB per second
RSS_MAX_KIB = 32 * 1024
# AddressSanitizer's shadow memory and its quarantine of freed blocks make a
# sanitizer build's RSS no measure of perimd's own: there the bound is 1 GiB.
if os.environ.get("PERIM_OUT", "").endswith("-san"):
    RSS_MAX_KIB = 1024 * 1024
RSS_JUDGED_SPAN_S = 120
# perimd tracks every process of the machine, so its table grows with whatever
# else forks meanwhile: 166 bytes per process with its own command line
# (tests/bench/proc_rss.c, the README's memory table).
PROC_ENTRY_KIB = 166 / 1024
WARMUP_NS = 20 * 10**9
FLAP_BEFORE_NS = 5 * 10**8
FLAP_AFTER_NS = 3 * 10**9
ADMITTED_PREFIX = "10.79.2.0/24"    # soak.sh's rule for the admitted flow (A, 10.79.2.1)

results = []


def verdict(ok, name, detail):
    results.append(ok)
    print("%s: soak:%s: %s" % ("PASS" if ok else "FAIL", name, detail))


def read_lines(data, name):
    path = os.path.join(data, name)
    if not os.path.exists(path):
        return []
    with open(path, errors="replace") as f:
        return [line.split() for line in f if line.strip()]


def per_second(data, name):
    """{wall-clock second: datagrams that arrived in it} from a receiver's --seconds-file."""
    path = os.path.join(data, name + ".seconds")
    if not os.path.exists(path):
        return {}
    with open(path, "rb") as f:
        head = f.read(8)
        base = struct.unpack("=Q", head)[0]
        body = f.read(8 * 86400)
    n = len(body) // 8
    vals = struct.unpack("=%dQ" % n, body[:8 * n])
    return {base + i: v for i, v in enumerate(vals) if v}


def slope(points):
    n = len(points)
    if n < 3:
        return None
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx


def intervals(timeline, start_kind, end_kind):
    out, open_t = [], None
    for row in timeline:
        t, kind = int(row[0]), row[1]
        if kind == start_kind:
            open_t = t
        elif kind == end_kind and open_t is not None:
            out.append((open_t, t))
            open_t = None
    return out


def overlaps(a0, a1, spans, before=0, after=0):
    return any(a0 < s1 + after and a1 > s0 - before for s0, s1 in spans)


def load_json(data, name):
    try:
        with open(os.path.join(data, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def admitted_accounting(data, received):
    """What was sent of the admitted flow, what perim's rule for it counted and dropped (the
    pinned counters outlive every restart), what arrived: a second without the flow that perim
    did not drop was not sent, or never reached the NIC (a sender descheduled on a loaded host)."""
    sent = sum(int(r[0].split("=")[1]) for r in read_lines(data, "sender.A") if r and r[0].startswith("sent="))
    limits, stats = load_json(data, "final_limits"), load_json(data, "final_stats")
    ids = [l["id"] for l in (limits or {}).get("limits", []) if l.get("src") == ADMITTED_PREFIX]
    rules = [r for i in (stats or {}).get("interfaces", []) for r in i.get("rules", []) if r.get("id") in ids]
    if len(rules) != 1:
        return "the admitted flow: %d sent, %d received; its rule's counters not found" % (sent, received)
    return ("the admitted flow: %d sent, %d matched perim's rule %d (%d passed, %d dropped), %d received"
            % (sent, rules[0]["matched_packets"], rules[0]["id"], rules[0]["passed_packets"],
               rules[0]["dropped_packets"], received))


def main(data):
    duration, rate_l, burst_l, send_l, send_a, send_d, flood, clients = \
        map(int, open(os.path.join(data, "params")).read().split())
    timeline = read_lines(data, "timeline")
    end_t = max((int(r[0]) for r in timeline if r[1] == "end"), default=None)
    flaps = intervals(timeline, "flap_down", "flap_up")
    bursts = intervals(timeline, "burst_start", "burst_end")
    downs = intervals(timeline, "kill", "ready")
    readies = [(int(r[0]), int(r[2])) for r in timeline if r[1] == "ready"]
    print("soak: %d s, %d perimd restarts, %d link flaps, %d bursts of %d clients, flood %d pps"
          % (duration, len(downs), len(flaps), len(bursts), clients, flood))

    start_t = min((int(r[0]) for r in timeline if r[1] == "start"), default=0)
    flow = {name: per_second(data, name) for name in ("L", "A", "D")}
    first_s = start_t // 10**9 + 1
    last_s = (end_t or 0) // 10**9 - 1
    seconds = range(first_s, last_s + 1)

    # the limited flow
    bound = burst_l + rate_l * 1.01 + 2
    got_l = [flow["L"].get(t, 0) for t in seconds]
    over = [c for c in got_l if c > bound]
    run = longest = 0
    for c in got_l:
        run = run + 1 if c > bound else 0
        longest = max(longest, run)
    total_l = sum(got_l)
    verdict(not over and total_l > 0, "limited_flow_within_bound",
            "%d seconds, %d over burst + rate x 1 s = %d (longest run %d s), most in a second %d; "
            "%d received = %.1f pps against %d pps (sent %d pps)"
            % (len(got_l), len(over), bound, longest, max(got_l, default=0), total_l,
               total_l / len(got_l) if got_l else 0, rate_l, send_l))

    # the admitted flow: judged in the seconds its sender sent in (a sender
    # descheduled for a whole second on a loaded host sends nothing in it)
    sent_a = per_second(data, "sent.A")
    stalls_out, stalls_down, low, judged, idle, lowest = 0, 0, 0, 0, 0, None
    for t in seconds:
        t0, t1 = t * 10**9, (t + 1) * 10**9
        if overlaps(t0, t1, flaps, FLAP_BEFORE_NS, FLAP_AFTER_NS):
            continue
        c, s = flow["A"].get(t, 0), sent_a.get(t, 0)
        if s == 0 and c == 0:
            idle += 1
            continue
        judged += 1
        lowest = c if lowest is None else min(lowest, c)
        # frames sent at the very end of a second may arrive in the next
        crossed = c == 0 and flow["A"].get(t + 1, 0) >= s + sent_a.get(t + 1, 0)
        if c == 0 and not crossed:
            if overlaps(t0, t1, downs):
                stalls_down += 1
            else:
                stalls_out += 1
        elif c < min(s, send_a) / 2:
            low += 1
    recover = []
    for _, up in flaps:
        back = next((t for t in range(up // 10**9, up // 10**9 + 30) if flow["A"].get(t, 0)), None)
        if back is not None:
            recover.append(max(0, back - up / 1e9))
    verdict(stalls_out == 0 and stalls_down == 0 and judged > 0, "admitted_flow_never_stops",
            "%d seconds judged (%d around flaps left out, %d in which its sender sent nothing): "
            "%d sent in without it arriving outside restarts, %d during restarts, %d under half "
            "of what was sent, fewest in a second %d; first arrival after a flap within %.1f s "
            "of the link up"
            % (judged, len(seconds) - judged - idle, idle, stalls_out, stalls_down, low, lowest or 0,
               max(recover) if recover else 0))

    print("soak: %s" % admitted_accounting(data, sum(flow["A"].values())))

    total_d = sum(flow["D"].values()) if flow["D"] is not None else -1
    verdict(total_d == 0, "denied_flow_never_arrives",
            "%d packets of the denied flow received (sent %d pps)" % (total_d, send_d))

    # fds and RSS
    proc = [tuple(map(int, r)) for r in read_lines(data, "proc") if len(r) == 4]
    last_pid = readies[-1][1] if readies else None
    last_ready = readies[-1][0] if readies else 0
    steady = [p for p in proc if p[1] == last_pid and p[0] >= last_ready + WARMUP_NS
              and not overlaps(p[0], p[0], bursts, 0, 2 * 10**9)]
    for pid in sorted({p[1] for p in proc}, key=lambda x: min(p[0] for p in proc if p[1] == x)):
        pts = [p for p in proc if p[1] == pid]
        print("soak: perimd %d: %d samples over %.0f s, fds %d..%d, RSS %d..%d KiB"
              % (pid, len(pts), (pts[-1][0] - pts[0][0]) / 1e9, min(p[2] for p in pts),
                 max(p[2] for p in pts), min(p[3] for p in pts), max(p[3] for p in pts)))
    fd_s = slope([((p[0] - last_ready) / 1e9, p[2]) for p in steady])
    if fd_s is None:
        verdict(False, "fd_slope", "too few samples in the last lifetime (%d)" % len(steady))
    else:
        verdict(fd_s <= FD_SLOPE_MAX, "fd_slope",
                "last lifetime, %d samples over %.0f s: fds %d -> %d, slope %+.5f/s (bound %.2f)"
                % (len(steady), (steady[-1][0] - steady[0][0]) / 1e9, steady[0][2], steady[-1][2],
                   fd_s, FD_SLOPE_MAX))
    rss_max = max((p[3] for p in proc), default=0)
    half = [p for p in steady if p[0] >= (steady[0][0] + steady[-1][0]) / 2] if steady else []
    whole_s = slope([((p[0] - last_ready) / 1e9, p[3]) for p in steady])
    half_s = slope([((p[0] - last_ready) / 1e9, p[3]) for p in half])
    span = (half[-1][0] - half[0][0]) / 1e9 if len(half) > 1 else 0
    judged_slope = span >= RSS_JUDGED_SPAN_S
    # the process table follows the whole machine's processes: its size at the half's ends
    hooks = [json.loads(" ".join(r)) for r in read_lines(data, "hooks")]
    tracked = [(h["t"], h["procs"]) for h in hooks if h.get("pid") == last_pid and h.get("procs") is not None
               and half and half[0][0] <= h["t"] <= half[-1][0]]
    # what the table's growth over the half explains is state, not a leak: up to
    # its high-water mark (memory its evicted entries freed stays with perimd's heap)
    grown = max(0, max(n for _, n in tracked) - tracked[0][1]) if len(tracked) > 1 else 0
    net_s = (half_s or 0) - (grown * PROC_ENTRY_KIB / span if span else 0)
    verdict(proc and rss_max <= RSS_MAX_KIB and half_s is not None
            and (not judged_slope or net_s <= RSS_SLOPE_MAX), "rss",
            "most %d KiB (bound %d); last lifetime %d -> %d KiB, slope %+.3f KiB/s over all of it, "
            "%+.3f KiB/s over its second half (%.0f s; processes tracked %s), %+.3f KiB/s of it not "
            "the table's growth (bound %.1f, %s)"
            % (rss_max, RSS_MAX_KIB, steady[0][3] if steady else 0, steady[-1][3] if steady else 0,
               whole_s or 0, half_s or 0, span,
               "%d -> %d, most %d" % (tracked[0][1], tracked[-1][1], max(n for _, n in tracked))
               if tracked else "not sampled", net_s, RSS_SLOPE_MAX,
               "judged" if judged_slope else "reported only: under %d s" % RSS_JUDGED_SPAN_S))

    # events
    gaps = announced = received = skipped = 0
    for path in sorted(glob.glob(os.path.join(data, "follow.*.json"))):
        nxt = {}
        with open(path, errors="replace") as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(e, dict) or "type" not in e:
                    continue
                if e["type"] == "lost":
                    if e.get("ring") == "follower":
                        skipped += e.get("count", 0)
                    elif (e.get("ring"), e.get("cpu")) in nxt:
                        announced += e.get("count", 0)
                    continue
                if "seq" not in e:
                    continue       # xdp_drop samples carry no sequence
                received += 1
                key = ("security" if e["type"] in SECURITY_TYPES else "events", e.get("cpu"))
                if key in nxt and e["seq"] > nxt[key]:
                    gaps += e["seq"] - nxt[key]
                nxt[key] = max(nxt.get(key, 0), e["seq"] + 1)
    followers = read_lines(data, "followers")
    kills = [int(r[0]) for r in timeline if r[1] == "kill"]
    dropped = [r for r in followers if (end_t is None or int(r[0]) < end_t)
               and not any(k - 10**9 <= int(r[0]) <= k + 5 * 10**9 for k in kills)]
    logged = 0
    if os.path.exists(os.path.join(data, "perimd.log")):
        with open(os.path.join(data, "perimd.log"), errors="replace") as f:
            logged = sum(1 for line in f if "dropping an events --follow reader" in line)
    hooks = [json.loads(" ".join(r)) for r in read_lines(data, "hooks")]
    lost_by_pid = {}
    for h in hooks:
        lost_by_pid[h["pid"]] = h["lost"]
    final = [int(x) for x in read_lines(data, "final_hooks")[0]] if read_lines(data, "final_hooks") else None
    settled = bool(final) and final[2] + final[3] >= final[0] > 0
    # A follower's skips count every event type, some without a sequence (xdp_drop, lost):
    # the gaps it saw can only be fewer than what it was told of.
    verdict(gaps <= announced + skipped and len(dropped) == logged and settled, "events_loss_counted",
            "%d tracer events followed by %d followers: %d missing in the sequences; announced: "
            "%d lost in the rings, %d not sent to a follower that fell behind; perimd's hooks "
            "counted %d lost over its lifetimes; %d followers dropped by a live perimd, %d drops "
            "logged by perimd; at the end: %s"
            % (received, len(followers), gaps, announced, skipped, sum(lost_by_pid.values()),
               len(dropped), logged,
               "%d generated, 1 s later %d delivered + %d lost" % (final[0], final[2], final[3])
               if final else "no answer"))

    # changes
    churn = read_lines(data, "churn")
    ok = sum(1 for r in churn if r[1] == "ok")
    refused = [r for r in churn if r[1] == "refused"]
    failed = [r for r in churn if r[1] == "failed"]
    unexplained = [r for r in failed if not overlaps(int(r[0]), int(r[0]), downs, 10**9, 10**9)]
    reasons = {}
    for r in refused:
        msg = " ".join(r[2:])
        key = ("already" if "already" in msg else "not there" if "not in" in msg or "no " in msg
               else msg[:80])
        reasons[key] = reasons.get(key, 0) + 1
    verdict(not unexplained and ok > 0, "changes_applied_or_refused",
            "%d changes: %d applied, %d refused %s, %d failed while perimd was down, %d failed "
            "otherwise%s" % (len(churn), ok, len(refused), reasons, len(failed) - len(unexplained),
                             len(unexplained),
                             (": " + " ".join(unexplained[0][2:])[:160]) if unexplained else ""))

    burst_fail = [int(r[3]) for r in timeline if r[1] == "burst_end"]
    said = [" ".join(r[1:]) for r in read_lines(data, "burst_errors")][:3]
    verdict(bursts and not any(burst_fail), "client_bursts_answered",
            "%d bursts of %d clients, failed answers per burst: %s%s"
            % (len(bursts), clients, burst_fail, ("; they said: " + " | ".join(said)) if said else ""))

    restarts = read_lines(data, "restarts")
    fails = int(restarts[0][1]) if restarts else -1
    verdict(fails == 0 and len(downs) > 0, "restarts",
            "%d SIGKILLs, %d restarts that did not become ready" % (len(downs), fails))

    print("soak: %d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
