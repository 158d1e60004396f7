# shellcheck shell=bash
# tests/e2e/copylab.sh - the lab for the `tcptwin copy` / `tcptwin intercept`
# end-to-end tests. Source it (it sources lib.sh first unless that is done).
#
#   CL 10.77.1.2 eth0 ──veth── cl0 10.77.1.1  ON  10.77.0.1 eth0 ─┐
#                                               TG  10.77.0.2 eth0 ─┼─ br0 in SW
#                                               AS  10.77.0.3 eth0 ─┘
#   TG: 10.77.1.0/24 and 10.77.2.0/24 (the -c range) via 10.77.0.3 (AS);
#   AS: ip_forward=0 (replies die there). rp_filter=0 everywhere, IPv6 off,
#   offloads (TSO/GSO, veth GRO off) left at the kernel's defaults.
# With COPYLAB_V6=1 (set before copylab_up) IPv6 is on as well, in ULA space:
#   CL fd00:77:1::2 ──veth── cl0 fd00:77:1::1  ON fd00:77::1, TG fd00:77::2,
#   AS fd00:77::3 on br0 (fd00:77::/64); TG: fd00:77:1::/64 and fd00:77:2::/64
#   (the -c range) via fd00:77::3; AS: net.ipv6.conf.all.forwarding=0.
#   Addresses nodad, no DAD, RA or router solicitations; IPv4 is unchanged.
#
# Functions (all fail the test through lib.sh's fail on error):
#   copylab_up               namespaces twc<random>-{sw,on,tg,as,cl}; sets NS_SW NS_ON NS_TG
#                            NS_AS NS_CL, IP_ON IP_TG IP_AS IP_CL IP_ON_CL NET_CL NET_FAKE
#                            PORT_ON PORT_TG, LAB (temp dir); installs the EXIT trap
#                            (copylab_down, then lib.sh's cleanup; the exit code is kept).
#                            The IPv6 names IP6_ON IP6_TG IP6_AS IP6_CL IP6_ON_CL
#                            NET6_CL NET6_FAKE are always set; they exist in the lab
#                            only with COPYLAB_V6=1
#   copylab_down             stop captures and servers, TERM (2 s later KILL) whatever else
#                            runs in the lab, delete the namespaces; idempotent, never fails
#   copylab_servers          recorder in ON on 10.77.1.1:80 -> $LAB/online/, in TG on
#                            0.0.0.0:8080 -> $LAB/target/; returns once both listen
#                            (no probe connection: the recordings stay clean). With
#                            COPYLAB_V6=1 a second recorder in ON on [fd00:77:1::1]:80
#                            (a socket bound to an IPv6 address takes no IPv4) writes
#                            to $LAB/online/ too, and TG's listens on [::]:8080 instead
#                            (IPV6_V6ONLY off: both families, IPv4 peers named as such)
#   copylab_stop_servers     SIGTERM them all, wait: every stream file is complete afterwards
#   copylab_record_start FILE [TCPDUMP_OPTS...]  tcpdump -i cl0 in ON, -s 262144,
#                            filter $COPYLAB_FILTER (default 'tcp port 80')
#   copylab_record_any FILE [TCPDUMP_OPTS...]    the same on -i any (LINUX_SLL2 pcap)
#   copylab_record_stop      stop every running capture (after the 1 s ring timeout), print
#                            tcpdump's statistics; sets COPYLAB_REC_DROPPED (kernel drops
#                            plus packets received but never written), warns if not 0
#   copylab_drive CONNS REQS_PER_CONN [MIX]  HTTP from CL to $COPYLAB_HOST (default
#                            10.77.1.1; $IP6_ON_CL drives over IPv6) port 80, MIX small
#                            (default) | mixed | early | short (see the client below);
#                            adds to COPYLAB_CONNS / COPYLAB_REQS (what was driven)
#   copylab_wait_streams DIR COUNT [SECONDS]  until DIR holds >= COUNT *.bin (default 30 s)
#   copylab_count DIR        prints the number of *.bin in DIR
#   copylab_compare [STREAMS_ARGS...]  streams.py $LAB/online $LAB/target ARGS (e.g.
#                            --copies 3, --ignore-empty); returns its exit code
# Also set: COPYLAB_PY=/usr/bin/python3, COPYLAB_DIR (this directory, for streams.py).
# Environment: COPYLAB_RECORDER (binary; default $(dirname $TW_BIN)/tests/recorder, else, or
#   when older than recorder.c, compiled into $TW_TMP), COPYLAB_CLIENT=python|wrk (default python; wrk serves small,
#   mixed and short), COPYLAB_PAR (connections open at once per client process, 64),
#   COPYLAB_PROCS (client processes; default 2 from 200 connections up, else 1),
#   COPYLAB_FILTER, T_DRIVE (seconds per drive, 300), COPYLAB_V6 (1 = IPv6 too, see
#   above), COPYLAB_HOST (the address copylab_drive connects to).
#
# Does not: start tcptwin, touch the root namespace, give any namespace a route out of
# 10.77.0.0/16 (and fd00:77::/48 with COPYLAB_V6=1), or switch offloads off. The ground
# truth of a test is $LAB/online (what the production server received), not what the
# client meant to send.

