#!/usr/bin/env bash
# tests/e2e/test_doctor.sh - `tcptwin doctor` in the copy lab (doctor runs in ON,
# with copy's options: -x 80-10.77.0.2:8080 -s 10.77.0.3 -i cl0 and the probe
# client 10.77.1.250, in the client range TG routes to AS):
#  1. the healthy lab: exit 0, no FAIL line, the probe and path-mtu PASS, and
#     the target holds no connection from the probes afterwards (also with
#     -c 10.77.2.x, with -o eth0, with a capture file, in socket mode, and with
#     a shared secret on both sides);
#  2. each broken setup is named by the right line, exit 1, and the lab is
#     restored afterwards:
#     - no route on TG for the client range to the assistant: probe FAIL names
#       the missing route (the SYN forged from AS's own address is answered);
#     - strict rp_filter on TG without a route back to the client range: probe
#       FAIL names rp_filter and the sysctl (doctor cannot read TG's sysctls;
#       the probe line names the two target-side causes with their fixes);
#     - intercept down: intercept FAIL "cannot connect", probe SKIP;
#     - wrong secret: intercept FAIL "wrong shared secret";
#     - another wire version: intercept FAIL names the version;
#     - intercept's -F does not match the replies: probe FAIL names -F/-i;
#     - the target's port is closed: probe FAIL "nothing listens";
#     - MTU too small for what copy sends from the capture: a hop (TG's bridge
#       port) at MTU 1400 drops 1500-byte packets: path-mtu FAIL "-M 1400"
#       (and -M 1400 passes); -M 9000 above the route's MTU: mtu FAIL;
#     - no route to the target here, a missing capture interface;
#  3. ON's own route MTU 1400: PASS, re-segmentation noted;
#  4. usage errors exit 2.
# Every doctor output is checked for sanitizer reports.
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_bin
need_cmd "$COPYLAB_PY"

SAN_RE='runtime error:|ERROR: (Address|Undefined|Leak)Sanitizer'
PROBE_C=10.77.1.250
BASE=(-x "$PORT_ON-$IP_TG:$PORT_TG" -s "$IP_AS" -i cl0 --probe-client "$PROBE_C" --timeout-ms 1500)
N=0

# doctor NAME [ARGS...]: tcptwin doctor in ON; output $LAB/doctor-NAME.out (printed);
# returns its exit code
doctor() {
	local name=$1 rc=0
	shift
	N=$((N + 1))
	timeout -k 5 120 ip netns exec "$NS_ON" "$TW_BIN" doctor "$@" >"$LAB/doctor-$name.out" 2>&1 || rc=$?
	log "doctor $name ($*): exit $rc"
	sed 's/^/    /' "$LAB/doctor-$name.out"
	if grep -qE "$SAN_RE" "$LAB/doctor-$name.out"; then
		fail "doctor $name: sanitizer report"
	fi
	return "$rc"
}

# expect_ok NAME [ARGS...]: exit 0, no FAIL line, the summary says ready
expect_ok() {
	local name=$1 rc=0
	shift
	doctor "$name" "$@" || rc=$?
	[ "$rc" -eq 0 ] || fail "doctor $name: exit $rc on a healthy setup"
	! grep -q '^FAIL ' "$LAB/doctor-$name.out" || fail "doctor $name: a FAIL line on a healthy setup"
	grep -q '^doctor: .* 0 failed.*ready to replay' "$LAB/doctor-$name.out" ||
		fail "doctor $name: no summary line"
}

# expect_fail NAME CHECK REGEX [ARGS...]: exit 1, and the FAIL line of CHECK (the
# line starts "FAIL CHECK") matches the extended REGEX
expect_fail() {
	local name=$1 check=$2 re=$3 rc=0
	shift 3
	doctor "$name" "$@" || rc=$?
	[ "$rc" -eq 1 ] || fail "doctor $name: exit $rc, expected 1"
	grep -E "^FAIL $check" "$LAB/doctor-$name.out" | grep -qE -- "$re" ||
		fail "doctor $name: no 'FAIL $check' line matching '$re'"
	grep -q '^doctor: .* [1-9][0-9]* failed' "$LAB/doctor-$name.out" ||
		fail "doctor $name: the summary does not count the failure"
}

# has NAME REGEX: a line of doctor NAME's output matches REGEX
has() {
	grep -qE -- "$2" "$LAB/doctor-$1.out" || fail "doctor $1: no line matching '$2'"
}

copylab_up
copylab_servers
copylab_intercept ICEPT

