/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perimd's Prometheus endpoint: GET /metrics in the text exposition format,
 * served by libmicrohttpd driven from perimd's own event loop (MHD's epoll
 * fd is one more watched fd; a timerfd honours MHD_get_timeout), so a scrape
 * never blocks enforcement's control plane and no thread touches perimd state.
 *
 * Off unless --metrics is given. The address defaults to loopback:
 *   --metrics on            127.0.0.1:9469
 *   --metrics PORT          127.0.0.1:PORT
 *   --metrics ADDR[:PORT]   IPv4 address, port 9469 when left out
 *   --metrics [ADDR6][:PORT] or a bare IPv6 address
 * Only numeric addresses: a name would need DNS at start-up.
 */
#ifndef PERIMD_METRICS_H
#define PERIMD_METRICS_H

#include <stddef.h>
#include <sys/socket.h>

#define PERIMD_METRICS_PORT_DEFAULT 9469
#define PERIMD_METRICS_ADDR_DEFAULT "127.0.0.1"

struct perimd;
struct perimd_metrics;

struct perimd_metrics_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* 0, or -1 with why set ("expected ..."): text is an --metrics value. */
int perimd_metrics_parse_addr(const char *text, struct perimd_metrics_addr *out, char *why, size_t whylen);

/* Bind and serve d's counters on perimd's loop. 0, or -errno with err set. */
int perimd_metrics_start(struct perimd *d, const char *addr_text, struct perimd_metrics **out,
			 char *err, size_t errlen);
void perimd_metrics_stop(struct perimd_metrics *m);

/*
 * The exposition text of everything perimd counts (also what a scrape
 * returns). Returns a malloc'd NUL-terminated string, or NULL (errno set).
 */
char *perimd_metrics_render(struct perimd *d, size_t *len);

#endif /* PERIMD_METRICS_H */
