/* SPDX-License-Identifier: GPL-2.0 */
#include "common.bpf.h"

SEC("lsm/file_open")
int BPF_PROG(hookcheck_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	if (hookcheck_hit() && state.deny)
		return -1; /* -EPERM */
	return 0;
}