if [ -z "${TW_TMP:-}" ]; then
	# shellcheck source-path=SCRIPTDIR source=lib.sh
	source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fi
COPYLAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck disable=SC2034 # for the scripts that source this file
IP_ON=10.77.0.1 IP_TG=10.77.0.2 IP_AS=10.77.0.3 IP_CL=10.77.1.2 IP_ON_CL=10.77.1.1 \
	NET_CL=10.77.1.0/24 NET_FAKE=10.77.2.0/24 PORT_ON=80 PORT_TG=8080
# shellcheck disable=SC2034 # the IPv6 plan (COPYLAB_V6=1), ULA only
IP6_ON=fd00:77::1 IP6_TG=fd00:77::2 IP6_AS=fd00:77::3 IP6_CL=fd00:77:1::2 IP6_ON_CL=fd00:77:1::1 \
	NET6_CL=fd00:77:1::/64 NET6_FAKE=fd00:77:2::/64
COPYLAB_NS=()   # namespaces of the current lab
COPYLAB_RECS=() # variables holding the PIDs of running captures
COPYLAB_NREC=0 COPYLAB_NDRIVE=0 COPYLAB_CONNS=0 COPYLAB_REQS=0 COPYLAB_REC_DROPPED=0
# shellcheck disable=SC2034 # PIDs set by lib.sh's bg, read through ${!var}
COPYLAB_SRV_ON='' COPYLAB_SRV_ON6='' COPYLAB_SRV_TG=''
COPYLAB_PY=/usr/bin/python3

# _copylab_ns VAR ROLE SUFFIX: namespace twcSUFFIX-ROLE, lo up, lib.sh's sysctls
_copylab_ns() {
	local -n _n=$1
	local name="twc$3-$2"
	if ! timeout 10 ip netns add "$name" 2>"$TW_TMP/netns.err"; then
		skip "ip netns add not permitted: $(head -1 "$TW_TMP/netns.err")"
	fi
	COPYLAB_NS+=("$name")
	TW_NS+=("$name") # lib.sh's cleanup deletes it too, should our trap be replaced
	_n=$name
	nsx "$name" ip link set lo up
	ns_sysctls "$name"
}

# _copylab_reach NS IP: a TCP connect from NS to IP port 9 (nothing listens) must be
# refused, not time out. Proves the path without leaving a stream in a recording.
_copylab_reach() {
	local err
	err=$(timeout 5 ip netns exec "$1" bash -c "exec 3<>/dev/tcp/$2/9" 2>&1) || true
	[[ $err == *refused* ]] || fail "lab: no TCP path from $1 to $2 (${err:-timeout})"
}

_copylab_exit() {
	local rc=$?
	set +e
	copylab_down >/dev/null 2>&1
	(exit "$rc")
	cleanup
}

# _copylab_v6_iface NS IFACE: IPv6 on for IFACE, without DAD, RA or router
# solicitations (accept_dad first: the link-local address is made when
# disable_ipv6 goes to 0)
_copylab_v6_iface() {
	nsx "$1" sysctl -qw "net.ipv6.conf.$2.accept_dad=0" "net.ipv6.conf.$2.accept_ra=0" \
		"net.ipv6.conf.$2.router_solicitations=0" "net.ipv6.conf.$2.forwarding=0" \
		"net.ipv6.conf.$2.disable_ipv6=0" >/dev/null
}

# _copylab_v6: COPYLAB_V6=1's part of copylab_up (interfaces exist and are up)
_copylab_v6() {
	local n
	for n in "$NS_ON" "$NS_TG" "$NS_AS" "$NS_CL"; do
		# IPv6 has no rp_filter sysctl (linux-net.md section 8) and no
		# ip6tables rules here; every value is set, none inherited
		nsx "$n" sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_ra=0 \
			net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.router_solicitations=0 \
			net.ipv6.conf.default.router_solicitations=0 >/dev/null
		nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 >/dev/null
		_copylab_v6_iface "$n" lo
		_copylab_v6_iface "$n" eth0
	done
	_copylab_v6_iface "$NS_ON" cl0
	# the bridge stays IPv6-less itself; it floods multicast (ND) to every port
	nsx "$NS_SW" ip link set br0 type bridge mcast_snooping 0
	nsx "$NS_ON" ip addr add "$IP6_ON/64" dev eth0 nodad
	nsx "$NS_TG" ip addr add "$IP6_TG/64" dev eth0 nodad
	nsx "$NS_AS" ip addr add "$IP6_AS/64" dev eth0 nodad
	nsx "$NS_CL" ip addr add "$IP6_CL/64" dev eth0 nodad
	nsx "$NS_ON" ip addr add "$IP6_ON_CL/64" dev cl0 nodad
	nsx "$NS_TG" ip -6 route add "$NET6_CL" via "$IP6_AS"
	nsx "$NS_TG" ip -6 route add "$NET6_FAKE" via "$IP6_AS"
	nsx "$NS_AS" sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv6.conf.eth0.forwarding=0 >/dev/null
	[ "$(nsx "$NS_AS" sysctl -n net.ipv6.conf.all.forwarding)" = 0 ] ||
		fail "lab: IPv6 forwarding is on in the assistant"
}

