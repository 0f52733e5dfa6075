// SPDX-License-Identifier: GPL-2.0
/* perimd's options: long options, and a config file of "key value" lines with the same names. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fleet/options.h"
#include "tracing/guard_rules.h"
#include "telemetry/metrics.h"
#include "proto.h"
#include "cmd.h"
#include "perim.h"
#include "perim_drops.h"

#define CONFIG_FILE_MAX (1 << 20)

enum {
	OPT_SOCKET = 256, OPT_GROUP, OPT_PIN_ROOT, OPT_STATE, OPT_INTERFACE, OPT_BTF, OPT_BTF_DIR,
	OPT_KERNEL_BTF, OPT_SRC_BUCKETS, OPT_EVENTS, OPT_GUARD_RULES, OPT_METRICS, OPT_CONFIG, OPT_FOREGROUND, OPT_HELP,
	OPT_DROP_SAMPLE_RATE,
	OPT_FLEET,                 /* every --fleet* option: fleet/options.c reads it by name */
	OPT_PROTECT,
};

static const struct option long_opts[] = {
	{ "socket",      required_argument, NULL, OPT_SOCKET },
	{ "group",       required_argument, NULL, OPT_GROUP },
	{ "pin-root",    required_argument, NULL, OPT_PIN_ROOT },
	{ "state",       required_argument, NULL, OPT_STATE },
	{ "interface",   required_argument, NULL, OPT_INTERFACE },
	{ "protect",     required_argument, NULL, OPT_PROTECT },
	{ "btf",         required_argument, NULL, OPT_BTF },
	{ "btf-dir",     required_argument, NULL, OPT_BTF_DIR },
	{ "kernel-btf",  required_argument, NULL, OPT_KERNEL_BTF },
	{ "src-buckets", required_argument, NULL, OPT_SRC_BUCKETS },
	{ "events",      required_argument, NULL, OPT_EVENTS },
	{ "drop-sample-rate", required_argument, NULL, OPT_DROP_SAMPLE_RATE },
	{ "guard-rules", required_argument, NULL, OPT_GUARD_RULES },
	{ "metrics",     required_argument, NULL, OPT_METRICS },
	{ "config",      required_argument, NULL, OPT_CONFIG },
	{ "fleet",       required_argument, NULL, OPT_FLEET },
	{ "fleet-name",  required_argument, NULL, OPT_FLEET },
	{ "fleet-group", required_argument, NULL, OPT_FLEET },
	{ "fleet-creds", required_argument, NULL, OPT_FLEET },
	{ "fleet-tls-ca", required_argument, NULL, OPT_FLEET },
	{ "fleet-events", required_argument, NULL, OPT_FLEET },
	{ "foreground",  no_argument,       NULL, OPT_FOREGROUND },
	{ "verbose",     no_argument,       NULL, 'v' },
	{ "help",        no_argument,       NULL, OPT_HELP },
	{ 0 },
};

static const char usage[] =
"Usage: perimd [OPTIONS]\n"
"perim's control daemon: loads the XDP datapath, attaches it to the perimeter\n"
"NICs, pins its maps and serves perimctl on a Unix socket.\n"
"\n"
"  --socket PATH         control socket (default " PERIM_SOCKET_DEFAULT ")\n"
"  --group NAME          group allowed to use the socket besides root\n"
"  --pin-root DIR        bpffs directory for the pinned maps (default " PERIM_PIN_ROOT_DEFAULT ")\n"
"  --state FILE          limits and interfaces, re-applied on start (default " PERIMD_STATE_DEFAULT ")\n"
"  --interface DEV[:native|skb]  attach to DEV at start (repeatable)\n"
"  --protect DEV,PREFIX[,tcp|udp[,P[-Q]]]  protected management access from the start:\n"
"                        passes before any deny or limit (repeatable, up to 16)\n"
"  --btf PATH            BTF for kernels without " PERIMD_KERNEL_BTF_DEFAULT "\n"
"  --btf-dir DIR         bundled BTF, DIR/$(uname -r).btf (default " PERIMD_BTF_DIR_DEFAULT ")\n"
"  --kernel-btf PATH     where the kernel's own BTF is (default " PERIMD_KERNEL_BTF_DEFAULT ")\n"
"  --src-buckets N       size of the per-source bucket LRU (default: pinned size or 262144)\n"
"  --events PATH         tracer events as JSON lines (default stdout)\n"
"  --drop-sample-rate N  XDP drops sampled for top and xdp_drop events, at most N a\n"
"                        second per CPU (0 to " PERIMD_DROP_SAMPLE_RATE_MAX_STR ", 0 = off; default " PERIMD_DROP_SAMPLE_RATE_DEFAULT_STR ")\n"
"  --guard-rules FILE    LSM guard rails (default none), a rule a line:\n"
"                        open|exec|bpf PREFIX [audit|enforce], or write PREFIX\n"
"  --metrics ADDR:PORT   serve Prometheus metrics on http://ADDR:PORT/metrics (default\n"
"                        off); \"on\" = 127.0.0.1:9469, PORT = 127.0.0.1:PORT,\n"
"                        [ADDR6]:PORT for IPv6; only a named address leaves loopback\n"
"  --fleet nats://HOST:PORT[,...]  join a fleet over NATS JetStream (default: none)\n"
"  --fleet-name NAME     this gateway's name in the fleet (default: the hostname)\n"
"  --fleet-group GROUP   the fleet group it belongs to\n"
"  --fleet-creds FILE    NATS user credentials (JWT + seed) or user nkey seed file\n"
"  --fleet-tls-ca FILE   CA bundle: connect with TLS, verify the server against it\n"
"  --fleet-events T[,T]  publish these event types to perim.events.NAME.TYPE\n"
"  --config FILE         read options from FILE: lines \"key value\", same names\n"
"  --foreground          stay in the foreground (the default: run it under systemd)\n"
"  -v, -vv               more logging; -vv shows libbpf and libxdp\n"
"\n"
"On SIGTERM or SIGINT perimd exits but leaves the XDP programs attached and the\n"
"maps pinned: enforcement continues without the daemon, and a restarted perimd\n"
"adopts it. Detach explicitly with `perimctl detach DEV`. SIGHUP reopens the\n"
"events file and parses the options again: -v and --events take effect, any\n"
"other option that changed is logged and waits for a restart.\n";

