#!/usr/bin/env bash
# tests/e2e/test_copy_short.sh - 10 000 short connections (one request each,
# Connection: close) from a client whose 1 000 ports are reused many times
# over, recorded and replayed by tcptwin copy at top speed: every session
# ends "done" and the target receives every stream byte-exact, once. This is
# where TCPCopy delivers 49-64 %: replayed 4-tuples must never collide with a
# live or TIME_WAIT connection on the target.
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_bin
need_cmd tcpdump "$COPYLAB_PY"

N=${SHORT_CONNS:-10000}
copylab_up
copylab_servers
copylab_intercept ICEPT

copylab_record_start "$LAB/short.pcap"
copylab_drive "$N" 1 short
copylab_record_stop
[ "$COPYLAB_REC_DROPPED" -eq 0 ] || fail "the capture lost $COPYLAB_REC_DROPPED packets"
copylab_wait_streams "$LAB/online" "$N" || fail "online streams missing"
reuse=$(tcpdump -r "$LAB/short.pcap" -nn 'tcp[tcpflags] == tcp-syn' 2>/dev/null |
	awk '{print $3}' | sort | uniq -d | wc -l)
log "client address:port pairs that opened more than one connection: $reuse"
[ "$reuse" -gt 0 ] || fail "no client port reuse in the capture: the test would not cover it"

copylab_copy short -i "$LAB/short.pcap" --topspeed || fail "copy exited non-zero"
n=$(copylab_outcome short sessions)
[ "$n" -eq "$N" ] || fail "$n sessions replayed, expected $N"
n=$(copylab_outcome short "done")
[ "$n" -eq "$N" ] || fail "only $n of $N sessions done"
copylab_target_round short "$N"
copylab_compare_round short || fail "the target did not get every stream byte-exact"
log "ok"
