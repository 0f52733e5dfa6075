/* SPDX-License-Identifier: GPL-2.0 */
#include "common.bpf.h"

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(hookcheck_kprobe)
{
	hookcheck_hit();
	return 0;
}
