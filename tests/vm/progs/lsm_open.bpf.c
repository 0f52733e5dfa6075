/* SPDX-License-Identifier: GPL-2.0 */
#include "common.bpf.h"

SEC("lsm/file_open")
int BPF_PROG(hookcheck_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	if (hookcheck_hit() && state.deny) {
		/* kept a branch: folded into "return -(hit & deny)", the 6.12
		 * verifier loses the [-4095, 0] bound an LSM program must keep */
		asm volatile("" ::: "memory");
		return -1; /* -EPERM */
	}
	return 0;
}
