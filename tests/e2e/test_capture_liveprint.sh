#!/usr/bin/env bash
# tests/e2e/test_capture_liveprint.sh - live printing and signals, against
# tcpdump on the same traffic.
# 1. `tcpdump -i IF -nn -S` and `tcptwin capture -i IF -n -S` run at the
#    same time in the server namespace while ab runs, for IF = eth0 and any. Asserts: the same stderr
#    banner (program name aside); the same multiset of packet lines without
#    their timestamps (two sockets stamp and order packets independently, so
#    times and the order of near-simultaneous packets may differ; if tcpdump
#    itself dropped packets, its lines must be a subset of ours); statistics
#    lines present, none dropped, "captured" = lines printed.
# 2. Signals on `tcptwin capture -i eth0 -w F` (and on tcpdump alongside):
#    SIGUSR1 prints one line "tcptwin: N packets captured, N packets received
#    by filter, N packets dropped by kernel" (tcpdump's line with our name) and
#    the capture goes on; SIGUSR2 flushes F, which then reads back complete
#    while the capture still runs; SIGTERM ends it with exit 0 and the three
#    statistics lines.
# Does not compare relative sequence numbers live (the golden tests do).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need_cmd nginx ab curl tcpdump
need_bin
errors=0
bad() { echo "  FAIL: $*"; errors=$((errors + 1)); }

make_pair CLI SRV
nginx_start NGINX "$SRV" "$SRV_IP" 8080

# live_pair IFACE: tcpdump and tcptwin print IFACE side by side; compare
live_pair() {
	local ifc=$1 rc=0 ntd ntw td_drop bad_ts c d
	start_capture TD "$SRV" 120 tcpdump -B 65536 -i "$ifc" -nn -S tcp port 8080
	start_capture TW "$SRV" 120 "$TW_BIN" capture -i "$ifc" -n -S tcp port 8080
	T_STEP=120 nsx "$CLI" ab -q -c 10 -n 500 "http://$SRV_IP:8080/10k.bin" >/dev/null
	nsx "$CLI" curl -sf -o /dev/null "http://$SRV_IP:8080/200k.bin"
	sleep 1.5
	stop_wait "$TD" INT || bad "-i $ifc: tcpdump failed"
	stop_wait "$TW" INT || rc=$?
	[ "$rc" -eq 0 ] || bad "-i $ifc: tcptwin exit $rc after SIGINT"
	sed 's/^/  tcptwin: /' "$TW_TMP/TW.err"

	# banner: the lines before the statistics, with the program name replaced
	# (tcpdump's "tcpdump: data link type LINUX_SLL2" line for -i any aside)
	grep -v '^tcpdump: data link type' "$TW_TMP/TD.err" | head -2 | sed 's/^tcpdump:/tcptwin:/' >"$TW_TMP/banner.td"
	head -2 "$TW_TMP/TW.err" >"$TW_TMP/banner.tw"
	diff -u "$TW_TMP/banner.td" "$TW_TMP/banner.tw" || bad "-i $ifc: stderr banner differs from tcpdump's"

	tcp_lines "$TW_TMP/TD.out" | cut -d' ' -f2- | sort >"$TW_TMP/td.sorted"
	tcp_lines "$TW_TMP/TW.out" | cut -d' ' -f2- | sort >"$TW_TMP/tw.sorted"
	ntd=$(wc -l <"$TW_TMP/td.sorted")
	ntw=$(wc -l <"$TW_TMP/tw.sorted")
	echo "  TCP lines: tcpdump $ntd, tcptwin $ntw"
	[ "$ntd" -ge 4000 ] || bad "-i $ifc: tcpdump printed only $ntd lines"
	td_drop=$(stats_get "$TW_TMP/TD.err" 'dropped by kernel')
	if [ "${td_drop:-0}" -eq 0 ]; then
		if ! diff "$TW_TMP/td.sorted" "$TW_TMP/tw.sorted" >"$TW_TMP/lines.diff"; then
			head -20 "$TW_TMP/lines.diff"
			bad "-i $ifc: printed packets differ from tcpdump's ($(grep -c '^[<>]' "$TW_TMP/lines.diff") lines)"
		fi
	else
		# the reference lost packets (a loaded machine): what it has must be in ours
		echo "  (tcpdump dropped $td_drop packets: checking that its lines are a subset)"
		comm -23 "$TW_TMP/td.sorted" "$TW_TMP/tw.sorted" >"$TW_TMP/lines.diff"
		if [ -s "$TW_TMP/lines.diff" ]; then
			head -20 "$TW_TMP/lines.diff"
			bad "-i $ifc: $(wc -l <"$TW_TMP/lines.diff") lines printed by tcpdump are not printed by tcptwin"
		fi
	fi
	# every line starts with a time stamp in tcpdump's format
	bad_ts=$(grep -cvE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} ' "$TW_TMP/TW.out" || true)
	[ "$bad_ts" -eq 0 ] || bad "-i $ifc: $bad_ts lines without a HH:MM:SS.uuuuuu time stamp"
	c=$(stats_get "$TW_TMP/TW.err" captured)
	d=$(stats_get "$TW_TMP/TW.err" 'dropped by kernel')
	[ "${c:-x}" = "$ntw" ] || bad "-i $ifc: statistics say ${c:-nothing} captured, $ntw lines printed"
	[ "${d:-x}" = 0 ] || bad "-i $ifc: statistics say ${d:-nothing} dropped by kernel"
}

