/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bind() of IPv4/IPv6 sockets: who took which local port. perimd keeps its
 * UDP listener table from these (drop attribution), so a UDP socket bound
 * after perimd started is known. Syscall tracepoints only: they exist on every
 * kernel perim supports, and the host has neither kprobes nor fentry.
 */
#ifndef PERIM_TRACERS_BIND_H
#define PERIM_TRACERS_BIND_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "perim_events.h"
#include "common.h"
#include "sock.h"

/* The requested address, kept from sys_enter to sys_exit, by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct perim_connect_args);
} perim_bind_pending SEC(".maps");

static __always_inline int perim_on_bind_enter(int fd, const void *uaddr)
{
	if (perim_hook_enabled(PERIM_HOOK_BIND))
		perim_sockaddr_stash(&perim_bind_pending, fd, uaddr);
	return 0;
}

static __always_inline int perim_on_bind_exit(long ret)
{
	struct perim_connect_args a;
	struct perim_ev_bind *e;
	struct sock *sk;

	if (!perim_sockaddr_take(&perim_bind_pending, &a))
		return 0;
	e = perim_reserve(PERIM_RING_EVENTS, PERIM_HOOK_BIND, PERIM_EV_BIND, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(&e->family, 0, sizeof(*e) - sizeof(e->hdr));
	e->family = a.family;
	e->port = a.port;
	__builtin_memcpy(e->addr, a.addr, 16);
	e->result = ret;
	e->fd = a.fd;
	sk = ret == 0 ? perim_sock_of_fd(a.fd) : NULL;
	if (sk) {
		e->proto = BPF_CORE_READ(sk, sk_protocol);
		e->port = BPF_CORE_READ(sk, __sk_common.skc_num);
		e->inode = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
		if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET)
			perim_v4_mapped(e->addr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		else
			BPF_CORE_READ_INTO(&e->addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	}
	perim_submit(PERIM_RING_EVENTS, e);
	return 0;
}

#endif /* PERIM_TRACERS_BIND_H */
