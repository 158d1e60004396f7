#!/usr/bin/env bash
# tests/e2e/test_copy_channel.sh - the intercept channel between `tcptwin copy`
# and `tcptwin intercept` in the copy lab: many copies to many intercepts,
# versions, shared secret, allowed networks (DESIGN §5, docs/wire-format.md).
# One capture of small traffic (300 connections x 4 requests) is replayed:
#  1. by two copies at once to one intercept, each replaying half the sessions,
#     split with -F by the client port (-F applies to files: copy A reads the
#     pcap file, copy B the same bytes through a FIFO, which also holds B
#     connected until A has connected, so the two overlap for sure). Every
#     stream ON received reaches TG exactly once, both reports count their half,
#     all `done`, the intercept logs two copies connected;
#  2. by one copy to two intercepts (-s AS:36524,AS:36525) whose filters split
#     the target's replies by client port: 100 % byte-exact, all `done`, and
#     each intercept forwarded some of the replies;
#  3. refused, with one line on copy's side (exit 1, names the intercept and
#     the reason) and a "refused copy ... <reason>" line in the intercept's log,
#     no report and nothing replayed (no target stream, no reply captured):
#     a different secret, a secret on the intercept only, on the copy only, a
#     copy outside --allow, another wire version (copy --wire-version 2); then
#     the same secret on both sides replays 100 %.
# The halves are split by bit 1 of the client port, not by its parity: Linux
# (>= 4.6) gives connect() even ports first, so all the lab client's ports are
# even. Copy keeps a captured client port when it is free, so the target replies
# to the same port and the reply filters split the same way.
# Each intercept is stopped with SIGINT at the end of its part and must exit 0;
# every tcptwin log is checked for sanitizer reports.
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_bin
need_cmd tcpdump pgrep mkfifo "$COPYLAB_PY"

PORT_IC=36524 PORT_IC2=36525
SAN_RE='runtime error:|ERROR: (Address|Undefined|Leak)Sanitizer'

# san_check FILE...: fail (showing the report) if a sanitizer spoke in FILE
san_check() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		if grep -qE "$SAN_RE" "$f"; then
			cat "$f"
			fail "sanitizer report in $f"
		fi
	done
}

# icept_stat VAR WHAT: N from "WHAT N" in the intercept's last statistics line
# (printed at exit and on SIGUSR1)
icept_stat() {
	sed -n "s/^intercept: .*[ ,(]$2 \([0-9][0-9]*\).*/\1/p" "$TW_TMP/$1.err" | tail -1
}

# icept_stop VAR: SIGINT the intercept started as VAR, wait; it must exit 0
icept_stop() {
	local var=$1 rc=0
	stop_wait "${!var}" INT || rc=$?
	san_check "$TW_TMP/$var.err"
	if [ "$rc" -ne 0 ]; then
		cat "$TW_TMP/$var.err"
		fail "intercept $var exited $rc after SIGINT"
	fi
	log "intercept $var stopped: $(grep '^intercept: ' "$TW_TMP/$var.err" | tail -1)"
}

# icept_captured VAR: replies the running intercept VAR has captured so far
# (SIGUSR1 to tcptwin itself, the child of bg's timeout)
icept_captured() {
	local var=$1 pid n0 i
	pid=$(pgrep -P "${!var}" | head -1)
	[ -n "$pid" ] || fail "intercept $var is not running"
	n0=$(grep -c '^intercept: ' "$TW_TMP/$var.err" || true)
	kill -USR1 "$pid"
	for i in $(seq 1 50); do
		[ "$(grep -c '^intercept: ' "$TW_TMP/$var.err" || true)" -gt "$n0" ] && break
		sleep 0.1
	done
	icept_stat "$var" 'replies captured'
}

# connected VAR: how many copies the intercept VAR has logged as connected
connected() {
	grep -cE "copy $IP_ON:[0-9]+ \(tcptwin [^)]*\) connected" "$TW_TMP/$1.err" || true
}

# wait_connected VAR N PID: until VAR has logged N copies connected (10 s), while PID lives
wait_connected() {
	local i
	for i in $(seq 1 100); do
		[ "$(connected "$1")" -ge "$2" ] && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.1
	done
	[ "$(connected "$1")" -ge "$2" ]
}

# copy_bg VAR NAME [ARGS...]: copylab_copy's command line, in the background
# (PID in VAR; log $LAB/NAME.log, report $LAB/NAME.json)
copy_bg() {
	local -n _cp=$1
	local name=$2
	shift 2
	timeout -s INT -k 10 "${T_COPY:-120}" ip netns exec "$NS_ON" "$TW_BIN" copy \
		-x "$PORT_ON-$IP_TG:$PORT_TG" -s "$IP_AS" --report "$LAB/$name.json" "$@" \
		>"$LAB/$name.log" 2>&1 &
	_cp=$!
	TW_PIDS+=("$_cp")
}

# copy_wait PID NAME: wait for a copy_bg; prints its summary, returns its exit code
copy_wait() {
	local rc=0
	wait "$1" || rc=$?
	log "copy $2: exit $rc"
	grep -v '^\[' "$LAB/$2.log" | head -20 | sed 's/^/    /'
	san_check "$LAB/$2.log"
	return "$rc"
}

