/* SPDX-License-Identifier: GPL-2.0 */
#include "common.bpf.h"

SEC("fentry/do_unlinkat")
int BPF_PROG(hookcheck_fentry)
{
	hookcheck_hit();
	return 0;
}
