/* SPDX-License-Identifier: GPL-2.0 */
#include "common.bpf.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(hookcheck_tp_btf_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	hookcheck_hit();
	return 0;
}
