// SPDX-License-Identifier: GPL-2.0
/*
 * The listener table (ctl/perimd/procs/listeners.h): exact address before the
 * wildcard, dual-stack wildcard, pid+start keys, removal on close (also by
 * another process once the kernel no longer lists the port), and the start-up
 * scan of /proc/net/{tcp,udp}{,6} + /proc/<pid>/fd, on a fake proc root; UDP
 * sockets from bind events, forgotten once the kernel no longer lists them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perim_events.h"
#include "procs/listeners.h"
#include "test.h"

static void v4(uint8_t a[16], const char *s)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	inet_pton(AF_INET, s, a + 12);
}

static struct perimd_listener listener(uint16_t family, const char *addr, uint16_t port, uint32_t pid,
				       uint64_t start)
{
	struct perimd_listener ln = { .port = port, .family = family, .pid = pid, .start_ns = start,
				      .proto = IPPROTO_TCP };

	if (family == AF_INET)
		v4(ln.addr, addr);
	else
		inet_pton(AF_INET6, addr, ln.addr);
	return ln;
}

static uint32_t owner_of(struct perimd_listeners *l, uint8_t proto, const char *dst, uint16_t port)
{
	const struct perimd_listener *ln;
	uint8_t a[16];

	if (strchr(dst, ':'))
		inet_pton(AF_INET6, dst, a);
	else
		v4(a, dst);
	ln = perimd_listeners_find(l, proto, a, port);
	return ln ? ln->pid : 0;
}

static uint32_t owner(struct perimd_listeners *l, const char *dst, uint16_t port)
{
	return owner_of(l, IPPROTO_TCP, dst, port);
}

static void test_exact_before_wildcard(void)
{
	struct perimd_listeners *l = perimd_listeners_new("/proc");
	struct perimd_listener any = listener(AF_INET, "0.0.0.0", 80, 100, 1);
	struct perimd_listener one = listener(AF_INET, "10.0.0.1", 80, 200, 2);
	struct perimd_listener six = listener(AF_INET6, "::", 443, 300, 3);

	if (!ASSERT_TRUE(l != NULL, "new"))
		return;
	ASSERT_OK(perimd_listeners_add(l, &any), "add any");
	ASSERT_OK(perimd_listeners_add(l, &one), "add exact");
	ASSERT_OK(perimd_listeners_add(l, &six), "add ::");
	ASSERT_OK(perimd_listeners_add(l, &six), "add again");
	ASSERT_EQ(perimd_listeners_count(l), 3, "no duplicate");
	ASSERT_EQ(owner(l, "10.0.0.1", 80), 200, "exact address first");
	ASSERT_EQ(owner(l, "10.0.0.2", 80), 100, "else the IPv4 wildcard");
	ASSERT_EQ(owner(l, "10.0.0.2", 443), 300, "an IPv6 wildcard takes IPv4 (dual stack)");
	ASSERT_EQ(owner(l, "2001:db8::1", 443), 300, "and IPv6");
	ASSERT_EQ(owner(l, "2001:db8::1", 80), 0, "an IPv4 wildcard does not take IPv6");
	ASSERT_EQ(owner(l, "10.0.0.1", 81), 0, "nobody on the port");
	perimd_listeners_free(l);
}

static struct perim_ev_sock sock_event(uint32_t pid, uint64_t start, const char *addr, uint16_t port,
				       int oldstate, int newstate)
{
	struct perim_ev_sock e = { .family = AF_INET, .proto = IPPROTO_TCP, .sport = port,
				   .oldstate = oldstate, .newstate = newstate };

	e.hdr.type = PERIM_EV_SOCK_STATE;
	e.hdr.pid = pid;
	e.hdr.start_ns = start;
	v4(e.saddr, addr);
	return e;
}

/* Events for this test process (it is in perimd's namespace: its own). */
static void test_sock_state_events(void)
{
	struct perimd_listeners *l = perimd_listeners_new("/proc");
	uint32_t me = getpid();
	struct perim_ev_sock e;

	if (!ASSERT_TRUE(l != NULL, "new"))
		return;
	e = sock_event(me, 11, "0.0.0.0", 65001, 7, 10);
	perimd_listeners_on_sock_state(l, &e);
	ASSERT_EQ(owner(l, "192.0.2.1", 65001), me, "LISTEN adds");
	e = sock_event(me, 11, "0.0.0.0", 65001, 10, 7);
	perimd_listeners_on_sock_state(l, &e);
	ASSERT_EQ(owner(l, "192.0.2.1", 65001), 0, "CLOSE from LISTEN removes");
	/* The same pid with another start time is another process: its close leaves ours. */
	e = sock_event(me, 11, "0.0.0.0", 65001, 7, 10);
	perimd_listeners_on_sock_state(l, &e);
	e = sock_event(me, 12, "0.0.0.0", 65001, 10, 7);
	perimd_listeners_on_sock_state(l, &e);
	/* Not matched exactly: removed only because the kernel lists nothing on 65001. */
	ASSERT_EQ(owner(l, "192.0.2.1", 65001), 0, "a port the kernel no longer lists is forgotten");
	/* A process whose namespace cannot be shown to be ours (no such pid) is ignored. */
	e = sock_event(0x7ffffff0, 1, "0.0.0.0", 65002, 7, 10);
	perimd_listeners_on_sock_state(l, &e);
	ASSERT_EQ(perimd_listeners_count(l), 0, "a process outside the namespace");
	e = sock_event(me, 11, "0.0.0.0", 65003, 1, 4);
	perimd_listeners_on_sock_state(l, &e);
	ASSERT_EQ(perimd_listeners_count(l), 0, "other transitions change nothing");
	perimd_listeners_free(l);
}

