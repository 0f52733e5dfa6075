// SPDX-License-Identifier: GPL-2.0
/* perim's counters read around the NIC's (if_snapshot.h). */
#include <errno.h>
#include <string.h>

#include "daemon.h"
#include "links/nicstats.h"
#include "telemetry/if_snapshot.h"
#include "telemetry/stats.h"

int perimd_if_snapshot(struct perimd *d, int slot, struct perimd_if_snapshot *out)
{
	int ifindex = d->att[slot].attached ? d->att[slot].ifindex : 0;
	int ret;

	memset(out, 0, sizeof(*out));
	out->nic_err = -ENODEV;
	if (d->nl && ifindex) {
		ret = perimd_stats_read_if(&d->stats, slot, &out->c);
		if (ret)
			return ret;
		out->dropped_before = perimd_if_dropped(&out->c);
		out->nic_err = perimd_nicstats_read(&d->nic, ifindex, &out->nic);
	}
	ret = perimd_stats_read_if(&d->stats, slot, &out->c);
	if (ret)
		return ret;
	if (out->nic_err)
		out->dropped_before = perimd_if_dropped(&out->c);
	return 0;
}
