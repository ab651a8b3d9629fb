# Sourced by tests that check a text against the options the code accepts
# (files starting with '_' are not tests).

# cli_options FILE...: "COMMAND OPTION" per line, read from the code rather
# than from any text about it: the getopt_long tables and the option
# strings compared with argv[] inside each cmd_COMMAND function (src/main.c,
# tools/decode.c); those of main() come as COMMAND "main".
cli_options() {
	awk '
	match($0, /^static int cmd_[a-z_]+\(/) { cmd = substr($0, 16, RLENGTH - 16) }
	/^int main\(/ { cmd = "main" }
	/^}/ { cmd = "" }
	cmd != "" && match($0, /\{ "[a-z][a-z-]*", (no|required|optional)_argument/) {
		s = substr($0, RSTART + 3); sub(/".*/, "", s); print cmd, "--" s
	}
	cmd != "" {
		line = $0
		while (match(line, /strcmp\(argv\[[a-z0-9]+\], "-[^"]*"\)/)) {
			s = substr(line, RSTART, RLENGTH); sub(/^[^"]*"/, "", s); sub(/".*/, "", s)
			print cmd, s
			line = substr(line, RSTART + RLENGTH)
		}
	}
	' "$@"
}

# mentions FILE OPTION: FILE names OPTION as a whole (--shell is not in
# --shell-job).
mentions() {
	grep -Eq -- "(^|[^a-z-])$2([^a-z-]|\$)" "$1"
}