log "1a. live printing on eth0, tcpdump and tcptwin side by side"
live_pair eth0
log "1b. live printing on any (Linux cooked v2: interface and direction)"
live_pair any

log "2. signals: SIGUSR1, SIGUSR2, SIGTERM on capture -w"
F=$TW_TMP/sig.pcap
start_capture TD2 "$SRV" 120 tcpdump -B 65536 -i eth0 -w "$TW_TMP/sig-td.pcap" tcp port 8080
start_capture TW2 "$SRV" 120 "$TW_BIN" capture -i eth0 -w "$F" tcp port 8080
T_STEP=120 nsx "$CLI" ab -q -c 5 -n 200 "http://$SRV_IP:8080/small.html" >/dev/null
sleep 1.5
# signals go to the capture program itself, the child of `timeout`
twpid=$(cat /proc/"$TW2"/task/*/children)
tdpid=$(cat /proc/"$TD2"/task/*/children)
kill -USR1 "$twpid" "$tdpid"
sleep 0.5
grep -E '^tcpdump: [0-9]+ packets? captured' "$TW_TMP/TD2.err" | sed 's/^/  /'
grep -E '^tcptwin: [0-9]+ packets? captured' "$TW_TMP/TW2.err" | sed 's/^/  /'
usr1_re='^tcptwin: ([0-9]+) packets? captured, [0-9]+ packets? received by filter, [0-9]+ packets? dropped by kernel$'
grep -qE "$usr1_re" "$TW_TMP/TW2.err" || bad "SIGUSR1: no one-line statistics"
n_usr1=$(sed -nE "s/$usr1_re/\\1/p" "$TW_TMP/TW2.err" | tail -1)
kill -0 "$twpid" 2>/dev/null || bad "SIGUSR1 stopped the capture"
[ "${n_usr1:-0}" -ge 1000 ] || bad "SIGUSR1 reports ${n_usr1:-no} packets after 200 requests"

kill -USR2 "$twpid"
sleep 0.5
kill -0 "$twpid" 2>/dev/null || bad "SIGUSR2 stopped the capture"
nread=$({ timeout 60 tcpdump -r "$F" -n 2>"$TW_TMP/usr2.err" || true; } | wc -l)
echo "  after SIGUSR2 the running capture's file holds $nread packets"
if grep -q 'truncated' "$TW_TMP/usr2.err"; then
	bad "after SIGUSR2 the file ends in a partial record: $(head -1 "$TW_TMP/usr2.err")"
fi
[ "$nread" -eq "${n_usr1:-0}" ] || bad "after SIGUSR2 the file holds $nread packets, SIGUSR1 said ${n_usr1:-?} captured"

rc=0
stop_wait "$TW2" TERM || rc=$?
stop_wait "$TD2" TERM || true
[ "$rc" -eq 0 ] || bad "SIGTERM: exit $rc"
for what in captured 'received by filter' 'dropped by kernel'; do
	[ -n "$(stats_get "$TW_TMP/TW2.err" "$what")" ] || bad "SIGTERM: no '$what' line"
done
final=$({ timeout 60 tcpdump -r "$F" -n 2>/dev/null || true; } | wc -l)
[ "$final" -eq "$(stats_get "$TW_TMP/TW2.err" captured)" ] || bad "file has $final packets, statistics differ"

[ "$errors" -eq 0 ] || fail "$errors checks failed"
echo "PASS"