copylab_up() {
	local sfx n role
	need_root
	need_cmd ip sysctl tcpdump "$COPYLAB_PY"
	sfx=$(mktemp -u XXXXXX)
	trap _copylab_exit EXIT
	LAB=$(mktemp -d "$TW_TMP/copylab.XXXX")
	chmod 755 "$LAB"
	_copylab_ns NS_SW sw "$sfx"
	_copylab_ns NS_ON on "$sfx"
	_copylab_ns NS_TG tg "$sfx"
	_copylab_ns NS_AS as "$sfx"
	_copylab_ns NS_CL cl "$sfx"
	nsx "$NS_SW" ip link add br0 type bridge
	nsx "$NS_SW" sysctl -qw net.bridge.bridge-nf-call-iptables=0 >/dev/null 2>&1 || true
	ns_iface_sysctls "$NS_SW" br0
	nsx "$NS_SW" ip link set br0 up
	for role in on tg as; do
		case $role in on) n=$NS_ON ;; tg) n=$NS_TG ;; as) n=$NS_AS ;; esac
		timeout "$T_STEP" ip link add eth0 netns "$n" type veth peer name "p-$role" netns "$NS_SW"
		nsx "$NS_SW" ip link set "p-$role" master br0
		ns_iface_sysctls "$NS_SW" "p-$role"
		nsx "$NS_SW" ip link set "p-$role" up
		ns_iface_sysctls "$n" eth0
		nsx "$n" ip link set eth0 up
	done
	nsx "$NS_ON" ip addr add "$IP_ON/24" dev eth0
	nsx "$NS_TG" ip addr add "$IP_TG/24" dev eth0
	nsx "$NS_AS" ip addr add "$IP_AS/24" dev eth0
	timeout "$T_STEP" ip link add eth0 netns "$NS_CL" type veth peer name cl0 netns "$NS_ON"
	ns_iface_sysctls "$NS_CL" eth0
	ns_iface_sysctls "$NS_ON" cl0
	nsx "$NS_CL" ip addr add "$IP_CL/24" dev eth0
	nsx "$NS_ON" ip addr add "$IP_ON_CL/24" dev cl0
	nsx "$NS_CL" ip link set eth0 up
	nsx "$NS_ON" ip link set cl0 up
	# replies to the real and the fake (-c) clients go to the assistant, which drops them
	nsx "$NS_TG" ip route add "$NET_CL" via "$IP_AS"
	nsx "$NS_TG" ip route add "$NET_FAKE" via "$IP_AS"
	nsx "$NS_AS" sysctl -qw net.ipv4.ip_forward=0
	# the short mix: few client ports, so 10 000 connections reuse them
	nsx "$NS_CL" sysctl -qw net.ipv4.ip_local_port_range="40000 40999" net.ipv4.tcp_tw_reuse=1
	for n in "$NS_ON" "$NS_TG" "$NS_AS" "$NS_CL"; do
		wait_up "$n" eth0
	done
	wait_up "$NS_ON" cl0
	[ "${COPYLAB_V6:-0}" != 1 ] || _copylab_v6
	_copylab_reach "$NS_CL" "$IP_ON_CL"
	_copylab_reach "$NS_ON" "$IP_TG"
	_copylab_reach "$NS_ON" "$IP_AS"
	_copylab_reach "$NS_TG" "$IP_AS"
	if [ "${COPYLAB_V6:-0}" = 1 ]; then
		_copylab_reach "$NS_CL" "$IP6_ON_CL"
		_copylab_reach "$NS_ON" "$IP6_TG"
		_copylab_reach "$NS_ON" "$IP6_AS"
		_copylab_reach "$NS_TG" "$IP6_AS"
		log "copylab: up (${COPYLAB_NS[*]}) with IPv6, files in $LAB"
	else
		log "copylab: up (${COPYLAB_NS[*]}), files in $LAB"
	fi
}

