/* SPDX-License-Identifier: GPL-2.0 */
/* The sd_notify protocol, just READY=1: a datagram to $NOTIFY_SOCKET. */
#ifndef PERIMD_NOTIFY_H
#define PERIMD_NOTIFY_H

/* 0 when sent or when $NOTIFY_SOCKET is unset, else -errno. */
int perimd_notify(const char *state);

#endif /* PERIMD_NOTIFY_H */
