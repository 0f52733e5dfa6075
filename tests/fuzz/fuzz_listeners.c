// SPDX-License-Identifier: GPL-2.0
/*
 * The listener table's /proc reader (ctl/perimd/listeners.c): an input is
 * sections net/tcp %% net/tcp6 %% net/udp %% net/udp6 %% the target of
 * <pid>/fd/3 %% <pid>/stat %% a port to look up, under a scratch /proc root.
 * The lookup re-reads /proc/net/udp{,6} at once (recheck time 0).
 */
#include <netinet/in.h>

#include "fuzz_util.h"
#include "procs/listeners.h"

enum { SEC_TCP, SEC_TCP6, SEC_UDP, SEC_UDP6, SEC_FD, SEC_STAT, SEC_PORT, N_SECS };

static const char *const net_files[] = { "tcp", "tcp6", "udp", "udp6" };

static void write_root(const struct fuzz_section *s)
{
	char path[PATH_MAX], name[64], *target;

	for (int i = SEC_TCP; i <= SEC_UDP6; i++) {
		snprintf(name, sizeof(name), "root/net/%s", net_files[i]);
		fuzz_write(fuzz_path(path, sizeof(path), name), s[i].data, s[i].len);
	}
	fuzz_write(fuzz_path(path, sizeof(path), "root/4242/stat"), s[SEC_STAT].data, s[SEC_STAT].len);
	fuzz_path(path, sizeof(path), "root/4242/fd/3");
	unlink(path);
	target = fuzz_strndup(s[SEC_FD].data, s[SEC_FD].len < PATH_MAX - 1 ? s[SEC_FD].len : PATH_MAX - 1);
	if (target[0] && symlink(target, path) < 0 && errno != ENAMETOOLONG) {
		perror("fuzz: symlink");
		abort();
	}
	free(target);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t any[16];
	struct fuzz_section s[N_SECS];
	struct perimd_listeners *l;
	char root[PATH_MAX], *port;
	int n;

	fuzz_sections(data, size, s, N_SECS);
	write_root(s);
	snprintf(root, sizeof(root), "%s/root", fuzz_scratch());
	l = perimd_listeners_new(root);
	if (!l)
		abort();
	n = perimd_listeners_scan(l);
	if (n > 0 && (size_t)n != perimd_listeners_count(l))
		abort();
	perimd_listeners_set_udp_recheck_ns(l, 0);
	port = fuzz_strndup(s[SEC_PORT].data, s[SEC_PORT].len);
	perimd_listeners_find(l, IPPROTO_UDP, any, (uint16_t)strtoul(port, NULL, 10));
	perimd_listeners_find(l, IPPROTO_TCP, any, (uint16_t)strtoul(port, NULL, 10));
	free(port);
	perimd_listeners_free(l);
	return 0;
}
