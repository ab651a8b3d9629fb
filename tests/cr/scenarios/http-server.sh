# A real server, `python3 -m http.server` bound to the service address
# 10.231.0.100, answers a client in a third network namespace; migrated
# from host A to host B, with the address moved along: the same client
# gets the same page from the restored server.
FLAVORS="migrate"
WORKLOAD=(/usr/bin/python3 -m http.server --bind 10.231.0.100 --directory "$S/www" 8000)

get() { on_client curl -sS --max-time 3 "http://10.231.0.100:8000/hello.txt"; }
answers() { [[ "$(get)" == "hello from host A" ]]; }
check_before() {
	mkdir -p "$S/www"
	echo "hello from host A" >"$S/www/hello.txt"
	wait_until 10 answers
}
ready() { [[ -e "$S/www/hello.txt" ]] || { mkdir -p "$S/www"; echo "hello from host A" >"$S/www/hello.txt"; }; answers; }
before_restore() {
	get >/dev/null 2>&1 && { echo "something still answers after the dump" >&2; return 1; }
	move_service
}
check_after() {
	wait_until 10 answers || { get >&2; return 1; }
	say "the client in C gets the page from the server restored on B"
}
flavor_setup_hook() { service_on "$HOST_A"; }
