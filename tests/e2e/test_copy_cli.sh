#!/usr/bin/env bash
# tests/e2e/test_copy_cli.sh - the command lines of tcptwin copy and intercept:
# usage errors exit 2 with the usage; runtime errors (a missing, empty or
# foreign capture file, no intercept listening) exit 1 with one line naming
# the file or the intercept; intercept -d -l -P runs in the background,
# logs to the file (statistics on SIGUSR1 and at exit), writes and removes
# its pid file, and stops on SIGTERM. Runs in a namespace of its own.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need_bin
ns_new NS cli

expect() { # RC PATTERN CMD...: run CMD in NS, check its exit code and that stderr matches
	local want=$1 pat=$2 rc=0
	shift 2
	nsx "$NS" "$TW_BIN" "$@" >"$TW_TMP/out" 2>"$TW_TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || { cat "$TW_TMP/err"; fail "'$*' exited $rc, expected $want"; }
	grep -qE -- "$pat" "$TW_TMP/err" || { cat "$TW_TMP/err"; fail "'$*': stderr does not match '$pat'"; }
	if [ "$want" -eq 1 ]; then
		[ "$(wc -l <"$TW_TMP/err")" -eq 1 ] || { cat "$TW_TMP/err"; fail "'$*': not one line"; }
	fi
}

log "usage errors: exit 2 and the usage"
expect 2 'Usage: tcptwin copy' copy --bogus
expect 2 '-x is required' copy -s 10.1.1.1 -i x.pcap
expect 2 '-s is required' copy -x 80-10.1.1.2:8080 -i x.pcap
expect 2 '-i is required' copy -x 80-10.1.1.2:8080 -s 10.1.1.1
expect 2 "-x: .*99999" copy -x 80-10.1.1.2:99999 -s 10.1.1.1 -i x.pcap
expect 2 '-n: number of copies' copy -x 80-10.1.1.2:8080 -s 10.1.1.1 -i x.pcap -n 0
expect 2 '-a: speed' copy -x 80-10.1.1.2:8080 -s 10.1.1.1 -i x.pcap -a fast
expect 2 '@MAC needs -o' copy -x '80@02:00:00:00:00:01-10.1.1.2:8080@02:00:00:00:00:02' -s 10.1.1.1 -i x.pcap
expect 2 '-F FILTER is required' intercept
expect 2 '--allow: bad network' intercept -F tcp --allow 10.0.0.0/33
expect 2 'Usage: tcptwin intercept' intercept -F tcp --bogus

log "runtime errors: exit 1, one line naming the file or the intercept"
ip netns exec "$NS" "$TW_BIN" intercept -i lo -F 'tcp and src port 8080' -b 127.0.0.1 >/dev/null 2>"$TW_TMP/ic.err" &
icpid=$!
TW_PIDS+=("$icpid")
wait_file_has "$TW_TMP/ic.err" 'intercept listening' 10 || fail "intercept did not start"
: >"$TW_TMP/empty.pcap"
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\0\0\x01\0\0\0' >"$TW_TMP/none.pcap"
echo "not a capture" >"$TW_TMP/foreign.pcap"
expect 1 "nope.pcap" copy -x 80-127.0.0.1:8080 -s 127.0.0.1 -i "$TW_TMP/nope.pcap"
expect 1 "empty.pcap" copy -x 80-127.0.0.1:8080 -s 127.0.0.1 -i "$TW_TMP/empty.pcap"
expect 1 "foreign.pcap" copy -x 80-127.0.0.1:8080 -s 127.0.0.1 -i "$TW_TMP/foreign.pcap"
expect 1 "intercept 127.0.0.1 port 36599: cannot connect" copy -x 80-127.0.0.1:8080 -s 127.0.0.1:36599 -i "$TW_TMP/none.pcap"
expect 1 "secret-file .*missing" copy -x 80-127.0.0.1:8080 -s 127.0.0.1 -i "$TW_TMP/none.pcap" --secret-file "$TW_TMP/missing"
kill -INT "$icpid"
wait "$icpid" || fail "intercept exited non-zero on SIGINT"
grep -q '^intercept: ' "$TW_TMP/ic.err" || fail "intercept printed no statistics on exit"

log "intercept -d -l -P"
nsx "$NS" "$TW_BIN" intercept -i lo -F 'tcp and src port 8080' -b 127.0.0.1 -d -l "$TW_TMP/ic.log" -P "$TW_TMP/ic.pid" ||
	fail "intercept -d exited non-zero"
wait_file_has "$TW_TMP/ic.pid" '^[0-9]+$' 5 || fail "no pid file"
pid=$(cat "$TW_TMP/ic.pid")
kill -0 "$pid" || fail "the daemon is not running"
wait_file_has "$TW_TMP/ic.log" 'intercept listening' 5 || fail "the log file has no start line"
kill -USR1 "$pid"
wait_file_has "$TW_TMP/ic.log" '^intercept: 0 copies connected' 5 || fail "no statistics in the log on SIGUSR1"
kill -TERM "$pid"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the daemon did not stop on SIGTERM"
[ ! -e "$TW_TMP/ic.pid" ] || fail "the pid file was not removed"
[ "$(grep -c '^intercept: ' "$TW_TMP/ic.log")" -eq 2 ] || fail "expected statistics twice in the log"
log "ok"
