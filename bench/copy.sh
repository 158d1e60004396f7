#!/usr/bin/env bash
# bench/copy.sh BIN - top-speed offline replay with `BIN copy` + `BIN intercept`
# against nginx as the target, in the copy lab (tests/e2e/copylab.sh). Two
# workloads are recorded on the online host (nginx too, the same files) with
# tcpdump: keep-alive (ab -k -c 50, 600-byte page) and short connections
# (ab -c 50, one request each). Each is replayed with --topspeed; prints, per
# workload: requests, copy's wall time, requests/s, packets/s sent, copy's CPU
# seconds per 10 000 requests, intercept's CPU seconds, sessions done.
# Printed, never asserted; not run by `make test`. Needs root; nothing leaves
# the namespaces. BENCH_REQS (default 50000) sets the size of each workload.
# TCPCopy is not packaged by Debian, so no ratio against it is printed here.
# shellcheck source-path=SCRIPTDIR source=../tests/e2e/copylab.sh
set -euo pipefail
if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/tcptwin" >&2
	exit 2
fi
TW_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
source "$(dirname "$0")/../tests/e2e/copylab.sh"
need_root
need_cmd nginx ab tcpdump
need_bin
REQS=${BENCH_REQS:-50000}

# web VAR NS ADDR PORT: nginx serving $LAB/html, its own prefix
web() {
	local d=$LAB/nginx-$1
	mkdir -p "$d/logs" "$d/tmp"
	cat >"$d/nginx.conf" <<EOC
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	default_type application/octet-stream;
	keepalive_requests 1000000;
	server { listen $3:$4 reuseport backlog=8192; root $LAB/html; }
}
EOC
	bg "$1" "$2" 3600 nginx -e "$d/logs/error.log" -p "$d" -c "$d/nginx.conf" -g "daemon off; user nobody nogroup;"
	local _
	for _ in $(seq 1 50); do
		nsx "$2" curl -s -o /dev/null --max-time 1 "http://$3:$4/small.html" && return 0
		sleep 0.1
	done
	fail "nginx did not start in $2"
}

copylab_up
mkdir -p "$LAB/html"
chmod 755 "$LAB" "$LAB/html"
head -c 600 /dev/zero | tr '\0' s >"$LAB/html/small.html"
chmod 644 "$LAB/html/small.html"
web WEB_ON "$NS_ON" "$IP_ON_CL" 80
web WEB_TG "$NS_TG" 0.0.0.0 8080
copylab_intercept ICEPT

# cpu_of PID: user+system CPU seconds of the child of timeout PID
cpu_of() {
	local t=0 k f
	for k in $(cat /proc/"$1"/task/*/children 2>/dev/null || true); do
		f=$(cut -d')' -f2- "/proc/$k/stat" 2>/dev/null) || continue
		t=$((t + $(echo "$f" | awk '{ print $12 + $13 }')))
	done
	echo "$t"
}

printf '\n%-11s %8s %8s %10s %10s %16s %12s %8s\n' workload requests "wall s" "req/s" "pkts/s" "copy CPU s/10k" "icept CPU s" "done"
for w in ${BENCH_WORKLOADS:-keepalive short}; do
	copylab_record_start "$LAB/$w.pcap"
	if [ "$w" = keepalive ]; then ka=-k; else ka=; fi
	# shellcheck disable=SC2086
	nsx "$NS_CL" ab -q $ka -c 50 -n "$REQS" "http://$IP_ON_CL/small.html" >"$LAB/ab-$w.txt" 2>&1 || true
	copylab_record_stop >/dev/null
	[ "$COPYLAB_REC_DROPPED" -eq 0 ] || log "warning: the $w capture lost $COPYLAB_REC_DROPPED packets"
	ic0=$(cpu_of "$ICEPT")
	/usr/bin/time -f '%e %U %S' -o "$LAB/time-$w" \
		ip netns exec "$NS_ON" "$TW_BIN" copy -x "$PORT_ON-$IP_TG:$PORT_TG" -s "$IP_AS" \
		-i "$LAB/$w.pcap" --topspeed --progress 0 --report "$LAB/$w.json" >"$LAB/$w.log" 2>&1 || true
	ic1=$(cpu_of "$ICEPT")
	read -r wall usr sys <"$LAB/time-$w"
	pkts=$(copylab_outcome "$w" packets_sent)
	sess=$(copylab_outcome "$w" sessions)
	done_=$(copylab_outcome "$w" "done")
	awk -v w="$w" -v r="$REQS" -v e="$wall" -v u="$usr" -v s="$sys" -v p="$pkts" -v ic=$((ic1 - ic0)) \
		-v hz="$(getconf CLK_TCK)" -v d="$done_/$sess" 'BEGIN {
		printf "%-11s %8d %8.2f %10.0f %10.0f %16.3f %12.2f %8s\n", w, r, e, r / e, p / e,
			(u + s) / r * 10000, ic / hz, d }'
done
echo
grep -v "^\[" "$LAB/short.log" 2>/dev/null | head -8 || true
echo "(2 cores shared by the client, nginx x2, tcpdump, copy and intercept; figures are lower bounds)"
stop_wait "$ICEPT" INT || true
grep -E '^intercept:' "$TW_TMP/ICEPT.err" || true
