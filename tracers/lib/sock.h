/* SPDX-License-Identifier: GPL-2.0 */
/* Sockets: from an fd of the current task to its struct sock, and addresses. */
#ifndef PERIM_TRACERS_SOCK_H
#define PERIM_TRACERS_SOCK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "perim_events.h"
#include <bpf/bpf_endian.h>
#include "common.h"

/* connect() arguments kept from sys_enter to sys_exit, by thread. */
struct perim_connect_args {
	__s32 fd;
	__u16 family;
	__u16 port;                   /* host order */
	__u8 addr[16];                /* IPv4-mapped for AF_INET */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct perim_connect_args);
} perim_connect_pending SEC(".maps");

static __always_inline void perim_v4_mapped(__u8 *dst, __u32 addr_be)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &addr_be, 4);
}

/* The struct sock behind fd in the current task, or NULL. */
static __always_inline struct sock *perim_sock_of_fd(int fd)
{
	struct file *file = perim_file_of_fd(fd);
	struct socket *sock;

	if (!file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/* Room for struct sock_common on every supported kernel (136 bytes on 6.12). */
#define PERIM_SOCK_COMMON_MAX 192

/* A field of a struct sock_common copied to buf, at its offset in the running kernel. */
#define PERIM_SKC(buf, type, field) \
	(*(type *)((buf) + bpf_core_field_offset(struct sock_common, field)))

/* sk's struct sock_common (which starts struct sock), in one read; false when it cannot be read. */
static __always_inline bool perim_sock_common_read(__u8 *c, struct sock *sk)
{
	__u32 size = bpf_core_type_size(struct sock_common);

	if (size > PERIM_SOCK_COMMON_MAX)
		size = PERIM_SOCK_COMMON_MAX;
	return bpf_probe_read_kernel(c, size, sk) == 0;
}

/* Family, local and remote address and port from a copy of sk's sock_common, and sk's protocol. */
static __always_inline void perim_sock_fill_from(struct perim_ev_sock *e, const __u8 *c, struct sock *sk)
{
	__u16 family = PERIM_SKC(c, __u16, skc_family);

	e->family = family;
	e->proto = BPF_CORE_READ(sk, sk_protocol);
	e->sport = PERIM_SKC(c, __u16, skc_num);
	e->dport = bpf_ntohs(PERIM_SKC(c, __be16, skc_dport));
	if (family == AF_INET) {
		perim_v4_mapped(e->saddr, PERIM_SKC(c, __be32, skc_rcv_saddr));
		perim_v4_mapped(e->daddr, PERIM_SKC(c, __be32, skc_daddr));
	} else {
		__builtin_memcpy(e->saddr, &PERIM_SKC(c, struct in6_addr, skc_v6_rcv_saddr), 16);
		__builtin_memcpy(e->daddr, &PERIM_SKC(c, struct in6_addr, skc_v6_daddr), 16);
	}
}

/*
 * Family, protocol, local and remote address and port of sk: the address
 * fields in one bpf_probe_read_kernel of sk's sock_common instead of one call
 * per field, and the protocol in a second.
 */
static __always_inline void perim_sock_fill(struct perim_ev_sock *e, struct sock *sk)
{
	__u8 c[PERIM_SOCK_COMMON_MAX];

	if (perim_sock_common_read(c, sk))
		perim_sock_fill_from(e, c, sk);
}

/*
 * perim_sock_fill for a tp_btf program, whose sk is a BTF pointer: plain
 * loads the verifier checks, instead of one bpf_probe_read_kernel call each.
 */
static __always_inline void perim_sock_fill_btf(struct perim_ev_sock *e, const struct sock *sk)
{
	const struct sock_common *c = &sk->__sk_common;
	__u16 family = c->skc_family;

	e->family = family;
	e->proto = sk->sk_protocol;
	e->sport = c->skc_num;
	e->dport = bpf_ntohs(c->skc_dport);
	if (family == AF_INET) {
		perim_v4_mapped(e->saddr, c->skc_rcv_saddr);
		perim_v4_mapped(e->daddr, c->skc_daddr);
	} else {
		__builtin_memcpy(e->saddr, c->skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
		__builtin_memcpy(e->daddr, c->skc_v6_daddr.in6_u.u6_addr8, 16);
	}
}

/* Reads an IPv4/IPv6 sockaddr from user memory. false: another family. */
static __always_inline bool perim_read_user_sockaddr(const void *uaddr, struct perim_connect_args *a)
{
	struct sockaddr_in6 sa = {};

	if (!uaddr || bpf_probe_read_user(&sa, sizeof(sa.sin6_family), uaddr))
		return false;
	if (sa.sin6_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;

		if (bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), uaddr))
			return false;
		perim_v4_mapped(a->addr, in->sin_addr.s_addr);
		a->port = bpf_ntohs(in->sin_port);
	} else if (sa.sin6_family == AF_INET6) {
		if (bpf_probe_read_user(&sa, sizeof(sa), uaddr))
			return false;
		__builtin_memcpy(a->addr, sa.sin6_addr.in6_u.u6_addr8, 16);
		a->port = bpf_ntohs(sa.sin6_port);
	} else {
		return false;
	}
	a->family = sa.sin6_family;
	return true;
}

/* sys_enter: keeps the inet address a thread's connect/bind asked for until its sys_exit. */
static __always_inline void perim_sockaddr_stash(void *pending, int fd, const void *uaddr)
{
	struct perim_connect_args a = {};
	__u64 key = bpf_get_current_pid_tgid();

	/* Unix and netlink sockets are the common case and not ours: one user read decides. */
	if (!perim_read_user_sockaddr(uaddr, &a))
		return;
	a.fd = fd;
	bpf_map_update_elem(pending, &key, &a, BPF_ANY);
}

/* sys_exit: the stashed address into *a, and forgotten; false when the enter kept none. */
static __always_inline bool perim_sockaddr_take(void *pending, struct perim_connect_args *a)
{
	__u64 key = bpf_get_current_pid_tgid();
	struct perim_connect_args *p = bpf_map_lookup_elem(pending, &key);

	if (!p)
		return false;
	*a = *p;
	bpf_map_delete_elem(pending, &key);
	return true;
}

#endif /* PERIM_TRACERS_SOCK_H */
