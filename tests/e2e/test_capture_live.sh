#!/usr/bin/env bash
# tests/e2e/test_capture_live.sh - live capture under load. nginx in a server
# namespace, `ab -c 50 -n 5000` (plus a few 200 KB downloads, so TSO
# super-packets are in the capture) from a client namespace, and
# `tcptwin capture -i eth0 -w F` in the server namespace, stopped with SIGINT
# after the traffic. Asserts: exit 0; the statistics lines are present and say
# 0 packets dropped by kernel; "N packets captured" equals the number of
# packets in F; `tcpdump -r F -nn -S` and `tcptwin capture -r F -n -S` print
# identical TCP lines. Does not test filters, rotation or tunnels.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need_cmd nginx ab curl tcpdump
need_bin

make_pair CLI SRV
nginx_start NGINX "$SRV" "$SRV_IP" 8080
F=$TW_TMP/live.pcap

log "capture: $TW_BIN capture -i eth0 -w $F (in $SRV)"
start_capture CAP "$SRV" 300 "$TW_BIN" capture -i eth0 -w "$F"

log "traffic: ab -c 50 -n 5000, 5 x 200 KB"
T_STEP=120 nsx "$CLI" ab -q -c 50 -n 5000 "http://$SRV_IP:8080/small.html" >"$TW_TMP/ab.txt"
grep -E '^(Complete|Failed) requests' "$TW_TMP/ab.txt"
grep -qE '^Complete requests: +5000$' "$TW_TMP/ab.txt" || fail "ab did not complete 5000 requests"
for i in 1 2 3 4 5; do
	nsx "$CLI" curl -sf -o /dev/null "http://$SRV_IP:8080/200k.bin?$i"
done

# let the last ring block retire (its timeout), then stop like a user would
sleep 2
rc=0
stop_wait "$CAP" INT || rc=$?
cat "$TW_TMP/CAP.err"
[ "$rc" -eq 0 ] || fail "capture exited $rc after SIGINT"

captured=$(stats_get "$TW_TMP/CAP.err" captured)
received=$(stats_get "$TW_TMP/CAP.err" 'received by filter')
dropped=$(stats_get "$TW_TMP/CAP.err" 'dropped by kernel')
if [ -z "$captured" ] || [ -z "$received" ] || [ -z "$dropped" ]; then
	fail "statistics lines missing"
fi
[ "$dropped" -eq 0 ] || fail "$dropped packets dropped by kernel"
[ "$received" -ge "$captured" ] || fail "received by filter ($received) < captured ($captured)"

nsx "$SRV" tcpdump -r "$F" -nn -S >"$TW_TMP/tcpdump.txt" 2>"$TW_TMP/tcpdump.err" ||
	{ cat "$TW_TMP/tcpdump.err"; fail "tcpdump cannot read $F"; }
nsx "$SRV" "$TW_BIN" capture -r "$F" -n -S >"$TW_TMP/tcptwin.txt" 2>"$TW_TMP/tcptwin.err" ||
	{ cat "$TW_TMP/tcptwin.err"; fail "tcptwin cannot read $F"; }

infile=$(wc -l <"$TW_TMP/tcpdump.txt")
log "file: $infile packets; statistics: $captured captured, $received received, $dropped dropped"
[ "$infile" -eq "$captured" ] || fail "file has $infile packets, statistics say $captured captured"
# 5000 connections of at least SYN, SYN-ACK, ACK, GET, response, FIN, FIN, ACK
[ "$infile" -ge 40000 ] || fail "only $infile packets for 5000 requests"

tcp_lines "$TW_TMP/tcpdump.txt" >"$TW_TMP/a.tcp"
tcp_lines "$TW_TMP/tcptwin.txt" >"$TW_TMP/b.tcp"
if ! diff -u "$TW_TMP/a.tcp" "$TW_TMP/b.tcp" >"$TW_TMP/diff.txt"; then
	head -40 "$TW_TMP/diff.txt"
	fail "tcptwin -r and tcpdump -r differ ($(grep -c '^[-+][0-9]' "$TW_TMP/diff.txt") lines)"
fi
big=$(max_len "$TW_TMP/tcpdump.txt")
log "identical: $(wc -l <"$TW_TMP/a.tcp") TCP lines; largest TCP length $big"
[ "$big" -gt 1500 ] || fail "no super-packet in the capture (largest $big)"
echo "PASS"
