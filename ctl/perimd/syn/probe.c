// SPDX-License-Identifier: GPL-2.0
/* Probing the kernel for what perim_xdp_syn calls. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "syn/probe.h"

static const struct {
	enum bpf_func_id id;
	const char *name;
} syn_helpers[] = {
	{ BPF_FUNC_tcp_raw_gen_syncookie_ipv4, "bpf_tcp_raw_gen_syncookie_ipv4" },
	{ BPF_FUNC_tcp_raw_gen_syncookie_ipv6, "bpf_tcp_raw_gen_syncookie_ipv6" },
	{ BPF_FUNC_tcp_raw_check_syncookie_ipv4, "bpf_tcp_raw_check_syncookie_ipv4" },
	{ BPF_FUNC_tcp_raw_check_syncookie_ipv6, "bpf_tcp_raw_check_syncookie_ipv6" },
	{ BPF_FUNC_xdp_load_bytes, "bpf_xdp_load_bytes" },
	{ BPF_FUNC_xdp_store_bytes, "bpf_xdp_store_bytes" },
};

static const char *const syn_kfuncs[] = { "bpf_xdp_ct_lookup", "bpf_ct_release" };

static bool helpers_present(char *why, size_t whylen)
{
	for (size_t i = 0; i < sizeof(syn_helpers) / sizeof(syn_helpers[0]); i++) {
		int ret = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, syn_helpers[i].id, NULL);

		if (ret == 1)
			continue;
		if (ret < 0)
			snprintf(why, whylen, "probing the XDP helper %s: %s", syn_helpers[i].name,
				 strerror(-ret));
		else
			snprintf(why, whylen, "the kernel has no XDP helper %s (Linux 6.0 or later with "
				 "CONFIG_SYN_COOKIES)", syn_helpers[i].name);
		return false;
	}
	return true;
}

static bool has_func(const struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/* The kfuncs are in vmlinux when conntrack is built in, else in nf_conntrack's BTF once it is loaded. */
static bool kfuncs_present(char *why, size_t whylen)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct btf *module = NULL;
	bool ok = true;

	if (!vmlinux) {
		snprintf(why, whylen, "no kernel BTF (/sys/kernel/btf/vmlinux: %s): the conntrack kfuncs "
			 "cannot be resolved", strerror(errno));
		return false;
	}
	if (!has_func(vmlinux, syn_kfuncs[0]))
		module = btf__load_module_btf("nf_conntrack", vmlinux);
	for (size_t i = 0; ok && i < sizeof(syn_kfuncs) / sizeof(syn_kfuncs[0]); i++) {
		if (has_func(vmlinux, syn_kfuncs[i]) || has_func(module, syn_kfuncs[i]))
			continue;
		snprintf(why, whylen, "the kernel has no conntrack kfunc %s (Linux 6.0 or later with "
			 "nf_conntrack built in or loaded)", syn_kfuncs[i]);
		ok = false;
	}
	btf__free(module);
	btf__free(vmlinux);
	return ok;
}

bool perim_syn_probe(char *why, size_t whylen)
{
	return helpers_present(why, whylen) && kfuncs_present(why, whylen);
}
