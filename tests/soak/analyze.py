#!/usr/bin/env python3
"""The soak's verdicts (tests/soak/soak.sh writes DATA; this reads it).

Bounds, stated before the run:
  limited   every window between two receiver samples (about 1 s) holds at
            most burst + rate x window (+5% of rate x window for the
            receiver's scheduling, +2 packets for the clock ticks): an excess
            never lasts a whole window. The total over the run is reported
            against rate x time.
  admitted  the admitted flow never stops for a window, except in the windows
            around a link flap (down, up, 3 s to come back): a stall while
            perimd is down after a SIGKILL is reported and fails too, since
            enforcement does not depend on the daemon.
  denied    not one packet of the denied flow arrives.
  fds, RSS  in the last perimd lifetime (the run's second half, from 20 s
            after it was ready, leaving out the samples taken during a burst
            of clients), the least-squares slope: fds <= 0.01/s (36 an
            hour), RSS <= 1 KiB/s (3.5 MiB an hour).
  events    every gap a follower sees in a (ring, cpu) sequence is announced
            by a "lost" event in its stream; a follower that perimd drops
            (it read nothing for 200 ms) is logged by perimd, one line per
            drop, and counted here; perimd's hooks account for every
            event: what was generated at the end is, 1 s later, delivered or
            counted as lost.
  changes   every change is applied or refused for a stated reason (exit 2);
            a failure (exit 1) is allowed only while perimd is down.
  clients   every client of every burst gets its answer.
"""
import glob
import json
import os
import sys