static int write_file(const char *path, const char *text);

/* A real UDP socket of this process, as a bind event reports it; closing it makes the entry stale. */
static void test_udp_bind_events(void)
{
	struct perimd_listeners *l = perimd_listeners_new("/proc");
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	struct perim_ev_bind e = { .family = AF_INET, .proto = IPPROTO_UDP };
	struct stat st;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (!ASSERT_TRUE(l != NULL, "new") || !ASSERT_TRUE(fd >= 0, "socket"))
		goto out;
	if (!ASSERT_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), "bind") ||
	    !ASSERT_OK(getsockname(fd, (struct sockaddr *)&sa, &salen), "getsockname") ||
	    !ASSERT_OK(fstat(fd, &st), "fstat"))
		goto out;
	e.hdr.type = PERIM_EV_BIND;
	e.hdr.pid = getpid();
	e.hdr.start_ns = 21;
	e.port = ntohs(sa.sin_port);
	e.inode = st.st_ino;
	v4(e.addr, "127.0.0.1");
	e.result = -98;
	perimd_listeners_on_bind(l, &e);
	ASSERT_EQ(perimd_listeners_count(l), 0, "a failed bind adds nothing");
	e.result = 0;
	e.proto = IPPROTO_TCP;
	perimd_listeners_on_bind(l, &e);
	ASSERT_EQ(perimd_listeners_count(l), 0, "a TCP bind adds nothing (listen does)");
	e.proto = IPPROTO_UDP;
	perimd_listeners_on_bind(l, &e);
	perimd_listeners_set_udp_recheck_ns(l, 0);
	ASSERT_EQ(owner_of(l, IPPROTO_UDP, "127.0.0.1", e.port), getpid(), "a bound UDP socket, still listed");
	ASSERT_EQ(owner_of(l, IPPROTO_UDP, "127.0.0.2", e.port), 0, "bound to 127.0.0.1 only");
	close(fd);
	fd = -1;
	ASSERT_EQ(owner_of(l, IPPROTO_UDP, "127.0.0.1", e.port), 0, "closed: forgotten");
	ASSERT_EQ(perimd_listeners_count(l), 0, "and removed");
out:
	if (fd >= 0)
		close(fd);
	perimd_listeners_free(l);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/* A proc root: net/tcp{,6} with two LISTEN sockets and an established one; pid 4242 holds them. */
