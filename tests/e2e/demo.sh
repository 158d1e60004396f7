#!/usr/bin/env bash
# tests/e2e/demo.sh BIN - what `make demo` runs: the main job end to end in a
# private lab of network namespaces (tests/e2e/copylab.sh):
#   client CL --> online host ON (the production server) ; target TG ; assistant AS
# 1. records real HTTP traffic on ON with `BIN capture -i cl0 -w prod.pcap`
#    while a client drives keep-alive requests (GETs, POST uploads, 150 KB
#    replies);
# 2. starts `BIN intercept` on AS (the target routes its replies there);
# 3. replays the recording against the target with `BIN copy --topspeed`
#    and prints copy's report;
# 4. checks what the target received, connection by connection, against what
#    production received (byte-exact).
# Removes the lab on exit, also on failure. Needs root; nothing leaves the
# namespaces it creates. Takes well under a minute.
# shellcheck source-path=SCRIPTDIR source=copylab.sh
set -euo pipefail
if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/tcptwin" >&2
	exit 2
fi
TW_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
source "$(dirname "$0")/copylab.sh"
section() { printf '\n=== %s ===\n' "$*"; }

need_root
need_bin
need_cmd tcpdump "$COPYLAB_PY"

section "1. Lab: client CL, online host ON (production), target TG, assistant AS"
copylab_up >/dev/null
copylab_servers >/dev/null
printf '  %-28s %s\n' "client    $IP_CL" "drives HTTP to the online host" \
	"online    $IP_ON_CL:$PORT_ON" "production server (a recorder of what it receives)" \
	"target    $IP_TG:$PORT_TG" "the build under test; routes replies for $NET_CL to the assistant" \
	"assistant $IP_AS" "ip_forward=0: replies stop here"

section "2. Record production traffic: tcptwin capture -i cl0 -w prod.pcap (on ON)"
start_capture CAP "$NS_ON" 120 "$TW_BIN" capture -i cl0 -w "$LAB/prod.pcap" "tcp port $PORT_ON"
copylab_drive 200 5 mixed | sed 's/^/  /'
sleep 1.2
stop_wait "$CAP" INT || fail "capture failed"
sed 's/^/  /' "$TW_TMP/CAP.err"
echo "  $(stat -c %s "$LAB/prod.pcap") bytes; the largest client packets (TSO super-packets):"
"$TW_BIN" capture -r "$LAB/prod.pcap" -n 'tcp dst port 80 and greater 20000' 2>/dev/null | head -3 | sed 's/^/    /'
copylab_wait_streams "$LAB/online" 200 || fail "the production server did not record every connection"

section "3. tcptwin intercept -i eth0 -F 'tcp and src port $PORT_TG' (on AS)"
copylab_intercept ICEPT
sed 's/^/  /' "$TW_TMP/ICEPT.err"

section "4. tcptwin copy -x $PORT_ON-$IP_TG:$PORT_TG -s $IP_AS -i prod.pcap --topspeed (on ON)"
rc=0
copylab_copy demo -i "$LAB/prod.pcap" --topspeed >/dev/null || rc=$?
sed 's/^/  /' "$LAB/demo.log"
[ "$rc" -eq 0 ] || fail "copy exited $rc"
echo "  JSON report (--report): $(tr -d '\n ' <"$LAB/demo.json" | cut -c1-150)..."

section "5. What the target received, connection by connection, against production"
copylab_target_round demo 200
copylab_compare_round demo | sed 's/^/  /'
copylab_compare_round demo >/dev/null || fail "the target did not receive every stream byte-exact"
stop_wait "$ICEPT" INT || true
grep -E '^intercept:' "$TW_TMP/ICEPT.err" | sed 's/^/  /'

section "6. Done: the namespaces are deleted on exit"