log "1. the healthy lab"
expect_ok healthy "${BASE[@]}"
has healthy '^PASS route 10\.77\.0\.2: via eth0 \(on-link\), source 10\.77\.0\.1, eth0 up, MTU 1500'
has healthy '^PASS raw-send: '
has healthy '^PASS capture cl0: AF_PACKET capture opened'
has healthy '^PASS mtu 10\.77\.0\.2: copy sends at MTU 1500'
has healthy '^PASS rp_filter eth0: 0 here'
has healthy '^PASS conntrack: .*iptables -t raw -A OUTPUT -p tcp -d 10\.77\.0\.2 --dport 8080 -j NOTRACK'
has healthy '^PASS intercept 10\.77\.0\.3:36524: handshake done'
has healthy "^PASS probe 10\.77\.0\.2:8080: forged SYN from $PROBE_C:[0-9]+ answered by a SYN-ACK relayed by intercept 10\.77\.0\.3:36524"
has healthy '^PASS path-mtu 10\.77\.0\.2:8080: forged packets of 1500 bytes'
# every probe was reset: the target holds no half-open or open connection from them
sleep 0.2
left=$(nsx "$NS_TG" ss -Htn state syn-recv state established "( sport = :$PORT_TG )" | wc -l)
[ "$left" -eq 0 ] || fail "the target still holds $left connections from the probes"
expect_ok c-range -x "$PORT_ON-$IP_TG:$PORT_TG" -s "$IP_AS" -i cl0 -c 10.77.2.x --timeout-ms 1500
has c-range '^PASS probe 10\.77\.0\.2:8080: forged SYN from 10\.77\.2\.1:'
expect_ok afpacket "${BASE[@]}" -o eth0
has afpacket '^PASS raw-send: AF_PACKET socket on eth0'
has afpacket '^PASS conntrack: -o sends at the link layer'
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$LAB/empty.pcap"
expect_ok file -x "$PORT_ON-$IP_TG:$PORT_TG" -s "$IP_AS" -i "$LAB/empty.pcap" --probe-client "$PROBE_C" --timeout-ms 1500
has file "^PASS capture $LAB/empty.pcap: capture file opens \\(link type EN10MB"
expect_ok socket --mode socket -x "$PORT_ON-$IP_TG:$PORT_TG" -i cl0 --timeout-ms 1500
has socket '^PASS target 10\.77\.0\.2:8080: a TCP connection from 10\.77\.0\.1 was accepted'
has socket '^SKIP probe: socket mode'
expect_ok no-probe-client -x "$PORT_ON-$IP_TG:$PORT_TG" -s "$IP_AS" -i cl0 --timeout-ms 1500
has no-probe-client '^SKIP probe: no probe client: give -c or --probe-client'

log "2a. no route on TG for the client range to the assistant"
nsx "$NS_TG" ip route del "$NET_CL" via "$IP_AS"
expect_fail no-route 'probe 10\.77\.0\.2:8080' \
	"no route for $PROBE_C to the assistant.*fix: on the target .ip route add 10\.77\.1\.0/24 via 10\.77\.0\.3." "${BASE[@]}"
has no-route "a SYN forged from the assistant's address 10\.77\.0\.3 was answered"
has no-route '^SKIP path-mtu 10\.77\.0\.2:8080: needs an answered probe'
nsx "$NS_TG" ip route add "$NET_CL" via "$IP_AS"
expect_ok restored-route "${BASE[@]}"

log "2b. strict rp_filter on TG without a route back to the client range"
nsx "$NS_TG" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1
log "TG with strict rp_filter and its route: the probe must still pass"
expect_ok strict-with-route "${BASE[@]}"
nsx "$NS_TG" ip route del "$NET_CL" via "$IP_AS"
expect_fail rp-filter 'probe 10\.77\.0\.2:8080' \
	"strict rp_filter \(1\) drops the SYN.*sysctl -w net\.ipv4\.conf\.all\.rp_filter=2" "${BASE[@]}"
has rp-filter "a SYN forged from the assistant's address 10\.77\.0\.3 was answered"
nsx "$NS_TG" ip route add "$NET_CL" via "$IP_AS"
nsx "$NS_TG" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0

log "2c. intercept down"
stop_wait "$ICEPT" INT || true
expect_fail icept-down 'intercept 10\.77\.0\.3:36524' \
	'cannot connect: Connection refused; fix: start `tcptwin intercept' "${BASE[@]}"
has icept-down '^SKIP probe: needs a working intercept'

log "2d. wrong secret, then the same secret"
printf 'secret-A\n' >"$LAB/a.secret"
printf 'secret-B\n' >"$LAB/b.secret"
copylab_intercept ICEPT_S --secret-file "$LAB/a.secret"
expect_fail secret 'intercept 10\.77\.0\.3:36524' \
	'wrong shared secret.*fix: give doctor and copy the same --secret-file' "${BASE[@]}" --secret-file "$LAB/b.secret"
