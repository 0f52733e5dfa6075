// SPDX-License-Identifier: GPL-2.0
/*
 * udpflood: the test and lab traffic tool.
 *
 *   udpflood send --dev DEV --dst-mac MAC --dst ADDR --port P --rate PPS
 *                 (--count N | --seconds S) [--src ADDR[/LEN]] [--sources N] [--size BYTES]
 *                 [--tcp-syn | --tcp-ack] [--seconds-file S]
 *       Builds Ethernet/IPv4|IPv6/UDP (or, with --tcp-syn, TCP SYN; with --tcp-ack, TCP ACK
 *       with random sequence and acknowledgment numbers: forged SYN cookies) frames itself
 *       and sends them paced
 *       through an AF_PACKET socket, so sources can be spoofed (N addresses
 *       taken in turn from the --src prefix). Prints "sent=N elapsed_ns=T".
 *       With --seconds-file, S holds the frames sent per wall-clock second
 *       (the layout recv's file has); an existing S is added to, so a sender
 *       started again keeps one record: a second the sender was not running
 *       (descheduled on a loaded host) shows as a second without sends.
 *
 *   udpflood recv --port P --count-file F [--family 4|6] [--seconds-file S]
 *       Counts UDP datagrams on port P into F (8-byte counter, mmap'd):
 *       tests read it while the receiver runs, so they await a count
 *       instead of sleeping. With --seconds-file, S holds the datagrams
 *       per second of arrival as the kernel stamped it (SO_TIMESTAMPNS, a
 *       u64 per wall-clock second from the start second written first),
 *       so a receiver descheduled for a while still counts each datagram
 *       in the second it arrived.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME 1514
#define SECONDS_MAX (7 * 24 * 3600)   /* a --seconds-file covers a week */

