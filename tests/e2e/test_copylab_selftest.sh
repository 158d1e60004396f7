#!/usr/bin/env bash
# tests/e2e/test_copylab_selftest.sh - checks the copy/intercept test lab
# itself (tests/e2e/copylab.sh, recorder.c, streams.py); tcptwin is not run.
# Brings the lab up, starts both recorders, drives every mix from CL under a
# capture on ON (small 200x5 under `tcpdump -i any`, mixed 200x5, early 100x3,
# short 2000x1, then wrk small 20x50), stops everything and asserts:
#  - the online recorder holds exactly one stream per Python connection (plus
#    the wrk ones) and every request; streams.py online vs online passes;
#  - streams.py fails on a damaged copy (one stream truncated, one extra file)
#    and names the truncation; --copies, --ignore-empty, --expect-missing work;
#  - the captures lost nothing; the -i any one is LINUX_SLL2; the mixed and
#    early captures hold packets above 1500 bytes (GRO/TSO super-packets) in
#    both directions; the short mix reused client ports;
#  - in TG, curl http://10.77.0.2:8080/x?size=5 gets "01234" and the target
#    recorder writes that one stream.
# Does not test tcptwin copy/intercept, IPv6 or loss.
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_cmd tcpdump curl "$COPYLAB_PY"

copylab_up
copylab_servers

expect_conns=0 expect_reqs=0
drive() { # CONNS REQS MIX: one Python drive under its own capture
	local pcap=$LAB/$3.pcap
	if [ "$3" = small ]; then copylab_record_any "$pcap"; else copylab_record_start "$pcap"; fi
	copylab_drive "$1" "$2" "$3"
	copylab_record_stop
	[ "$COPYLAB_REC_DROPPED" -eq 0 ] || fail "capture of the $3 mix lost $COPYLAB_REC_DROPPED packets"
	expect_conns=$((expect_conns + $1)) expect_reqs=$((expect_reqs + $1 * $2))
	copylab_wait_streams "$LAB/online" "$expect_conns" || fail "online streams missing after $3"
}
drive 200 5 small
drive 200 5 mixed
drive 100 3 early
drive 2000 1 short
[ "$COPYLAB_CONNS" -eq "$expect_conns" ] || fail "COPYLAB_CONNS $COPYLAB_CONNS != $expect_conns"

wrk_done=0
if command -v wrk >/dev/null; then
	COPYLAB_CLIENT=wrk copylab_drive 20 50 small
	wrk_done=1
else
	log "wrk not installed: its drive is not tested"
fi

log "(d) the target recorder, from TG itself"
body=$(nsx "$NS_TG" curl -s --max-time 5 "http://$IP_TG:$PORT_TG/x?size=5") || fail "curl to the target failed"
[ "$body" = 01234 ] || fail "target replied '$body', not 01234"
copylab_wait_streams "$LAB/target" 1 5 || fail "the target recorder wrote no stream"
copylab_stop_servers

log "(a) online recording: streams and requests"
n_online=$(copylab_count "$LAB/online")
n_req=$("$COPYLAB_PY" - "$LAB/online" <<'PY'
import os, re, sys
d = sys.argv[1]
print(sum(len(re.findall(rb"(?:GET|POST) /\S+ HTTP/1\.1\r\n", open(os.path.join(d, f), "rb").read()))
          for f in os.listdir(d) if f.endswith(".bin")))
PY
)
log "online: $n_online streams, $n_req requests (Python drives: $expect_conns, $expect_reqs)"
if [ "$wrk_done" -eq 1 ]; then
	# wrk: one stream per connection plus one empty one, up to one request in flight
	# per connection when the threads stop
	if [ "$n_online" -lt $((expect_conns + 20)) ] || [ "$n_online" -gt $((expect_conns + 21)) ]; then
		fail "online has $n_online streams, expected $expect_conns + 20 (+1 wrk probe)"
	fi
	if [ "$n_req" -lt $((expect_reqs + 1000)) ] || [ "$n_req" -gt $((expect_reqs + 1020)) ]; then
		fail "online has $n_req requests, expected $expect_reqs + 1000..1020"
	fi
else
	[ "$n_online" -eq "$expect_conns" ] || fail "online has $n_online streams, expected $expect_conns"
	[ "$n_req" -eq "$expect_reqs" ] || fail "online has $n_req requests, expected $expect_reqs"
