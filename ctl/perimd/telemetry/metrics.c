// SPDX-License-Identifier: GPL-2.0
/*
 * The HTTP side of the metrics endpoint: --metrics parsing, libmicrohttpd in
 * "external epoll" mode on perimd's loop. The exposition text itself is
 * metrics_text.c's.
 *
 * libmicrohttpd is opened only when the endpoint starts: linked in, it and
 * the TLS stack it needs (gnutls, nettle, p11-kit...) cost 2.5 MiB of every
 * perimd's resident memory, metrics on or (the default) off.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "daemon.h"
#include "log.h"
#include "telemetry/metrics.h"
#include "loop.h"

#define MHD_SONAME "libmicrohttpd.so.12"

/* The libmicrohttpd calls perimd makes, resolved by load_mhd(). */
static struct {
	void *lib;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
} mhd;

static int load_mhd(char *err, size_t errlen)
{
	void *lib;

	if (mhd.lib)
		return 0;
	lib = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(err, errlen, "metrics endpoint: %s (install libmicrohttpd12)", dlerror());
		return -ENOENT;
	}
#define RESOLVE(f)                                                                          \
	do {                                                                                \
		if (!(mhd.f = dlsym(lib, "MHD_" #f))) {                                    \
			snprintf(err, errlen, "metrics endpoint: %s has no MHD_" #f, MHD_SONAME); \
			dlclose(lib);                                                       \
			return -ENOENT;                                                     \
		}                                                                           \
	} while (0)
	RESOLVE(add_response_header);
	RESOLVE(create_response_from_buffer);
	RESOLVE(destroy_response);
	RESOLVE(get_daemon_info);
	RESOLVE(get_timeout);
	RESOLVE(queue_response);
	RESOLVE(run);
	RESOLVE(start_daemon);
	RESOLVE(stop_daemon);
#undef RESOLVE
	mhd.lib = lib;
	return 0;
}

#define METRICS_MAX_CONNECTIONS 16
#define METRICS_CONNECTION_TIMEOUT_S 10
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct perimd_metrics {
	struct perimd *d;
	struct MHD_Daemon *mhd;
	int mhd_epfd;              /* MHD's own; MHD closes it */
	int timerfd;               /* fires when MHD_get_timeout says so */
	bool starting;             /* MHD's start errors: perimd's own line says them */
	char where[INET6_ADDRSTRLEN + 16];
};

/* ---- --metrics ADDR:PORT ---- */

static int parse_port(const char *text, uint16_t *port)
{
	char *end;
	unsigned long n;

	if (!*text || strspn(text, "0123456789") != strlen(text) || text[0] == '0')
		return -1;
	errno = 0;
	n = strtoul(text, &end, 10);
	if (errno || n < 1 || n > 65535)
		return -1;
	*port = n;
	return 0;
}

static int set_inet(struct perimd_metrics_addr *out, const char *host, uint16_t port)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		out->len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		out->len = sizeof(*in6);
		return 0;
	}
	return -1;
}

/* "[v6]" or "[v6]:port" */
static int parse_bracketed(const char *text, char *host, size_t hostlen, uint16_t *port)
{
	const char *close = strchr(text, ']');
	size_t n = close ? (size_t)(close - text - 1) : 0;

	if (!close || !n || n >= hostlen)
		return -1;
	memcpy(host, text + 1, n);
	host[n] = '\0';
	if (!close[1])
		return 0;
	return close[1] == ':' ? parse_port(close + 2, port) : -1;
}

int perimd_metrics_parse_addr(const char *text, struct perimd_metrics_addr *out, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 1] = PERIMD_METRICS_ADDR_DEFAULT;
	uint16_t port = PERIMD_METRICS_PORT_DEFAULT;
	const char *colon = strrchr(text, ':');
	int bad = 0;

	if (!strcmp(text, "on"))
		;
	else if (text[0] == '[')
		bad = parse_bracketed(text, host, sizeof(host), &port);
	else if (strspn(text, "0123456789") == strlen(text))
		bad = parse_port(text, &port);
	else if (colon && strchr(text, ':') == colon && colon > text) {
		/* exactly one colon: IPv4:PORT */
		size_t n = colon - text;

		bad = n >= sizeof(host) || parse_port(colon + 1, &port);
		if (!bad) {
			memcpy(host, text, n);
			host[n] = '\0';
		}
	} else if (strlen(text) < sizeof(host)) {
		strcpy(host, text);    /* a bare address, IPv4 or IPv6 */
	} else {
		bad = 1;
	}
	if (bad || set_inet(out, host, port)) {
		snprintf(why, whylen, "expected on, PORT, ADDR, ADDR:PORT or [ADDR6]:PORT "
			 "(numeric address, port 1-65535 without leading zeros)");
		return -1;
	}
	return 0;
}

static void format_addr(const struct perimd_metrics_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)&a->ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in4 = (const void *)&a->ss;

		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in4->sin_port));
	}
}