copylab_down() {
	local var ns pid pids=() i alive
	for var in "${COPYLAB_RECS[@]}"; do
		stop_wait "${!var}" INT >/dev/null 2>&1 || true
	done
	COPYLAB_RECS=()
	for var in COPYLAB_SRV_ON COPYLAB_SRV_ON6 COPYLAB_SRV_TG; do
		[ -z "${!var}" ] || stop_wait "${!var}" TERM >/dev/null 2>&1 || true
		printf -v "$var" '%s' ''
	done
	# anything else still inside (tcptwin, clients): TERM, up to 2 s, then KILL
	for ns in "${COPYLAB_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
		done
	done
	for i in $(seq 1 20); do
		alive=0
		for pid in "${pids[@]}"; do
			if kill -0 "$pid" 2>/dev/null; then alive=1; fi
		done
		[ "$alive" -eq 1 ] || break
		sleep 0.1
	done
	for ns in "${COPYLAB_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		timeout 10 ip netns del "$ns" 2>/dev/null
	done
	COPYLAB_NS=()
	return 0
}

# _copylab_recorder: the recorder binary (built by `make ... unit` as
# $(O)/tests/recorder; compiled here when missing or older than its source)
_copylab_recorder() {
	local src=$COPYLAB_DIR/recorder.c bin
	bin=${COPYLAB_RECORDER:-$(dirname "$TW_BIN")/tests/recorder}
	if [ -x "$bin" ] && { [ -n "${COPYLAB_RECORDER:-}" ] || ! [ "$src" -nt "$bin" ]; }; then
		COPYLAB_RECORDER=$bin
		return
	fi
	need_cmd "${CC:-cc}"
	COPYLAB_RECORDER=$TW_TMP/recorder
	"${CC:-cc}" -std=gnu17 -O2 -g -Wall -Wextra -o "$COPYLAB_RECORDER" "$src" ||
		fail "cannot build $src"
}

copylab_servers() {
	local i f ok=0 pids=(online target) tg="0.0.0.0:$PORT_TG" on6=''
	_copylab_recorder
	mkdir -p "$LAB/online" "$LAB/target"
	if [ "${COPYLAB_V6:-0}" = 1 ]; then
		pids+=(online6)
		tg="[::]:$PORT_TG"
		on6=" and [$IP6_ON_CL]:$PORT_ON"
	fi
	for f in "${pids[@]}"; do rm -f "$LAB/$f.pid"; done
	bg COPYLAB_SRV_ON "$NS_ON" 3600 "$COPYLAB_RECORDER" -l "$IP_ON_CL:$PORT_ON" \
		-d "$LAB/online" -p "$LAB/online.pid"
	[ -z "$on6" ] || bg COPYLAB_SRV_ON6 "$NS_ON" 3600 "$COPYLAB_RECORDER" \
		-l "[$IP6_ON_CL]:$PORT_ON" -d "$LAB/online" -p "$LAB/online6.pid"
	bg COPYLAB_SRV_TG "$NS_TG" 3600 "$COPYLAB_RECORDER" -l "$tg" \
		-d "$LAB/target" -p "$LAB/target.pid"
	for i in $(seq 1 100); do
		ok=1
		for f in "${pids[@]}"; do [ -f "$LAB/$f.pid" ] || ok=0; done
		[ "$ok" -eq 0 ] || break
		sleep 0.05
	done
	if [ "$ok" -eq 0 ]; then
		cat "$TW_TMP"/COPYLAB_SRV_*.err
		fail "copylab: recorders did not start"
	fi
	log "copylab: recorders on $IP_ON_CL:$PORT_ON$on6 (online) and $tg (target)"
}

copylab_stop_servers() {
	local var rc bad=0
	for var in COPYLAB_SRV_ON COPYLAB_SRV_ON6 COPYLAB_SRV_TG; do
		[ -n "${!var}" ] || continue
		rc=0
		stop_wait "${!var}" TERM || rc=$?
		printf -v "$var" '%s' ''
		tail -1 "$TW_TMP/$var.err"
		if [ "$rc" -ne 0 ] || grep -q 'Sanitizer\|runtime error' "$TW_TMP/$var.err"; then
			tail -30 "$TW_TMP/$var.err"
			echo "copylab: $var exited $rc"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] || fail "copylab: a recorder failed"
}

# _copylab_capture FILE IFACE [OPTS...]
_copylab_capture() {
	local f=$1 ifc=$2 var
	shift 2
	COPYLAB_NREC=$((COPYLAB_NREC + 1))
	var=COPYLAB_REC$COPYLAB_NREC
	start_capture "$var" "$NS_ON" 3600 tcpdump -n -Z root -i "$ifc" -s 262144 -B 32768 \
		"$@" -w "$f" "${COPYLAB_FILTER:-tcp port 80}"
	COPYLAB_RECS+=("$var")
}
copylab_record_start() { _copylab_capture "$1" cl0 "${@:2}"; }
copylab_record_any() { _copylab_capture "$1" any "${@:2}"; }

