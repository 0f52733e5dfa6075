/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every tracer program shares: the two ring buffers, per-hook switches
 * and counters, the per-CPU sequence numbers, and reserve/submit.
 *
 * Ring discipline: a program decides everything that can reject an event
 * before it reserves (perim_reserve counts the event as generated and, when
 * the ring is full, as lost), then fills and always submits. There is no
 * discard path, so generated == delivered + lost holds per hook.
 */
#ifndef PERIM_TRACERS_COMMON_H
#define PERIM_TRACERS_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "perim_events.h"
#include "task.h"

#define AF_INET 2
#define AF_INET6 10

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);          /* perimd may resize before load */
} perim_ev_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} perim_sec_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PERIM_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct perim_hook_counters);
} perim_hook_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PERIM_RING_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} perim_seq SEC(".maps");

/*
 * Wake the reader only once this much is waiting; otherwise perimd's drain
 * timer picks the events up. A wakeup costs ~25 us in a VM, a no-wakeup
 * submit ~1 us (shared/KERNELS.md). 0 = wake on every event.
 */
const volatile __u64 ev_wakeup_bytes = 256 << 10;
const volatile __u64 sec_wakeup_bytes = 4096;

/* Set by perimd after load, before attach. The cheapest filter of all. */
__u8 hook_on[PERIM_HOOK_MAX];
/*
 * perimd itself, by pid and start time (never by name). The start time is
 * compared in /proc's clock ticks, the unit perimd can read it in.
 */
__u32 self_tgid;
__u64 self_start_ticks;
__u64 self_tick_ns = 10000000;
/* Signals not worth an event (bit n = signal n); SIGCHLD by default. */
__u64 signal_skip_mask = 1ULL << 17;
/*
 * bpf() commands worth an event: those that create, load, pin, open or attach
 * (MAP_CREATE, PROG_LOAD, OBJ_PIN, OBJ_GET, PROG_ATTACH/DETACH, *_GET_FD_BY_ID,
 * RAW_TRACEPOINT_OPEN, BTF_LOAD, LINK_CREATE/UPDATE/DETACH), not map reads and
 * writes, which tools issue by the thousand.
 */
__u64 bpf_cmd_mask = (1ULL << 0) | (1ULL << 5) | (1ULL << 6) | (1ULL << 7) | (1ULL << 8) |
		     (1ULL << 9) | (1ULL << 13) | (1ULL << 14) | (1ULL << 17) | (1ULL << 18) |
		     (1ULL << 28) | (1ULL << 29) | (1ULL << 30) | (1ULL << 34);
/* creds fallback: set*id exits and set-id execs report credential changes. */
__u8 creds_fallback;

static __always_inline bool perim_hook_enabled(__u32 hook)
{
	return hook < PERIM_HOOK_MAX && hook_on[hook];
}

static __always_inline bool perim_is_self(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!self_tgid || tgid != self_tgid)
		return false;
	return perim_task_start_ns((struct task_struct *)bpf_get_current_task()) / self_tick_ns ==
	       self_start_ticks;
}

static __always_inline void perim_fill_hdr(struct perim_ev_hdr *h, __u32 ring, __u32 hook,
					   __u32 type, __u64 seq)
{
	h->type = type;
	h->hook = hook;
	h->cpu = bpf_get_smp_processor_id();
	h->ring = ring;
	h->seq = seq;
	h->ts_ns = bpf_ktime_get_ns();
	h->_pad0 = 0;
	perim_fill_hdr_task(h);
}

/*
 * Counts the event, takes the next sequence number (a failed reservation
 * consumes one too, so perimd sees the gap) and reserves. NULL = lost.
 */
static __always_inline void *perim_reserve(__u32 ring, __u32 hook, __u32 type, __u64 size)
{
	struct perim_hook_counters *c = bpf_map_lookup_elem(&perim_hook_stats, &hook);
	__u64 *seq = bpf_map_lookup_elem(&perim_seq, &ring);
	struct perim_ev_hdr *h;
	__u64 s;

	if (!c || !seq)
		return NULL;
	c->generated++;
	s = ++*seq;
	if (ring == PERIM_RING_SECURITY)
		h = bpf_ringbuf_reserve(&perim_sec_ring, size, 0);
	else
		h = bpf_ringbuf_reserve(&perim_ev_ring, size, 0);
	if (!h) {
		c->lost++;
		return NULL;
	}
	perim_fill_hdr(h, ring, hook, type, s);
	return h;
}

/*
 * The submit whose record carries the waiting data across the ring's mark
 * wakes the reader, the ones after it do not. A wakeup is a self-IPI that
 * runs inside the program (a VM exit, microseconds: KERNELS.md); waking on
 * every submit past the mark made each hook pay it until perimd drained (a
 * burst of mounts paid 2-4 us each). A crossing missed to a concurrent
 * producer is left to perimd's drain timer, as every event below the mark is.
 */
static __always_inline bool perim_crossed_mark(void *ring, __u64 mark, __u64 size)
{
	__u64 avail;

	if (!mark)
		return true;            /* 0: wake on every event */
	avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
	/* The ring's own 8-byte header per record is counted too. */
	return avail >= mark && avail < mark + size + 8;
}

static __always_inline void perim_submit_sized(__u32 ring, void *e, __u64 size)
{
	bool wake;

	if (ring == PERIM_RING_SECURITY)
		wake = perim_crossed_mark(&perim_sec_ring, sec_wakeup_bytes, size);
	else
		wake = perim_crossed_mark(&perim_ev_ring, ev_wakeup_bytes, size);
	bpf_ringbuf_submit(e, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* e: the typed record perim_reserve returned. */
#define perim_submit(ring, e) perim_submit_sized((ring), (e), sizeof(*(e)))

/* Length of a string read by bpf_probe_read_*_str: without the NUL, 0 on error. */
static __always_inline __u16 perim_str_len(long ret)
{
	return ret > 0 ? (__u16)(ret - 1) : 0;
}

#endif /* PERIM_TRACERS_COMMON_H */