# check_report NAME SESSIONS: the report says SESSIONS sessions, all done
check_report() {
	local n
	[ -s "$LAB/$1.json" ] || fail "$1: no report $LAB/$1.json"
	n=$(copylab_outcome "$1" sessions)
	[ "$n" -eq "$2" ] || fail "$1: $n sessions replayed, expected $2"
	n=$(copylab_outcome "$1" "done")
	[ "$n" -eq "$2" ] || fail "$1: only $n of $2 sessions done"
}

# replay_all NAME [COPY ARGS...]: the whole capture, foreground; all 300 done, and the
# target got every online stream exactly once
replay_all() {
	local name=$1
	shift
	copylab_copy "$name" -i "$LAB/small.pcap" --topspeed "$@" || fail "copy $name exited non-zero"
	san_check "$LAB/$name.log"
	check_report "$name" "$ALL"
	copylab_target_round "$name" "$ALL"
	copylab_compare_round "$name" || fail "$name: the target did not get every stream byte-exact"
}

# syns FILTER: client SYNs (connections) in the capture that match FILTER
syns() {
	tcpdump -r "$LAB/small.pcap" -nn "tcp[13] & 0x12 = 0x02 and ($1)" 2>/dev/null | wc -l
}

# refused NAME ICEPT_VAR COPY_RE ICEPT_RE [COPY ARGS...]: a copy of the capture that
# the intercept ICEPT_VAR (on $PORT_IC) must refuse: copy exits 1 with one line that
# names the intercept and matches COPY_RE; the intercept logs one more "refused copy"
# line, matching ICEPT_RE; no report, no stream reaches the target
refused() {
	local name=$1 var=$2 cre=$3 ire=$4 rc=0 line n
	shift 4
	n=$(grep -c 'refused copy' "$TW_TMP/$var.err" || true)
	copylab_copy "$name" -i "$LAB/small.pcap" --topspeed "$@" || rc=$?
	san_check "$LAB/$name.log"
	[ "$rc" -eq 1 ] || fail "$name: copy exited $rc, expected 1 (refused by the intercept)"
	if [ "$(wc -l <"$LAB/$name.log")" -ne 1 ]; then
		cat "$LAB/$name.log"
		fail "$name: copy printed more than the one error line"
	fi
	line=$(cat "$LAB/$name.log")
	[[ $line == "tcptwin copy: intercept $IP_AS:$PORT_IC "* ]] ||
		fail "$name: copy's error does not name the intercept $IP_AS:$PORT_IC: $line"
	grep -qE "$cre" <<<"$line" || fail "$name: copy's error does not say /$cre/: $line"
	if ! wait_file_has "$TW_TMP/$var.err" "refused copy $IP_ON:[0-9]+: .*$ire" 5 ||
		[ "$(grep -c 'refused copy' "$TW_TMP/$var.err")" -ne $((n + 1)) ]; then
		cat "$TW_TMP/$var.err"
		fail "$name: the intercept did not log one refusal saying /$ire/"
	fi
	log "    intercept: $(grep 'refused copy' "$TW_TMP/$var.err" | tail -1)"
	! [ -e "$LAB/$name.json" ] || fail "$name: a refused copy wrote a report"
	sleep 0.5
	n=$(copylab_count "$LAB/target")
	[ "$n" -eq 0 ] || fail "$name: $n streams reached the target from a refused copy"
}

# nothing_replayed VAR: after refusals only, the intercept VAR captured no reply at all
nothing_replayed() {
	local n
	n=$(icept_captured "$1")
	[ "${n:-x}" = 0 ] || fail "intercept $1 captured ${n:-?} replies: a refused copy sent packets"
	log "    intercept $1: no reply captured after the refusals"
}

copylab_up
copylab_servers
log "recording 300 connections x 4 requests"
copylab_record_start "$LAB/small.pcap"
copylab_drive 300 4 small
copylab_record_stop
[ "$COPYLAB_REC_DROPPED" -eq 0 ] || fail "the capture lost $COPYLAB_REC_DROPPED packets"
copylab_wait_streams "$LAB/online" 300 || fail "online streams missing"
ALL=$(syns 'tcp dst port 80')
[ "$ALL" -eq 300 ] || fail "the capture holds $ALL connections, expected 300"
MASK=2
SPLIT_A="tcp dst port 80 and (tcp[0:2] & $MASK) = 0"
SPLIT_B="tcp dst port 80 and (tcp[0:2] & $MASK) = $MASK"
HALF_A=$(syns "$SPLIT_A")
HALF_B=$(syns "$SPLIT_B")
log "client ports with bit 1 clear: $HALF_A, set: $HALF_B"
if [ "$HALF_A" -eq 0 ] || [ "$HALF_B" -eq 0 ] || [ $((HALF_A + HALF_B)) -ne "$ALL" ]; then
	fail "the client ports do not split in two halves ($HALF_A + $HALF_B of $ALL)"
fi