/*
 * "FILE:LINE" of the config line being applied, "" for the command line:
 * every error of an option read from a file says where it is.
 */
static char option_where[PATH_MAX + 16];

static int bad_option(const char *name, const char *value, const char *why)
{
	fprintf(stderr, "perimd: %s%soption \"%s%s%s\" is wrong: %s\n", option_where,
		option_where[0] ? ": " : "", name, value ? " " : "", value ? value : "", why);
	return PERIM_EXIT_BADINPUT;
}

static int copy_value(char *dst, size_t len, const char *name, const char *value)
{
	if (!*value || strlen(value) >= len)
		return bad_option(name, value, "empty or too long");
	strcpy(dst, value);
	return 0;
}

static int parse_interface(struct perimd_config *cfg, const char *value)
{
	struct perimd_iface_opt *o;
	const char *colon = strchr(value, ':');
	size_t len = colon ? (size_t)(colon - value) : strlen(value);

	if (cfg->n_ifaces >= PERIM_MAX_IFACES)
		return bad_option("--interface", value, "too many interfaces");
	if (!len || len >= IF_NAMESIZE)
		return bad_option("--interface", value, "not an interface name");
	o = &cfg->ifaces[cfg->n_ifaces];
	memcpy(o->dev, value, len);
	o->dev[len] = '\0';
	o->mode = PERIM_MODE_DEFAULT;
	if (colon && !strcmp(colon + 1, "native"))
		o->mode = PERIM_MODE_NATIVE;
	else if (colon && !strcmp(colon + 1, "skb"))
		o->mode = PERIM_MODE_SKB;
	else if (colon)
		return bad_option("--interface", value, "mode must be native or skb");
	cfg->n_ifaces++;
	return 0;
}

/* DEV,PREFIX[,tcp|udp[,P[-Q]]], read by the one grammar as "protect add DEV PREFIX [proto P] [dport Q]". */
static int parse_protect(struct perimd_config *cfg, const char *value)
{
	char copy[256], *words[8] = { "protect", "add" }, *save = NULL, *part, why[256];
	static const char *const kw[] = { NULL, NULL, "proto", "dport" };
	struct perim_cmd cmd;
	int n = 2, field = 0;

	if (cfg->n_protect >= PERIMD_MAX_PROTECT_OPTS)
		return bad_option("--protect", value, "at most 16 entries");
	if (strlen(value) >= sizeof(copy))
		return bad_option("--protect", value, "too long");
	strcpy(copy, value);
	for (part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save), field++) {
		if (field > 3)
			return bad_option("--protect", value, "expected DEV,PREFIX[,tcp|udp[,PORT[-PORT]]]");
		if (kw[field])
			words[n++] = (char *)kw[field];
		words[n++] = part;
	}
	if (field < 2)
		return bad_option("--protect", value, "expected DEV,PREFIX[,tcp|udp[,PORT[-PORT]]]");
	if (perim_cmd_parse(n, words, &cmd, why, sizeof(why)))
		return bad_option("--protect", value, why);
	strcpy(cfg->protect[cfg->n_protect].dev, cmd.dev);
	cfg->protect[cfg->n_protect].spec = cmd.protect;
	cfg->n_protect++;
	return 0;
}

