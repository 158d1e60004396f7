#!/usr/bin/env bash
# tests/e2e/test_capture_compat.sh - tcpdump-format compatibility on real
# capture files with GRO/TSO super-packets (the acceptance test of capture).
# In the server namespace, the same traffic is recorded three ways at once:
#   tcpdump -i eth0 -w      (pcap, Ethernet)
#   tcpdump -i any -w       (pcap, Linux cooked v2, SLL2)
#   tshark -i eth0 -F pcapng -w   (pcapng, as Wireshark's dumpcap writes it)
# For each file, `tcptwin capture -r F -n -S` must print, for every TCP packet,
# exactly the line `tcpdump -r F -nn -S` prints (full lines: time, interface
# and direction for SLL2, addresses, ports, flags, seq, ack, win, options,
# length, HTTP summary). Also asserts that the files really hold
# super-packets (some TCP length > 1500). Both readers run inside the server
# namespace, because for SLL2 tcpdump prints the interface name of the
# recorded ifindex as the reading host resolves it.
# Does not test live capture by tcptwin (test_capture_live.sh does).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need_cmd nginx ab curl tcpdump tshark
need_bin

make_pair CLI SRV
nginx_start NGINX "$SRV" "$SRV_IP" 8080

log "recording with tcpdump -i eth0, tcpdump -i any, tshark -F pcapng (in $SRV)"
start_capture TD "$SRV" 300 tcpdump -i eth0 -w "$TW_TMP/eth.pcap" tcp port 8080
start_capture TDANY "$SRV" 300 tcpdump -i any -w "$TW_TMP/any.pcap" tcp port 8080
bg TS "$SRV" 300 tshark -i eth0 -F pcapng -w "$TW_TMP/ts.pcapng" -f "tcp port 8080"
if ! wait_file_has "$TW_TMP/TS.err" "Capturing on" 20; then
	cat "$TW_TMP/TS.err"
	fail "tshark did not start"
fi
sleep 0.5

log "traffic: ab -k (keep-alive), ab on 200 KB files, curl"
T_STEP=120 nsx "$CLI" ab -q -k -c 10 -n 1000 "http://$SRV_IP:8080/small.html" >"$TW_TMP/ab1.txt"
T_STEP=120 nsx "$CLI" ab -q -c 5 -n 50 "http://$SRV_IP:8080/200k.bin" >"$TW_TMP/ab2.txt"
for f in index.html 10k.bin 200k.bin; do
	nsx "$CLI" curl -sf -o /dev/null "http://$SRV_IP:8080/$f"
done
grep -qE '^Failed requests: +0$' "$TW_TMP/ab1.txt" || fail "ab (keep-alive) had failures"
grep -qE '^Failed requests: +0$' "$TW_TMP/ab2.txt" || fail "ab (200 KB) had failures"

sleep 2
for p in "$TD" "$TDANY" "$TS"; do
	stop_wait "$p" INT || fail "a reference capture failed: $(cat "$TW_TMP"/T*.err)"
done

nfail=0
for f in eth.pcap any.pcap ts.pcapng; do
	F=$TW_TMP/$f
	nsx "$SRV" tcpdump -r "$F" -nn -S >"$F.tcpdump" 2>"$F.tcpdump.err" ||
		{ cat "$F.tcpdump.err"; fail "tcpdump cannot read $f"; }
	nsx "$SRV" "$TW_BIN" capture -r "$F" -n -S >"$F.tcptwin" 2>"$F.tcptwin.err" ||
		{ cat "$F.tcptwin.err"; fail "tcptwin cannot read $f"; }
	tcp_lines "$F.tcpdump" >"$F.a"
	tcp_lines "$F.tcptwin" >"$F.b"
	n=$(wc -l <"$F.a")
	big=$(max_len "$F.tcpdump")
	[ "$n" -ge 1000 ] || fail "$f: only $n TCP packets"
	[ "${big:-0}" -gt 1500 ] || fail "$f: no super-packet (largest TCP length ${big:-none})"
	if diff -u "$F.a" "$F.b" >"$F.diff"; then
		log "$f: $(head -c 200 "$F.tcpdump.err" | head -1)"
		log "$f: $n TCP lines identical, largest length $big"
	else
		log "$f: DIFFERENT ($(grep -c '^[-+][0-9]' "$F.diff") lines differ, $n TCP lines); first differences:"
		head -30 "$F.diff"
		nfail=$((nfail + 1))
	fi
done
[ "$nfail" -eq 0 ] || fail "$nfail of 3 files print differently"
echo "PASS"