fi
[ "$(copylab_count "$LAB/target")" -eq 1 ] || fail "target holds $(copylab_count "$LAB/target") streams"
head -c 22 "$LAB"/target/*.bin | grep -q '^GET /x?size=5 HTTP/1.1' || fail "target stream is not the curl request"
"$COPYLAB_PY" "$COPYLAB_DIR/streams.py" "$LAB/online" "$LAB/online" || fail "streams.py: online vs online"

log "(b) streams.py on damaged copies"
D=$LAB/damaged
cp -a "$LAB/online" "$D"
victim=$(find "$D" -name '*.bin' -size +1000c | sort | head -1)
victim=$(basename "$victim")
truncate -s -10 "$D/$victim"
printf 'GET /not-recorded HTTP/1.1\r\n\r\n' >"$D/zz_extra.bin"
rc=0
"$COPYLAB_PY" "$COPYLAB_DIR/streams.py" "$LAB/online" "$D" >"$LAB/damaged.txt" || rc=$?
cat "$LAB/damaged.txt"
[ "$rc" -eq 1 ] || fail "streams.py exited $rc on a damaged copy"
grep -q "missing 1, extra 2\$" "$LAB/damaged.txt" || fail "summary line wrong"
grep -q "missing $victim: .*truncated: GOT $victim is a prefix" "$LAB/damaged.txt" ||
	fail "truncation of $victim not reported"
grep -q "extra zz_extra.bin: 30 bytes; not an expected stream" "$LAB/damaged.txt" || fail "extra not reported"
echo "$victim" >"$LAB/allowed.txt"
rm "$D/zz_extra.bin"
"$COPYLAB_PY" "$COPYLAB_DIR/streams.py" "$LAB/online" "$D" --expect-missing "$LAB/allowed.txt" ||
	fail "--expect-missing does not accept a truncated listed stream"
# two copies of everything, plus an empty stream
D2=$LAB/twice
"$COPYLAB_PY" - "$LAB/online" "$D2" <<'PY' # (a fork costs ~8 ms here: no shell loop)
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
os.mkdir(dst)
for f in os.listdir(src):
    if f.endswith(".bin"):
        for k in "ab":
            shutil.copyfile(os.path.join(src, f), os.path.join(dst, f"{f[:-4]}.{k}.bin"))
PY
: >"$D2/empty.bin"
rc=0
"$COPYLAB_PY" "$COPYLAB_DIR/streams.py" "$LAB/online" "$D2" --copies 2 >/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "streams.py accepted an empty extra stream"
"$COPYLAB_PY" "$COPYLAB_DIR/streams.py" "$LAB/online" "$D2" --copies 2 --ignore-empty ||
	fail "streams.py --copies 2 --ignore-empty"
rc=0
"$COPYLAB_PY" "$COPYLAB_DIR/streams.py" "$LAB/online" "$D2" --ignore-empty >"$LAB/twice.txt" || rc=$?
[ "$rc" -eq 1 ] || fail "streams.py accepted two copies without --copies 2"
grep -q 'one copy too many of' "$LAB/twice.txt" || fail "duplicates not reported"

log "(c) captures"
pcap_count() { # FILE FILTER
	tcpdump -r "$1" -nn "$2" 2>/dev/null | wc -l
}
hdr=$(tcpdump -r "$LAB/small.pcap" -c 1 2>&1 >/dev/null)
[[ $hdr == *"link-type LINUX_SLL2"* ]] || fail "-i any capture is not LINUX_SLL2: $hdr"
for m in mixed early; do
	up=$(pcap_count "$LAB/$m.pcap" 'dst port 80 and greater 1600')
	down=$(pcap_count "$LAB/$m.pcap" 'src port 80 and greater 1600')
	max=$(tcpdump -r "$LAB/$m.pcap" -nn 2>/dev/null | max_len /dev/stdin)
	log "$m: packets above 1600 bytes: $up client->server, $down server->client; largest payload $max"
	[ "$up" -gt 0 ] || fail "no client->server super-packet in the $m capture"
	[ "$m" = early ] || [ "$down" -gt 0 ] || fail "no server->client super-packet in the $m capture"
done
syn=$(tcpdump -r "$LAB/short.pcap" -nn 'tcp[tcpflags] == tcp-syn' 2>/dev/null | awk '{print $3}')
nsyn=$(wc -l <<<"$syn")
nport=$(sort -u <<<"$syn" | wc -l)
log "short: $nsyn SYNs from $nport client ports"
[ "$nsyn" -eq 2000 ] || fail "short capture holds $nsyn SYNs, not 2000"
[ "$nport" -le 1000 ] || fail "short mix did not reuse client ports ($nport ports)"

log "PASS"
exit "$KSFT_PASS"
