#!/usr/bin/env bash
# tests/e2e/test_copy_live.sh - live raw-mode replay in the copy lab:
# `tcptwin copy -i cl0` runs in ON and captures (AF_PACKET, default filter
# "tcp and (dst port 80)") what the clients in CL send to ON's recorder, and
# replays every session against the target in TG; the target's replies come
# back through `tcptwin intercept` in AS. Checked byte-exact per connection:
#  1. keep-alive load while copy runs: COPY_LIVE_CONNS x COPY_LIVE_REQS small
#     requests (default 300 x 150) from wrk (about that many: see copylab.sh;
#     its extra empty connection is ignored on both sides), or from the
#     Python client with COPY_LIVE_CLIENT=python or when wrk is missing (2
#     processes; 3 000-6 000 requests/s on the 2-core lab machine).
#     The request rate (requests of the drive in the online recording / wall
#     time of the drive) is printed; the aim is 5 000+/s, not asserted (the
#     machine is shared). The clients run at nice 5 (they stand for other
#     machines; copy must not starve). Every online stream must reach the
#     target exactly once, byte-exact (streams.py).
#  2. connections opened before copy starts (PRE_CONNS, default 20): each
#     sends 1-3 requests before copy starts, then 10 more while the load of
#     part 1 runs, then closes. The target must get exactly the bytes from
#     the first request sent after copy started (streams.py --suffix-from,
#     offsets from the client's own count of bytes sent before, checked to
#     start at that request's request line).
# Copy runs until SIGINT: once the drive is over, every online stream is
# written and copy's input counter stands still, one SIGINT (stop input,
# sessions finish what they have); copy must then exit 0 by itself, its
# report counting every connection as a session and every session as done.
# COPY_LIVE_STALL=SECONDS (default off): SIGSTOP copy that long 1 s into the
# drive, then SIGCONT (a descheduled copy must lose nothing: its capture ring
# holds 32 blocks of 1 MiB, each closed after copy's 50 ms block timeout at
# the latest, so about 1.6 s of traffic at these rates).
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_bin
need_cmd "$COPYLAB_PY"

CONNS=${COPY_LIVE_CONNS:-300}
REQS=${COPY_LIVE_REQS:-150}
if [ -z "${COPY_LIVE_CLIENT:-}" ]; then
	COPY_LIVE_CLIENT=python
	command -v wrk >/dev/null && COPY_LIVE_CLIENT=wrk
fi
export COPYLAB_CLIENT=$COPY_LIVE_CLIENT
PRE_CONNS=${PRE_CONNS:-20}
PRE_POST=10 # requests per early connection after copy started
export COPYLAB_PROCS=${COPYLAB_PROCS:-2} COPYLAB_PAR=${COPYLAB_PAR:-$(((CONNS + 1) / 2))}

t0=$SECONDS
copylab_up
copylab_servers
copylab_intercept ICEPT