log "1. two copies at once to one intercept, each replaying half the capture (-F)"
copylab_intercept IC1 # the default port, 36524 ($PORT_IC), on both sides
mkfifo "$LAB/half-b.fifo"
copy_bg PID_B half-b -i "$LAB/half-b.fifo" --topspeed -F "$SPLIT_B"
wait_connected IC1 1 "$PID_B" || { cat "$LAB/half-b.log"; fail "copy B did not connect"; }
copy_bg PID_A half-a -i "$LAB/small.pcap" --topspeed -F "$SPLIT_A"
if ! wait_connected IC1 2 "$PID_A"; then
	cat "$TW_TMP/IC1.err" "$LAB/half-a.log"
	fail "the intercept logged $(connected IC1) copies connected, expected 2"
fi
kill -0 "$PID_B" 2>/dev/null || { cat "$LAB/half-b.log"; fail "copy B ended before its input came"; }
# shellcheck disable=SC2016 # expanded by the inner bash
timeout "$T_STEP" bash -c 'cat "$1" >"$2"' feed "$LAB/small.pcap" "$LAB/half-b.fifo" ||
	fail "could not feed copy B's FIFO"
rc_a=0 rc_b=0
copy_wait "$PID_A" half-a || rc_a=$?
copy_wait "$PID_B" half-b || rc_b=$?
[ "$rc_a" -eq 0 ] || fail "copy A exited $rc_a"
[ "$rc_b" -eq 0 ] || fail "copy B exited $rc_b"
check_report half-a "$HALF_A"
check_report half-b "$HALF_B"
copylab_target_round two-copies "$ALL"
copylab_compare_round two-copies || fail "two copies: the target did not get every stream exactly once"
grep -E 'copy .* (connected|disconnected)' "$TW_TMP/IC1.err" | sed 's/^/    /'
n=$(connected IC1)
[ "$n" -eq 2 ] || fail "the intercept logged $n copies connected, expected 2"
icept_stop IC1
n=$(icept_stat IC1 forwarded)
[ "${n:-0}" -gt 0 ] || fail "intercept 1 forwarded no replies"

log "2. one copy, two intercepts splitting the replies by client port"
copylab_intercept IC2A -p "$PORT_IC" -F "tcp and src port $PORT_TG and (tcp[2:2] & $MASK) = 0"
copylab_intercept IC2B -p "$PORT_IC2" -F "tcp and src port $PORT_TG and (tcp[2:2] & $MASK) = $MASK"
replay_all two-icepts -s "$IP_AS:$PORT_IC,$IP_AS:$PORT_IC2"
for v in IC2A IC2B; do
	n=$(connected $v)
	[ "$n" -eq 1 ] || fail "intercept $v logged $n copies connected, expected 1"
done
icept_stop IC2A
icept_stop IC2B
fa=$(icept_stat IC2A forwarded) fb=$(icept_stat IC2B forwarded)
log "replies forwarded: $fa by :$PORT_IC, $fb by :$PORT_IC2"
[ "${fa:-0}" -gt 0 ] || fail "intercept :$PORT_IC forwarded no replies"
[ "${fb:-0}" -gt 0 ] || fail "intercept :$PORT_IC2 forwarded no replies"

log "3. refusals: secret, version, allowed networks; then the same secret works"
printf 'alpha secret 1\n' >"$LAB/secret-a"
printf 'bravo secret 2\n' >"$LAB/secret-b"
copylab_intercept IC3 --secret-file "$LAB/secret-a"
refused wrong-secret IC3 'refused this copy \(authentication\): .*secret' 'wrong shared secret' \
	--secret-file "$LAB/secret-b"
refused no-copy-secret IC3 'refused this copy \(authentication\): .*secret.*copy has none' \
	'requires a shared secret and copy has none'
nothing_replayed IC3
log "    the same secret on both sides"
replay_all same-secret --secret-file "$LAB/secret-a"
n=$(connected IC3)
[ "$n" -eq 1 ] || fail "intercept 3 logged $n copies connected, expected 1"
icept_stop IC3
n=$(icept_stat IC3 'copies refused')
[ "${n:-x}" = 2 ] || fail "intercept 3 counted ${n:-?} refused copies, expected 2"

copylab_intercept IC4
refused icept-no-secret IC4 'refused this copy \(authentication\): .*intercept has none' \
	'copy has a shared secret but this intercept has none' --secret-file "$LAB/secret-a"
refused version IC4 'refused this copy \(version\): .*speaks 2-2.*speaks 1-1' \
	'version mismatch: .*speaks 2-2.*speaks 1-1' --wire-version 2
nothing_replayed IC4
icept_stop IC4
n=$(icept_stat IC4 'copies refused')
[ "${n:-x}" = 2 ] || fail "intercept 4 counted ${n:-?} refused copies, expected 2"

copylab_intercept IC5 --allow 10.99.0.0/16
refused not-allowed IC5 "refused this copy \(network not allowed\): .*$IP_ON.*allowed networks" \
	"copy at $IP_ON:[0-9]+ is not in this intercept's allowed networks"
nothing_replayed IC5
icept_stop IC5
log "ok"
