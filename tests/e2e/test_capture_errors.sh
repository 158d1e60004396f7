#!/usr/bin/env bash
# tests/e2e/test_capture_errors.sh - error handling and -c of tcptwin capture.
# Files: empty, shorter than a pcap header, truncated in the middle of a
# record, foreign (text, gzip), missing, a directory, and an unwritable -w
# path -> exit 1 with exactly one error line, which names the file (the
# "reading from file" banner aside); for the truncated file the complete
# packets before the cut are printed first, as tcpdump does. Bad options ->
# exit 2 with the usage text. -c N on a file and live (in a namespace pair,
# printing and with -w) -> exactly N packets and exit 0.
# Does not test rotation (-C/-G/-W).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need_cmd tcpdump curl gzip
need_bin
G=$TW_ROOT/tests/golden/pcaps
errors=0
bad() { echo "  FAIL: $*"; errors=$((errors + 1)); }

# expect_file_error FILE [ARGS...]: exit 1, one error line naming FILE
expect_file_error() {
	local f=$1 rc=0 lines
	shift
	timeout 30 "$TW_BIN" capture "$@" >"$TW_TMP/out" 2>"$TW_TMP/err" || rc=$?
	grep -v '^reading from file ' "$TW_TMP/err" >"$TW_TMP/err.lines" || true
	lines=$(wc -l <"$TW_TMP/err.lines")
	echo "  capture $*  -> exit $rc: $(head -1 "$TW_TMP/err.lines")"
	[ "$rc" -eq 1 ] || bad "exit $rc, want 1 ($*)"
	[ "$lines" -eq 1 ] || { bad "$lines error lines, want 1 ($*)"; sed 's/^/    /' "$TW_TMP/err.lines" | head -5; }
	grep -qF -- "$f" "$TW_TMP/err.lines" || bad "error line does not name $f"
}

log "bad files"
: >"$TW_TMP/empty.pcap"
expect_file_error "$TW_TMP/empty.pcap" -r "$TW_TMP/empty.pcap" -n
head -c 10 "$G/eth_http.pcap" >"$TW_TMP/short-header.pcap"
expect_file_error "$TW_TMP/short-header.pcap" -r "$TW_TMP/short-header.pcap" -n
# 24-byte header, then records of 74, 74, 66, 143, 66, 2962 ... bytes + 16-byte
# record headers: cut inside the data of the 4th record
cut=$((24 + 3 * 16 + 74 + 74 + 66 + 16 + 40))
head -c "$cut" "$G/eth_http.pcap" >"$TW_TMP/truncated.pcap"
expect_file_error "$TW_TMP/truncated.pcap" -r "$TW_TMP/truncated.pcap" -n
want=$({ TZ=UTC timeout 60 tcpdump -r "$TW_TMP/truncated.pcap" -n 2>/dev/null || true; } | wc -l)
got=$(wc -l <"$TW_TMP/out")
[ "$want" -eq 3 ] || bad "tcpdump printed $want packets of the truncated file, the test expects 3"
[ "$got" -eq "$want" ] || bad "truncated file: $got packets printed before the error, tcpdump prints $want"
head -c "$((cut - 30))" "$G/eth_http.pcap" >"$TW_TMP/truncated-rechdr.pcap"   # cut in a record header
expect_file_error "$TW_TMP/truncated-rechdr.pcap" -r "$TW_TMP/truncated-rechdr.pcap" -n
printf 'this is not a capture file\n%.0s' 1 2 3 4 5 >"$TW_TMP/text.pcap"
expect_file_error "$TW_TMP/text.pcap" -r "$TW_TMP/text.pcap" -n
gzip -c "$G/eth_http.pcap" >"$TW_TMP/gz.pcap"
expect_file_error "$TW_TMP/gz.pcap" -r "$TW_TMP/gz.pcap" -n
expect_file_error "$TW_TMP/does-not-exist.pcap" -r "$TW_TMP/does-not-exist.pcap" -n
mkdir -p "$TW_TMP/adir"
expect_file_error "$TW_TMP/adir" -r "$TW_TMP/adir" -n
expect_file_error "$TW_TMP/no/such/dir/out.pcap" -r "$G/eth_http.pcap" -w "$TW_TMP/no/such/dir/out.pcap"
expect_file_error "$TW_TMP/filters-missing.bpf" -r "$G/eth_http.pcap" -n -F "$TW_TMP/filters-missing.bpf"

