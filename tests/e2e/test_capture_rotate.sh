#!/usr/bin/env bash
# tests/e2e/test_capture_rotate.sh - -w rotation against tcpdump, live.
# tcpdump and tcptwin capture the same interface at the same time with the
# same options, each into its own directory, while nginx serves files:
#   -C 1            files FILE, FILE1, FILE2, ... of about 1,000,000 bytes
#   -C 1 -W 3       a ring of FILE0..FILE2, oldest overwritten
#   -G 1 -W 2       a strftime name per second, stop after 2 files with
#                   "Maximum file limit reached: 2" and exit 0
# Asserts: the same file names as tcpdump; for -C, tcpdump's rule "before
# writing a packet, if the file is larger than SIZE, start a new one", exactly:
# every file but the newest is larger than SIZE and was not before its last
# packet; about the same number of packets per file as tcpdump (two sockets
# may order near-simultaneous packets differently, so a boundary packet may
# fall on the other side: +-3), the same total for -C alone (both only when
# neither dropped a packet); for -G, exit 0 by itself, the message, and two
# files. Does not test -z or -C with -G.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need_cmd nginx ab curl tcpdump
need_bin
errors=0
bad() { echo "  FAIL: $*"; errors=$((errors + 1)); }

make_pair CLI SRV
nginx_start NGINX "$SRV" "$SRV_IP" 8080
mkdir -p "$TW_TMP/td" "$TW_TMP/tw"

traffic() {
	T_STEP=120 nsx "$CLI" ab -q -c 4 -n 200 "http://$SRV_IP:8080/10k.bin" >/dev/null
	for i in 1 2 3 4 5 6 7 8 9 10; do
		nsx "$CLI" curl -sf -o /dev/null "http://$SRV_IP:8080/200k.bin?$i"
	done
}

# npk FILE: packets in FILE
npk() { { timeout 60 tcpdump -r "$1" -n 2>/dev/null || true; } | wc -l; }

# compare_sets NAME SIZE: names, per-file counts, sizes
compare_sets() {
	local name=$1 size=$2 f n_td n_tw drops
	(cd "$TW_TMP/td" && ls) >"$TW_TMP/names.td"
	(cd "$TW_TMP/tw" && ls) >"$TW_TMP/names.tw"
	echo "  tcpdump files: $(tr '\n' ' ' <"$TW_TMP/names.td")"
	echo "  tcptwin files: $(tr '\n' ' ' <"$TW_TMP/names.tw")"
	[ "$(wc -l <"$TW_TMP/names.td")" -ge 3 ] || bad "$name: tcpdump made fewer than 3 files; traffic too small?"
	if ! diff -u "$TW_TMP/names.td" "$TW_TMP/names.tw"; then
		bad "$name: file names differ from tcpdump's"
		return
	fi
	drops=$(($(stats_get "$TW_TMP/TD.err" 'dropped by kernel') + $(stats_get "$TW_TMP/TW.err" 'dropped by kernel')))
	local sum_td=0 sum_tw=0 diff
	while read -r f; do
		n_td=$(npk "$TW_TMP/td/$f")
		n_tw=$(npk "$TW_TMP/tw/$f")
		sum_td=$((sum_td + n_td)) sum_tw=$((sum_tw + n_tw))
		echo "  $f: tcpdump $n_td packets ($(stat -c %s "$TW_TMP/td/$f") bytes)," \
			"tcptwin $n_tw packets ($(stat -c %s "$TW_TMP/tw/$f") bytes)"
		# two sockets may order near-simultaneous packets differently, so a
		# packet at a boundary can fall on either side: allow a few
		diff=$((n_td > n_tw ? n_td - n_tw : n_tw - n_td))
		if [ "$drops" -eq 0 ] && [ "$diff" -gt 3 ]; then
			bad "$name: $f has $n_tw packets, tcpdump's has $n_td"
		fi
	done <"$TW_TMP/names.td"
	if [ "$drops" -ne 0 ]; then
		echo "  (packets were dropped: per-file counts not compared)"
	elif [ "$sum_td" -ne "$sum_tw" ] && [ "$name" = "-C 1" ]; then
		bad "$name: $sum_tw packets in all files, tcpdump $sum_td"
	fi
	# the size rule, exactly, on tcptwin's files: every file but the newest is
	# larger than SIZE, and was not larger before its last packet
	local newest
	newest=$(find "$TW_TMP/tw" -type f -printf '%T@ %f\n' | sort -n | tail -1 | cut -d' ' -f2)
	while read -r f; do
		[ "$f" = "$newest" ] && continue
		local s before
		s=$(stat -c %s "$TW_TMP/tw/$f")
		before=$(before_last "$TW_TMP/tw/$f")
		[ "$s" -gt "$size" ] || bad "$name: $f is $s bytes, not more than $size"
		[ "$before" -le "$size" ] || bad "$name: $f was already $before bytes before its last packet (> $size)"
	done <"$TW_TMP/names.tw"
}

