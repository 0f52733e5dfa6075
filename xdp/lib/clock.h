/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PERIM_XDP_CLOCK_H
#define PERIM_XDP_CLOCK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/*
 * The coarse clock (jiffies resolution) costs ~3 ns, the precise one ~30 ns
 * in a VM. Bucket tolerances are at least one tick, so coarse is enough.
 * 5.10 lacks the coarse helper: the CO-RE relocation turns the test into a
 * constant and the verifier never visits the unknown helper call.
 */
static __always_inline __u64 perim_now(void)
{
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ktime_get_coarse_ns))
		return bpf_ktime_get_coarse_ns();
	return bpf_ktime_get_ns();
}

#endif /* PERIM_XDP_CLOCK_H */