log "bad options"
# expect_usage ARGS...: exit 2 and the usage text (the synopsis mentions -r FILE)
expect_usage() {
	local rc=0
	timeout 30 "$TW_BIN" capture "$@" >"$TW_TMP/out" 2>"$TW_TMP/err" </dev/null || rc=$?
	echo "  capture $*  -> exit $rc: $(head -1 "$TW_TMP/err")"
	[ "$rc" -eq 2 ] || bad "exit $rc, want 2 ($*)"
	grep -qi 'usage' "$TW_TMP/err" || bad "no usage text on stderr ($*)"
	[ ! -s "$TW_TMP/out" ] || bad "something on stdout ($*)"
}
expect_usage --no-such-option -r "$G/eth_http.pcap"
expect_usage -Z -r "$G/eth_http.pcap"
expect_usage -c not-a-number -r "$G/eth_http.pcap"
expect_usage -c -r "$G/eth_http.pcap"
expect_usage -r
expect_usage --time-stamp-precision=pico -r "$G/eth_http.pcap"
expect_usage -i eth0 -r "$G/eth_http.pcap"
expect_usage -C 10 -r "$G/eth_http.pcap"
expect_usage --vni x -r "$G/vxlan.pcap"

log "-c on a file"
for n in 1 5 11; do
	got=$(timeout 30 "$TW_BIN" capture -r "$G/eth_http.pcap" -n -c "$n" 2>/dev/null | wc -l) ||
		bad "-c $n: exit status not 0"
	[ "$got" -eq "$n" ] || bad "-c $n printed $got lines"
done
got=$(timeout 30 "$TW_BIN" capture -r "$G/eth_http.pcap" -n -c 100 2>/dev/null | wc -l)
[ "$got" -eq 11 ] || bad "-c 100 on an 11-packet file printed $got lines"

if [ "$(id -u)" -ne 0 ]; then
	[ "$errors" -eq 0 ] || fail "$errors checks failed"
	skip "file checks passed; live -c needs root"
fi

log "-c live, in a namespace pair"
need_cmd nginx
make_pair CLI SRV
nginx_start NGINX "$SRV" "$SRV_IP" 8080
bg C5 "$SRV" 60 "$TW_BIN" capture -i eth0 -n -c 5 tcp port 8080
bg C7 "$SRV" 60 "$TW_BIN" capture -i eth0 -c 7 -w "$TW_TMP/c7.pcap" tcp port 8080
wait_file_has "$TW_TMP/C5.err" 'listening on' 10 || fail "capture -c 5 did not start: $(cat "$TW_TMP/C5.err")"
wait_file_has "$TW_TMP/C7.err" 'listening on' 10 || fail "capture -c 7 did not start: $(cat "$TW_TMP/C7.err")"
sleep 0.3
# drive traffic until both exit on their own (each request is >= 8 packets)
for i in $(seq 1 50); do
	nsx "$CLI" curl -sf -o /dev/null "http://$SRV_IP:8080/index.html" || true
	kill -0 "$C5" 2>/dev/null || kill -0 "$C7" 2>/dev/null || break
	sleep 0.1
done
rc5=0 rc7=0
for i in $(seq 1 50); do
	kill -0 "$C5" 2>/dev/null || kill -0 "$C7" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$C5" 2>/dev/null; then bad "-c 5 live did not exit by itself"; fi
if kill -0 "$C7" 2>/dev/null; then bad "-c 7 -w live did not exit by itself"; fi
wait "$C5" || rc5=$?
wait "$C7" || rc7=$?
[ "$rc5" -eq 0 ] || bad "-c 5 live: exit $rc5"
[ "$rc7" -eq 0 ] || bad "-c 7 -w live: exit $rc7"
got=$(grep -c ': Flags \[' "$TW_TMP/C5.out" || true)
echo "  -c 5 live printed $got lines; stats: $(stats_get "$TW_TMP/C5.err" captured) captured"
[ "$got" -eq 5 ] || bad "-c 5 live printed $got packet lines"
[ "$(stats_get "$TW_TMP/C5.err" captured)" = 5 ] || bad "-c 5 live: statistics do not say 5 packets captured"
got=$(timeout 60 tcpdump -r "$TW_TMP/c7.pcap" -n 2>/dev/null | wc -l)
echo "  -c 7 -w live wrote $got packets"
[ "$got" -eq 7 ] || bad "-c 7 -w live wrote $got packets"
[ "$(stats_get "$TW_TMP/C7.err" captured)" = 7 ] || bad "-c 7 live: statistics do not say 7 packets captured"

[ "$errors" -eq 0 ] || fail "$errors checks failed"
echo "PASS"