SECURITY_TYPES = {"bpf", "creds", "guard", "module", "mount", "ptrace", "setid"}
FD_SLOPE_MAX = 0.01          # fds per second
RSS_SLOPE_MAX = 1.0          # KiB per second
WARMUP_NS = 20 * 10**9
FLAP_BEFORE_NS = 5 * 10**8
FLAP_AFTER_NS = 3 * 10**9

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

    counts = [tuple(map(int, r)) for r in read_lines(data, "counts") if len(r) == 4]
    windows = [(a[0], b[0], b[1] - a[1], b[2] - a[2], b[3] - a[3])
               for a, b in zip(counts, counts[1:]) if 0 < b[0] - a[0] < 5 * 10**9]

    # the limited flow
    worst, over, run, longest = 0.0, 0, 0, 0
    for t0, t1, dl, _, _ in windows:
        dt = (t1 - t0) / 1e9
        bound = burst_l + rate_l * dt * 1.05 + 2
        worst = max(worst, dl / (burst_l + rate_l * dt))
        if dl > bound:
            over += 1
            run += 1
            longest = max(longest, run)
        else:
            run = 0
    total_l = counts[-1][1] - counts[0][1] if counts else 0
    span = (counts[-1][0] - counts[0][0]) / 1e9 if counts else 0
    verdict(over == 0 and total_l > 0, "limited_flow_within_bound",
            "%d windows, %d over burst+rate*dt (longest run %d), worst window %.2f of its bound; "
            "%d received in %.0f s = %.1f pps against %d pps (sent %d pps)"
            % (len(windows), over, longest, worst, total_l, span, total_l / span if span else 0,
               rate_l, send_l))

    # the admitted flow
    stalls_out, stalls_down, low, lowest, judged = 0, 0, 0, None, 0
    for t0, t1, _, da, _ in windows:
        if overlaps(t0, t1, flaps, FLAP_BEFORE_NS, FLAP_AFTER_NS):
            continue
        judged += 1
        rate = da / ((t1 - t0) / 1e9)
        lowest = rate if lowest is None else min(lowest, rate)
        if da == 0:
            if overlaps(t0, t1, downs):
                stalls_down += 1
            else:
                stalls_out += 1
        elif rate < send_a / 2:
            low += 1
    recover = []
    for _, up in flaps:
        base = next((c for c in counts if c[0] >= up), None)
        moved = next((c for c in counts if base and c[0] > base[0] and c[2] > base[2]), None)
        if moved:
            recover.append((moved[0] - up) / 1e9)
    verdict(stalls_out == 0 and stalls_down == 0 and judged > 0, "admitted_flow_never_stops",
            "%d windows judged (%d around flaps left out): %d stalled outside restarts, %d during "
            "restarts, %d under half the sent %d pps, lowest %.0f pps; back after a flap within %.1f s"
            % (judged, len(windows) - judged, stalls_out, stalls_down, low, send_a,
               lowest or 0, max(recover) if recover else 0))

    total_d = counts[-1][3] - counts[0][3] if counts else -1
    verdict(total_d == 0, "denied_flow_never_arrives",
            "%d packets of the denied flow received (sent %d pps)" % (total_d, send_d))

    # fds and RSS
    proc = [tuple(map(int, r)) for r in read_lines(data, "proc") if len(r) == 4]
    last_pid = readies[-1][1] if readies else None
    last_ready = readies[-1][0] if readies else 0
    steady = [p for p in proc if p[1] == last_pid and p[0] >= last_ready + WARMUP_NS
              and not overlaps(p[0], p[0], bursts, 0, 2 * 10**9)]
    fd_s = slope([((p[0] - last_ready) / 1e9, p[2]) for p in steady])
    rss_s = slope([((p[0] - last_ready) / 1e9, p[3]) for p in steady])
    for pid in sorted({p[1] for p in proc}, key=lambda x: min(p[0] for p in proc if p[1] == x)):
        pts = [p for p in proc if p[1] == pid]
        print("soak: perimd %d: %d samples over %.0f s, fds %d..%d, RSS %d..%d KiB"
              % (pid, len(pts), (pts[-1][0] - pts[0][0]) / 1e9, min(p[2] for p in pts),
                 max(p[2] for p in pts), min(p[3] for p in pts), max(p[3] for p in pts)))
    if fd_s is None or rss_s is None:
        verdict(False, "fd_and_rss_slopes", "too few samples in the last lifetime (%d)" % len(steady))
    else:
        secs = (steady[-1][0] - steady[0][0]) / 1e9
        verdict(fd_s <= FD_SLOPE_MAX and rss_s <= RSS_SLOPE_MAX, "fd_and_rss_slopes",
                "last lifetime, %d samples over %.0f s: fds %d -> %d, slope %+.4f/s (bound %.2f); "
                "RSS %d -> %d KiB, slope %+.3f KiB/s (bound %.1f)"
                % (len(steady), secs, steady[0][2], steady[-1][2], fd_s, FD_SLOPE_MAX,
                   steady[0][3], steady[-1][3], rss_s, RSS_SLOPE_MAX))

    # events
    gaps = announced = received = 0
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
                    if (e.get("ring"), e.get("cpu")) in nxt:
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
            logged = sum(1 for line in f if "dropping an events --follow client" in line)
    hooks = [json.loads(" ".join(r)) for r in read_lines(data, "hooks")]
    lost_by_pid = {}
    for h in hooks:
        lost_by_pid[h["pid"]] = h["lost"]
    final = [int(x) for x in read_lines(data, "final_hooks")[0]] if read_lines(data, "final_hooks") else None
    settled = bool(final) and final[2] + final[3] >= final[0] > 0
    verdict(gaps == announced and len(dropped) == logged and settled, "events_loss_counted",
            "%d tracer events followed by %d followers: %d missing in the sequences, %d announced "
            "as lost; perimd's hooks counted %d lost over its lifetimes; %d followers dropped by a "
            "live perimd, %d drops logged by perimd; at the end: %s"
            % (received, len(followers), gaps, announced, sum(lost_by_pid.values()), len(dropped),
               logged,
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
    verdict(bursts and not any(burst_fail), "client_bursts_answered",
            "%d bursts of %d clients, failed answers per burst: %s"
            % (len(bursts), clients, burst_fail))

    restarts = read_lines(data, "restarts")
    fails = int(restarts[0][1]) if restarts else -1
    verdict(fails == 0 and len(downs) > 0, "restarts",
            "%d SIGKILLs, %d restarts that did not become ready" % (len(downs), fails))

    print("soak: %d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