static int parse_buckets(struct perimd_config *cfg, const char *value)
{
	char *end;
	unsigned long n;

	if (!*value || strspn(value, "0123456789") != strlen(value) || value[0] == '0')
		return bad_option("--src-buckets", value, "expected a number from 1024 to 67108864, no leading zeros");
	errno = 0;
	n = strtoul(value, &end, 10);
	if (errno || *end || n < 1024 || n > (1UL << 26))
		return bad_option("--src-buckets", value, "expected a number from 1024 to 67108864");
	cfg->src_buckets = n;
	return 0;
}

static int parse_drop_sample_rate(struct perimd_config *cfg, const char *name, const char *value)
{
	char *end;
	unsigned long n;

	if (!*value || strspn(value, "0123456789") != strlen(value) || (value[0] == '0' && value[1]))
		return bad_option(name, value, "expected a number from 0 to " PERIMD_DROP_SAMPLE_RATE_MAX_STR ", no leading zeros");
	errno = 0;
	n = strtoul(value, &end, 10);
	if (errno || *end || n > PERIMD_DROP_SAMPLE_RATE_MAX)
		return bad_option(name, value, "expected a number from 0 to " PERIMD_DROP_SAMPLE_RATE_MAX_STR);
	cfg->drop_sample_rate = n;
	return 0;
}

static int parse_metrics(struct perimd_config *cfg, const char *value)
{
	struct perimd_metrics_addr addr;
	char why[128];

	if (perimd_metrics_parse_addr(value, &addr, why, sizeof(why)))
		return bad_option("--metrics", value, why);
	return copy_value(cfg->metrics, sizeof(cfg->metrics), "--metrics", value);
}

/* Checked now, so a bad rule stops perimd before it changes anything. */
static int parse_guard_rules(struct perimd_config *cfg, const char *name, const char *value)
{
	struct perim_guard_config *rules = malloc(sizeof(*rules));
	char why[512];
	int err;

	if (!rules)
		return bad_option(name, value, strerror(ENOMEM));
	err = perim_guard_rules_parse(value, rules, why, sizeof(why));
	free(rules);
	if (err) {
		fprintf(stderr, "perimd: %s%s%s\n", option_where, option_where[0] ? ": " : "", why);
		return PERIM_EXIT_BADINPUT;
	}
	return copy_value(cfg->guard_rules, sizeof(cfg->guard_rules), name, value);
}

static int config_file(struct perimd_config *cfg, const char *path, int depth);

/* name: as typed ("--fleet-name" or the config file's "fleet-name"). */
static int fleet_option(struct perimd_config *cfg, const char *name, const char *value)
{
	const char *bare = name + strspn(name, "-");
	char why[256];

	if (perimd_fleet_opt_apply(&cfg->fleet, bare, value, why, sizeof(why)))
		return bad_option(name, value, why);
	return 0;
}

static int apply_option(struct perimd_config *cfg, int opt, const char *name, const char *value, int depth)
{
	switch (opt) {
	case OPT_SOCKET:      return copy_value(cfg->socket, sizeof(cfg->socket), name, value);
	case OPT_GROUP:       return copy_value(cfg->group, sizeof(cfg->group), name, value);
	case OPT_PIN_ROOT:    return copy_value(cfg->pin_root, sizeof(cfg->pin_root), name, value);
	case OPT_STATE:       return copy_value(cfg->state, sizeof(cfg->state), name, value);
	case OPT_INTERFACE:   return parse_interface(cfg, value);
	case OPT_PROTECT:     return parse_protect(cfg, value);
	case OPT_BTF:         return copy_value(cfg->btf, sizeof(cfg->btf), name, value);
	case OPT_BTF_DIR:     return copy_value(cfg->btf_dir, sizeof(cfg->btf_dir), name, value);
	case OPT_KERNEL_BTF:  return copy_value(cfg->kernel_btf, sizeof(cfg->kernel_btf), name, value);
	case OPT_SRC_BUCKETS: return parse_buckets(cfg, value);
	case OPT_EVENTS:      return copy_value(cfg->events, sizeof(cfg->events), name, value);
	case OPT_GUARD_RULES: return parse_guard_rules(cfg, name, value);
	case OPT_DROP_SAMPLE_RATE: return parse_drop_sample_rate(cfg, name, value);
	case OPT_METRICS:     return parse_metrics(cfg, value);
	case OPT_CONFIG:      return config_file(cfg, value, depth + 1);
	case OPT_FLEET:       return fleet_option(cfg, name, value);
	case OPT_FOREGROUND:  return 0;
	case 'v':             cfg->verbosity++; return 0;
	}
	return bad_option(name, value, "unknown option");
}

