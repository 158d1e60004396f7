# shellcheck shell=bash
# tests/e2e/lib.sh - shared helpers for the end-to-end tests, in the style of
# the kernel selftests (tools/testing/selftests/net/lib.sh). Source it.
#
# What it does: random namespace names (prefix "tw" + mktemp -u), a
# client/server pair on one veth, the bridge lab (sw + on/tg/as, notes
# linux-net.md section 10), sysctls set explicitly in every namespace, nginx
# started from its own config in a temp dir, background processes started and
# stopped by saved PID, `trap cleanup EXIT` that stops them and deletes every
# namespace, exit 4 = skip. Every external step runs under `timeout`.
#
# What it does not do: touch the root namespace's interfaces, routes or
# sysctls (veths are created directly inside the lab namespaces with
# `ip link add ... netns NS ... peer ... netns NS2`), give any namespace a
# route out of the lab, or switch offloads off (GRO/TSO super-packets are part
# of what we test).

set -euo pipefail

# shellcheck disable=SC2034 # for the scripts that source this file
readonly KSFT_PASS=0 KSFT_FAIL=1 KSFT_SKIP=4
TW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TW_BIN=${TW_BIN:-$TW_ROOT/build/tcptwin}
[[ $TW_BIN == /* ]] || TW_BIN=$TW_ROOT/$TW_BIN
TW_SUFFIX=$(mktemp -u XXXXXX)
TW_TMP=$(mktemp -d "/tmp/tw-e2e.$TW_SUFFIX.XXXX")
chmod 755 "$TW_TMP"
T_STEP=${T_STEP:-30}         # seconds for an ordinary step

TW_NS=()      # namespaces to delete
TW_PIDS=()    # background processes to stop

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
skip() { echo "SKIP: $*"; exit "$KSFT_SKIP"; }
fail() { echo "FAIL: $*"; exit "$KSFT_FAIL"; }

cleanup() {
	local rc=$? pid i ns
	set +e
	for pid in "${TW_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${TW_PIDS[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${TW_NS[@]}"; do
		# processes still inside (nginx workers, ...) die with their namespace's
		# last user: kill them by PID first, then delete the namespace
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		timeout 10 ip netns del "$ns" 2>/dev/null
	done
	if [ "${TW_KEEP_TMP:-0}" = 1 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne "$KSFT_SKIP" ]; }; then
		echo "files kept in $TW_TMP"
	else
		rm -rf "$TW_TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c not installed"
	done
}

need_bin() {
	[ -x "$TW_BIN" ] || fail "binary $TW_BIN not found (build it first)"
}

# nsx NS CMD...: run CMD inside namespace NS under timeout $T_STEP
nsx() {
	local ns=$1
	shift
	timeout "$T_STEP" ip netns exec "$ns" "$@"
}

# ns_sysctls NS: the sysctls every lab namespace gets, set explicitly (IPv4
# conf values are inherited from the host, so nothing is left to chance).
ns_sysctls() {
	local ns=$1
	nsx "$ns" sysctl -qw \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.lo.rp_filter=0 \
		net.ipv4.ip_forward=0 \
		net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.default.accept_redirects=0 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 \
		net.ipv4.conf.all.accept_local=0 \
		net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0 \
		net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

# ns_iface_sysctls NS IFACE: per-interface values (rp_filter uses the max of
# all and the interface, so both are set)
ns_iface_sysctls() {
	nsx "$1" sysctl -qw "net.ipv4.conf.$2.rp_filter=0" "net.ipv4.conf.$2.accept_redirects=0" \
		"net.ipv4.conf.$2.send_redirects=0" >/dev/null
	nsx "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" >/dev/null 2>&1 || true
}

# ns_new VAR ROLE: create namespace tw<suffix>-ROLE, store its name in VAR.
# Exits 4 if namespaces cannot be created here.
ns_new() {
	local -n _ns=$1
	local name="tw$TW_SUFFIX-$2"
	if ! timeout 10 ip netns add "$name" 2>"$TW_TMP/netns.err"; then
		skip "ip netns add not permitted: $(head -1 "$TW_TMP/netns.err")"
	fi
	TW_NS+=("$name")
	_ns=$name
	nsx "$name" ip link set lo up
	ns_sysctls "$name"
}

# make_pair CLI_VAR SRV_VAR: two namespaces joined by one veth (eth0 in each),
# client 10.77.0.1/24, server 10.77.0.2/24. Offloads stay as the kernel sets them.
CLI_IP=10.77.0.1
SRV_IP=10.77.0.2
make_pair() {
	local -n _c=$1 _s=$2
	ns_new "$1" cli
	ns_new "$2" srv
	timeout "$T_STEP" ip link add eth0 netns "$_c" type veth peer name eth0 netns "$_s"
	nsx "$_c" ip addr add "$CLI_IP/24" dev eth0
	nsx "$_s" ip addr add "$SRV_IP/24" dev eth0
	ns_iface_sysctls "$_c" eth0
	ns_iface_sysctls "$_s" eth0
	nsx "$_c" ip link set eth0 up
	nsx "$_s" ip link set eth0 up
	wait_up "$_c" eth0
	wait_up "$_s" eth0
}

# make_bridge_lab: namespaces SW (bridge br0) and ON (replayer / client,
# 10.10.0.1), TG (target / server, 10.10.0.2), AS (assistant / collector,
# 10.10.0.3), each with eth0 whose peer is a port of br0. Sets SW ON TG AS.
# shellcheck disable=SC2034 # used by the scripts that source this file
ON_IP=10.10.0.1 TG_IP=10.10.0.2 AS_IP=10.10.0.3
make_bridge_lab() {
	local n i=1 role
	ns_new SW sw
	ns_new ON on
	ns_new TG tg
	ns_new AS as
	nsx "$SW" ip link add br0 type bridge
	nsx "$SW" ip link set br0 up
	for role in on tg as; do
		case $role in on) n=$ON ;; tg) n=$TG ;; as) n=$AS ;; esac
		timeout "$T_STEP" ip link add eth0 netns "$n" type veth peer name "p-$role" netns "$SW"
		nsx "$SW" ip link set "p-$role" master br0
		nsx "$SW" ip link set "p-$role" up
		nsx "$n" ip addr add "10.10.0.$i/24" dev eth0
		ns_iface_sysctls "$n" eth0
		nsx "$n" ip link set eth0 up
		i=$((i + 1))
	done
	for n in "$ON" "$TG" "$AS"; do
		wait_up "$n" eth0
	done
}

# vxlan_mirror NS TO_IP PORT VNI: the tc mirred recipe (linux-net.md 10.1):
# mirror NS's TCP traffic to and from PORT8080 ($4 = VNI) to TO_IP:4789.
vxlan_mirror() {
	local ns=$1 to=$2 sport=$3 vni=$4
	nsx "$ns" ip link add vx0 type vxlan id "$vni" remote "$to" dstport 4789 dev eth0
	nsx "$ns" sysctl -qw net.ipv6.conf.vx0.disable_ipv6=1 >/dev/null 2>&1 || true
	nsx "$ns" ip link set vx0 up
	nsx "$ns" tc qdisc add dev eth0 clsact
	nsx "$ns" tc filter add dev eth0 ingress protocol ip u32 match ip protocol 6 0xff \
		match ip dport "$sport" 0xffff action mirred egress mirror dev vx0
	nsx "$ns" tc filter add dev eth0 egress protocol ip u32 match ip protocol 6 0xff \
		match ip sport "$sport" 0xffff action mirred egress mirror dev vx0
}

# wait_up NS IFACE: until IFACE in NS is operationally up (carrier on both
# ends of the veth). There is no ping on the lab machines: connectivity is
# proven by the first TCP request of each test (nginx_start waits for one).
wait_up() {
	local i st
	for i in $(seq 1 50); do
		st=$(nsx "$1" cat "/sys/class/net/$2/operstate" 2>/dev/null || true)
		[ "$st" = up ] && return 0
		sleep 0.1
	done
	fail "$2 in $1 is not up (operstate '$st')"
}

# bg VAR NS SECONDS CMD...: start CMD in NS in the background under
# `timeout -s INT SECONDS` (timeout forwards SIGINT/SIGTERM to CMD), stdout and
# stderr to $TW_TMP/VAR.out / VAR.err; the PID (of timeout) goes to VAR and to
# the cleanup list.
bg() {
	local -n _pid=$1
	local name=$1 ns=$2 secs=$3
	shift 3
	timeout -s INT -k 5 "$secs" ip netns exec "$ns" "$@" >"$TW_TMP/$name.out" 2>"$TW_TMP/$name.err" &
	_pid=$!
	TW_PIDS+=("$_pid")
}

# stop_wait PID [SIGNAL]: send SIGNAL (default INT), wait, return its exit code
stop_wait() {
	local pid=$1 sig=${2:-INT} rc=0 i
	kill "-$sig" "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid" || rc=$?
	return "$rc"
}

# wait_file_has FILE REGEX [SECONDS]: until FILE has a line matching REGEX
wait_file_has() {
	local i n=$((${3:-10} * 10))
	for i in $(seq 1 "$n"); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_capture VAR NS SECONDS CMD...: bg + wait for the "listening on" banner
# that tcpdump and tcptwin print once the capture is ready.
start_capture() {
	bg "$@"
	if ! wait_file_has "$TW_TMP/$1.err" 'listening on' 10; then
		cat "$TW_TMP/$1.err"
		fail "capture $1 did not start: ${*:4}"
	fi
	sleep 0.3
}

# stats_get ERRFILE WHAT: N from "N packets WHAT" (captured, received by
# filter, dropped by kernel) in a statistics block; empty if absent
stats_get() {
	sed -n "s/^\([0-9][0-9]*\) packets\{0,1\} $2\$/\1/p" "$1" | tail -1
}

# nginx_start VAR NS ADDR PORT: nginx-light with its own config, pid file,
# logs and a docroot (index.html, small.html, 10k.bin, 200k.bin) in a temp
# dir; daemon off in the background; waits until it answers.
nginx_start() {
	local var=$1 ns=$2 addr=$3 port=$4 d
	d=$TW_TMP/nginx
	mkdir -p "$d/html" "$d/logs" "$d/tmp"
	chmod 755 "$d" "$d/html"
	echo "<html><body>tcptwin e2e</body></html>" >"$d/html/index.html"
	head -c 600 /dev/zero | tr '\0' 's' >"$d/html/small.html"
	head -c 10240 /dev/zero | tr '\0' 'm' >"$d/html/10k.bin"
	head -c 204800 /dev/zero | tr '\0' 'b' >"$d/html/200k.bin"
	chmod 644 "$d"/html/*
	cat >"$d/nginx.conf" <<EOF
worker_processes 2;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	default_type application/octet-stream;
	sendfile on;
	keepalive_requests 100000;
	server {
		listen $addr:$port reuseport backlog=4096;
		root $d/html;
	}
}
EOF
	bg "$var" "$ns" 600 nginx -e "$d/logs/error.log" -p "$d" -c "$d/nginx.conf" -g "daemon off; user nobody nogroup;"
	local i
	for i in $(seq 1 50); do
		if nsx "$ns" curl -s -o /dev/null --max-time 1 "http://$addr:$port/index.html"; then
			return 0
		fi
		sleep 0.1
	done
	cat "$d/logs/error.log" "$TW_TMP/$var.err" 2>/dev/null
	fail "nginx did not start in $ns"
}

# tcp_lines FILE: the TCP lines of tcpdump-format text (lines with "Flags [")
tcp_lines() {
	grep -F ': Flags [' "$1" || true
}

# max_len FILE: the largest "length N" at the end of a TCP line
max_len() {
	sed -n 's/.*, length \([0-9][0-9]*\).*/\1/p' "$1" | sort -n | tail -1
}
