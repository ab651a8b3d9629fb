/* minicr: command line front end. Each subcommand parses its own options
 * and hands a filled options struct to its module. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dump.h"
#include "files.h"
#include "log.h"
#include "restore.h"
#include "util.h"

/* The overview; each command's options are in its own help text, next to
 * its option table. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: minicr [-v...] COMMAND [options]\n"
		"       minicr --help | --version\n"
		"\n"
		"  dump PID      freeze the process tree rooted at PID and write its images\n"
		"  restore DIR   recreate the tree recorded in DIR with its PIDs\n"
		"  check         report which kernel features minicr relies on are present\n"
		"\n"
		"minicr COMMAND --help lists that command's options; -v, -vv: more output.\n"
		"Images are read with minicr-decode (decode, encode, show, fds, mems, info,\n"
		"verify, seal).\n");
}

/* -o and --progress, which dump and restore share. */
enum { OPT_PROGRESS = 0x100, OPT_NO_PROGRESS };
#define OUTPUT_LONG_OPTS \
	{ "log-file", required_argument, NULL, 'o' }, \
	{ "progress", no_argument, NULL, OPT_PROGRESS }, \
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS }

struct output_opts {
	const char *log_file;
	int progress;           /* -1: when stderr is a terminal */
};

static bool output_opt(int c, struct output_opts *out)
{
	switch (c) {
	case 'o': out->log_file = optarg; return true;
	case OPT_PROGRESS: out->progress = 1; return true;
	case OPT_NO_PROGRESS: out->progress = 0; return true;
	}
	return false;
}

/* getopt_long() that takes the output options itself. */
static int getopt_output(int argc, char **argv, const char *shortopts,
			 const struct option *longopts, struct output_opts *out)
{
	int c;

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1 &&
	       output_opt(c, out))
		;
	return c;
}

