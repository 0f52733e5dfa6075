/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gamemann/XDP-Firewall as a reference row of xdp_bench: its XDP object, built
 * by tests/bench/sec_xdp.sh from a source tree outside perim (never part of
 * it) with its per-IP rate limit compiled in, loaded here with 101 filters.
 * Its filters are a PERCPU_ARRAY of its filter_t, walked in order until the
 * first unset one; each field is found by name in the object's own BTF, so no
 * copy of its struct lives here and a layout change fails loudly.
 *
 * Every filter: set, enabled, drop, UDP, a source address (IPv4 prefix or, as
 * XDP-Firewall matches IPv6 sources exactly, an IPv6 address) and a per-IP
 * limit of 1 pps (a filter matches when the source's packets in the current
 * second reach it). 100 filters name other sources; the frame's is first or
 * last.
 */
#ifndef PERIM_BENCH_XDP_FIREWALL_H
#define PERIM_BENCH_XDP_FIREWALL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define XDPFW_FILTERS 101

struct xdpfw_filter {
	const struct btf *btf;
	__u32 type_id;             /* filter_t */
	uint8_t *buf;
	size_t size;
};

/* Where path ("ip.src_cidr") lies in the struct: bit offset, bitfield size (0: none), byte size. */
static int xdpfw_member(const struct xdpfw_filter *f, const char *path, __u32 *bit_off, __u32 *bits,
			__u32 *bytes)
{
	__u32 id = f->type_id, off = 0;
	char name[64];

	*bits = 0;
	while (*path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		const struct btf_type *t = btf__type_by_id(f->btf, btf__resolve_type(f->btf, id));
		const struct btf_member *m;
		int i, n;

		if (!t || !btf_is_struct(t) || len >= sizeof(name))
			return -EINVAL;
		memcpy(name, path, len);
		name[len] = '\0';
		m = btf_members(t);
		n = btf_vlen(t);
		for (i = 0; i < n && strcmp(btf__name_by_offset(f->btf, m[i].name_off), name); i++)
			;
		if (i == n)
			return -ENOENT;
		off += btf_member_bit_offset(t, i);
		*bits = btf_member_bitfield_size(t, i);
		id = m[i].type;
		path += len + (dot ? 1 : 0);
	}
	*bit_off = off;
	*bytes = (__u32)btf__resolve_size(f->btf, id);
	return 0;
}

/* A field set from `len` bytes of v (a bitfield or an integer: from the value's low bytes). */
static int xdpfw_set(struct xdpfw_filter *f, const char *path, const void *v, size_t len)
{
	__u32 off, bits, bytes;
	int err = xdpfw_member(f, path, &off, &bits, &bytes);

	if (!err && (off % 8 && !bits))
		err = -EINVAL;
	if (!err && (bits ? (off + bits + 7) / 8 : off / 8 + bytes) > f->size)
		err = -ERANGE;
	if (err) {
		fprintf(stderr, "xdp_bench: XDP-Firewall's filter_t.%s: %s\n", path, strerror(-err));
		return err;
	}
	if (bits) {
		uint64_t val = 0;

		memcpy(&val, v, len < sizeof(val) ? len : sizeof(val));
		for (__u32 b = 0; b < bits; b++) {
			uint8_t *byte = &f->buf[(off + b) / 8], mask = (uint8_t)(1u << ((off + b) % 8));

			*byte = (val >> b) & 1 ? *byte | mask : *byte & ~mask;
		}
		return 0;
	}
	memset(f->buf + off / 8, 0, bytes);
	memcpy(f->buf + off / 8, v, len < bytes ? len : bytes);
	return 0;
}

static int xdpfw_set_u64(struct xdpfw_filter *f, const char *path, uint64_t v)
{
	return xdpfw_set(f, path, &v, sizeof(v));   /* little-endian: the low bytes first */
}

