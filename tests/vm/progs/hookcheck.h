/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the VM tier's probe programs and hookcheck: every program counts
 * the events of one target process (the command hookcheck runs). */
#ifndef HOOKCHECK_H
#define HOOKCHECK_H

struct hookcheck_state {
	__u32 target_tgid;
	__u32 deny;	/* LSM programs: refuse the target's action */
	__u64 hits;
};

#endif
