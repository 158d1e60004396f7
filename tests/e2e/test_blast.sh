#!/usr/bin/env bash
# tests/e2e/test_blast.sh - `tcptwin blast` end to end: two namespaces joined
# by a veth (lib.sh make_pair); pcaps made by blastpkts.py (TCP both ways,
# IPv4 and IPv6, with payloads up to 20 000 bytes, i.e. GRO-sized super-packets, and
# spoiled checksums; UDP; ARP; an Ethernet and a raw-IP capture) are blasted
# from the client namespace onto its eth0 while tcpdump records the peer.
# Checked: every TCP payload byte arrives (multiset of flow, seq, byte) with
# --dstmac, --srcipmap, --dstipmap and --portmap applied, valid checksums and
# no IP packet above the MTU (super-packets re-segmented); with the afpacket,
# txring and xdp engines, -K, --loop 2 --unique-ip, a raw-IP capture, -L,
# --duration, -M with two files, SIGINT, the statistics lines, usage errors.
# Not checked here: rates (timing; bench/blast.sh measures -p and -x).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need_bin
need_cmd tcpdump
if ! { [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import scapy' 2>/dev/null; }; then
	skip "python3-scapy missing"
fi
PY=/usr/bin/python3
HELP=$TW_ROOT/tests/e2e/blastpkts.py

make_pair C S
SMAC=$(nsx "$S" cat /sys/class/net/eth0/address)
$PY "$HELP" gen "$TW_TMP/eth.pcap" 2>/dev/null
$PY "$HELP" gen "$TW_TMP/raw.pcap" raw 2>/dev/null
MAPS=(--dstmac "$SMAC" --srcipmap '10.99.1.0/24:10.88.1.0/24,[fd00:99:1::/48]:[fd00:88:1::/48]'
	--dstipmap '10.99.2.0/24:10.77.0.0/24,[fd00:99:2::/48]:[fd00:77::/48]' --portmap 8080:9090)

# blast_case NAME LOOPS BLAST-ARGS...: record the peer, blast, check. Snap length 1600: every
# frame must fit (a longer one would show as missing bytes and a length above the MTU), and
# immediate mode sizes its ring slots by it (at -s 0 a 16 MiB ring holds 64 frames).
blast_case() {
	local name=$1 loops=$2 cap
	shift 2
	start_capture cap "$S" 60 tcpdump -n -i eth0 -s 1600 -B 16384 --immediate-mode \
		-w "$TW_TMP/$name.got.pcap" 'ip or ip6'
	if ! nsx "$C" "$TW_BIN" blast -i eth0 "$@" >"$TW_TMP/$name.out" 2>"$TW_TMP/$name.err"; then
		cat "$TW_TMP/$name.out" "$TW_TMP/$name.err"
		fail "$name: blast failed"
	fi
	sleep 0.5
	stop_wait "$cap" || true
	cat "$TW_TMP/$name.out"
	grep -q '^0 packets dropped by kernel' "$TW_TMP/cap.err" || { cat "$TW_TMP/cap.err"; fail "$name: capture lost frames"; }
	grep -q '^Actual: [0-9]* packets ([0-9]* bytes) sent in ' "$TW_TMP/$name.out" ||
		fail "$name: no Actual line"
	grep -q 'Failed packets: *0$' "$TW_TMP/$name.out" || fail "$name: failed packets"
	$PY "$HELP" check "$TW_TMP/eth.pcap" "$TW_TMP/$name.got.pcap" "$SMAC" "$loops" ||
		fail "$name: payload or rewriting wrong"
	log "$name: ok"
}

# 1. afpacket (sendmmsg), streamed from the file, at 5000 pps
blast_case afpacket 1 -p 5000 "${MAPS[@]}" "$TW_TMP/eth.pcap"
grep -qE 'Resegmented packets: *[1-9][0-9]* \(into [0-9]+ segments, MTU 1500\)' \
	"$TW_TMP/afpacket.out" || fail "no re-segmentation reported"
# 2. txring (PACKET_TX_RING), preloaded
blast_case txring 1 -p 5000 -K --engine txring "${MAPS[@]}" "$TW_TMP/eth.pcap"
# 2b. AF_XDP through libxdp: copy mode on veth, said so on stderr and in the statistics
if nsx "$C" "$TW_BIN" blast -i eth0 -L 1 --engine xdp "$TW_TMP/eth.pcap" >/dev/null 2>"$TW_TMP/xdp.probe"; then
	blast_case xdp 1 -p 5000 --engine xdp "${MAPS[@]}" "$TW_TMP/eth.pcap"
	grep -q 'zero-copy unavailable.*copy mode' "$TW_TMP/xdp.err" || fail "xdp: copy mode not reported"
	grep -q 'Engine: *xdp (copy mode)$' "$TW_TMP/xdp.out" || fail "xdp: engine line"
	blast_case xdptop 1 -t -K --engine xdp "${MAPS[@]}" "$TW_TMP/raw.pcap"
else
	log "xdp case skipped: $(cat "$TW_TMP/xdp.probe")"
fi
# 3. two loops with new addresses in the second, preloaded
blast_case unique 2 -p 5000 -K -l 2 --unique-ip "${MAPS[@]}" "$TW_TMP/eth.pcap"
grep -q 'Loops: *2$' "$TW_TMP/unique.out" || fail "unique: not two loops"
# 4. a raw-IP capture gets an Ethernet header (to --dstmac); captured timing x10
blast_case raw 1 -x 10 "${MAPS[@]}" "$TW_TMP/raw.pcap"

# 5. top speed, streamed and rewritten: full batches through the staging ring
#    (207 frames stay below the peer's backlog, so none are lost there)
blast_case topspeed 1 -t "${MAPS[@]}" "$TW_TMP/raw.pcap"

# 6. -L stops after N frames; top speed, every engine: all sent, none failed
for e in afpacket txring xdp; do
	[ "$e" = xdp ] && ! [ -s "$TW_TMP/xdp.out" ] && continue
	nsx "$C" "$TW_BIN" blast -i eth0 -t -L 50 --engine "$e" "$TW_TMP/eth.pcap" >"$TW_TMP/lim.out" 2>&1 ||
		fail "-L 50 --engine $e failed"
	grep -q '^Actual: 50 packets' "$TW_TMP/lim.out" || { cat "$TW_TMP/lim.out"; fail "-L 50 ($e)"; }
	nsx "$C" "$TW_BIN" blast -i eth0 -t -K -l 20 --engine "$e" "$TW_TMP/eth.pcap" >"$TW_TMP/top.out" 2>&1 ||
		fail "top speed --engine $e failed"
	n=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$TW_TMP/top.out")
	per=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$TW_TMP/afpacket.out")
	[ "$n" -eq $((per * 20)) ] || { cat "$TW_TMP/top.out"; fail "top speed $e: $n != 20 x $per"; }
	grep -q 'Failed packets: *0$' "$TW_TMP/top.out" || fail "top speed $e: failures"
	log "-L and top speed with $e: ok ($(grep '^Rated' "$TW_TMP/top.out"))"
done
# 7. --no-resegment: the super-packets fail, as in tcpreplay
nsx "$C" "$TW_BIN" blast -i eth0 -t --no-resegment "$TW_TMP/eth.pcap" >"$TW_TMP/nors.out" 2>&1 ||
	fail "--no-resegment run failed"
grep -qE 'Failed packets: *[1-9]' "$TW_TMP/nors.out" || fail "--no-resegment: nothing failed"

# 8. --duration ends an endless loop: deadlines at or past it are never sent, so at -p 1000 for
#    0.5 s at most 500 frames go (fewer only if the machine lags); -M and two files in one run
nsx "$C" "$TW_BIN" blast -i eth0 -p 1000 -l 0 --duration 0.5 "$TW_TMP/eth.pcap" >"$TW_TMP/dur.out" 2>&1 ||
	fail "--duration run failed"
n=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$TW_TMP/dur.out")
{ [ "$n" -gt 0 ] && [ "$n" -le 500 ]; } || { cat "$TW_TMP/dur.out"; fail "--duration 0.5 at 1000 pps sent $n"; }
nsx "$C" "$TW_BIN" blast -i eth0 -M 50 "$TW_TMP/eth.pcap" "$TW_TMP/raw.pcap" >"$TW_TMP/two.out" 2>&1 ||
	fail "-M with two files failed"
n=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$TW_TMP/two.out")
[ "$n" -eq $((per * 2 - 1)) ] || { cat "$TW_TMP/two.out"; fail "two files: $n frames, want $((per * 2 - 1))"; }
# 9. SIGINT stops an endless run; the statistics are still printed, exit 0
endless=
bg endless "$C" 30 "$TW_BIN" blast -i eth0 -p 2000 -l 0 "$TW_TMP/eth.pcap"
sleep 1
stop_wait "$endless" INT || fail "blast after SIGINT: exit $?"
grep -q '^Actual: [1-9][0-9]* packets' "$TW_TMP/endless.out" || { cat "$TW_TMP/endless."*; fail "no statistics after SIGINT"; }

# 10. usage errors: exit 2 with a message
for args in "-t $TW_TMP/eth.pcap" "-i eth0" "-i eth0 -t -p 10 $TW_TMP/eth.pcap" \
	"-i eth0 --dstipmap 10.0.0.0/8 $TW_TMP/eth.pcap" "-i eth0 --portmap 1:70000 $TW_TMP/eth.pcap" \
	"-i eth0 --engine xdpx $TW_TMP/eth.pcap" "-i eth0 --dstmac 1:2:3 $TW_TMP/eth.pcap"; do
	rc=0
	# shellcheck disable=SC2086
	nsx "$C" "$TW_BIN" blast $args >/dev/null 2>"$TW_TMP/usage.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "blast $args: exit $rc, want 2"
	grep -q '^tcptwin blast: ' "$TW_TMP/usage.err" || fail "blast $args: no message"
done
rc=0
nsx "$C" "$TW_BIN" blast -i nosuchdev0 -t "$TW_TMP/eth.pcap" >/dev/null 2>"$TW_TMP/dev.err" || rc=$?
{ [ "$rc" -eq 1 ] && grep -q 'nosuchdev0' "$TW_TMP/dev.err"; } || fail "missing device: exit $rc"
rc=0
nsx "$C" "$TW_BIN" blast -i eth0 -t "$TW_TMP/nonexistent.pcap" >/dev/null 2>"$TW_TMP/file.err" || rc=$?
{ [ "$rc" -eq 1 ] && grep -q 'nonexistent.pcap' "$TW_TMP/file.err"; } || fail "missing file: exit $rc"
log "all blast checks passed"