copylab_record_stop() {
	local var rc cap rcv drop
	COPYLAB_REC_DROPPED=0
	[ ${#COPYLAB_RECS[@]} -gt 0 ] || return 0
	sleep 1.2 # tcpdump's TPACKET_V3 block timeout (1 s): packets still in a block are lost
	for var in "${COPYLAB_RECS[@]}"; do
		rc=0
		stop_wait "${!var}" INT || rc=$?
		cap=$(stats_get "$TW_TMP/$var.err" captured)
		rcv=$(stats_get "$TW_TMP/$var.err" 'received by filter')
		drop=$(stats_get "$TW_TMP/$var.err" 'dropped by kernel')
		log "copylab: capture $var: ${cap:-?} captured, ${rcv:-?} received by filter, ${drop:-?} dropped by kernel"
		if [ "$rc" -ne 0 ] || [ -z "$cap" ]; then
			cat "$TW_TMP/$var.err"
			fail "copylab: tcpdump exited $rc"
		fi
		COPYLAB_REC_DROPPED=$((COPYLAB_REC_DROPPED + ${drop:-0} + ${rcv:-0} - cap))
	done
	COPYLAB_RECS=()
	[ "$COPYLAB_REC_DROPPED" -eq 0 ] || echo "copylab: WARNING: $COPYLAB_REC_DROPPED packets not in the capture"
	return 0
}

copylab_count() {
	find "$1" -maxdepth 1 -name '*.bin' | wc -l
}

copylab_wait_streams() {
	local i n=0
	for i in $(seq 1 $((${3:-30} * 5))); do
		n=$(copylab_count "$1")
		[ "$n" -ge "$2" ] && return 0
		sleep 0.2
	done
	echo "copylab: $1 holds $n streams, expected $2"
	return 1
}

copylab_compare() {
	"$COPYLAB_PY" "$COPYLAB_DIR/streams.py" "$LAB/online" "$LAB/target" "$@"
}

# copylab_drive CONNS REQS_PER_CONN [MIX]: the Python client (exact, deterministic):
#   small  GET size=100
#   mixed  replies 80 % 100 B, 15 % 10 KB, 5 % 150 KB; 20 % POSTs of 2-100 KB
#   early  POSTs of 50-200 KB with early=1 (the 1000 B reply comes before the body)
#   short  GET size=100 with "Connection: close" on the last request (use REQS 1):
#          the server closes; CL's 1000 ports are reused from 1000 connections up
# Paths are /d<k>-<mix>/c<conn>/r<req>?size=N (k counts drives), so every stream
# differs. With COPYLAB_CLIENT=wrk (small, mixed, short) the count is approximate:
# see _copylab_wrk.
copylab_drive() {
	local conns=$1 reqs=$2 mix=${3:-small} tag procs rc=0
	case $mix in small | mixed | early | short) ;; *) fail "copylab_drive: unknown mix $mix" ;; esac
	COPYLAB_NDRIVE=$((COPYLAB_NDRIVE + 1))
	tag=d$COPYLAB_NDRIVE-$mix
	if [ "${COPYLAB_CLIENT:-python}" = wrk ] && [ "$mix" != early ]; then
		_copylab_wrk "$conns" "$reqs" "$mix" "$tag"
		return
	fi
	_copylab_client >"$LAB/client.py"
	procs=${COPYLAB_PROCS:-1}
	[ -n "${COPYLAB_PROCS:-}" ] || [ "$conns" -lt 200 ] || procs=2
	T_STEP=${T_DRIVE:-300} nsx "$NS_CL" "$COPYLAB_PY" "$LAB/client.py" "${COPYLAB_HOST:-$IP_ON_CL}" "$PORT_ON" \
		"$conns" "$reqs" "$mix" "$tag" "${COPYLAB_PAR:-64}" "$procs" || rc=$?
	[ "$rc" -eq 0 ] || fail "copylab_drive $*: client exited $rc"
	COPYLAB_CONNS=$((COPYLAB_CONNS + conns))
	COPYLAB_REQS=$((COPYLAB_REQS + conns * reqs))
}

