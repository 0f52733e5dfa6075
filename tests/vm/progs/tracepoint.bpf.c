/* SPDX-License-Identifier: GPL-2.0 */
#include "common.bpf.h"

SEC("tracepoint/sched/sched_process_exec")
int hookcheck_tp_exec(void *ctx)
{
	hookcheck_hit();
	return 0;
}