struct send_opts {
	const char *dev;
	uint8_t dst_mac[6];
	int family;
	struct in6_addr dst, src;
	unsigned src_len;
	uint64_t sources;
	uint16_t port;
	uint64_t rate, count;
	double seconds;
	unsigned size;
	int tcp_syn;               /* TCP SYNs (no payload; checksummed, so a stack without XDP takes them) */
	int tcp_ack;               /* TCP ACKs with random numbers, checksummed */
	const char *seconds_file;  /* frames sent per wall-clock second */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Sleeps until shortly before `due` when that is far enough off to be worth a
 * system call, then the caller spins the rest: exact pacing at high rates,
 * and a slow sender does not burn a core on a machine the tests share.
 */
static void sleep_until(uint64_t due)
{
	const uint64_t spin_ns = 30000;
	uint64_t t = now_ns();
	struct timespec ts;

	if (due <= t + 2 * spin_ns)
		return;
	due -= spin_ns;
	ts.tv_sec = (time_t)(due / 1000000000ull);
	ts.tv_nsec = (long)(due % 1000000000ull);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
		;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx",
		      &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

/* ADDR or ADDR/LEN, IPv4 or IPv6; IPv4 kept in the first 4 bytes. */
static int parse_addr(const char *s, struct in6_addr *a, unsigned *len, int *family)
{
	char buf[64], *slash;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a) == 1)
		*family = 4;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		*family = 6;
	else
		return -1;
	if (len)
		*len = slash ? (unsigned)atoi(slash) : (*family == 4 ? 32 : 128);
	return 0;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/* The n-th source of the prefix: host part n (mod the prefix size), skipping 0. */
static void nth_source(const struct send_opts *o, uint64_t n, uint8_t *out)
{
	unsigned bytes = o->family == 4 ? 4 : 16, host_bits = bytes * 8 - o->src_len;
	uint64_t span = host_bits >= 63 ? UINT64_MAX : (1ull << host_bits);
	uint64_t host = o->sources > 1 ? (n % o->sources) % span : 0;

	memcpy(out, &o->src, bytes);
	for (unsigned i = 0; i < 8 && i < bytes && host; i++, host >>= 8)
		out[bytes - 1 - i] |= (uint8_t)host;
}

static size_t put_tcp_syn(const struct send_opts *o, uint64_t n, struct tcphdr *tcp)
{
	memset(tcp, 0, sizeof(*tcp));
	tcp->source = htons(40000 + (uint16_t)(n % 1000));
	tcp->dest = htons(o->port);
	tcp->seq = htonl(o->tcp_ack ? (uint32_t)random() : (uint32_t)n);
	tcp->ack_seq = o->tcp_ack ? htonl((uint32_t)random()) : 0;
	tcp->doff = sizeof(*tcp) / 4;
	tcp->syn = !o->tcp_ack;
	tcp->ack = !!o->tcp_ack;
	tcp->window = htons(64240);
	return sizeof(*tcp);
}

static size_t build_frame(const struct send_opts *o, uint64_t n, const uint8_t src_mac[6], uint8_t *f)
{
	struct ethhdr *eth = (struct ethhdr *)f;
	bool tcp = o->tcp_syn || o->tcp_ack;
	unsigned payload = tcp ? sizeof(struct tcphdr) - sizeof(struct udphdr) : o->size;
	uint8_t proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	struct udphdr *udp;
	size_t l3;

	memcpy(eth->h_dest, o->dst_mac, 6);
	memcpy(eth->h_source, src_mac, 6);
	if (o->family == 4) {
		struct iphdr *ip = (struct iphdr *)(eth + 1);

		eth->h_proto = htons(ETH_P_IP);
		memset(ip, 0, sizeof(*ip));
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = proto;
		ip->tot_len = htons(sizeof(*ip) + sizeof(*udp) + payload);
		ip->id = htons((uint16_t)n);
		nth_source(o, n, (uint8_t *)&ip->saddr);
		memcpy(&ip->daddr, &o->dst, 4);
		ip->check = htons(csum_fold(csum_add(0, ip, sizeof(*ip))));
		l3 = sizeof(*ip);
	} else {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)(eth + 1);

		eth->h_proto = htons(ETH_P_IPV6);
		memset(ip6, 0, sizeof(*ip6));
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_plen = htons(sizeof(*udp) + payload);
		ip6->ip6_nxt = proto;
		ip6->ip6_hlim = 64;
		nth_source(o, n, (uint8_t *)&ip6->ip6_src);
		ip6->ip6_dst = o->dst;
		l3 = sizeof(*ip6);
	}
	udp = (struct udphdr *)((uint8_t *)(eth + 1) + l3);
	if (tcp) {
		struct tcphdr *th = (struct tcphdr *)udp;
		size_t tcp_len = put_tcp_syn(o, n, th);
		/* The pseudo header: both addresses, then protocol and length. */
		uint32_t sum = o->family == 4 ? csum_add(0, &((struct iphdr *)(eth + 1))->saddr, 8)
					      : csum_add(0, &((struct ip6_hdr *)(eth + 1))->ip6_src, 32);

		sum += IPPROTO_TCP + tcp_len;
		th->check = htons(csum_fold(csum_add(sum, th, tcp_len)));
		return sizeof(*eth) + l3 + tcp_len;
	}
	udp->source = htons(40000 + (uint16_t)(n % 1000));
	udp->dest = htons(o->port);
	udp->len = htons(sizeof(*udp) + payload);
	udp->check = 0;
	memset(udp + 1, 'p', payload);
	if (o->family == 6) {
		/* UDP over IPv6 must carry a checksum. */
		struct ip6_hdr *ip6 = (struct ip6_hdr *)(eth + 1);
		uint32_t sum = csum_add(0, &ip6->ip6_src, 32);

		sum += sizeof(*udp) + payload;
		sum += IPPROTO_UDP;
		sum = csum_add(sum, udp, sizeof(*udp) + payload);
		udp->check = htons(csum_fold(sum));
		if (!udp->check)
			udp->check = 0xffff;
	}
	return sizeof(*eth) + l3 + sizeof(*udp) + payload;
}

static int open_packet_socket(const char *dev, uint8_t mac[6], struct sockaddr_ll *sll)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0) {
		fprintf(stderr, "udpflood: socket(AF_PACKET): %s\n", strerror(errno));
		return -1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "udpflood: %s: %s\n", dev, strerror(errno));
		close(fd);
		return -1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_ifindex = (int)if_nametoindex(dev);
	sll->sll_halen = 6;
	return fd;
}

