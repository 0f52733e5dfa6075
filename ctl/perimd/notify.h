/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sd_notify protocol: a datagram to $NOTIFY_SOCKET. perimd sends
 * STATUS= lines while it starts, READY=1 once it serves, RELOADING=1 and
 * READY=1 around a SIGHUP, STOPPING=1 when it exits.
 */
#ifndef PERIMD_NOTIFY_H
#define PERIMD_NOTIFY_H

/* 0 when sent or when $NOTIFY_SOCKET is unset, else -errno. */
int perimd_notify(const char *state);

/* perimd_notify() of a formatted message ("READY=1\nSTATUS=..."); failures logged at debug level. */
void perimd_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* PERIMD_NOTIFY_H */