# _pre_client: the client of part 2 (run with /usr/bin/python3 in CL)
_pre_client() {
	cat <<'PY'
# pre.py HOST PORT CONNS POST DIR: CONNS keep-alive connections; connection i
# sends 1 + i % 3 requests (/pre/c<i>/r<j>?size=N), then DIR/pre.ready is
# written and the client waits for DIR/pre.go; then every connection sends
# POST more requests (one at a time, 20-70 ms apart) and closes. Every reply
# is read and checked. DIR/pre.manifest: "i bytes_sent_before_go first_path".
import os, random, socket, sys, time

PAT = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
host, port, n, post, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rng = random.Random(7)


def req(i, j):
    size = (100, 3000, 20000)[(i + j) % 3]
    path = f"/pre/c{i}/r{j}?size={size}"
    return path, size, (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: copylab-pre\r\n"
                        f"X-Pad: {'p' * rng.randint(0, 400)}\r\n\r\n").encode()


def exchange(s, i, j):
    path, size, data = req(i, j)
    s.sendall(data)
    want = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + (PAT * (size // 64 + 1))[:size]
    got = b""
    while len(got) < len(want):
        b = s.recv(65536)
        if not b:
            sys.exit(f"pre: c{i} r{j}: server closed")
        got += b
    if got != want:
        sys.exit(f"pre: c{i} r{j}: bad reply {got[:60]!r}")
    return path, len(data)


socks, sent, nreq = [], [], []
for i in range(n):
    s = socket.create_connection((host, port), timeout=15)
    socks.append(s)
    b = 0
    for j in range(1 + i % 3):
        b += exchange(s, i, j)[1]
    sent.append(b)
    nreq.append(1 + i % 3)
with open(os.path.join(d, "pre.manifest"), "w") as f:
    for i in range(n):
        f.write(f"{i} {sent[i]} {req(i, nreq[i])[0]}\n")
open(os.path.join(d, "pre.ready"), "w").close()
t = time.monotonic()
while not os.path.exists(os.path.join(d, "pre.go")):
    if time.monotonic() - t > 60:
        sys.exit("pre: no go after 60 s")
    time.sleep(0.02)
total = 0
for k in range(post):
    for i in range(n):
        exchange(socks[i], i, nreq[i] + k)
        total += 1
    time.sleep(rng.uniform(0.02, 0.07))
for s in socks:
    s.close()
print(f"pre: {n} connections, {sum(nreq)} requests before copy, {total} after")
PY
}

# ---- part 2, first half: connections open before copy starts ----
log "part 2: $PRE_CONNS connections send their first requests before copy starts"
_pre_client >"$LAB/pre.py"
bg PRE "$NS_CL" 120 "$COPYLAB_PY" "$LAB/pre.py" "$IP_ON_CL" "$PORT_ON" "$PRE_CONNS" "$PRE_POST" "$LAB"
for _ in $(seq 1 150); do
	[ -f "$LAB/pre.ready" ] && break
	kill -0 "$PRE" 2>/dev/null || break
	sleep 0.1
done
[ -f "$LAB/pre.ready" ] || { cat "$TW_TMP/PRE.err"; fail "the early connections did not get ready"; }

# ---- live copy ----
# COPY: tcptwin copy -i cl0 in ON, in the background until SIGINT; its pid file
# (for SIGUSR1: `timeout` would not pass that on) is $LAB/copy.pid
bg COPY "$NS_ON" 300 "$TW_BIN" copy -x "$PORT_ON-$IP_TG:$PORT_TG" -s "$IP_AS" -i cl0 \
	--report "$LAB/live.json" -P "$LAB/copy.pid" --progress 5 -t 20
if ! wait_file_has "$TW_TMP/COPY.err" 'replaying live from cl0' 10; then
	cat "$TW_TMP/COPY.err"
	fail "copy did not start"
fi
COPY_PID=$(cat "$LAB/copy.pid")
[ "$(cat "/proc/$COPY_PID/comm" 2>/dev/null)" = tcptwin ] || fail "copy's pid file names no tcptwin"
log "copy: $(grep -m1 'replaying live' "$TW_TMP/COPY.err")"

# copy_frames: copy's input frame count, from the progress line SIGUSR1 asks for
copy_frames() {
	local n
	kill -0 "$COPY" 2>/dev/null || { tail -30 "$TW_TMP/COPY.err"; fail "copy is gone"; } >&2
	n=$(grep -c 'input [0-9]* frames' "$TW_TMP/COPY.err" || true)
	kill -USR1 "$COPY_PID"
	for _ in $(seq 1 50); do
		[ "$(grep -c 'input [0-9]* frames' "$TW_TMP/COPY.err" || true)" -gt "$n" ] && break
		sleep 0.02
	done
	sed -n 's/.*input \([0-9]*\) frames.*/\1/p' "$TW_TMP/COPY.err" | tail -1
}

# ---- part 1 (and the rest of part 2): load while copy runs ----
touch "$LAB/pre.go"
STALL=''
if [ -n "${COPY_LIVE_STALL:-}" ]; then
	(
		sleep 1
		kill -0 "$COPY" 2>/dev/null || exit 0
		kill -STOP "$COPY_PID" && log "copy stopped for $COPY_LIVE_STALL s" && sleep "$COPY_LIVE_STALL"
		kill -CONT "$COPY_PID"
	) &
	STALL=$!
fi
log "part 1: $CONNS keep-alive connections x $REQS requests (small mix, $COPY_LIVE_CLIENT) while copy runs;"
log "part 2: the early connections send $PRE_POST more requests each, then close"
d0=$(date +%s%N)
# the clients stand for machines of their own: on this 2-core lab they run at
# nice 5, so that they do not starve copy (its capture ring holds about 1.6 s)
{
	renice -n 5 -p "$BASHPID" >/dev/null
	copylab_drive "$CONNS" "$REQS" small
} | tee "$LAB/drive.out"
d1=$(date +%s%N)
[ -z "$STALL" ] || wait "$STALL"
rc=0
wait "$PRE" || rc=$?
cat "$TW_TMP/PRE.out" "$TW_TMP/PRE.err"
[ "$rc" -eq 0 ] || fail "the early-connection client exited $rc"

# the online streams: at least one per connection (wrk adds one), complete
# once their count stands still (every client has closed by now)
copylab_wait_streams "$LAB/online" $((CONNS + PRE_CONNS)) || fail "online streams missing"
total=0
for _ in $(seq 1 50); do
	n=$(copylab_count "$LAB/online")
	[ "$n" -eq "$total" ] && break
	total=$n
	sleep 0.3
done
nreq=$(cat "$LAB"/online/*.bin | grep -ac '^GET /d[0-9]*-small/' || true)
rate=$(((nreq * 1000000000) / (d1 - d0)))
log "online: $total streams; the drive: $nreq requests in $(((d1 - d0) / 1000000)) ms = $rate requests/s (aim: 5000+)"
[ "$rate" -ge 5000 ] || log "WARNING: below 5000 requests/s on this run (not asserted: shared machine)"

# every client packet is in copy's hands before the SIGINT: no new one comes
# (the clients are done), so its input count must stand still
prev=-1 same=0
for _ in $(seq 1 100); do
	f=$(copy_frames)
	if [ "$f" = "$prev" ]; then same=$((same + 1)); else same=0; fi
	[ "$same" -ge 3 ] && break
	prev=$f
	sleep 0.2
done
[ "$same" -ge 3 ] || fail "copy's input count does not settle ($f frames)"
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$COPY_PID/stat")
log "copy has read $f frames (CPU so far: $cpu s); SIGINT (stop input; sessions finish what they have)"
kill -INT "$COPY_PID"
for _ in $(seq 1 400); do
	kill -0 "$COPY" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$COPY" 2>/dev/null && { tail -30 "$TW_TMP/COPY.err"; fail "copy still runs 40 s after the SIGINT"; }
rc=0
wait "$COPY" || rc=$?
grep -v '^\[ *[0-9.]*s\]' "$TW_TMP/COPY.err" | sed 's/^/    /'
grep -q 'runtime error:\|ERROR: \(Address\|Leak\)Sanitizer' "$TW_TMP/COPY.err" && fail "copy: sanitizer report"
[ "$rc" -eq 0 ] || fail "copy exited $rc after one SIGINT"
log "copy exited 0 after one SIGINT"

sess=$(copylab_outcome live sessions)
ndone=$(copylab_outcome live "done")
log "report: $sess sessions, $ndone done (expected $total)"
[ "$sess" -eq "$total" ] || fail "copy replayed $sess sessions, expected $total"
[ "$ndone" -eq "$total" ] || fail "only $ndone of $total sessions done"

copylab_wait_streams "$LAB/target" "$total" 10 || log "the target holds $(copylab_count "$LAB/target") streams"
copylab_stop_servers

# the early connections: their online files and the byte offsets of the first
# request sent after copy started (checked to be that request's line)
"$COPYLAB_PY" - "$LAB/online" "$LAB/pre.manifest" "$PRE_CONNS" >"$LAB/suffix.list" <<'PY' ||
import os, re, sys
d, man, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
want = {}
for line in open(man):
    i, off, path = line.split()
    want[int(i)] = (int(off), path)
found = {}
for name in sorted(os.listdir(d)):
    if not name.endswith(".bin"):
        continue
    data = open(os.path.join(d, name), "rb").read()
    m = re.match(rb"GET /pre/c(\d+)/r0\?", data)
    if not m:
        continue
    i = int(m.group(1))
    off, path = want[i]
    if i in found or not data[off:].startswith(f"GET {path} HTTP/1.1\r\n".encode()):
        sys.exit(f"suffix: {name}: c{i}: no request line of {path} at byte {off}")
    found[i] = name
    print(f"{name} {off}")
if len(found) != n:
    sys.exit(f"suffix: {len(found)} online streams of early connections, expected {n}")
PY
	fail "cannot list the early connections' streams"

log "compare: every stream byte-exact; the $PRE_CONNS early ones from their first request after copy started"
empty=()
[ "$COPY_LIVE_CLIENT" != wrk ] || empty=(--ignore-empty)
copylab_compare --suffix-from "$LAB/suffix.list" "${empty[@]}" || fail "the target did not get every stream byte-exact"

rc=0
stop_wait "$ICEPT" INT || rc=$?
tail -3 "$TW_TMP/ICEPT.err" | sed 's/^/    /'
grep -q 'runtime error:\|ERROR: \(Address\|Leak\)Sanitizer' "$TW_TMP/ICEPT.err" && fail "intercept: sanitizer report"
[ "$rc" -eq 0 ] || fail "intercept exited $rc"
log "ok ($((SECONDS - t0)) s; $total sessions; drive $rate requests/s)"
