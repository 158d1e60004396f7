#!/usr/bin/env bash
# tests/e2e/test_copy_compare.sh - response comparison in socket mode: the
# capture holds both directions; the target (the recorder with -m 100) answers
# "203" instead of "200" to the requests whose request line hashes to 0
# modulo 100 (about one in a hundred, known in advance from what production
# received). copy --mode socket --diff must report exactly those exchanges as
# differing (session and exchange index), every other exchange as a match,
# and still deliver every stream byte-exact. Once from a file, once live
# (copy -i cl0 on the online host while clients drive the traffic); and in
# raw mode from the file, where the target's side is judged by the length
# and the status line that intercept relays (its first 64 bytes).
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_bin
need_cmd tcpdump "$COPYLAB_PY"

copylab_up
copylab_servers
# the target: a recorder that changes about one reply in a hundred
stop_wait "$COPYLAB_SRV_TG" TERM || true
COPYLAB_SRV_TG=''
rm -f "$LAB/target.pid"
bg TGM "$NS_TG" 600 "$COPYLAB_RECORDER" -l "0.0.0.0:$PORT_TG" -d "$LAB/target" -p "$LAB/target.pid" -m 100
wait_file_has "$LAB/target.pid" '^[0-9]+' 10 || fail "the mutating target recorder did not start"

copylab_record_start "$LAB/both.pcap"
copylab_drive 300 5 mixed
copylab_record_stop
[ "$COPYLAB_REC_DROPPED" -eq 0 ] || fail "the capture lost $COPYLAB_REC_DROPPED packets"
copylab_wait_streams "$LAB/online" 300 || fail "online streams missing"

copylab_copy cmp -i "$LAB/both.pcap" --mode socket --topspeed --settle-ms 1000 --diff "$LAB/diff.jsonl" ||
	fail "copy exited non-zero"
[ "$(copylab_outcome cmp "done")" -eq 300 ] || fail "only $(copylab_outcome cmp "done") of 300 sessions done"
copylab_target_round cmp 300
copylab_compare_round cmp || fail "the target did not get every stream byte-exact"

cat >"$LAB/check.py" <<'PY'
import json, os, re, sys
online, diff, report = sys.argv[1:4]
def fnv(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
    return h
expected, total = set(), 0
for f in os.listdir(online):
    if not f.endswith(".bin"):
        continue
    ip, port = f.split("_")[:2]
    data = open(os.path.join(online, f), "rb").read()
    lines = re.findall(rb"(?:GET|POST) \S+ HTTP/1\.1", data)
    for k, line in enumerate(lines):
        total += 1
        if fnv(line) % 100 == 0:
            expected.add((f"{ip}:{port} copy 0", k))
got = set()
for line in open(diff):
    d = json.loads(line)
    if not d["production"]["status"].startswith("HTTP/1.1 200") or not d["target"]["status"].startswith("HTTP/1.1 203"): print("unexpected:", d)
    got.add((d["session"], d["exchange"]))
r = json.load(open(report))["responses"]
print(f"exchanges {total}, mutated by the target {len(expected)}; report: match {r['match']}, "
      f"differ {r['differ']}, not judged {r['not_judged']}; --diff lines {len(got)}")
ok = got == expected and r["differ"] == len(expected) and r["match"] == total - len(expected) \
    and r["not_judged"] == 0 and len(expected) > 0
if not ok:
    print("missing from --diff:", sorted(expected - got)[:10])
    print("not expected in --diff:", sorted(got - expected)[:10])
sys.exit(0 if ok else 1)
PY
"$COPYLAB_PY" "$LAB/check.py" "$LAB/online" "$LAB/diff.jsonl" "$LAB/cmp.json" || fail "the comparison is not exact"

log "raw mode: judged by length and status line"
copylab_intercept ICEPT
copylab_copy cmpraw -i "$LAB/both.pcap" --topspeed --settle-ms 1000 --diff "$LAB/diff-raw.jsonl" ||
	fail "raw copy exited non-zero"
[ "$(copylab_outcome cmpraw "done")" -eq 300 ] || fail "raw: only $(copylab_outcome cmpraw "done") of 300 done"
copylab_target_round cmpraw 300
copylab_compare_round cmpraw || fail "raw: the target did not get every stream byte-exact"
"$COPYLAB_PY" "$LAB/check.py" "$LAB/online" "$LAB/diff-raw.jsonl" "$LAB/cmpraw.json" ||
	fail "raw: the comparison is not exact"

log "live: copy --mode socket -i cl0 on the online host"
mv "$LAB/online" "$LAB/online.file" && mkdir -p "$LAB/online"
bg LCOPY "$NS_ON" 300 "$TW_BIN" copy --mode socket -x "$PORT_ON-$IP_TG:$PORT_TG" -i cl0 \
	--settle-ms 1000 --diff "$LAB/diff-live.jsonl" --report "$LAB/live.json" --progress 2
wait_file_has "$TW_TMP/LCOPY.err" 'replaying live' 10 || { cat "$TW_TMP/LCOPY.err"; fail "copy did not start"; }
copylab_drive 200 5 mixed
copylab_wait_streams "$LAB/online" 200 || fail "online streams missing"
copylab_wait_streams "$LAB/target" 200 60 || log "the target has only $(copylab_count "$LAB/target") streams so far"
rc=0
stop_wait "$LCOPY" INT || rc=$?
grep -v '^\[' "$TW_TMP/LCOPY.err" | sed 's/^/    /'
[ "$rc" -eq 0 ] || fail "live copy exited $rc"
[ "$(copylab_outcome live "done")" -eq 200 ] || fail "live: only $(copylab_outcome live "done") of 200 sessions done"
copylab_target_round live 200
copylab_compare_round live || fail "live: the target did not get every stream byte-exact"
"$COPYLAB_PY" "$LAB/check.py" "$LAB/online" "$LAB/diff-live.jsonl" "$LAB/live.json" ||
	fail "live: the comparison is not exact"
log "ok"