static bool fake_proc(char *root)
{
	char path[512], stat_line[512];
	bool ok = true;

	snprintf(path, sizeof(path), "%s/net", root);
	ok &= !mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/net/tcp", root);
	ok &= !write_file(path,
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0 100 0 0 10 0\n"
		"   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 5002 1 0 100 0 0 10 0\n");
	snprintf(path, sizeof(path), "%s/net/tcp6", root);
	ok &= !write_file(path,
		"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5003 1 0 100 0 0 10 0\n");
	/* a bound UDP socket (CLOSE, no peer) and a connected one (ESTABLISHED) */
	snprintf(path, sizeof(path), "%s/net/udp", root);
	ok &= !write_file(path,
		"   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
		"  100: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5004 2 0 0\n"
		"  101: 0100007F:D432 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 5005 2 0 0\n");
	snprintf(path, sizeof(path), "%s/4242", root);
	ok &= !mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/4242/fd", root);
	ok &= !mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/4242/fd/3", root);
	ok &= !symlink("socket:[5001]", path);
	snprintf(path, sizeof(path), "%s/4242/fd/4", root);
	ok &= !symlink("socket:[5003]", path);
	snprintf(path, sizeof(path), "%s/4242/fd/5", root);
	ok &= !symlink("socket:[5004]", path);
	snprintf(path, sizeof(path), "%s/4242/fd/6", root);
	ok &= !symlink("socket:[5005]", path);
	snprintf(path, sizeof(path), "%s/4242/stat", root);
	/* starttime (field 22) = 500 ticks; the comm has a space and a ')' to skip */
	snprintf(stat_line, sizeof(stat_line), "4242 (a b) c) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 500 0 0\n");
	ok &= !write_file(path, stat_line);
	return ok;
}

static void test_scan_proc(void)
{
	char root[] = "/tmp/perim-test-listeners.XXXXXX", cmd[600];
	struct perimd_listeners *l;
	const struct perimd_listener *ln;
	uint8_t a[16];
	long hz = sysconf(_SC_CLK_TCK);

	if (!ASSERT_TRUE(mkdtemp(root) != NULL, "mkdtemp"))
		return;
	if (ASSERT_TRUE(fake_proc(root), "fake proc") && ASSERT_TRUE((l = perimd_listeners_new(root)) != NULL, "new")) {
		ASSERT_EQ(perimd_listeners_scan(l), 3, "two LISTEN sockets and a bound UDP socket held by a process");
		ASSERT_EQ(owner(l, "127.0.0.1", 8080), 4242, "IPv4 127.0.0.1:8080");
		ASSERT_EQ(owner(l, "127.0.0.2", 8080), 0, "bound to 127.0.0.1 only");
		ASSERT_EQ(owner(l, "127.0.0.1", 8081), 0, "an established socket is no listener");
		ASSERT_EQ(owner(l, "2001:db8::1", 443), 4242, "IPv6 [::]:443");
		v4(a, "127.0.0.1");
		ln = perimd_listeners_find(l, IPPROTO_TCP, a, 8080);
		if (ln)
			ASSERT_EQ(ln->start_ns, 500ull * (1000000000ull / (hz > 0 ? hz : 100)), "start time from stat");
		ASSERT_EQ(owner_of(l, IPPROTO_UDP, "10.1.2.3", 53), 4242, "UDP 0.0.0.0:53");
		ASSERT_EQ(owner(l, "10.1.2.3", 53), 0, "a UDP socket takes no TCP");
		ASSERT_EQ(owner_of(l, IPPROTO_UDP, "127.0.0.1", 0xD432), 0, "a connected UDP socket is no listener");
		/* The socket closes: the next hit past the re-check interval forgets it. */
		snprintf(cmd, sizeof(cmd), "%s/net/udp", root);
		ASSERT_OK(write_file(cmd, "   sl  local_address rem_address   st\n"), "udp closed");
		ASSERT_EQ(owner_of(l, IPPROTO_UDP, "10.1.2.3", 53), 4242, "trusted within the interval");
		perimd_listeners_set_udp_recheck_ns(l, 0);
		ASSERT_EQ(owner_of(l, IPPROTO_UDP, "10.1.2.3", 53), 0, "forgotten once the kernel no longer lists it");
		ASSERT_EQ(perimd_listeners_count(l), 2, "only the TCP listeners left");
		perimd_listeners_free(l);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
}
