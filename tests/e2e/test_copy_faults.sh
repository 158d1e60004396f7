#!/usr/bin/env bash
# tests/e2e/test_copy_faults.sh - raw-mode replay when things go wrong, in the
# copy lab, on one recording of mixed keep-alive traffic (POSTs up to 100 KB,
# 150 KB replies, TSO super-packets in the capture):
#  1. path MTU 1400 between copy and the target (ON and TG links at MTU
#     1400): copy re-segments every super-packet to the route's MTU, exits 0,
#     and the target gets every stream byte-exact;
#  2. 2 % random loss on the target's link, both directions (iptables
#     statistic in TG): retransmission delivers every stream byte-exact;
#  3. a capture with one client data packet removed from each of 5
#     connections: exactly those sessions end as "gap" and are named in the
#     report; every other stream reaches the target byte-exact.
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_bin
need_cmd tcpdump iptables "$COPYLAB_PY"

copylab_up
copylab_servers
copylab_intercept ICEPT

copylab_record_start "$LAB/mixed.pcap"
copylab_drive 300 5 mixed
copylab_record_stop
[ "$COPYLAB_REC_DROPPED" -eq 0 ] || fail "the capture lost $COPYLAB_REC_DROPPED packets"
copylab_wait_streams "$LAB/online" 300 || fail "online streams missing"

check_all() { # NAME: every session done, every stream exact
	local n
	n=$(copylab_outcome "$1" "done")
	[ "$n" -eq 300 ] || fail "$1: only $n of 300 sessions done"
	copylab_target_round "$1" 300
	copylab_compare_round "$1" || fail "$1: the target did not get every stream byte-exact"
}

log "1. path MTU 1400"
set_mtu() {
	nsx "$NS_ON" ip link set eth0 mtu "$1"
	nsx "$NS_TG" ip link set eth0 mtu "$1"
	nsx "$NS_SW" ip link set p-on mtu "$1"
	nsx "$NS_SW" ip link set p-tg mtu "$1"
}
set_mtu 1400
big=$(tcpdump -r "$LAB/mixed.pcap" -nn 'tcp dst port 80 and greater 1500' 2>/dev/null | wc -l)
[ "$big" -gt 0 ] || fail "no client packet above 1500 bytes in the capture"
copylab_copy mtu -i "$LAB/mixed.pcap" --topspeed || fail "copy exited non-zero at MTU 1400"
[ "$(copylab_outcome mtu send_errors)" -eq 0 ] || fail "send errors at MTU 1400"
check_all mtu
set_mtu 1500

log "2. 2 % random loss on the target's link"
nsx "$NS_TG" iptables -I INPUT -p tcp --dport 8080 -m statistic --mode random --probability 0.02 -j DROP
nsx "$NS_TG" iptables -I OUTPUT -p tcp --sport 8080 -m statistic --mode random --probability 0.02 -j DROP
copylab_copy loss -i "$LAB/mixed.pcap" --topspeed || fail "copy exited non-zero under loss"
dropped=$(nsx "$NS_TG" iptables -L -v -n -x | awk '/statistic/ {s += $1} END {print s + 0}')
log "packets dropped by the loss rules: $dropped"
[ "$dropped" -gt 0 ] || fail "the loss rules dropped nothing: the test would not cover loss"
[ "$(copylab_outcome loss retransmissions)" -gt 0 ] || fail "no retransmissions under loss"
check_all loss
nsx "$NS_TG" iptables -F INPUT
nsx "$NS_TG" iptables -F OUTPUT

log "3. client packets removed from 5 connections"
# the second data packet of 5 connections that carried at least 3
"$COPYLAB_PY" - "$LAB/mixed.pcap" "$LAB/cut.txt" <<'PY' || fail "could not pick packets to remove"
import subprocess, sys, collections
out = subprocess.run(["tcpdump", "-r", sys.argv[1], "-nn", "-S", "tcp dst port 80 and greater 100"],
                     capture_output=True, text=True).stdout
seqs = collections.defaultdict(list)
for line in out.splitlines():
    f = line.split()
    if len(f) < 9 or "seq" not in f:
        continue
    port = f[2].rsplit(".", 1)[1]
    seq = f[f.index("seq") + 1].rstrip(",").split(":")[0]
    seqs[port].append(seq)
picked = [(p, s[1]) for p, s in sorted(seqs.items()) if len(s) >= 3][:5]
if len(picked) < 5:
    sys.exit(1)
with open(sys.argv[2], "w") as fh:
    for p, s in picked:
        fh.write(f"{p} {s}\n")
PY
filter="tcp"
while read -r port seq; do
	filter="$filter and not (tcp src port $port and tcp[4:4] = $seq and greater 100)"
done <"$LAB/cut.txt"
tcpdump -r "$LAB/mixed.pcap" -w "$LAB/cut.pcap" "$filter" 2>/dev/null || fail "tcpdump could not cut the capture"
removed=$(($(tcpdump -r "$LAB/mixed.pcap" 2>/dev/null | wc -l) - $(tcpdump -r "$LAB/cut.pcap" 2>/dev/null | wc -l)))
[ "$removed" -eq 5 ] || fail "removed $removed packets, expected 5"
copylab_copy gap -i "$LAB/cut.pcap" --topspeed || fail "copy exited non-zero"
[ "$(copylab_outcome gap gap)" -eq 5 ] || fail "$(copylab_outcome gap gap) sessions ended as gap, expected 5"
[ "$(copylab_outcome gap "done")" -eq 295 ] || fail "$(copylab_outcome gap "done") sessions done, expected 295"
: >"$LAB/missing.txt"
while read -r port seq; do
	grep -q "\"session\": \"$IP_CL:$port copy 0\", \"outcome\": \"gap\"" "$LAB/gap.json" ||
		fail "the report does not name $IP_CL:$port as gap"
	grep -q "not delivered whole: $IP_CL:$port copy 0: gap" "$LAB/gap.log" ||
		fail "the summary does not name $IP_CL:$port"
	(cd "$LAB/online" && ls "${IP_CL}_${port}_"*.bin) >>"$LAB/missing.txt"
done <"$LAB/cut.txt"
copylab_target_round gap 295
copylab_compare_round gap --expect-missing "$LAB/missing.txt" ||
	fail "gap: the other streams did not reach the target byte-exact"
log "ok"