# before_last FILE: size of a pcap file without its last record
before_last() {
	/usr/bin/python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
o, last = 24, 24
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
while o + 16 <= len(d):
    last = o
    o += 16 + struct.unpack(e + "I", d[o + 8:o + 12])[0]
print(last)
PY
}

run_pair() { # NAME OPTIONS...: both captures with the options, traffic, stop
	local name=$1
	shift
	rm -f "$TW_TMP"/td/* "$TW_TMP"/tw/*
	# -Z root: Debian's tcpdump otherwise drops to user tcpdump with -C/-G
	start_capture TD "$SRV" 120 tcpdump -Z root -i eth0 "$@" -w "$TW_TMP/td/cap.pcap" tcp port 8080
	start_capture TW "$SRV" 120 "$TW_BIN" capture -i eth0 "$@" -w "$TW_TMP/tw/cap.pcap" tcp port 8080
	traffic
	sleep 1.5
	stop_wait "$TD" INT || bad "$name: tcpdump failed"
	stop_wait "$TW" INT || bad "$name: tcptwin exited non-zero"
	grep -v 'listening on' "$TW_TMP/TW.err" | sed 's/^/  tcptwin: /'
}

log "-C 1"
run_pair "-C 1" -C 1
compare_sets "-C 1" 1000000

log "-C 1 -W 3"
run_pair "-C 1 -W 3" -C 1 -W 3
compare_sets "-C 1 -W 3" 1000000
[ "$(wc -l <"$TW_TMP/names.tw")" -eq 3 ] || bad "-C 1 -W 3: $(wc -l <"$TW_TMP/names.tw") files, want 3"

log "-G 1 -W 2"
rm -f "$TW_TMP"/td/* "$TW_TMP"/tw/*
bg GTD "$SRV" 30 tcpdump -Z root -i eth0 -G 1 -W 2 -w "$TW_TMP/td/g-%s.pcap" tcp port 8080
bg GTW "$SRV" 30 "$TW_BIN" capture -i eth0 -G 1 -W 2 -w "$TW_TMP/tw/g-%s.pcap" tcp port 8080
wait_file_has "$TW_TMP/GTD.err" 'listening on' 10 || fail "tcpdump -G did not start"
wait_file_has "$TW_TMP/GTW.err" 'listening on' 10 || fail "tcptwin -G did not start: $(cat "$TW_TMP/GTW.err")"
for i in $(seq 1 80); do
	nsx "$CLI" curl -s -o /dev/null "http://$SRV_IP:8080/index.html" || true
	kill -0 "$GTD" 2>/dev/null || kill -0 "$GTW" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$GTW" 2>/dev/null; then bad "-G 1 -W 2: tcptwin did not stop by itself"; fi
if kill -0 "$GTD" 2>/dev/null; then echo "  (tcpdump did not stop by itself either)"; fi
rc=0
stop_wait "$GTW" INT || rc=$?
stop_wait "$GTD" INT || true
grep -v 'listening on' "$TW_TMP/GTW.err" | sed 's/^/  tcptwin: /'
[ "$rc" -eq 0 ] || bad "-G 1 -W 2: tcptwin exit $rc"
grep -qx 'Maximum file limit reached: 2' "$TW_TMP/GTW.err" || bad "-G 1 -W 2: no 'Maximum file limit reached: 2'"
ntd=$(find "$TW_TMP/td" -name 'g-*.pcap' | wc -l)
ntw=$(find "$TW_TMP/tw" -name 'g-*.pcap' | wc -l)
echo "  -G files: tcpdump $ntd, tcptwin $ntw"
[ "$ntw" -eq "$ntd" ] || bad "-G 1 -W 2: tcptwin made $ntw files, tcpdump $ntd"
[ "$ntw" -eq 2 ] || bad "-G 1 -W 2: $ntw files, want 2"

[ "$errors" -eq 0 ] || fail "$errors checks failed"
echo "PASS"
