/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HOOKCHECK_COMMON_BPF_H
#define HOOKCHECK_COMMON_BPF_H
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hookcheck.h"

struct hookcheck_state state;

/* True (and counted) when the current task belongs to the target. */
static __always_inline int hookcheck_hit(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!state.target_tgid || tgid != state.target_tgid)
		return 0;
	__sync_fetch_and_add(&state.hits, 1);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
#endif
