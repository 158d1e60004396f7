#!/usr/bin/env bash
# tests/e2e/demo.sh BIN - what `make demo` runs: brings up the one-machine lab
# (network namespaces: client ON, server TG, collector AS on a bridge), starts
# nginx in TG, drives HTTP traffic from ON with ab and curl, captures it live
# with `BIN capture -i eth0 -w F` in TG, prints the first 20 packets
# (`BIN capture -r F -n`) and the capture statistics; then shows the cloud
# mirror path: TG mirrors port 8080 over VXLAN (VNI 42) to AS, where
# `BIN capture -i vxlan:4789 --decap` prints the inner packets. Removes the lab
# on exit, also on failure. Builds nothing; takes well under a minute.
# Needs root. Nothing leaves the namespaces it creates.
# shellcheck source-path=SCRIPTDIR source=lib.sh
set -euo pipefail
if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/tcptwin" >&2
	exit 2
fi
TW_BIN=$1
source "$(dirname "$0")/lib.sh"
section() { printf '\n=== %s ===\n' "$*"; }

need_root
need_cmd nginx ab curl
need_bin

section "1. Lab: namespaces on (client), tg (server), as (collector), bridge in sw"
make_bridge_lab
printf '  %-22s %s\n' "client  $ON" "$ON_IP" "server  $TG" "$TG_IP:8080 (nginx)" "collector $AS" "$AS_IP"
nginx_start NGINX "$TG" "$TG_IP" 8080
echo "  nginx answers on http://$TG_IP:8080/"

section "2. Live capture: $TW_BIN capture -i eth0 -w demo.pcap (in the server namespace)"
F=$TW_TMP/demo.pcap
start_capture CAP "$TG" 60 "$TW_BIN" capture -i eth0 -w "$F"
sed 's/^/  /' "$TW_TMP/CAP.err"

section "3. Traffic: curl x 3, ab -c 20 -n 2000, ab -k -c 4 -n 40 on a 200 KB file"
for f in index.html 10k.bin 200k.bin; do
	nsx "$ON" curl -s -o /dev/null -w "  curl /$f: HTTP %{http_code}, %{size_download} bytes\n" "http://$TG_IP:8080/$f"
done
nsx "$ON" ab -q -c 20 -n 2000 "http://$TG_IP:8080/small.html" |
	grep -E '^(Complete requests|Failed requests|Requests per second)' | sed 's/^/  ab: /'
nsx "$ON" ab -q -k -c 4 -n 40 "http://$TG_IP:8080/200k.bin" |
	grep -E '^(Complete requests|Transfer rate)' | sed 's/^/  ab: /'
sleep 1.5
rc=0
stop_wait "$CAP" INT || rc=$?

section "4. Statistics printed by the capture on SIGINT"
grep -v 'listening on' "$TW_TMP/CAP.err" | sed 's/^/  /'
[ "$rc" -eq 0 ] || fail "capture exited $rc"
echo "  file: $(stat -c %s "$F") bytes"

section "5. The first 20 packets: $TW_BIN capture -r demo.pcap -n"
rc=0
nsx "$TG" "$TW_BIN" capture -r "$F" -n >"$TW_TMP/read.out" 2>"$TW_TMP/read.err" || rc=$?
head -20 "$TW_TMP/read.out"
sed 's/^/  (stderr) /' "$TW_TMP/read.err"
[ "$rc" -eq 0 ] || fail "reading the capture back exited $rc"
big=$(sed -n 's/.*, length \([0-9][0-9]*\).*/\1/p' "$TW_TMP/read.out" | sort -n | tail -1)
echo "  ... $(wc -l <"$TW_TMP/read.out") packets in all"
echo "  ... largest TCP payload in the file: ${big:-?} bytes (TSO/GRO super-packets, kept as captured)"

section "6. Cloud mirror: VXLAN (VNI 42) from the server to the collector, --decap"
if vxlan_mirror "$TG" "$AS_IP" 8080 42 2>"$TW_TMP/mirror.err"; then
	start_capture MIR "$AS" 30 "$TW_BIN" capture -i vxlan:4789 --decap -n -c 12
	sed 's/^/  /' "$TW_TMP/MIR.err"
	nsx "$ON" curl -s -o /dev/null "http://$TG_IP:8080/index.html"
	nsx "$ON" curl -s -o /dev/null "http://$TG_IP:8080/10k.bin"
	for i in $(seq 1 30); do kill -0 "$MIR" 2>/dev/null || break; sleep 0.1; done
	stop_wait "$MIR" INT || true
	echo "  inner packets received by the collector:"
	head -12 "$TW_TMP/MIR.out"
	grep -v -e 'listening on' -e 'verbose output suppressed' "$TW_TMP/MIR.err" | sed 's/^/  /'
else
	echo "  (skipped: $(head -1 "$TW_TMP/mirror.err"))"
fi

section "7. Done: the namespaces are deleted on exit"
