/* SPDX-License-Identifier: GPL-2.0 */
#include "common.bpf.h"

SEC("lsm/bprm_check_security")
int BPF_PROG(hookcheck_bprm_check, struct linux_binprm *bprm, int ret)
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
