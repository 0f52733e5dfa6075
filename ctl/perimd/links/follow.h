/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd follows the links of its configured interfaces: on every batch of
 * link events it compares, per configured slot, the device that now bears
 * the configured name with the one perim is attached to, and converges.
 *
 * The configuration follows the name. Operators write names (--interface,
 * perimctl, the state file), and names are what udev/systemd settle on at
 * boot, so the slot and its limits belong to whichever device is called
 * that name:
 *  - deleted and re-created (new ifindex): a new program instance with the
 *    same slot attaches to the new device; its limits are in the slot-keyed
 *    pinned maps already, so they apply from the first packet;
 *  - configured but absent: attached when a device of that name appears;
 *  - down/up: the program normally stays; it is re-attached only if IFLA_XDP
 *    shows nothing attached any more;
 *  - renamed away: perim stays attached to the renamed device, because it
 *    still carries the traffic it was protecting and detaching would fail
 *    open, until a device takes the configured name again; then perim
 *    attaches there first and detaches from the renamed one second.
 * A failed attach (the device vanished mid-attach, the kernel refused) is
 * logged and retried on a timer with bounded exponential backoff.
 */
#ifndef PERIMD_FOLLOW_H
#define PERIMD_FOLLOW_H

#include <stddef.h>

struct perimd;

/* Subscribe to link events (d->nl) and set up the retry timer. 0 or -errno with err set. */
int perimd_follow_open(struct perimd *d, char *err, size_t errlen);
void perimd_follow_close(struct perimd *d);

/* Converge every configured slot on the links as the cache has them now. */
void perimd_follow_reconcile(struct perimd *d);

#endif /* PERIMD_FOLLOW_H */