static int output_setup(const struct output_opts *out, int verbose, bool *progress)
{
	log_init("minicr", verbose);
	*progress = out->progress < 0 ? isatty(STDERR_FILENO) : out->progress;
	return out->log_file ? log_open_file(out->log_file) : 0;
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

/* The options every command that logs shares (getopt_output()). */
#define OUTPUT_HELP                                                                   \
	"  -o, --log-file FILE   every message at the -v level into FILE, timestamped,\n"   \
	"                        with the PID of the task it is about; errors and\n"      \
	"                        warnings also on stderr\n"                                 \
	"  --progress, --no-progress\n"                                                     \
	"                        one updating line on stderr with tasks and MiB of\n"     \
	"                        pages done (default: when stderr is a terminal)\n"       \
	"  -v, --verbose         more output (-vv: debug)\n"                                \
	"  -h, --help            this text\n"

static const char dump_help[] =
	"usage: minicr dump [-D DIR|--stream] [--leave-running] [--force] [--shell-job] [--dry-run]\n"
	"                   [-o FILE] [--[no-]progress] [-v...] PID\n"
	"\n"
	"Freeze the process tree rooted at PID and write its images to DIR; the tree\n"
	"is killed afterwards unless --leave-running is given. State minicr would not\n"
	"restore exactly is refused, all of it listed, before anything is written.\n"
	"\n"
	"  -D, --images-dir DIR  where the images go (default ./minicr-PID)\n"
	"  --stream              the images go to stdout as one stream, not to DIR\n"
	"  --leave-running       let the tree run on after the dump\n"
	"  -f, --force           accept a non-empty DIR\n"
	"  --shell-job           a job started from a shell: its fds on its\n"
	"                        controlling terminal are recorded\n"
	"  --dry-run             only the check for refused state; the tree goes on\n"
	"                        untouched, exit 1 if anything is refused\n"
	OUTPUT_HELP;

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
		OUTPUT_LONG_OPTS,
		{ 0 }
	};
	struct output_opts out = { .progress = -1 };
	struct dump_opts o = { 0 };
	char defdir[64];
	int c;

	optind = 1;
	while ((c = getopt_output(argc, argv, "D:fvho:", opts, &out)) != -1) {
		switch (c) {
		case 'D': o.dir = optarg; break;
		case 'R': o.leave_running = true; break;
		case 'J': o.shell_job = true; break;
		case 'f': o.force = true; break;
		case 'n': o.dry_run = true; break;
		case 'S': o.stream = true; break;
		case 'v': verbose++; break;
		case 'h': fputs(dump_help, stdout); return 0;
		default: fputs(dump_help, stderr); return 2;
		}
	}
	if (output_setup(&out, verbose, &o.progress))
		return 1;
	if (o.stream && (o.dir || o.dry_run)) {
		pr_err("dump: --stream writes to stdout: no -D, no --dry-run");
		return 2;
	}
	if (optind != argc - 1) {
		pr_err("dump: expected exactly one PID");
		fputs(dump_help, stderr);
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

static const char restore_help[] =
	"usage: minicr restore [-d] [--pidfile FILE] [--pidns[=auto]]\n"
	"                      [--pid-method=clone3|ns_last_pid] [--inherit-fd fd[N]:KEY]...\n"
	"                      [--shell-job] [--cgroup-root PATH] [-o FILE]\n"
	"                      [--[no-]progress] [-v...] DIR|--stream\n"
	"\n"
	"Recreate the tree recorded in DIR with its PIDs. Without -d, wait for its root\n"
	"and exit with its status (128+N if killed by signal N).\n"
	"\n"
	"  --stream              read the images from stdin (from dump --stream), not DIR\n"
	"  -d, --detach          print the root PID once the tree runs and exit\n"
	"  --pidfile FILE        write the root PID to FILE\n"
	"  --pidns               into a new PID namespace where every task has its\n"
	"                        recorded in-namespace PID (automatic if the root was\n"
	"                        the init of its PID namespace)\n"
	"  --pidns=auto          in place if every PID is free here, else into a new\n"
	"                        PID namespace (only for a root that was PID 1 there)\n"
	"  --pid-method=clone3|ns_last_pid\n"
	"                        how tasks get their PIDs (default clone3 if present)\n"
	"  --inherit-fd fd[N]:KEY\n"
	"                        hand in minicr's fd N for the file the dump named\n"
	"                        external with KEY (e.g. fd[3]:pipe:[12345]); without\n"
	"                        it an external pipe end gets a new pipe whose other\n"
	"                        end is closed\n"
	"  --shell-job           put a job dumped with --shell-job on the terminal of\n"
	"                        minicr's stdin\n"
	"  --cgroup-root PATH    the tree's cgroups go below PATH instead of below\n"
	"                        their recorded common ancestor, in every hierarchy\n"
	OUTPUT_HELP;

static int cmd_restore(int argc, char **argv, int verbose)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "pidns", optional_argument, NULL, 'n' },
		{ "pid-method", required_argument, NULL, 'm' },
		{ "inherit-fd", required_argument, NULL, 'I' },
		{ "shell-job", no_argument, NULL, 'J' },
		{ "cgroup-root", required_argument, NULL, 'C' },
		{ "stream", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		OUTPUT_LONG_OPTS,
		{ 0 }
	};
	struct output_opts out = { .progress = -1 };
	struct restore_opts o = { 0 };
	_cleanup_free_ const char **inherit = calloc(argc, sizeof(*inherit));
	bool method_set = false;
	const char *key;
	int c, fd, status;

	if (!inherit)
		return 1;
	o.inherit_fds = inherit;

	optind = 1;
	while ((c = getopt_output(argc, argv, "dvho:", opts, &out)) != -1) {
		switch (c) {
		case 'd': o.detach = true; break;
		case 'p': o.pidfile = optarg; break;
		case 'J': o.shell_job = true; break;
		case 'C': o.cgroup_root = optarg; break;
		case 'n':
			if (!optarg) {
				o.pidns = true;
			} else if (!strcmp(optarg, "auto")) {
				o.pidns_auto = true;
			} else {
				log_init("minicr", verbose);
				pr_err("restore: --pidns takes no value or =auto, not '%s'", optarg);
				return 2;
			}
			break;
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
		case 'h': fputs(restore_help, stdout); return 0;
		default: fputs(restore_help, stderr); return 2;
		}
	}
	if (output_setup(&out, verbose, &o.progress))
		return 1;
	if (optind != argc - (o.stream ? 0 : 1)) {
		pr_err(o.stream ? "restore: --stream reads stdin: no images directory"
				: "restore: expected exactly one images directory");
		fputs(restore_help, stderr);
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

static const char check_help[] =
	"usage: minicr check\n"
	"\n"
	"Report which kernel features minicr relies on are present; exit 1 if one\n"
	"is missing.\n"
	"\n"
	"  -h, --help            this text\n";

static int cmd_check(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(check_help, stdout);
		return 0;
	}
	if (argc != 1) {
		fputs(check_help, stderr);
		return 2;
	}
	return cr_check() ? 1 : 0;
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
		return cmd_check(argc, argv);
	pr_err("unknown command '%s'", cmd);
	usage(stderr);
	return 2;
}
