/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket: a Unix stream socket (mode 0660, group --group) whose
 * every peer is checked by its kernel-reported credentials (SO_PEERCRED,
 * SO_PEERGROUPS), not just by the file mode. Clients are served from the
 * event loop with per-client buffers: a slow client never stalls it.
 */
#ifndef PERIMD_CTLSOCK_H
#define PERIMD_CTLSOCK_H

#include <stddef.h>

struct json_object;
struct perimd;
struct perimd_ctlsock;

/* Listens on d->cfg.socket and registers with d->loop. 0 or -errno (err set). */
int perimd_ctlsock_open(struct perimd *d, struct perimd_ctlsock **out, char *err, size_t errlen);
void perimd_ctlsock_close(struct perimd_ctlsock *s);

/* A response message {"status":N,"result"|"error":...} (malloc'ed; takes result). */
struct json_object;
char *perimd_ctlsock_response(int status, struct json_object *result, const char *error);

/* Drop clients that have not sent a whole request within their deadline. */
void perimd_ctlsock_sweep(struct perimd_ctlsock *s);

/*
 * A request's text ({"argv": [...]}, len bytes, strict: valid UTF-8, nothing after it) to argv (at most PERIMD_REQUEST_MAX_ARGS
 * words, pointing into *root, which the caller puts). argc, or -1 with
 * err set; *root may be set either way.
 */
#define PERIMD_REQUEST_MAX_ARGS 64
int perimd_request_argv(const char *text, size_t len, struct json_object **root, char **argv,
			char *err, size_t errlen);

#endif /* PERIMD_CTLSOCK_H */
