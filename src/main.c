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
#include "files.h"
#include "log.h"
#include "restore.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: minicr [-v...] COMMAND [options]\n"
		"\n"
		"  dump [-D DIR|--stream] [--leave-running] [--force] [--shell-job] [--dry-run] [-v...] PID\n"
		"        freeze the process tree rooted at PID and write its images to DIR\n"
		"        (default ./minicr-PID); the tree is killed afterwards unless\n"
		"        --leave-running is given. --shell-job: a job started from a\n"
		"        shell; its fds on its controlling terminal are recorded.\n"
		"        State minicr would not restore exactly is refused, all of it\n"
		"        listed, before anything is written. --dry-run: only that check;\n"
		"        the tree goes on untouched, exit 1 if anything is refused\n"
		"        --stream: the images go to stdout as one stream, not to DIR\n"
		"  restore [-d|--detach] [--pidfile FILE] [--pidns]\n"
		"          [--pid-method=clone3|ns_last_pid] [--inherit-fd fd[N]:KEY]...\n"
		"          [--shell-job] [--cgroup-root PATH] [-v...] DIR|--stream\n"
		"        recreate the tree recorded in DIR with its PIDs; without -d, wait\n"
		"        for its root and exit with its status (128+N if killed by signal\n"
		"        N); -d prints the root PID once the tree runs. --pidns restores\n"
		"        into a new PID namespace (automatic if the root was an init)\n"
		"        --inherit-fd hands minicr's fd N in for the file the dump named\n"
		"        external with KEY (e.g. fd[3]:pipe:[12345])\n"
		"        --shell-job puts a job dumped with --shell-job on the terminal\n"
		"        of minicr's stdin\n"
		"        --cgroup-root puts the tree's cgroups below PATH instead of\n"
		"        below their recorded common ancestor, in every hierarchy\n"
		"        --stream reads the images from stdin (from dump --stream)\n"
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
		{ "shell-job", no_argument, NULL, 'J' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "stream", no_argument, NULL, 'S' },
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
		case 'J': o.shell_job = true; break;
		case 'f': o.force = true; break;
		case 'n': o.dry_run = true; break;
		case 'S': o.stream = true; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	log_init("minicr", verbose);
	if (o.stream && (o.dir || o.dry_run)) {
		pr_err("dump: --stream writes to stdout: no -D, no --dry-run");
		return 2;
	}
	if (optind != argc - 1) {
		pr_err("dump: expected exactly one PID");
		usage(stderr);
		return 2;
	}
	if (parse_pid(argv[optind], &o.pid)) {
		pr_err("dump: '%s' is not a PID", argv[optind]);
		return 2;
	}
	if (!o.dir && !o.stream) {
		snprintf(defdir, sizeof(defdir), "minicr-%d", o.pid);
		o.dir = defdir;
	}
	return cr_dump(&o) ? 1 : 0;
}

static int cmd_restore(int argc, char **argv, int verbose)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "pidns", no_argument, NULL, 'n' },
		{ "pid-method", required_argument, NULL, 'm' },
		{ "inherit-fd", required_argument, NULL, 'I' },
		{ "shell-job", no_argument, NULL, 'J' },
		{ "cgroup-root", required_argument, NULL, 'C' },
		{ "stream", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct restore_opts o = { 0 };
	_cleanup_free_ const char **inherit = calloc(argc, sizeof(*inherit));
	bool method_set = false;
	const char *key;
	int c, fd, status;

	if (!inherit)
		return 1;
	o.inherit_fds = inherit;

	optind = 1;
	while ((c = getopt_long(argc, argv, "dvh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.detach = true; break;
		case 'p': o.pidfile = optarg; break;
		case 'n': o.pidns = true; break;
		case 'J': o.shell_job = true; break;
		case 'C': o.cgroup_root = optarg; break;
		case 'S': o.stream = true; break;
		case 'm':
			if (rst_pid_method_parse(optarg, &o.method)) {
				log_init("minicr", verbose);
				pr_err("restore: --pid-method must be clone3 or ns_last_pid, not '%s'",
				       optarg);
				return 2;
			}
			method_set = true;
			break;
		case 'I':
			if (files_inherit_parse(optarg, &fd, &key)) {
				log_init("minicr", verbose);
				pr_err("restore: --inherit-fd takes fd[N]:KEY (e.g. fd[3]:pipe:[12345]), "
				       "not '%s'", optarg);
				return 2;
			}
			inherit[o.nr_inherit_fds++] = optarg;
			break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	log_init("minicr", verbose);
	if (optind != argc - (o.stream ? 0 : 1)) {
		pr_err(o.stream ? "restore: --stream reads stdin: no images directory"
				: "restore: expected exactly one images directory");
		usage(stderr);
		return 2;
	}
	if (o.stream && o.shell_job) {
		pr_err("restore: --stream and --shell-job both want stdin");
		return 2;
	}
	o.dir = o.stream ? "(stream)" : argv[optind];
	if (!method_set)
		o.method = rst_have_clone3() ? RST_PID_CLONE3 : RST_PID_NS_LAST_PID;
	else if (o.method == RST_PID_CLONE3 && !rst_have_clone3()) {
		pr_err("restore: this kernel has no clone3(); use --pid-method=ns_last_pid");
		return 1;
	}
	if (cr_restore(&o, &status))
		return 1;
	return o.detach ? 0 : status;
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
	if (!strcmp(cmd, "restore"))
		return cmd_restore(argc, argv, verbose);
	if (!strcmp(cmd, "check"))
		return cr_check() ? 1 : 0;
	pr_err("unknown command '%s'", cmd);
	usage(stderr);
	return 2;
}