expect_fail no-secret 'intercept 10\.77\.0\.3:36524' 'requires a shared secret.*--secret-file' "${BASE[@]}"
expect_ok same-secret "${BASE[@]}" --secret-file "$LAB/a.secret"
has same-secret '^PASS intercept 10\.77\.0\.3:36524: handshake done: same protocol version, shared secret verified'
stop_wait "$ICEPT_S" INT || true
copylab_intercept ICEPT2
expect_fail version 'intercept 10\.77\.0\.3:36524' \
	'wire version mismatch.*fix: run the same tcptwin release' "${BASE[@]}" --wire-version 2

log "2e. intercept's filter does not match the replies; the target's port is closed"
stop_wait "$ICEPT2" INT || fail "intercept exited non-zero"
copylab_intercept ICEPT_F -F 'tcp and src port 9999'
expect_fail filter 'probe 10\.77\.0\.2:8080' \
	"not even to the assistant's own address: intercept's -F or -i does not capture" "${BASE[@]}"
stop_wait "$ICEPT_F" INT || fail "intercept exited non-zero"
copylab_intercept ICEPT2
expect_fail closed 'probe 10\.77\.0\.2:9090' 'refused: nothing listens on 10\.77\.0\.2:9090' \
	-x "$PORT_ON-$IP_TG:9090" -s "$IP_AS" -i cl0 --probe-client "$PROBE_C" --timeout-ms 1500

log "2f. MTU: a hop at 1400 between ON and TG, then -M above the route's MTU"
nsx "$NS_SW" ip link set p-tg mtu 1400
expect_fail hop-mtu 'path-mtu 10\.77\.0\.2:8080' \
	'packets of 1500 bytes .*do not reach the target, 1400-byte ones do.*fix: copy -M 1400' "${BASE[@]}"
has hop-mtu '^PASS probe 10\.77\.0\.2:8080'
expect_ok hop-mtu-M "${BASE[@]}" -M 1400
nsx "$NS_SW" ip link set p-tg mtu 1500
expect_fail big-M 'mtu 10\.77\.0\.2' '-M 9000 is above the route.s MTU 1500.*fix: -M 1500 or less' "${BASE[@]}" -M 9000
expect_fail small-M 'mtu 10\.77\.0\.2' 'below the IPv4 minimum of 576' "${BASE[@]}" -M 500

log "2g. no route here to the target, no capture interface"
expect_fail no-target-route 'route 10\.99\.0\.2' 'no route to 10\.99\.0\.2.*fix: add one' \
	-x "$PORT_ON-10.99.0.2:$PORT_TG" -s "$IP_AS" -i cl0 --probe-client "$PROBE_C" --timeout-ms 1500
has no-target-route '^SKIP probe 10\.99\.0\.2:8080: no usable route'
expect_fail no-iface 'capture nosuch0' 'no interface or file named nosuch0' \
	-x "$PORT_ON-$IP_TG:$PORT_TG" -s "$IP_AS" -i nosuch0 --probe-client "$PROBE_C" --timeout-ms 1500

log "3. ON's route MTU 1400: re-segmentation, no failure"
nsx "$NS_ON" ip link set eth0 mtu 1400
expect_ok on-mtu "${BASE[@]}"
has on-mtu '^PASS mtu 10\.77\.0\.2: copy sends at MTU 1400 .*packets captured on cl0 \(MTU 1500.*are re-segmented'
has on-mtu '^PASS path-mtu 10\.77\.0\.2:8080: forged packets of 1400 bytes'
nsx "$NS_ON" ip link set eth0 mtu 1500

log "4. usage errors"
for args in "-s $IP_AS" "-x $PORT_ON-$IP_TG:$PORT_TG" "-x $PORT_ON-$IP_TG:$PORT_TG -s $IP_AS --mode tcp" \
	"-x $PORT_ON-$IP_TG:$PORT_TG -s $IP_AS --probe-client nope"; do
	rc=0
	# shellcheck disable=SC2086 # word splitting wanted
	ip netns exec "$NS_ON" "$TW_BIN" doctor $args >"$LAB/usage.out" 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || { cat "$LAB/usage.out"; fail "doctor $args: exit $rc, expected 2"; }
done

stop_wait "$ICEPT2" INT || fail "intercept exited non-zero"
if grep -qE "$SAN_RE" "$TW_TMP"/ICEPT*.err; then
	cat "$TW_TMP"/ICEPT*.err
	fail "sanitizer report in an intercept log"
fi
log "PASS: $N doctor runs, every broken setup named"