# _copylab_wrk CONNS REQS MIX TAG: wrk -t 2 (1 for one connection), CONNS
# connections (short: min(CONNS, COPYLAB_PAR) at a time, wrk reconnects after
# every "Connection: close"), CONNS*REQS responses in total. Each thread stops
# itself (wrk.thread:stop()) after its share and leaves a marker file; wrk's
# main thread would sleep until -d anyway, so it gets SIGINT once all markers
# exist. Requests in flight on the other connections at that moment still
# reach the server: the online recording can hold up to CONNS more requests,
# and wrk opens one extra connection of its own that sends nothing (use
# --ignore-empty). Paths /TAG/t<thread>/r<n>.
_copylab_wrk() {
	local conns=$1 reqs=$2 mix=$3 tag=$4 thr=1 c=$1 total base i rc=0 close=false
	local host=${COPYLAB_HOST:-$IP_ON_CL}
	need_cmd wrk
	[[ $host != *:* ]] || host="[$host]"
	total=$((conns * reqs))
	[ "$conns" -ge 2 ] && thr=2
	base=$((total / thr))
	if [ "$mix" = short ]; then
		close=true
		[ "$c" -gt "${COPYLAB_PAR:-64}" ] && c=${COPYLAB_PAR:-64}
		[ "$c" -lt "$thr" ] && c=$thr
	fi
	rm -f "$LAB/$tag.done."*
	cat >"$LAB/$tag.lua" <<LUA
-- generated by copylab.sh: $total requests, unique paths
local tag, mix, close, done = "$tag", "$mix", $close, "$LAB/$tag.done."
local quota = { $((base + total % thr)), $base }
local n, got, ids = 0, 0, 0
function setup(thread)
	ids = ids + 1
	thread:set("id", ids)
end
function request()
	n = n + 1
	local size, method, body, headers = 100, "GET", nil, {}
	if mix == "mixed" then
		local k = n % 20
		if k == 0 then size = 153600 elseif k <= 3 then size = 10240 end
		if n % 5 == 0 then
			method = "POST"
			body = string.rep("b", 2000 + (n * 7919) % 98000)
			headers["Content-Type"] = "application/octet-stream"
		end
	end
	if close then headers["Connection"] = "close" end
	return wrk.format(method, "/" .. tag .. "/t" .. id .. "/r" .. n .. "?size=" .. size, headers, body)
end
function response(status, headers, body)
	got = got + 1
	if got == quota[id] then
		local f = io.open(done .. id, "w")
		f:close()
		wrk.thread:stop()
	end
end
LUA
	bg COPYLAB_WRK "$NS_CL" "${T_DRIVE:-300}" wrk -t "$thr" -c "$c" -d 3600s --timeout 10s \
		-s "$LAB/$tag.lua" "http://$host:$PORT_ON/"
	for i in $(seq 1 $((${T_DRIVE:-300} * 20))); do
		[ "$(find "$LAB" -maxdepth 1 -name "$tag.done.*" | wc -l)" -ge "$thr" ] && break
		kill -0 "$COPYLAB_WRK" 2>/dev/null || break
		sleep 0.05
	done
	stop_wait "$COPYLAB_WRK" INT || rc=$?
	cat "$TW_TMP/COPYLAB_WRK.out"
	if [ "$rc" -ne 0 ] || grep -q 'Non-2xx\|Socket errors' "$TW_TMP/COPYLAB_WRK.out" ||
		[ "$(find "$LAB" -maxdepth 1 -name "$tag.done.*" | wc -l)" -lt "$thr" ]; then
		cat "$TW_TMP/COPYLAB_WRK.err"
		fail "copylab_drive (wrk) $conns $reqs $mix: exit $rc, or errors, or not all responses"
	fi
	COPYLAB_CONNS=$((COPYLAB_CONNS + conns))
	COPYLAB_REQS=$((COPYLAB_REQS + total))
}