/*
 * --seconds-file: [0] = the first second (CLOCK_REALTIME), then one counter
 * per second. A receiver starts it afresh; a sender (append) adds to the
 * record an earlier sender of the same flow left.
 */
static volatile uint64_t *map_seconds(const char *path, bool append)
{
	size_t len = (SECONDS_MAX + 1) * sizeof(uint64_t);
	volatile uint64_t *sec;
	struct timespec now;
	int fd = open(path, O_RDWR | O_CREAT | (append ? 0 : O_TRUNC), 0644);

	if (fd < 0 || ftruncate(fd, (off_t)len) < 0) {
		fprintf(stderr, "udpflood: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	sec = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (sec == MAP_FAILED) {
		fprintf(stderr, "udpflood: mmap %s: %s\n", path, strerror(errno));
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (!sec[0])
		sec[0] = (uint64_t)now.tv_sec;
	return sec;
}

static void count_in_second(volatile uint64_t *sec, uint64_t s)
{
	if (sec && s >= sec[0] && s - sec[0] < SECONDS_MAX)
		__atomic_store_n(&sec[1 + s - sec[0]], sec[1 + s - sec[0]] + 1, __ATOMIC_RELAXED);
}

static uint64_t wall_second(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (uint64_t)now.tv_sec;
}

static int do_send(const struct send_opts *o)
{
	/* Two bytes in, the IP header after the 14-byte Ethernet header is 4-byte aligned. */
	uint8_t frame_buf[MAX_FRAME + 2] __attribute__((aligned(4))), *frame = frame_buf + 2, src_mac[6];
	struct sockaddr_ll sll;
	uint64_t sent = 0, start, interval, deadline;
	volatile uint64_t *sec = NULL;
	int fd;

	if (o->seconds_file && !(sec = map_seconds(o->seconds_file, true)))
		return 1;
	fd = open_packet_socket(o->dev, src_mac, &sll);
	if (fd < 0)
		return 1;
	memcpy(sll.sll_addr, o->dst_mac, 6);
	interval = 1000000000ull / o->rate;
	start = now_ns();
	deadline = o->seconds > 0 ? start + (uint64_t)(o->seconds * 1e9) : UINT64_MAX;
	while (!stop && (o->count == 0 || sent < o->count)) {
		uint64_t due = start + sent * interval, t = now_ns();
		size_t len;

		if (due >= deadline)
			break;
		sleep_until(due);
		while (t < due)
			t = now_ns();
		len = build_frame(o, sent, src_mac, frame);
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			fprintf(stderr, "udpflood: sendto: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		sent++;
		count_in_second(sec, wall_second());
	}
	printf("sent=%llu elapsed_ns=%llu\n", (unsigned long long)sent,
	       (unsigned long long)(now_ns() - start));
	close(fd);
	return 0;
}

/* The kernel's arrival stamp of the datagram recvmsg() got, or 0. */
static uint64_t arrival_second(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (uint64_t)ts.tv_sec;
		}
	return 0;
}

static int do_recv(uint16_t port, const char *count_file, int family, const char *seconds_file)
{
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in sa4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	volatile uint64_t *count, *sec = NULL;
	char buf[2048], ctrl[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fd, cf, rcvbuf = 4 << 20, one = 1;

	cf = open(count_file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (cf < 0 || ftruncate(cf, 8) < 0) {
		fprintf(stderr, "udpflood: %s: %s\n", count_file, strerror(errno));
		return 1;
	}
	count = mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED, cf, 0);
	if (count == MAP_FAILED) {
		fprintf(stderr, "udpflood: mmap %s: %s\n", count_file, strerror(errno));
		return 1;
	}
	if (seconds_file && !(sec = map_seconds(seconds_file, false)))
		return 1;
	fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0) {
		fprintf(stderr, "udpflood: socket: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (sec && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0) {
		fprintf(stderr, "udpflood: SO_TIMESTAMPNS: %s\n", strerror(errno));
		return 1;
	}
	if ((family == 4 ? bind(fd, (struct sockaddr *)&sa4, sizeof(sa4))
			 : bind(fd, (struct sockaddr *)&sa6, sizeof(sa6))) < 0) {
		fprintf(stderr, "udpflood: bind port %u: %s\n", port, strerror(errno));
		return 1;
	}
	/* Readiness for the test: the count file exists and reads 0 from here on. */
	while (!stop) {
		ssize_t n;
		uint64_t s;

		mh.msg_control = ctrl;
		mh.msg_controllen = sizeof(ctrl);
		n = recvmsg(fd, &mh, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "udpflood: recv: %s\n", strerror(errno));
			return 1;
		}
		__atomic_store_n(count, *count + 1, __ATOMIC_RELAXED);
		if (sec && (s = arrival_second(&mh)))
			count_in_second(sec, s);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: udpflood send --dev DEV --dst-mac MAC --dst ADDR --port P --rate PPS\n"
		"                     (--count N | --seconds S) [--src ADDR[/LEN]] [--sources N] [--size B]\n"
		"                     [--tcp-syn | --tcp-ack] [--seconds-file S]\n"
		"       udpflood recv --port P --count-file F [--family 4|6] [--seconds-file S]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, 0, 'd' }, { "dst-mac", required_argument, 0, 'm' },
		{ "dst", required_argument, 0, 'D' }, { "src", required_argument, 0, 'S' },
		{ "sources", required_argument, 0, 'n' }, { "port", required_argument, 0, 'p' },
		{ "rate", required_argument, 0, 'r' }, { "count", required_argument, 0, 'c' },
		{ "seconds", required_argument, 0, 't' }, { "size", required_argument, 0, 'z' },
		{ "count-file", required_argument, 0, 'f' }, { "family", required_argument, 0, 'F' },
		{ "tcp-syn", no_argument, 0, 'T' }, { "seconds-file", required_argument, 0, 's' },
		{ "tcp-ack", no_argument, 0, 'A' },
		{ 0 }
	};
	struct send_opts o = { .rate = 1000, .sources = 1, .size = 18 };
	const char *count_file = NULL, *seconds_file = NULL;
	int c, family = 4, src_family = 0, have_mac = 0, have_dst = 0;

	if (argc < 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		usage();
		return 2;
	}
	/* No SA_RESTART: a signal must interrupt recv() so the receiver exits. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	optind = 2;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dev = optarg; break;
		case 'm': if (parse_mac(optarg, o.dst_mac)) goto bad; have_mac = 1; break;
		case 'D': if (parse_addr(optarg, &o.dst, NULL, &o.family)) goto bad; have_dst = 1; break;
		case 'S': if (parse_addr(optarg, &o.src, &o.src_len, &src_family)) goto bad; break;
		case 'n': o.sources = strtoull(optarg, NULL, 10); break;
		case 'p': o.port = (uint16_t)atoi(optarg); break;
		case 'r': o.rate = strtoull(optarg, NULL, 10); break;
		case 'c': o.count = strtoull(optarg, NULL, 10); break;
		case 't': o.seconds = atof(optarg); break;
		case 'z': o.size = (unsigned)atoi(optarg); break;
		case 'f': count_file = optarg; break;
		case 'F': family = atoi(optarg); break;
		case 'T': o.tcp_syn = 1; break;
		case 's': seconds_file = o.seconds_file = optarg; break;
		case 'A': o.tcp_ack = 1; break;
		default: usage(); return 2;
		}
	}
	if (!strcmp(argv[1], "recv")) {
		if (!o.port || !count_file) {
			usage();
			return 2;
		}
		return do_recv(o.port, count_file, family, seconds_file);
	}
	if (!o.dev || !have_mac || !have_dst || !o.port || !o.rate || !src_family ||
	    src_family != o.family || o.size > 1400 || (!o.count && o.seconds <= 0)) {
		usage();
		return 2;
	}
	return do_send(&o);
bad:
	fprintf(stderr, "udpflood: bad value \"%s\"\n", optarg);
	return 2;
}
