/* SPDX-License-Identifier: GPL-2.0 */
/* Who is on the other end of a Unix socket, by the kernel's account. */
#ifndef PERIMD_PEERCRED_H
#define PERIMD_PEERCRED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Allowed: uid 0, or a member of group (primary or supplementary). group
 * (gid_t)-1 means root only. On refusal, why holds the message for the peer.
 */
bool perimd_peer_allowed(int fd, gid_t group, const char *group_name, char *why, size_t whylen);

#endif /* PERIMD_PEERCRED_H */
