// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_live: the live-traffic benchmark's generator and floor programs.
 *
 *   xdp_live gen --dev DEV --dst-mac MAC [--src-mac MAC] --src IPV4 [--sources N] --dst IPV4
 *                [--port P] --rate PPS (--seconds S | --count N) [--cpu C] [--batch B]
 *                [--per-call N] [--tcp-syn] [--start-at NS] [--via live|packet]
 *       Transmits 64-byte IPv4/UDP frames (--tcp-syn: bare TCP SYNs, checksummed,
 *       padded to 64 bytes; from --src-mac, default 02:00:00:00:00:01) out of DEV (in the caller's network
 *       namespace) with BPF_PROG_RUN and BPF_F_TEST_XDP_LIVE_FRAMES: a
 *       program returning XDP_TX runs on N frames per call (default B), B per
 *       kernel batch (one flush each, at most 256), and each call is paced
 *       (busy-waiting on CPU C) so the offered load is PPS. The source
 *       address steps through N addresses from IPV4, one per frame.
 *       --rate 0 sends as fast as one core can. Prints
 *       "sent=N elapsed_ns=T max_gap_ns=G stalled_ns=S runq_ns=Q" on stdout
 *       (its own stalls: see struct stalls) and " via=live|packet". --hold-dev
 *       names an idle device the generator attaches to meanwhile (see
 *       hold_in_dispatcher). Where the kernel refuses live frames (EPERM: some
 *       hardened kernels), or with --via packet, frames go out through an
 *       AF_PACKET socket instead (struct packet_tx): the receiver then gets
 *       them as skbs, which its XDP path converts, so every case's CPU per
 *       packet includes that conversion; "sent" counts the frames the device
 *       took.
 *       --start-at starts the run at NS on CLOCK_MONOTONIC (`xdp_live now`),
 *       so that generators on several CPUs flood together; starting late
 *       counts as a stall.
 *
 *   xdp_live now
 *       Prints CLOCK_MONOTONIC in ns (for --start-at).
 *
 *   xdp_live spin CPU SECONDS
 *       A SCHED_IDLE busy loop pinned to CPU (see spin()); prints
 *       "loops=N elapsed_ns=T".
 *
 *   xdp_live attach --dev DEV --prog drop|parse|reflect|cookie|pass
 *       Attaches a floor program, a SYN-answer reference or the XDP_PASS a
 *       veth's peer needs (progs/live_progs.bpf.c) natively to DEV; `ip link
 *       set DEV xdp off` removes it.
 *
 *   xdp_live attach --dev DEV --prog relay --to DEV2
 *       Attaches the relay (progs/live_progs.bpf.c): every frame DEV receives
 *       leaves through DEV2 as an XDP frame. With gen --via packet into DEV's
 *       peer, the receiver behind DEV2 gets XDP frames, as from live frames.
 *
 *   xdp_live attach --dev DEV --prog limiter --rule IPV4/LEN --rate PPS --burst N
 *       Attaches the minimal limiter (progs/min_limiter.bpf.c, the datapath
 *       benchmark's reference) natively to DEV with one per-source rule: PPS
 *       per source of IPV4/LEN, burst N, as `perimctl limit set ... per-source`
 *       configures perim (GCRA: interval 1e9 / PPS, tolerance (N - 1) x interval).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include "tests/bench/progs/live_progs.skel.h"
#include "tests/bench/progs/min_limiter.skel.h"

#define FRAME_LEN 60                 /* 64 on the wire with the FCS */
#define SEC_NS 1000000000ULL

struct gen_opts {
	const char *dev;
	const char *hold_dev;
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint32_t src, dst;               /* host order */
	uint32_t sources;
	uint16_t port;
	uint64_t rate, count;
	double seconds;
	int cpu;
	uint32_t batch;
	uint32_t per_call;
	int tcp_syn;                     /* bare TCP SYNs (checksummed) instead of UDP */
	uint64_t start_at;               /* CLOCK_MONOTONIC ns; 0: at once */
	int via_packet;                  /* --via packet: AF_PACKET from the start */
};

/*
 * The generator's own stalls, so that a benchmark can tell a flood that did
 * not run as offered (the generator descheduled on a loaded machine) from a
 * receiver that mishandled it. Between two calls no frame leaves:
 *   max_gap_ns  the longest such time (end of a call to the start of the
 *               next, or to the end of the run), pacing waits included;
 *   stalled_ns  the total time calls started later than they were due
 *               (start - max(due, previous call's end)): not sending when it
 *               should have been;
 *   runq_ns     the time the generator was runnable but not running over the
 *               run (schedstat's run_delay), descheduling inside calls too.
 */
struct stalls {
	uint64_t max_gap_ns, stalled_ns, runq_ns;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC_NS + (uint64_t)ts.tv_nsec;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

static uint16_t ip_checksum(const uint8_t *hdr, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)(hdr[i] << 8 | hdr[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The TCP checksum of a bare SYN from s to d (network order), over its 20-byte header at tcp. */
static uint16_t tcp_checksum(uint32_t s, uint32_t d, const uint8_t *tcp)
{
	uint8_t pseudo[12 + 20];

	memcpy(pseudo, &s, 4);
	memcpy(pseudo + 4, &d, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = 20;
	memcpy(pseudo + 12, tcp, 20);
	return ip_checksum(pseudo, sizeof(pseudo));
}

/* Ethernet/IPv4/TCP SYN without options, padded to FRAME_LEN as a NIC delivers it. */
static void build_syn(uint8_t *f, const struct gen_opts *o, uint32_t src)
{
	uint8_t *ip = f + 14, *tcp = ip + 20;
	uint32_t s = htonl(src), d = htonl(o->dst);
	uint16_t sum;

	memset(f, 0, FRAME_LEN);
	memcpy(f, o->dst_mac, 6);
	memcpy(f + 6, o->src_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 40;                                    /* total length: headers only */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	sum = ip_checksum(ip, 20);
	ip[10] = sum >> 8; ip[11] = sum & 0xff;
	tcp[0] = 0x9c; tcp[1] = 0x40;                  /* source port 40000 */
	tcp[2] = o->port >> 8; tcp[3] = o->port & 0xff;
	tcp[4] = 0x12; tcp[5] = 0x34;                  /* sequence number */
	tcp[12] = 5 << 4;                              /* header length: 20 bytes */
	tcp[13] = 0x02;                                /* SYN */
	tcp[14] = 0xfa; tcp[15] = 0xf0;                /* window 64240 */
	sum = tcp_checksum(s, d, tcp);
	tcp[16] = sum >> 8; tcp[17] = sum & 0xff;
}

/* Ethernet/IPv4/UDP, UDP checksum 0 (allowed for IPv4), zero payload. */
static void build_frame(uint8_t *f, const struct gen_opts *o, uint32_t src)
{
	if (o->tcp_syn) {
		build_syn(f, o, src);
		return;
	}
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint32_t s = htonl(src), d = htonl(o->dst);
	uint16_t tot = FRAME_LEN - 14, ulen = tot - 20, sum;

	memset(f, 0, FRAME_LEN);
	memcpy(f, o->dst_mac, 6);
	memcpy(f + 6, o->src_mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = tot >> 8; ip[3] = tot & 0xff;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	sum = ip_checksum(ip, 20);
	ip[10] = sum >> 8; ip[11] = sum & 0xff;
	udp[0] = 0x9c; udp[1] = 0x40;                  /* source port 40000 */
	udp[2] = o->port >> 8; udp[3] = o->port & 0xff;
	udp[4] = ulen >> 8; udp[5] = ulen & 0xff;
}

/*
 * Sleeps through most of a long wait (at low rates a busy loop would starve
 * the daemon and tools sharing this CPU), then spins the last stretch, which
 * a sleep would overshoot.
 */
static void wait_until_ns(uint64_t due, uint64_t t)
{
	const uint64_t spin_ns = 100000;

	if (due > t + 2 * spin_ns) {
		uint64_t ns = due - t - spin_ns;
		struct timespec ts = { .tv_sec = (time_t)(ns / SEC_NS), .tv_nsec = (long)(ns % SEC_NS) };

		nanosleep(&ts, NULL);
	}
	while (now_ns() < due && !stop)
		;
}

/* This thread's run_delay (ns runnable but waiting for a CPU), or 0 without schedstats. */
static uint64_t run_delay_ns(void)
{
	unsigned long long run = 0, delay = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &run, &delay) != 2)
		delay = 0;
	fclose(f);
	return delay;
}

/* Accounts the time between the previous call's end and this call's start (due: when it was due). */
static void note_gap(struct stalls *st, uint64_t prev_end, uint64_t due, uint64_t start)
{
	uint64_t ready = due > prev_end ? due : prev_end;

	if (start - prev_end > st->max_gap_ns)
		st->max_gap_ns = start - prev_end;
	if (start > ready)
		st->stalled_ns += start - ready;
}

/* When the call after `sent` frames was due: paced, on schedule (but not past the deadline); unpaced, at once. */
static uint64_t next_due(const struct gen_opts *o, uint64_t start, uint64_t sent, uint64_t prev_end,
			 uint64_t deadline)
{
	uint64_t due = o->rate ? start + sent * SEC_NS / o->rate : prev_end;

	return due < deadline ? due : deadline;
}

static int pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "xdp_live: pinning to CPU %d: %s\n", cpu, strerror(errno));
		return -errno;
	}
	return 0;
}

/* One BPF_PROG_RUN call: `n` frames out of ifindex, `batch` per flush; 0 or -errno. */
static int send_batch(int prog_fd, int ifindex, uint8_t *frame, uint32_t n, uint32_t batch)
{
	/* The kernel wants data_end == the frame size when a context is given. */
	struct xdp_md ctx = { .data_end = FRAME_LEN, .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = FRAME_LEN,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);

	return bpf_prog_test_run_opts(prog_fd, &opts) ? -errno : 0;
}

/*
 * The AF_PACKET back end: frames written by this process and handed to the
 * device's transmit routine without a qdisc (PACKET_QDISC_BYPASS), up to
 * PACKET_TX_MAX per sendmmsg. With several sources each frame is rebuilt
 * for the next source, as the live generator's program rewrites it.
 */
#define PACKET_TX_MAX 1024

struct packet_tx {
	int fd;
	uint32_t seq;                    /* the next frame's source: src + seq % sources */
	uint8_t frames[PACKET_TX_MAX][FRAME_LEN];
	struct iovec iov[PACKET_TX_MAX];
	struct mmsghdr msgs[PACKET_TX_MAX];
};

static int packet_tx_open(struct packet_tx *p, int ifindex, const struct gen_opts *o)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex };
	int one = 1;

	/* Protocol 0: a socket that only transmits. */
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		fprintf(stderr, "xdp_live: AF_PACKET socket: %s\n", strerror(errno));
		return -errno;
	}
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(p->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
		int err = -errno;

		fprintf(stderr, "xdp_live: AF_PACKET socket on %s: %s\n", o->dev, strerror(-err));
		close(p->fd);
		return err;
	}
	for (uint32_t i = 0; i < PACKET_TX_MAX; i++) {
		build_frame(p->frames[i], o, o->src);
		p->iov[i] = (struct iovec){ .iov_base = p->frames[i], .iov_len = FRAME_LEN };
		p->msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &p->iov[i], .msg_iovlen = 1 } };
	}
	p->seq = 0;
	return 0;
}

/* At most PACKET_TX_MAX frames; returns how many the device took (a full ring refuses the rest), or -errno. */
static int64_t packet_tx_chunk(struct packet_tx *p, const struct gen_opts *o, uint32_t k)
{
	int64_t taken = 0;
	uint32_t i = 0;

	if (o->sources > 1)
		for (uint32_t f = 0; f < k; f++)
			build_frame(p->frames[f], o, o->src + p->seq++ % o->sources);
	while (i < k) {
		int r = sendmmsg(p->fd, p->msgs + i, k - i, 0);

		if (r > 0) {
			i += (uint32_t)r;
			taken += r;
		} else if (errno == ENOBUFS || errno == EAGAIN || errno == ENETDOWN) {
			i++;                     /* refused: the receiver's ring is full */
		} else if (errno != EINTR) {
			fprintf(stderr, "xdp_live: sendmmsg on %s: %s\n", o->dev, strerror(errno));
			return -errno;
		}
	}
	return taken;
}

/* n frames, PACKET_TX_MAX per sendmmsg; returns how many the device took, or -errno. */
static int64_t packet_tx_send(struct packet_tx *p, const struct gen_opts *o, uint32_t n)
{
	int64_t taken = 0, r;

	while (n) {
		uint32_t k = n < PACKET_TX_MAX ? n : PACKET_TX_MAX;

		r = packet_tx_chunk(p, o, k);
		if (r < 0)
			return r;
		taken += r;
		n -= k;
	}
	return taken;
}

/* Where generate()'s frames go: live frames, or the AF_PACKET socket once `packet` is set. */
struct gen_tx {
	int prog_fd, ifindex;
	uint8_t *frame;
	bool sent_live;                  /* a live call succeeded: a later EPERM is an error */
	struct packet_tx *packet;
};

static int gen_tx_to_packet(struct gen_tx *tx, const struct gen_opts *o)
{
	int err;

	tx->packet = malloc(sizeof(*tx->packet));
	if (!tx->packet) {
		fprintf(stderr, "xdp_live: %s\n", strerror(errno));
		return -ENOMEM;
	}
	err = packet_tx_open(tx->packet, tx->ifindex, o);
	if (err) {
		free(tx->packet);
		tx->packet = NULL;
	}
	return err;
}

/*
 * n frames out; returns how many the device took, or -errno. The first call
 * the kernel refuses with EPERM (live frames not allowed) moves the run to
 * AF_PACKET before any frame has left (the output's via= says so).
 */
static int64_t gen_send(struct gen_tx *tx, const struct gen_opts *o, uint32_t n)
{
	int err;

	if (!tx->packet) {
		err = send_batch(tx->prog_fd, tx->ifindex, tx->frame, n, o->batch);
		if (!err) {
			tx->sent_live = true;
			return n;
		}
		if (err != -EPERM || tx->sent_live) {
			fprintf(stderr, "xdp_live: BPF_PROG_RUN (live frames): %s\n", strerror(-err));
			return err;
		}
		err = gen_tx_to_packet(tx, o);
		if (err)
			return err;
	}
	return packet_tx_send(tx->packet, o, n);
}

/*
 * Each BPF_PROG_RUN adds its program to the kernel's XDP dispatcher and
 * removes it again, which rebuilds the dispatcher and waits for RCU: about a
 * jiffy per call. A program already attached somewhere stays in the
 * dispatcher, so attaching the generator (generic mode) to an idle device
 * makes a call cost microseconds and lets calls of one batch be paced.
 */
static int hold_in_dispatcher(const char *dev, int prog_fd, int *ifindex)
{
	int err;

	*ifindex = (int)if_nametoindex(dev);
	if (!*ifindex) {
		fprintf(stderr, "xdp_live: device \"%s\": %s\n", dev, strerror(errno));
		return -ENODEV;
	}
	err = bpf_xdp_attach(*ifindex, prog_fd, XDP_FLAGS_SKB_MODE, NULL);
	if (err)
		fprintf(stderr, "xdp_live: attaching the generator to %s: %s\n", dev, strerror(-err));
	return err;
}

static int generate(const struct gen_opts *o)
{
	int hold_ifindex = 0;
	struct live_progs *skel = NULL;
	uint8_t frame[FRAME_LEN];
	uint64_t offered = 0, sent = 0, start, deadline, limit, prev_end, runq0, end;
	struct gen_tx tx = { 0 };
	int64_t taken;
	struct stalls st = { 0 };
	bool timed_out = false;
	int ifindex, fd, err = 0;

	ifindex = (int)if_nametoindex(o->dev);
	if (!ifindex) {
		fprintf(stderr, "xdp_live: device \"%s\": %s\n", o->dev, strerror(errno));
		return 1;
	}
	if (o->cpu >= 0 && pin_to_cpu(o->cpu))
		return 1;
	skel = live_progs__open();
	if (!skel) {
		fprintf(stderr, "xdp_live: opening the generator: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->src_base = o->src;
	skel->rodata->src_count = o->sources;
	skel->rodata->tcp_syn = o->tcp_syn;
	err = live_progs__load(skel);
	if (err) {
		fprintf(stderr, "xdp_live: loading the generator: %s\n", strerror(-err));
		live_progs__destroy(skel);
		return 1;
	}
	fd = bpf_program__fd(skel->progs.gen_tx);
	if (o->hold_dev && hold_in_dispatcher(o->hold_dev, fd, &hold_ifindex)) {
		live_progs__destroy(skel);
		return 1;
	}
	limit = o->count ? o->count : UINT64_MAX;
	build_frame(frame, o, o->src);
	tx = (struct gen_tx){ .prog_fd = fd, .ifindex = ifindex, .frame = frame };
	if (o->via_packet && gen_tx_to_packet(&tx, o)) {
		err = -EIO;
		goto out;
	}
	runq0 = run_delay_ns();
	start = now_ns();
	if (o->start_at) {
		wait_until_ns(o->start_at, start);
		start = o->start_at;
	}
	prev_end = start;
	deadline = o->count ? UINT64_MAX : start + (uint64_t)(o->seconds * SEC_NS);
	/* Pacing follows the frames offered; a frame the device refused is not sent again. */
	while (!stop && offered < limit) {
		uint32_t n = limit - offered < o->per_call ? (uint32_t)(limit - offered) : o->per_call;
		uint64_t t = now_ns(), due = next_due(o, start, offered, prev_end, UINT64_MAX);

		if (t >= deadline) {
			timed_out = true;
			break;
		}
		/* Pace: a call may start once the packets sent before it are due. */
		if (o->rate)
			wait_until_ns(due, t);
		t = now_ns();
		note_gap(&st, prev_end, due, t);
		taken = gen_send(&tx, o, n);
		if (taken < 0) {
			err = (int)taken;
			break;
		}
		offered += n;
		sent += (uint64_t)taken;
		/*
		 * A relay's NAPI thread at this thread's SCHED_FIFO priority on
		 * this CPU (tests/bench/lib.sh: gen_relay) drains what this call
		 * queued, in polls of up to 64, before the next call starts.
		 */
		if (tx.packet)
			sched_yield();
		prev_end = now_ns();
	}
	end = now_ns();
	/* The tail: when the deadline ended the run, a call was due before it or at it. */
	note_gap(&st, prev_end, timed_out ? next_due(o, start, offered, prev_end, deadline) : end, end);
	st.runq_ns = run_delay_ns() - runq0;
	printf("sent=%llu elapsed_ns=%llu max_gap_ns=%llu stalled_ns=%llu runq_ns=%llu via=%s\n",
	       (unsigned long long)sent, (unsigned long long)(end - start),
	       (unsigned long long)st.max_gap_ns, (unsigned long long)st.stalled_ns,
	       (unsigned long long)st.runq_ns, tx.packet ? "packet" : "live");
out:
	if (tx.packet) {
		close(tx.packet->fd);
		free(tx.packet);
	}
	if (hold_ifindex)
		bpf_xdp_detach(hold_ifindex, XDP_FLAGS_SKB_MODE, NULL);
	live_progs__destroy(skel);
	return err ? 1 : 0;
}

/* The program attach --prog names: a floor, a SYN-answer reference or the peer's pass. */
static const char *const attach_progs[][2] = {
	{ "drop", "floor_drop" }, { "parse", "floor_parse" }, { "reflect", "syn_reflect" },
	{ "cookie", "syn_cookie" }, { "pass", "peer_pass" }, { "relay", "relay" },
};

static const char *attach_prog_name(const char *prog)
{
	for (size_t i = 0; i < sizeof(attach_progs) / sizeof(attach_progs[0]); i++)
		if (!strcmp(prog, attach_progs[i][0]))
			return attach_progs[i][1];
	return NULL;
}

/*
 * Loads only the named program (the SYN references need 6.0's cookie helper) and attaches it natively;
 * relay_to: where the relay sends frames (--to).
 */
static int attach_floor(const char *dev, const char *prog, const char *relay_to)
{
	const char *name = attach_prog_name(prog);
	struct live_progs *skel;
	struct bpf_program *p;
	int ifindex, err;

	ifindex = (int)if_nametoindex(dev);
	if (!ifindex) {
		fprintf(stderr, "xdp_live: device \"%s\": %s\n", dev, strerror(errno));
		return 1;
	}
	skel = live_progs__open();
	if (!skel) {
		fprintf(stderr, "xdp_live: opening the floor programs: %s\n", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), name));
	if (relay_to) {
		skel->rodata->relay_ifindex = if_nametoindex(relay_to);
		if (!skel->rodata->relay_ifindex) {
			fprintf(stderr, "xdp_live: device \"%s\": %s\n", relay_to, strerror(errno));
			live_progs__destroy(skel);
			return 1;
		}
	}
	err = live_progs__load(skel);
	if (err) {
		fprintf(stderr, "xdp_live: loading %s: %s\n", name, strerror(-err));
		live_progs__destroy(skel);
		return 1;
	}
	p = bpf_object__find_program_by_name(skel->obj, name);
	err = p ? bpf_xdp_attach(ifindex, bpf_program__fd(p), XDP_FLAGS_DRV_MODE, NULL) : -ENOENT;
	if (err)
		fprintf(stderr, "xdp_live: attaching %s to %s: %s\n", prog, dev, strerror(-err));
	live_progs__destroy(skel);
	return err ? 1 : 0;
}

/*
 * A SCHED_IDLE busy loop on the receiver's CPU: it keeps the (virtual) CPU
 * from halting, so waking the NAPI thread costs a reschedule rather than a
 * vCPU wake-up, and the loops it completes measure the CPU the flood leaves
 * to everything else on that core.
 */
static int spin(int cpu, double seconds)
{
	struct sched_param param = { 0 };
	uint64_t loops = 0, start, end;
	volatile uint64_t sink = 0;

	if (pin_to_cpu(cpu))
		return 1;
	if (sched_setscheduler(0, SCHED_IDLE, &param)) {
		fprintf(stderr, "xdp_live: SCHED_IDLE: %s\n", strerror(errno));
		return 1;
	}
	start = now_ns();
	end = start + (uint64_t)(seconds * SEC_NS);
	while (!stop) {
		for (int i = 0; i < 1000; i++)
			sink += (uint64_t)i;
		loops++;
		if ((loops & 63) == 0 && now_ns() >= end)
			break;
	}
	printf("loops=%llu elapsed_ns=%llu\n", (unsigned long long)loops,
	       (unsigned long long)(now_ns() - start));
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx",
		      &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

static int parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' ? -1 : 0;
}

static int bad(const char *opt, const char *val)
{
	fprintf(stderr, "xdp_live: argument \"%s\" of %s is wrong\n", val, opt);
	return 2;
}

static int usage(void)
{
	fprintf(stderr, "usage: xdp_live gen --dev DEV --dst-mac MAC [--src-mac MAC] --src IPV4 [--sources N]\n"
			"                    --dst IPV4 [--port P] --rate PPS (--seconds S | --count N) [--cpu C] [--batch B]\n"
			"                    [--per-call N] [--hold-dev IDLE_DEV] [--tcp-syn] [--start-at NS]\n"
			"                    [--via live|packet]\n"
			"       xdp_live now\n"
			"       xdp_live attach --dev DEV --prog drop|parse|reflect|cookie|pass\n"
			"       xdp_live attach --dev DEV --prog relay --to DEV2\n"
			"       xdp_live attach --dev DEV --prog limiter --rule IPV4/LEN --rate PPS --burst N\n"
			"       xdp_live spin CPU SECONDS\n");
	return 2;
}

static int main_gen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' }, { "dst-mac", required_argument, NULL, 'm' },
		{ "src-mac", required_argument, NULL, 'M' },
		{ "src", required_argument, NULL, 's' }, { "sources", required_argument, NULL, 'n' },
		{ "dst", required_argument, NULL, 'D' }, { "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' }, { "seconds", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' }, { "cpu", required_argument, NULL, 'C' },
		{ "batch", required_argument, NULL, 'b' }, { "hold-dev", required_argument, NULL, 'H' },
		{ "per-call", required_argument, NULL, 'P' }, { "tcp-syn", no_argument, NULL, 'S' },
		{ "start-at", required_argument, NULL, 'A' }, { "via", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* A locally administered source MAC by default; --src-mac makes answers reach the sender's stack. */
	struct gen_opts o = { .src_mac = { 0x02, 0, 0, 0, 0, 0x01 }, .sources = 1, .port = 9, .cpu = -1,
			      .batch = 64, .rate = UINT64_MAX };
	int have_mac = 0, have_src = 0, have_dst = 0, c;
	uint64_t v;
	char *end;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dev = optarg; break;
		case 'H': o.hold_dev = optarg; break;
		case 'S': o.tcp_syn = 1; break;
		case 'V':
			if (strcmp(optarg, "live") && strcmp(optarg, "packet"))
				return bad("--via", optarg);
			o.via_packet = !strcmp(optarg, "packet");
			break;
		case 'm': if (parse_mac(optarg, o.dst_mac)) return bad("--dst-mac", optarg); have_mac = 1; break;
		case 'M': if (parse_mac(optarg, o.src_mac)) return bad("--src-mac", optarg); break;
		case 's': if (parse_ipv4(optarg, &o.src)) return bad("--src", optarg); have_src = 1; break;
		case 'D': if (parse_ipv4(optarg, &o.dst)) return bad("--dst", optarg); have_dst = 1; break;
		case 'n': if (parse_u64(optarg, &v) || !v || v > 65536) return bad("--sources", optarg);
			  o.sources = (uint32_t)v; break;
		case 'p': if (parse_u64(optarg, &v) || v > 65535) return bad("--port", optarg);
			  o.port = (uint16_t)v; break;
		case 'r': if (parse_u64(optarg, &o.rate)) return bad("--rate", optarg); break;
		case 'A': if (parse_u64(optarg, &o.start_at) || !o.start_at) return bad("--start-at", optarg); break;
		case 'c': if (parse_u64(optarg, &o.count) || !o.count) return bad("--count", optarg); break;
		case 't':
			o.seconds = strtod(optarg, &end);
			if (*end || end == optarg || o.seconds <= 0)
				return bad("--seconds", optarg);
			break;
		case 'C': if (parse_u64(optarg, &v) || v >= CPU_SETSIZE) return bad("--cpu", optarg);
			  o.cpu = (int)v; break;
		/* The kernel refuses batches above 256 (E2BIG). */
		case 'b': if (parse_u64(optarg, &v) || !v || v > 256) return bad("--batch", optarg);
			  o.batch = (uint32_t)v; break;
		case 'P': if (parse_u64(optarg, &v) || !v || v > 1 << 20) return bad("--per-call", optarg);
			  o.per_call = (uint32_t)v; break;
		default: return usage();
		}
	}
	if (!o.per_call)
		o.per_call = o.batch;
	if (!o.dev || !have_mac || !have_src || !have_dst || o.rate == UINT64_MAX ||
	    (!o.count && o.seconds <= 0) || optind != argc)
		return usage();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	libbpf_set_print(libbpf_print);
	return generate(&o);
}

/* The minimal limiter's rule (min_limiter.bpf.c: struct ml_rule, the LPM trie's value). */
struct ml_rule {
	uint32_t id, pad;
	uint64_t interval_ns, tolerance_ns;
};

struct limiter_opts {
	uint32_t prefix;                 /* host order */
	uint32_t prefixlen;
	uint64_t rate, burst;
};

/* "A.B.C.D/LEN" */
static int parse_prefix(const char *s, struct limiter_opts *l)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	uint64_t len;

	if (!slash || (size_t)(slash - s) >= sizeof(addr) || parse_u64(slash + 1, &len) || len > 32)
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = 0;
	l->prefixlen = (uint32_t)len;
	return parse_ipv4(addr, &l->prefix);
}

/* Loads the minimal limiter, puts its one rule in the trie and attaches it natively. */
static int attach_limiter(const char *dev, const struct limiter_opts *l)
{
	struct { uint32_t prefixlen; uint32_t addr; } k = { .prefixlen = l->prefixlen, .addr = htonl(l->prefix) };
	struct ml_rule r = { .id = 1, .interval_ns = SEC_NS / l->rate };
	struct min_limiter *skel;
	int ifindex, err;

	r.tolerance_ns = r.interval_ns * (l->burst - 1);
	ifindex = (int)if_nametoindex(dev);
	if (!ifindex) {
		fprintf(stderr, "xdp_live: device \"%s\": %s\n", dev, strerror(errno));
		return 1;
	}
	skel = min_limiter__open_and_load();
	if (!skel) {
		fprintf(stderr, "xdp_live: loading the minimal limiter: %s\n", strerror(errno));
		return 1;
	}
	err = bpf_map__update_elem(skel->maps.ml_rules4, &k, sizeof(k), &r, sizeof(r), BPF_ANY);
	if (err)
		fprintf(stderr, "xdp_live: the minimal limiter's rule: %s\n", strerror(-err));
	else {
		err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.min_limiter), XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			fprintf(stderr, "xdp_live: attaching the minimal limiter to %s: %s\n", dev, strerror(-err));
	}
	/* The attached program holds its maps. */
	min_limiter__destroy(skel);
	return err ? 1 : 0;
}

static int main_attach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' }, { "prog", required_argument, NULL, 'p' },
		{ "rule", required_argument, NULL, 'R' }, { "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' }, { "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct limiter_opts l = { 0 };
	const char *dev = NULL, *prog = NULL, *to = NULL;
	bool have_rule = false;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 't': to = optarg; break;
		case 'p': if (strcmp(optarg, "limiter") && !attach_prog_name(optarg)) return bad("--prog", optarg);
			  prog = optarg; break;
		case 'R': if (parse_prefix(optarg, &l)) return bad("--rule", optarg);
			  have_rule = true; break;
		case 'r': if (parse_u64(optarg, &l.rate) || !l.rate || l.rate > SEC_NS) return bad("--rate", optarg);
			  break;
		case 'b': if (parse_u64(optarg, &l.burst) || !l.burst || l.burst > 1000000) return bad("--burst", optarg);
			  break;
		default: return usage();
		}
	}
	if (!dev || !prog || optind != argc)
		return usage();
	libbpf_set_print(libbpf_print);
	if (!strcmp(prog, "relay") && !to) {
		fprintf(stderr, "xdp_live: --prog relay needs --to DEV\n");
		return 2;
	}
	if (strcmp(prog, "relay") && to) {
		fprintf(stderr, "xdp_live: --to is only for --prog relay\n");
		return 2;
	}
	if (strcmp(prog, "limiter"))
		return have_rule || l.rate || l.burst ? usage() : attach_floor(dev, prog, to);
	if (!have_rule || !l.rate || !l.burst)
		return usage();
	return attach_limiter(dev, &l);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "gen"))
		return main_gen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "spin") && argc == 4) {
		uint64_t cpu;
		char *end;
		double seconds = strtod(argv[3], &end);

		if (parse_u64(argv[2], &cpu) || cpu >= CPU_SETSIZE)
			return bad("spin CPU", argv[2]);
		if (*end || end == argv[3] || seconds <= 0)
			return bad("spin SECONDS", argv[3]);
		signal(SIGTERM, on_signal);
		return spin((int)cpu, seconds);
	}
	if (!strcmp(argv[1], "now") && argc == 2) {
		printf("%llu\n", (unsigned long long)now_ns());
		return 0;
	}
	if (!strcmp(argv[1], "attach"))
		return main_attach(argc - 1, argv + 1);
	fprintf(stderr, "xdp_live: unknown command \"%s\"\n", argv[1]);
	return usage();
}
