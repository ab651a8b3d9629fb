/* minicr: command line front end. Each subcommand parses its own options
 * and hands a filled options struct to its module. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dump.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: minicr [-v...] COMMAND [options]\n"
		"\n"
		"  dump [-D DIR] [--leave-running] [--force] [-v...] PID\n"
		"        freeze the process tree rooted at PID and write its images to DIR\n"
		"        (default ./minicr-PID); the tree is killed afterwards unless\n"
		"        --leave-running is given\n"
		"  check\n"
		"        report which kernel features minicr relies on are present\n"
		"\n"
		"Images are read with minicr-decode (decode, encode, show, info).\n");
}

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*pid = v;
	return 0;
}

static int cmd_dump(int argc, char **argv, int verbose)
{
	static const struct option opts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "leave-running", no_argument, NULL, 'R' },
		{ "force", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct dump_opts o = { 0 };
	char defdir[64];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "D:fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'D': o.dir = optarg; break;
		case 'R': o.leave_running = true; break;
		case 'f': o.force = true; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	log_init("minicr", verbose);
	if (optind != argc - 1) {
		pr_err("dump: expected exactly one PID");
		usage(stderr);
		return 2;
	}
	if (parse_pid(argv[optind], &o.pid)) {
		pr_err("dump: '%s' is not a PID", argv[optind]);
		return 2;
	}
	if (!o.dir) {
		snprintf(defdir, sizeof(defdir), "minicr-%d", o.pid);
		o.dir = defdir;
	}
	return cr_dump(&o) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int verbose = 0;
	const char *cmd;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("minicr %s\n", MINICR_VERSION);
			return 0;
		}
		if (strspn(argv[i] + 1, "v") != strlen(argv[i] + 1)) {
			usage(stderr);
			return 2;
		}
		verbose += strlen(argv[i] + 1);
	}
	log_init("minicr", verbose);
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "dump"))
		return cmd_dump(argc, argv, verbose);
	if (!strcmp(cmd, "check"))
		return cr_check() ? 1 : 0;
	pr_err("unknown command '%s'", cmd);
	usage(stderr);
	return 2;
}
