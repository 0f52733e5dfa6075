/* SPDX-License-Identifier: GPL-2.0 */
/* connect (with result), accept, TCP state changes, IPv4 and IPv6. */
#ifndef PERIM_TRACERS_NET_H
#define PERIM_TRACERS_NET_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "perim_events.h"
#include "common.h"
#include "sock.h"

static __always_inline int perim_on_connect_enter(int fd, const void *uaddr)
{
	if (perim_hook_enabled(PERIM_HOOK_CONNECT))
		perim_sockaddr_stash(&perim_connect_pending, fd, uaddr);
	return 0;
}

static __always_inline int perim_on_connect_exit(long ret)
{
	struct perim_connect_args a;
	struct perim_ev_sock *e;
	struct sock *sk;

	if (!perim_sockaddr_take(&perim_connect_pending, &a))
		return 0;
	e = perim_reserve(PERIM_RING_EVENTS, PERIM_HOOK_CONNECT, PERIM_EV_CONNECT, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(&e->family, 0, sizeof(*e) - sizeof(e->hdr));
	sk = perim_sock_of_fd(a.fd);
	if (sk)
		perim_sock_fill(e, sk);
	/* The destination is what the caller asked for, even when the socket has none. */
	e->family = e->family ?: a.family;
	__builtin_memcpy(e->daddr, a.addr, 16);
	e->dport = a.port;
	e->result = ret;
	e->fd = a.fd;
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

static __always_inline int perim_on_accept_exit(long ret)
{
	__u8 c[PERIM_SOCK_COMMON_MAX];
	struct perim_ev_sock *e;
	struct sock *sk;
	__u16 family;

	if (!perim_hook_enabled(PERIM_HOOK_ACCEPT) || ret < 0)
		return 0;
	sk = perim_sock_of_fd(ret);
	/* The family decides before the reservation, from the copy the event is filled from. */
	if (!sk || !perim_sock_common_read(c, sk))
		return 0;
	family = PERIM_SKC(c, __u16, skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	e = perim_reserve(PERIM_RING_EVENTS, PERIM_HOOK_ACCEPT, PERIM_EV_ACCEPT, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(&e->family, 0, sizeof(*e) - sizeof(e->hdr));
	perim_sock_fill_from(e, c, sk);
	e->result = 0;
	e->fd = ret;
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

/*
 * The local port of a socket the kernel released before reporting its close:
 * tcp_set_state puts the bound port back before the tracepoint (unless bind()
 * named the port), which zeroes skc_num, but the port stays in inet_sport.
 * Only a close: a socket connecting again after a failed connect still holds
 * the old port there.
 */
static __always_inline __u16 perim_sock_released_port(struct sock *sk)
{
	/* A probe read: the verifier types sk as struct sock, which inet_sport lies beyond. */
	return bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
}

/*
 * TCP state changes. Many run in softirq, where the current task is whoever
 * was interrupted: perimd attributes only LISTEN and SYN_SENT (process context).
 * btf: sk is a BTF pointer (tp_btf), read with plain loads.
 */
static __always_inline int perim_on_sock_state(struct sock *sk, int oldstate, int newstate, bool btf)
{
	struct perim_ev_sock *e;

	if (!perim_hook_enabled(PERIM_HOOK_SOCK_STATE))
		return 0;
	if ((btf ? sk->sk_protocol : BPF_CORE_READ(sk, sk_protocol)) != IPPROTO_TCP)
		return 0;
	e = perim_reserve(PERIM_RING_EVENTS, PERIM_HOOK_SOCK_STATE, PERIM_EV_SOCK_STATE, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(&e->family, 0, sizeof(*e) - sizeof(e->hdr));
	if (btf)
		perim_sock_fill_btf(e, sk);
	else
		perim_sock_fill(e, sk);
	if (!e->sport && newstate == TCP_CLOSE)
		e->sport = perim_sock_released_port(sk);
	e->fd = -1;
	e->oldstate = oldstate;
	e->newstate = newstate;
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

#endif /* PERIM_TRACERS_NET_H */
