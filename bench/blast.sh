#!/usr/bin/env bash
# bench/blast.sh BIN - `tcptwin blast` measured, printed, never asserted (not
# run by `make test`: timing depends on the machine and its load). In a
# client/server namespace pair (lib.sh make_pair), blasting from the client
# onto its veth:
#   1. rate accuracy: --pps 10000 over a 50 000-frame pcap (5 s asked): the
#      measured rate and its deviation (the issue asks for 1 %);
#      then -p 100 000, -p 300 000 and -M 100 from memory (-K);
#   2. --multiplier: the same pcap captured over 5 s sent at -x 1 and -x 2:
#      elapsed times and their ratio (asked: 0.5 within 2 %);
#   3. top speed: packets/s of each engine (-K -t; xdp in copy mode on veth) and of `tcpreplay -K
#      --topspeed` (when installed) on the same pcap and veth, best of
#      BENCH_ROUNDS (default 3), and the ratios engine/tcpreplay.
# Needs root; nothing leaves the namespaces. BENCH_LOOPS (default 4) sets the
# loops of a top-speed run.
# shellcheck source-path=SCRIPTDIR source=../tests/e2e/lib.sh
set -euo pipefail
if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/tcptwin" >&2
	exit 2
fi
TW_BIN=$1
source "$(dirname "$0")/../tests/e2e/lib.sh"
need_root
need_bin
ROUNDS=${BENCH_ROUNDS:-3}
LOOPS=${BENCH_LOOPS:-4}
T_STEP=120

make_pair C S
PMAC=$(nsx "$S" cat /sys/class/net/eth0/address)
PCAP=$TW_TMP/bench.pcap
/usr/bin/python3 "$(dirname "$0")/blastgen.py" "$PCAP" 50000 64 100 "$PMAC"

# field FILE N: the Nth number of the "Rated:" line (1 Bps, 2 Mbps, 3 pps)
rated() { sed -n 's/^Rated: \([0-9.]*\) Bps, \([0-9.]*\) Mbps, \([0-9.]*\) pps.*/\1 \2 \3/p' "$1" | awk -v n="$2" '{ print $n }'; }
secs() { sed -n 's/^Actual: .* sent in \([0-9.]*\) seconds.*/\1/p' "$1"; }

echo "== rate: --pps 10000, 50 000 frames (5 s asked)"
nsx "$C" "$TW_BIN" blast -i eth0 -p 10000 "$PCAP" >"$TW_TMP/pps.out"
pps=$(rated "$TW_TMP/pps.out" 3)
awk -v p="$pps" -v s="$(secs "$TW_TMP/pps.out")" \
	'BEGIN { printf "pps %.2f in %.4f s: deviation %+.3f %% (asked: within 1 %%)\n", p, s, (p - 10000) / 100 }'

echo "== higher rates, -K (asked / measured)"
for a in "-p 100000" "-p 300000" "-M 100"; do
	# shellcheck disable=SC2086
	nsx "$C" "$TW_BIN" blast -i eth0 -K $a "$PCAP" >"$TW_TMP/hr.out"
	printf '%-10s %s\n' "$a" "$(grep '^Rated' "$TW_TMP/hr.out")"
done

echo "== multiplier: the pcap spans 5 s of capture time"
nsx "$C" "$TW_BIN" blast -i eth0 -x 1 "$PCAP" >"$TW_TMP/x1.out"
nsx "$C" "$TW_BIN" blast -i eth0 -x 2 "$PCAP" >"$TW_TMP/x2.out"
awk -v a="$(secs "$TW_TMP/x1.out")" -v b="$(secs "$TW_TMP/x2.out")" \
	'BEGIN { printf "-x 1: %.4f s, -x 2: %.4f s, ratio %.4f (asked: 0.5 within 2 %%: %+.2f %%)\n", a, b, b / a, (b / a - 0.5) / 0.005 }'

echo "== top speed, -K, $LOOPS loops of 50 000 frames of 118 bytes, best of $ROUNDS"
best() { # NAME CMD...: best pps over the rounds
	local name=$1 r p b=0
	shift
	for r in $(seq 1 "$ROUNDS"); do
		nsx "$C" "$@" >"$TW_TMP/$name.$r.out" 2>&1 || { cat "$TW_TMP/$name.$r.out"; fail "$name failed"; }
		p=$(rated "$TW_TMP/$name.$r.out" 3)
		b=$(awk -v a="$b" -v c="$p" 'BEGIN { print (c > a) ? c : a }')
	done
	echo "$b"
}
declare -A PPS
for e in afpacket txring xdp; do
	PPS[$e]=$(best "$e" "$TW_BIN" blast -i eth0 -t -K -l "$LOOPS" --engine "$e" "$PCAP")
	printf '%-10s %12.0f pps\n' "$e" "${PPS[$e]}"
done
if command -v tcpreplay >/dev/null 2>&1; then
	PPS[tcpreplay]=$(best tcpreplay tcpreplay -q -i eth0 -K --topspeed -l "$LOOPS" "$PCAP")
	printf '%-10s %12.0f pps\n' tcpreplay "${PPS[tcpreplay]}"
	for e in afpacket txring xdp; do
		awk -v a="${PPS[$e]}" -v b="${PPS[tcpreplay]}" -v e="$e" \
			'BEGIN { printf "ratio %s/tcpreplay: %.2f\n", e, a / b }'
	done
else
	echo "tcpreplay not installed: no ratios"
fi