# _copylab_client: prints the Python client (run with /usr/bin/python3)
_copylab_client() {
	cat <<'PY'
# copylab HTTP client (written by tests/e2e/copylab.sh; run with /usr/bin/python3).
# client.py HOST PORT CONNS REQS MIX TAG [PAR] [PROCS]: CONNS connections (HOST an
# IPv4 or IPv6 address: the socket's family follows it), REQS
# requests each (the last with "Connection: close" in the short mix), at most
# PAR open at once per process, PROCS processes (connection i goes to process
# i % PROCS). Paths /TAG/c<i>/r<j>?size=..., sizes and bodies drawn from a
# generator seeded with TAG and i: the same arguments give the same bytes.
# Every reply is read in full and checked (status 200, length, body pattern).
import os, random, selectors, socket, sys, time

PAT = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
BIG = PAT * (16 * 1024 * 1024 // 64 + 1)
IDLE = 15.0  # seconds without progress on a connection = error


def requests(host, tag, i, reqs, mix):
    rng = random.Random(f"{tag}:{i}")
    out = []
    for j in range(reqs):
        size, body, early = 100, 0, False
        if mix == "mixed":
            u = rng.random()
            size = 100 if u < 0.80 else 10240 if u < 0.95 else 153600
            if rng.random() < 0.2:
                body = rng.randint(2000, 100000)
        elif mix == "early":
            size, body, early = 1000, rng.randint(50000, 200000), True
        close = mix == "short" and j == reqs - 1
        path = f"/{tag}/c{i}/r{j}?size={size}" + ("&early=1" if early else "")
        hh = f"[{host}]" if ":" in host else host
        h = [f"{'POST' if body else 'GET'} {path} HTTP/1.1", f"Host: {hh}", "User-Agent: copylab"]
        if body:
            h += [f"Content-Length: {body}", "Content-Type: application/octet-stream"]
        if close:
            h.append("Connection: close")
        fill = f"{tag}/c{i}/r{j};".encode()
        data = ("\r\n".join(h) + "\r\n\r\n").encode() + (fill * (body // len(fill) + 1))[:body]
        out.append((data, size))
    return out


class Conn:
    def __init__(self, i, reqs, family):
        self.i, self.reqs, self.j = i, reqs, 0
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.out, self.off, self.inb = b"", 0, bytearray()
        self.connected, self.eof_wait, self.last = False, False, time.monotonic()


def worker(host, port, conns, reqs, mix, tag, par, procs, w, st):
    sel = selectors.DefaultSelector()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    todo = list(range(w, conns, procs))
    todo.reverse()
    live = {}
    errs = []

    def start():
        i = todo.pop()
        c = Conn(i, requests(host, tag, i, reqs, mix), family)
        c.sock.connect_ex((host, port))
        live[c.sock.fileno()] = c
        sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
        st["conns"] += 1

    def next_req(c):
        c.out, c.off, c.inb = c.reqs[c.j][0], 0, bytearray()
        st["sent"] += len(c.out)

    def end(c, err=None):
        if err:
            errs.append(f"c{c.i} r{c.j}: {err}")
        sel.unregister(c.sock)
        del live[c.sock.fileno()]
        c.sock.close()

    while todo or live:
        while todo and len(live) < par:
            start()
        now = time.monotonic()
        for key, ev in sel.select(1.0):
            c = key.data
            c.last = now
            if not c.connected:
                e = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if e:
                    end(c, f"connect: {os.strerror(e)}")
                    continue
                c.connected = True
                next_req(c)
            if ev & selectors.EVENT_READ:
                try:
                    b = c.sock.recv(262144)
                except (BlockingIOError, InterruptedError):
                    b = None
                except OSError as e:
                    end(c, f"recv: {e}")
                    continue
                if b == b"":
                    if c.eof_wait:
                        end(c)
                    else:
                        end(c, "server closed early")
                    continue
                if b:
                    c.inb += b
                    st["recv"] += len(b)
            if c.off < len(c.out):
                try:
                    c.off += c.sock.send(memoryview(c.out)[c.off:c.off + 1048576])
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError as e:
                    end(c, f"send: {e}")
                    continue
            if c.eof_wait:
                continue
            # a reply complete? (no pipelining: it is the reply to request j)
            h = c.inb.find(b"\r\n\r\n")
            if h < 0:
                mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if c.off < len(c.out) else 0)
                sel.modify(c.sock, mask, c)
                continue
            size = c.reqs[c.j][1]
            head = bytes(c.inb[:h])
            if not head.startswith(b"HTTP/1.1 200 ") or b"\r\nContent-Length: %d\r\n" % size not in head + b"\r\n":
                end(c, f"bad reply head {head[:80]!r}")
                continue
            if len(c.inb) - h - 4 < size or c.off < len(c.out):
                mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if c.off < len(c.out) else 0)
                sel.modify(c.sock, mask, c)
                continue
            if len(c.inb) - h - 4 > size or c.inb[h + 4:] != BIG[:size]:
                end(c, "bad reply body")
                continue
            st["reqs"] += 1
            c.j += 1
            if c.j == len(c.reqs):
                if mix == "short":
                    c.eof_wait = True  # the server closes: wait for its FIN
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                else:
                    end(c)
                continue
            next_req(c)
            sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
        for c in [c for c in live.values() if now - c.last > IDLE]:
            end(c, f"no progress for {IDLE:.0f} s")
    st["errors"] = len(errs)
    for e in errs[:10]:
        print(f"client: error: {e}", file=sys.stderr)


def main():
    host, port, conns, reqs, mix, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        int(sys.argv[4]), sys.argv[5], sys.argv[6]
    par = int(sys.argv[7]) if len(sys.argv) > 7 else 64
    procs = int(sys.argv[8]) if len(sys.argv) > 8 else 1
    if mix not in ("small", "mixed", "early", "short"):
        sys.exit(f"client: unknown mix {mix}")
    keys = ("conns", "reqs", "sent", "recv", "errors")
    t0 = time.monotonic()
    pipes = []
    for w in range(procs):
        r, wfd = os.pipe()
        if os.fork() == 0:
            os.close(r)
            st = dict.fromkeys(keys, 0)
            try:
                worker(host, port, conns, reqs, mix, tag, par, procs, w, st)
            finally:
                os.write(wfd, " ".join(str(st[k]) for k in keys).encode())
                os._exit(0)
        os.close(wfd)
        pipes.append(r)
    tot = dict.fromkeys(keys, 0)
    for r in pipes:
        vals = os.read(r, 4096).split()
        for k, v in zip(keys, vals):
            tot[k] += int(v)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    dt = time.monotonic() - t0
    print(f"client: mix {mix} tag {tag}: {tot['conns']} connections, {tot['reqs']} requests "
          f"({tot['reqs'] / dt:.0f}/s), sent {tot['sent']} B, received {tot['recv']} B, "
          f"{tot['errors']} errors, {dt:.1f} s")
    ok = tot["errors"] == 0 and tot["reqs"] == conns * reqs and tot["conns"] == conns
    sys.exit(0 if ok else 1)


main()
PY
}

# ---- running tcptwin copy and intercept in the lab -------------------------
#   copylab_intercept VAR [ARGS...]   tcptwin intercept in AS (-i eth0 -F 'tcp and src
#                            port 8080' unless ARGS give -F), background; waits until it
#                            listens; log in $TW_TMP/VAR.err
#   copylab_copy NAME [ARGS...]       tcptwin copy in ON, foreground (timeout T_COPY, 300 s),
#                            -x 80-10.77.0.2:8080 (unless ARGS give -x) -s 10.77.0.3 --report $LAB/NAME.json
#                            prepended; log $LAB/NAME.log; prints its summary; returns its
#                            exit code
#   copylab_outcome NAME KEY  a number from $LAB/NAME.json: sessions, or an outcome (done, gap...)
#   copylab_target_round NAME COUNT  waits for COUNT target streams, then moves
#                            $LAB/target to $LAB/target.NAME (the recorder writes into a
#                            fresh $LAB/target from then on)
#   copylab_compare_round NAME [STREAMS_ARGS...]  streams.py $LAB/online $LAB/target.NAME

copylab_intercept() {
	local var=$1
	shift
	local args=("$@")
	[[ " ${args[*]} " == *" -F "* ]] || args+=(-F "tcp and src port $PORT_TG")
	bg "$var" "$NS_AS" 600 "$TW_BIN" intercept -i eth0 "${args[@]}"
	if ! wait_file_has "$TW_TMP/$var.err" 'intercept listening' 10; then
		cat "$TW_TMP/$var.err"
		fail "intercept did not start: ${args[*]}"
	fi
}

copylab_copy() {
	local name=$1 rc=0 x=(-x "$PORT_ON-$IP_TG:$PORT_TG")
	shift
	[[ " $* " == *" -x "* ]] && x=()
	timeout -s INT -k 10 "${T_COPY:-300}" ip netns exec "$NS_ON" "$TW_BIN" copy \
		"${x[@]}" -s "$IP_AS" --report "$LAB/$name.json" "$@" \
		>"$LAB/$name.log" 2>&1 || rc=$?
	log "copy $name ($*): exit $rc"
	grep -v '^\[' "$LAB/$name.log" | head -20 | sed 's/^/    /'
	return "$rc"
}

copylab_outcome() {
	"$COPYLAB_PY" - "$LAB/$1.json" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
k = sys.argv[2]
print(r[k] if k in r else r["outcomes"][k])
PY
}

copylab_target_round() {
	copylab_wait_streams "$LAB/target" "$2" "${3:-60}" ||
		log "target: only $(copylab_count "$LAB/target") of $2 streams after ${3:-60} s"
	sleep 0.5
	mv "$LAB/target" "$LAB/target.$1"
	mkdir -p "$LAB/target"
}

#   copylab_replay NAME PCAP SESSIONS COPIES [COPY ARGS...]  copylab_copy -i PCAP, then: it
#                            exits 0, replays SESSIONS sessions, all done, and the target gets
#                            every online stream COPIES times byte-exact (fails the test otherwise)
copylab_replay() {
	local name=$1 pcap=$2 sess=$3 copies=$4 n
	shift 4
	copylab_copy "$name" -i "$pcap" "$@" || fail "copy $name exited non-zero"
	n=$(copylab_outcome "$name" sessions)
	[ "$n" -eq "$sess" ] || fail "$name: $n sessions replayed, expected $sess"
	n=$(copylab_outcome "$name" "done")
	[ "$n" -eq "$sess" ] || fail "$name: only $n of $sess sessions done"
	copylab_target_round "$name" "$sess"
	copylab_compare_round "$name" --copies "$copies" ||
		fail "$name: the target did not get every stream byte-exact"
}

copylab_compare_round() {
	local name=$1
	shift
	"$COPYLAB_PY" "$COPYLAB_DIR/streams.py" "$LAB/online" "$LAB/target.$name" "$@"
}
