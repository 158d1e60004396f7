#!/usr/bin/env bash
# bench/capture.sh BIN - live capture throughput: tcpdump -w against
# `BIN capture -w`, on the same workload, one after the other, in a
# client/server namespace pair (nginx in the server, ab with keep-alive in the
# client, the capture in the server namespace on eth0, no filter).
# Prints, per tool and workload: packets captured, received by filter,
# dropped by kernel, packets/s (captured / the workload's wall time), the
# capture process's CPU seconds, and the ratios BIN/tcpdump. Printed, never
# asserted; not run by `make test`. Needs root; nothing leaves the namespaces.
# BENCH_REQS (default 200000) and BENCH_ROUNDS (default 1) change the size.
# shellcheck source-path=SCRIPTDIR source=../tests/e2e/lib.sh
set -euo pipefail
if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/tcptwin" >&2
	exit 2
fi
TW_BIN=$1
source "$(dirname "$0")/../tests/e2e/lib.sh"
need_root
need_cmd nginx ab tcpdump
need_bin
REQS=${BENCH_REQS:-200000}
ROUNDS=${BENCH_ROUNDS:-1}

make_pair CLI SRV
nginx_start NGINX "$SRV" "$SRV_IP" 8080

# cpu_of PID: user+system CPU seconds of the capture program under `timeout`
# (PID is timeout's; the program is its child)
cpu_of() {
	local kids t=0 k f
	kids=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
	for k in $kids; do
		f=$(cut -d')' -f2- "/proc/$k/stat" 2>/dev/null) || continue
		# fields after "(comm)": 12 = utime, 13 = stime (clock ticks)
		t=$((t + $(echo "$f" | awk '{ print $12 + $13 }')))
	done
	awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# run_one NAME WORKLOAD-URL ABARGS CAPTURE-CMD...: prints one result line
declare -A RES
run_one() {
	local name=$1 url=$2 abargs=$3 cap secs cpu c r d pps
	shift 3
	rm -f "$TW_TMP/bench.pcap"
	start_capture BENCHCAP "$SRV" 600 "$@" -i eth0 -w "$TW_TMP/bench.pcap"
	cap=$BENCHCAP
	# shellcheck disable=SC2086 # ABARGS is a list of options
	T_STEP=300 nsx "$CLI" ab -q $abargs "$url" >"$TW_TMP/ab.txt"
	secs=$(sed -n 's/^Time taken for tests: *\([0-9.]*\) seconds/\1/p' "$TW_TMP/ab.txt")
	sleep 1.5
	cpu=$(cpu_of "$cap")
	stop_wait "$cap" INT || true
	c=$(stats_get "$TW_TMP/BENCHCAP.err" captured)
	r=$(stats_get "$TW_TMP/BENCHCAP.err" 'received by filter')
	d=$(stats_get "$TW_TMP/BENCHCAP.err" 'dropped by kernel')
	pps=$(awk -v c="${c:-0}" -v s="${secs:-0}" 'BEGIN { if (s > 0) printf "%.0f", c / s; else print 0 }')
	printf '%-9s %-8s %10s %10s %10s %10s %8s %8s\n' "$name" "$W" "${c:-?}" "${r:-?}" "${d:-?}" "$pps" "$cpu" "${secs:-?}"
	RES[$name.$W.pps]=$pps RES[$name.$W.drop]=${d:-0} RES[$name.$W.cpu]=$cpu
}

echo "capture benchmark: $REQS keep-alive requests per run, nginx and ab in namespaces, $(nproc) CPUs"
echo "tcptwin: $TW_BIN"
printf '%-9s %-8s %10s %10s %10s %10s %8s %8s\n' tool workload captured received dropped pkts/s cpu-s wall-s
for round in $(seq 1 "$ROUNDS"); do
	[ "$ROUNDS" -eq 1 ] || echo "-- round $round"
	W=small
	run_one tcpdump "http://$SRV_IP:8080/small.html" "-k -c 50 -n $REQS" tcpdump
	run_one tcptwin "http://$SRV_IP:8080/small.html" "-k -c 50 -n $REQS" "$TW_BIN" capture
	W=200k
	run_one tcpdump "http://$SRV_IP:8080/200k.bin" "-k -c 8 -n $((REQS / 20))" tcpdump
	run_one tcptwin "http://$SRV_IP:8080/200k.bin" "-k -c 8 -n $((REQS / 20))" "$TW_BIN" capture
done

echo
for W in small 200k; do
	awk -v w="$W" -v a="${RES[tcptwin.$W.pps]}" -v b="${RES[tcpdump.$W.pps]}" \
		-v ca="${RES[tcptwin.$W.cpu]}" -v cb="${RES[tcpdump.$W.cpu]}" \
		-v da="${RES[tcptwin.$W.drop]}" -v db="${RES[tcpdump.$W.drop]}" 'BEGIN {
		printf "%-6s tcptwin/tcpdump: packets/s x%.2f, CPU x%.2f, dropped %d vs %d\n",
			w, (b > 0 ? a / b : 0), (cb > 0 ? ca / cb : 0), da, db }'
done