/* ---- answering ---- */

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *text,
				  const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = mhd.create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	mhd.add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		mhd.add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = mhd.queue_response(conn, status, resp);
	mhd.destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_metrics(struct perimd_metrics *m, struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;
	char *body = perimd_metrics_render(m->d, &len);

	if (!body) {
		pr_warn("perimd: metrics: rendering failed: %s\n", strerror(errno));
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering the metrics failed\n", NULL);
	}
	resp = mhd.create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	mhd.add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	ret = mhd.queue_response(conn, MHD_HTTP_OK, resp);
	mhd.destroy_response(resp);
	return ret;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size,
			      void **req_ctx)
{
	struct perimd_metrics *m = cls;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n", "GET, HEAD");
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "perimd serves /metrics only\n", NULL);
	return reply_metrics(m, conn);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct perimd_metrics *m = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (m->starting)
		pr_debug("perimd: metrics: %s\n", msg);
	else
		pr_warn("perimd: metrics: %s\n", msg);
}

/* ---- driving MHD from perimd's loop ---- */

/* Wake again within MHD's timeout (idle connections expire), or never. */
static void arm_timer(struct perimd_metrics *m)
{
	struct itimerspec its = { 0 };
	MHD_UNSIGNED_LONG_LONG ms;

	if (mhd.get_timeout(m->mhd, &ms) == MHD_YES) {
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000;
		if (!ms)
			its.it_value.tv_nsec = 1;  /* 0 would disarm: MHD has work right now */
	}
	if (timerfd_settime(m->timerfd, 0, &its, NULL) < 0)
		pr_warn("perimd: metrics: arming the timer: %s\n", strerror(errno));
}

static int on_ready(void *ctx, int fd, uint32_t events)
{
	struct perimd_metrics *m = ctx;
	uint64_t expirations;

	if (fd == m->timerfd && read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		pr_warn("perimd: metrics: timer: %s\n", strerror(errno));
	if (mhd.run(m->mhd) != MHD_YES)
		pr_warn("perimd: metrics: MHD_run failed\n");
	arm_timer(m);
	return 0;
}

static struct MHD_Daemon *start_mhd(struct perimd_metrics *m, const struct perimd_metrics_addr *a)
{
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (a->ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The logger first: MHD logs the options after it through its own. */
	return mhd.start_daemon(flags, 0, NULL, NULL, answer, m,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
				MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&a->ss,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_CONNECTION_TIMEOUT_S,
				MHD_OPTION_END);
}

static int watch_mhd(struct perimd_metrics *m, char *err, size_t errlen)
{
	const union MHD_DaemonInfo *info = mhd.get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	int ret;

	if (!info) {
		snprintf(err, errlen, "metrics endpoint %s: libmicrohttpd has no epoll fd", m->where);
		return -ENOTSUP;
	}
	m->mhd_epfd = info->epoll_fd;
	m->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->timerfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "metrics endpoint %s: timerfd: %s", m->where, strerror(-ret));
		return ret;
	}
	ret = perim_loop_add(m->d->loop, m->mhd_epfd, EPOLLIN, on_ready, m);
	if (!ret)
		ret = perim_loop_add(m->d->loop, m->timerfd, EPOLLIN, on_ready, m);
	if (ret)
		snprintf(err, errlen, "metrics endpoint %s: event loop: %s", m->where, strerror(-ret));
	return ret;
}

int perimd_metrics_start(struct perimd *d, const char *addr_text, struct perimd_metrics **out,
			 char *err, size_t errlen)
{
	struct perimd_metrics_addr addr;
	struct perimd_metrics *m;
	char why[128];
	int ret;

	*out = NULL;
	if (perimd_metrics_parse_addr(addr_text, &addr, why, sizeof(why))) {
		snprintf(err, errlen, "option \"--metrics %s\" is wrong: %s", addr_text, why);
		return -EINVAL;
	}
	ret = load_mhd(err, errlen);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "metrics endpoint: out of memory");
		return -ENOMEM;
	}
	m->d = d;
	m->mhd_epfd = m->timerfd = -1;
	format_addr(&addr, m->where, sizeof(m->where));
	errno = 0;
	m->starting = true;
	m->mhd = start_mhd(m, &addr);
	m->starting = false;
	if (!m->mhd) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "metrics endpoint %s: cannot listen: %s", m->where, strerror(-ret));
		perimd_metrics_stop(m);
		return ret;
	}
	ret = watch_mhd(m, err, errlen);
	if (ret) {
		perimd_metrics_stop(m);
		return ret;
	}
	pr_info("perimd: metrics on http://%s/metrics\n", m->where);
	*out = m;
	return 0;
}

void perimd_metrics_stop(struct perimd_metrics *m)
{
	if (!m)
		return;
	if (m->mhd_epfd >= 0)
		perim_loop_del(m->d->loop, m->mhd_epfd);
	if (m->timerfd >= 0) {
		perim_loop_del(m->d->loop, m->timerfd);
		close(m->timerfd);
	}
	if (m->mhd)
		mhd.stop_daemon(m->mhd);
	free(m);
}