/* Filter idx: a drop filter for UDP from src (IPv4: src/8; IPv6: exactly src) at 1 pps. */
static int xdpfw_put_filter(struct bpf_map *filters, struct xdpfw_filter *f, uint32_t idx, int family,
			    const char *src)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (f->size + 7) & ~(size_t)7;
	uint8_t *all = calloc(ncpu, stride);
	uint8_t a6[16];
	uint32_t a4;
	int err;

	if (!all)
		return -ENOMEM;
	memset(f->buf, 0, f->size);
	err = xdpfw_set_u64(f, "set", 1) || xdpfw_set_u64(f, "enabled", 1) || xdpfw_set_u64(f, "action", 0) ||
	      xdpfw_set_u64(f, "do_ip_pps", 1) || xdpfw_set_u64(f, "ip_pps", 1) ||
	      xdpfw_set_u64(f, "udp.enabled", 1);
	if (!err && family == 4) {
		inet_pton(AF_INET, src, &a4);
		err = xdpfw_set(f, "ip.src_ip", &a4, sizeof(a4)) || xdpfw_set_u64(f, "ip.src_cidr", 8);
	} else if (!err) {
		inet_pton(AF_INET6, src, a6);
		err = xdpfw_set(f, "ip.src_ip6", a6, sizeof(a6));
	}
	for (int c = 0; !err && c < ncpu; c++)
		memcpy(all + c * stride, f->buf, f->size);
	if (!err && bpf_map__update_elem(filters, &idx, sizeof(idx), all, stride * ncpu, BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "xdp_bench: XDP-Firewall filter %u: %s\n", idx, strerror(-err));
	}
	free(all);
	return err ? -EINVAL : 0;
}

/* Non-matching sources: IPv4 p.0.0.0/8, IPv6 2001:db8:p::1, for p = 11..110 (never the frame's). */
static int xdpfw_fill(struct bpf_map *filters, struct xdpfw_filter *f, int family, const char *frame_src,
		      bool match_first)
{
	uint32_t idx = 0;
	int err = 0;

	if (match_first)
		err = xdpfw_put_filter(filters, f, idx++, family, frame_src);
	for (unsigned p = 11; !err && p < 11 + XDPFW_FILTERS - 1; p++) {
		char other[64];

		if (family == 4)
			snprintf(other, sizeof(other), "%u.0.0.0", p);
		else
			snprintf(other, sizeof(other), "2001:db8:%x::1", p);
		err = xdpfw_put_filter(filters, f, idx++, family, other);
	}
	if (!err && !match_first)
		err = xdpfw_put_filter(filters, f, idx, family, frame_src);
	return err;
}

/* The object at path, loaded, with its filters for one family and position; NULL on failure. */
static struct bpf_object *xdpfw_load(const char *path, int family, const char *frame_src, bool match_first)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct xdpfw_filter f = { 0 };
	struct bpf_program *prog;
	struct bpf_map *filters;
	int err;

	if (!obj) {
		fprintf(stderr, "xdp_bench: opening %s: %s\n", path, strerror(errno));
		return NULL;
	}
	/* Its section name ("xdp_prog") is not one libbpf knows. */
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_type(prog, BPF_PROG_TYPE_XDP);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "xdp_bench: loading %s: %s\n", path, strerror(-err));
		goto fail;
	}
	filters = bpf_object__find_map_by_name(obj, "map_filters");
	f.btf = bpf_object__btf(obj);
	if (!filters || !f.btf || !bpf_map__btf_value_type_id(filters)) {
		fprintf(stderr, "xdp_bench: %s: no map_filters with BTF\n", path);
		goto fail;
	}
	f.type_id = bpf_map__btf_value_type_id(filters);
	f.size = bpf_map__value_size(filters);
	f.buf = calloc(1, f.size);
	if (!f.buf || xdpfw_fill(filters, &f, family, frame_src, match_first))
		goto fail;
	free(f.buf);
	return obj;
fail:
	free(f.buf);
	bpf_object__close(obj);
	return NULL;
}

#endif /* PERIM_BENCH_XDP_FIREWALL_H */
