# Sourced by tests that check a text against the options the code accepts
# (files starting with '_' are not tests).

# cli_options FILE...: "COMMAND OPTION" per line, read from the code rather
# than from any text about it: the getopt_long tables inside each
# cmd_COMMAND function of src/main.c, and the option strings tools/decode.c
# compares argv[i] with inside its cmd_COMMAND functions.
cli_options() {
	awk '
	match($0, /^static int cmd_[a-z_]+\(/) { cmd = substr($0, 16, RLENGTH - 16) }
	/^}/ { cmd = "" }
	cmd != "" && match($0, /\{ "[a-z][a-z-]*", (no|required|optional)_argument/) {
		s = substr($0, RSTART + 3); sub(/".*/, "", s); print cmd, "--" s
	}
	cmd != "" && match($0, /strcmp\(argv\[i\], "-[^"]*"\)/) {
		s = substr($0, RSTART + 17); sub(/".*/, "", s); print cmd, s
	}
	' "$@"
}

# mentions FILE OPTION: FILE names OPTION as a whole (--shell is not in
# --shell-job).
mentions() {
	grep -Eq -- "(^|[^a-z-])$2([^a-z-]|\$)" "$1"
}