static const struct option *option_named(const char *key)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (!strcmp(o->name, key))
			return o;
	return NULL;
}

static int config_line(struct perimd_config *cfg, char *line, int depth)
{
	char *key = strtok(line, " \t\r\n"), *value, *extra;
	const struct option *o;

	if (!key || key[0] == '#')
		return 0;
	value = strtok(NULL, " \t\r\n");
	extra = strtok(NULL, " \t\r\n");
	o = option_named(key);
	if (!o || o->val == OPT_HELP)
		return bad_option(key, value, "unknown option in config file");
	if ((o->has_arg == required_argument) != (value != NULL) || extra)
		return bad_option(key, value, o->has_arg ? "expects one value" : "takes no value");
	return apply_option(cfg, o->val, key, value ? value : "", depth);
}

static FILE *open_config(const char *path, int *err)
{
	FILE *f = fopen(path, "re");
	struct stat st;

	if (!f) {
		*err = bad_option("--config", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0)
		*err = bad_option("--config", path, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		*err = bad_option("--config", path, "is a directory");
	/* A device or a FIFO (/dev/zero, /dev/full) would be read for ever. */
	else if (!S_ISREG(st.st_mode))
		*err = bad_option("--config", path, "is not a regular file");
	else if (st.st_size > CONFIG_FILE_MAX)
		*err = bad_option("--config", path, "is larger than a config file can be (1 MiB)");
	if (*err) {
		fclose(f);
		return NULL;
	}
	return f;
}

/* One config line, with option_where naming it while it applies (a nested --config names its own). */
static int config_line_at(struct perimd_config *cfg, const char *path, int lineno, char *line,
			  ssize_t len, int depth)
{
	char outer[sizeof(option_where)];
	int err;

	memcpy(outer, option_where, sizeof(outer));
	snprintf(option_where, sizeof(option_where), "%s:%d", path, lineno);
	if ((size_t)len != strlen(line))
		err = bad_option("--config", path, "the line contains a NUL byte");
	else if (len > PATH_MAX + 64)
		err = bad_option("--config", path, "line too long");
	else
		err = config_line(cfg, line, depth);
	memcpy(option_where, outer, sizeof(outer));
	return err;
}

static int config_file(struct perimd_config *cfg, const char *path, int depth)
{
	char *line = NULL;
	size_t cap = 0;
	int err = 0, lineno = 0;
	ssize_t len;
	FILE *f;

	if (depth > 4)
		return bad_option("--config", path, "config files nest too deep");
	f = open_config(path, &err);
	if (!f)
		return err;
	while (!err && (len = getline(&line, &cap, f)) > 0)
		err = config_line_at(cfg, path, ++lineno, line, len, depth);
	if (!err && ferror(f))
		err = bad_option("--config", path, strerror(errno));
	free(line);
	fclose(f);
	return err;
}

static int fleet_check(const struct perimd_config *cfg)
{
	char why[128];

	if (perimd_fleet_opts_check(&cfg->fleet, why, sizeof(why)))
		return bad_option("--fleet-*", NULL, why);
	return 0;
}

static void set_defaults(struct perimd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->socket, PERIM_SOCKET_DEFAULT);
	strcpy(cfg->pin_root, PERIM_PIN_ROOT_DEFAULT);
	strcpy(cfg->state, PERIMD_STATE_DEFAULT);
	strcpy(cfg->btf_dir, PERIMD_BTF_DIR_DEFAULT);
	strcpy(cfg->kernel_btf, PERIMD_KERNEL_BTF_DEFAULT);
	cfg->drop_sample_rate = PERIM_DROP_SAMPLE_RATE_DEFAULT;
}

int perimd_config_parse(int argc, char **argv, struct perimd_config *cfg)
{
	int opt, err, idx = -1;

	set_defaults(cfg);
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":v", long_opts, &idx)) != -1) {
		char long_name[32];
		const char *name = argv[optind - 1];

		/* The option as named, not its separate value (argv[optind - 1] after "--opt VALUE"). */
		if (idx >= 0 && opt != '?' && opt != ':') {
			snprintf(long_name, sizeof(long_name), "--%s", long_opts[idx].name);
			name = long_name;
		}
		idx = -1;

		if (opt == OPT_HELP) {
			fputs(usage, stdout);
			return PERIMD_CONFIG_HELP;
		}
		if (opt == '?')
			return bad_option(optopt ? (char[]){ '-', optopt, 0 } : name, NULL, "unknown option");
		if (opt == ':')
			return bad_option(name, NULL, "needs a value");
		err = apply_option(cfg, opt, name, optarg ? optarg : "", 0);
		if (err)
			return err;
	}
	if (optind < argc)
		return bad_option(argv[optind], NULL, "unexpected argument");
	return fleet_check(cfg);
}
