#!/usr/bin/env bash
# tests/e2e/test_sink.sh - the packet sinks of `tcptwin copy` (src/send/sink*.c)
# and the rtnetlink lookups behind them (src/send/route.c), in the bridge lab
# (on 10.10.0.1 = replayer, tg 10.10.0.2 = target, as 10.10.0.3 = assistant).
#
# A small driver (tests/e2e/sink_drv.c, compiled here against libtw.a) forges
# TCP SYNs from spoofed clients 192.168.200.x and sends them from `on`:
#  - rawip: tcpdump in tg shows every SYN with its forged source, no
#    "incorrect" checksum, one sendmmsg for the batch; a malformed packet in
#    the batch is refused alone (EINVAL) and the rest still go out;
#  - afpacket after `ip neigh flush`: the frames carry on's MAC and tg's MAC
#    (resolved through rtnetlink), and via a gateway route the assistant's MAC;
#    a MAC given by the caller is used as is;
#  - oversize packets (above the MTU) -> counted EMSGSIZE, per packet;
#  - route MTU: `ip link set eth0 mtu 1400` and `ip route ... mtu 1300` are
#    what the lookup returns, and a 1400-byte packet passes where 1401 fails;
#  - backpressure: a tbf qdisc drops, both engines report ENOBUFS for the
#    rest of the batch, and resending those (as the session engine will)
#    delivers every SYN;
#  - an iptables OUTPUT drop on the sender: rawip gets EPERM per packet,
#    afpacket frames go around netfilter and arrive; PACKET_QDISC_BYPASS;
#  - IPv6 (rawip and afpacket with ND, route MTU) when the lab can enable it.
# Offloads stay on (the sender's checksums are ours on both paths).
# Does not fill the conntrack table (the other source of EPERM).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need_cmd tcpdump cc
B=${TW_BUILD:-build}
[[ $B == /* ]] || B=$TW_ROOT/$B
[ -f "$B/libtw.a" ] || fail "$B/libtw.a not found (build it first)"
errors=0
bad() { echo "  FAIL: $*"; errors=$((errors + 1)); }

DRV=$TW_TMP/sink_drv
san=()
if nm "$B/libtw.a" 2>/dev/null | grep __asan_ >/dev/null; then san=("-fsanitize=address,undefined"); fi
cc -std=gnu17 -D_GNU_SOURCE -I"$TW_ROOT/src" -O1 -g "${san[@]}" -o "$DRV" \
	"$TW_ROOT/tests/e2e/sink_drv.c" "$B/libtw.a" || fail "cannot build sink_drv"

make_bridge_lab
# replies for the spoofed clients go to the assistant, which drops them
nsx "$TG" ip route add 192.168.200.0/24 via "$AS_IP"
# a range reached through the assistant as gateway (for the next-hop test)
nsx "$ON" ip route add 10.99.0.0/24 via "$AS_IP"
mac_of() { nsx "$1" cat /sys/class/net/eth0/address; }
ON_MAC=$(mac_of "$ON") TG_MAC=$(mac_of "$TG") AS_MAC=$(mac_of "$AS")
log "macs: on $ON_MAC tg $TG_MAC as $AS_MAC"

# kv FILE KEY: the value of KEY=VALUE in FILE (last one)
kv() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" "$1" | tail -1; }
# expect FILE KEY VALUE
expect() {
	local v
	v=$(kv "$1" "$2")
	[ "$v" = "$3" ] || bad "$(basename "$1"): $2=$v, want $3"
}

# cap_start NAME NS FILTER: tcpdump -e -vv in NS on eth0 into $TW_TMP/NAME.out
cap_start() {
	local name=$1 ns=$2
	shift 2
	start_capture "$name" "$ns" 60 tcpdump -l -n -e -vv -i eth0 "$@"
}
# cap_stop NAME: stop the capture, print its text
cap_stop() {
	sleep 0.5
	stop_wait "${!1}" INT || true
	head -24 "$TW_TMP/$1.out" | sed 's/^/    | /'
}

# drv NAME NS ARGS...: run the driver, output in $TW_TMP/NAME.drv
drv() {
	local name=$1 ns=$2
	shift 2
	if ! nsx "$ns" "$DRV" "$@" >"$TW_TMP/$name.drv" 2>"$TW_TMP/$name.drv.err"; then
		cat "$TW_TMP/$name.drv.err"
		fail "sink_drv $* failed"
	fi
	sed 's/^/    > /' "$TW_TMP/$name.drv"
}

# count_syns FILE SRC_RE DST_RE [SRCMAC DSTMAC]: forged SYNs from SRC_RE
# (regex of the address) to DST_RE port 8080 in tcpdump -e -vv text; with
# the MACs, only frames from SRCMAC to DSTMAC count (-vv prints IPv4 frames on
# two lines, the link header first; IPv6 ones on one)
count_syns() {
	local re="[[:space:]]$2\\.4[0-9]+ > $3\\.8080: Flags \\[S\\]"
	if [ $# -ge 5 ]; then
		grep -A1 -E "^[0-9:.]+ $4 > $5, ethertype IPv[46]" "$1" | grep -cE "$re" || true
	else
		grep -cE "$re" "$1" || true
	fi
}

log "rawip: 8 spoofed SYNs and one malformed packet in one batch"
cap_start craw "$TG" tcp and dst port 8080
drv raw "$ON" send -e rawip -s 192.168.200.1 -t "$TG_IP" -n 8 -x
cap_stop craw
expect "$TW_TMP/raw.drv" results "0,0,0,0,-22,0,0,0,0"
expect "$TW_TMP/raw.drv" packets 8
expect "$TW_TMP/raw.drv" bytes $((8 * 44))
expect "$TW_TMP/raw.drv" err_other 1
expect "$TW_TMP/raw.drv" calls 1
n=$(count_syns "$TW_TMP/craw.out" '192\.168\.200\.[1-8]' '10\.10\.0\.2' "$ON_MAC" "$TG_MAC")
[ "$n" -eq 8 ] || bad "rawip: tg saw $n forged SYNs from on's MAC, want 8"
c=$(grep -c '(correct)' "$TW_TMP/craw.out" || true)
[ "$c" -eq 8 ] || bad "rawip: $c TCP checksums verified correct by tcpdump, want 8"
grep -q incorrect "$TW_TMP/craw.out" && bad "rawip: tcpdump says a checksum is incorrect"

log "rawip: 64 SYNs in one sendmmsg"
drv raw64 "$ON" send -e rawip -s 192.168.201.1 -t "$TG_IP" -n 64 -b 64
expect "$TW_TMP/raw64.drv" packets 64
expect "$TW_TMP/raw64.drv" calls 1

log "afpacket: next-hop MAC after ip neigh flush"
nsx "$ON" ip neigh flush all
nb=$(nsx "$ON" ip neigh show dev eth0)
grep -q "$TG_IP .*lladdr" <<<"$nb" && bad "neighbour entry survived the flush"
cap_start cafp "$TG" tcp and dst port 8080
drv afp "$ON" send -e afpacket -o eth0 -s 192.168.200.11 -t "$TG_IP" -n 5 -x
cap_stop cafp
expect "$TW_TMP/afp.drv" results "0,0,-22,0,0,0"
expect "$TW_TMP/afp.drv" packets 5
expect "$TW_TMP/afp.drv" err_other 1
expect "$TW_TMP/afp.drv" calls 1
expect "$TW_TMP/afp.drv" resolves 2
n=$(count_syns "$TW_TMP/cafp.out" '192\.168\.200\.1[1-5]' '10\.10\.0\.2' "$ON_MAC" "$TG_MAC")
[ "$n" -eq 5 ] || bad "afpacket: tg saw $n forged SYNs $ON_MAC > $TG_MAC, want 5"
c=$(grep -c '(correct)' "$TW_TMP/cafp.out" || true)
[ "$c" -eq 5 ] || bad "afpacket: $c TCP checksums verified correct by tcpdump, want 5"
grep -q incorrect "$TW_TMP/cafp.out" && bad "afpacket: tcpdump says a checksum is incorrect"
nb=$(nsx "$ON" ip neigh show "$TG_IP" dev eth0)
grep -qi "lladdr $TG_MAC" <<<"$nb" ||
	bad "afpacket: no neighbour entry for $TG_IP after resolution"

log "afpacket: next hop through a gateway (the assistant)"
nsx "$ON" ip neigh flush all
cap_start cgw "$AS" tcp and dst port 8080
drv gw "$ON" send -e afpacket -o eth0 -s 192.168.200.21 -t 10.99.0.5 -n 3
cap_stop cgw
expect "$TW_TMP/gw.drv" packets 3
n=$(count_syns "$TW_TMP/cgw.out" '192\.168\.200\.2[123]' '10\.99\.0\.5' "$ON_MAC" "$AS_MAC")
[ "$n" -eq 3 ] || bad "gateway: the assistant saw $n SYNs to 10.99.0.5 addressed to its MAC, want 3"

log "afpacket: PACKET_QDISC_BYPASS"
cap_start cqb "$TG" tcp and dst port 8080
drv qb "$ON" send -e afpacket -o eth0 -q -s 192.168.204.1 -t "$TG_IP" -n 4
cap_stop cqb
expect "$TW_TMP/qb.drv" packets 4
n=$(count_syns "$TW_TMP/cqb.out" '192\.168\.204\.[1-4]' '10\.10\.0\.2' "$ON_MAC" "$TG_MAC")
[ "$n" -eq 4 ] || bad "qdisc bypass: tg saw $n SYNs, want 4"

log "afpacket: a MAC given by the caller"
cap_start cmac "$TG" tcp and dst port 8080
drv mac "$ON" send -e afpacket -o eth0 -m 02:00:00:00:00:99 -s 192.168.200.31 -t "$TG_IP" -n 2
cap_stop cmac
expect "$TW_TMP/mac.drv" resolves 0
m=$(count_syns "$TW_TMP/cmac.out" '192\.168\.200\.3[12]' '10\.10\.0\.2' "$ON_MAC" 02:00:00:00:00:99)
[ "$m" -eq 2 ] || bad "given MAC: $m frames to 02:00:00:00:00:99, want 2"

log "afpacket: no route through the device -> unreachable, counted"
drv unr "$ON" send -e afpacket -o eth0 -s 192.168.200.41 -t 10.250.0.1 -n 2
expect "$TW_TMP/unr.drv" results "-101,-101"
expect "$TW_TMP/unr.drv" err_unreach 2
expect "$TW_TMP/unr.drv" packets 0
expect "$TW_TMP/unr.drv" resolves 1

if command -v iptables >/dev/null 2>&1 &&
	nsx "$ON" iptables -A OUTPUT -p tcp -d "$TG_IP" --dport 8080 -j DROP 2>/dev/null; then
	log "netfilter OUTPUT drop: rawip -> EPERM per packet; afpacket goes around it"
	cap_start cnf "$TG" tcp and dst port 8080
	drv nf "$ON" send -e rawip -s 192.168.205.1 -t "$TG_IP" -n 3
	drv nfafp "$ON" send -e afpacket -o eth0 -s 192.168.206.1 -t "$TG_IP" -n 3
	cap_stop cnf
	nsx "$ON" iptables -D OUTPUT -p tcp -d "$TG_IP" --dport 8080 -j DROP
	expect "$TW_TMP/nf.drv" results "-1,-1,-1"
	expect "$TW_TMP/nf.drv" err_perm 3
	expect "$TW_TMP/nfafp.drv" packets 3
	n=$(count_syns "$TW_TMP/cnf.out" '192\.168\.205\.[1-3]' '10\.10\.0\.2')
	[ "$n" -eq 0 ] || bad "netfilter: $n rawip SYNs got through the DROP rule"
	n=$(count_syns "$TW_TMP/cnf.out" '192\.168\.206\.[1-3]' '10\.10\.0\.2')
	[ "$n" -eq 3 ] || bad "netfilter: tg saw $n afpacket SYNs, want 3"
else
	log "iptables not usable in the lab: netfilter part skipped"
fi

log "oversize packets -> EMSGSIZE, counted per packet"
drv big "$ON" send -e rawip -s 192.168.200.51 -t "$TG_IP" -n 3 -l 3000
expect "$TW_TMP/big.drv" results "-90,-90,-90"
expect "$TW_TMP/big.drv" err_msgsize 3
expect "$TW_TMP/big.drv" packets 0
drv bigafp "$ON" send -e afpacket -o eth0 -s 192.168.200.51 -t "$TG_IP" -n 3 -l 3000
expect "$TW_TMP/bigafp.drv" err_msgsize 3
expect "$TW_TMP/bigafp.drv" packets 0

log "backpressure: tbf on on's eth0 -> ENOBUFS per packet (IP_RECVERR), retries deliver all"
# 64 frames of 58 bytes at once exceed burst + limit (3200 bytes): the qdisc
# drops, the kernel says ENOBUFS, the sink stops the batch there; the driver
# resends the failed ones with TW_SINK_PKT_RETRY every 50 ms
nsx "$ON" tc qdisc add dev eth0 root tbf rate 200kbit burst 1600 limit 1600
cap_start cbp "$TG" tcp and dst port 8080
drv bp "$ON" send -e rawip -s 192.168.202.1 -t "$TG_IP" -n 64 -b 64 -r
drv bpafp "$ON" send -e afpacket -o eth0 -s 192.168.203.1 -t "$TG_IP" -n 64 -b 64 -r
sleep 0.5
cap_stop cbp
nsx "$ON" tc qdisc del dev eth0 root
for f in bp bpafp; do
	grep -qE '^(0,)+(-105,)*-105$' <<<"$(kv "$TW_TMP/$f.drv" first)" ||
		bad "$f: first pass $(kv "$TW_TMP/$f.drv" first), want some sent then ENOBUFS (-105) to the end"
	expect "$TW_TMP/$f.drv" results "$(printf '0%.0s,' $(seq 1 63))0"
	expect "$TW_TMP/$f.drv" packets 64
	nb=$(kv "$TW_TMP/$f.drv" err_nobufs) rt=$(kv "$TW_TMP/$f.drv" retries)
	if ! { [ "${nb:-0}" -gt 0 ] && [ "${rt:-0}" -gt 0 ] && [ "$rt" -le "$nb" ]; }; then
		bad "$f: err_nobufs=$nb retries=$rt, want both > 0 and retries <= err_nobufs"
	fi
done
n=$(count_syns "$TW_TMP/cbp.out" '192\.168\.202\.[0-9]+' '10\.10\.0\.2')
[ "$n" -eq 64 ] || bad "backpressure rawip: tg saw $n SYNs, want 64"
n=$(count_syns "$TW_TMP/cbp.out" '192\.168\.203\.[0-9]+' '10\.10\.0\.2')
[ "$n" -eq 64 ] || bad "backpressure afpacket: tg saw $n SYNs, want 64"

log "route MTU"
drv r1 "$ON" route "$TG_IP"
expect "$TW_TMP/r1.drv" mtu 1500
expect "$TW_TMP/r1.drv" dev eth0
expect "$TW_TMP/r1.drv" gateway -
expect "$TW_TMP/r1.drv" nexthop "$TG_IP"
expect "$TW_TMP/r1.drv" prefsrc "$ON_IP"
nsx "$ON" ip link set eth0 mtu 1400
drv r2 "$ON" route "$TG_IP"
expect "$TW_TMP/r2.drv" mtu 1400
expect "$TW_TMP/r2.drv" dev_mtu 1400
expect "$TW_TMP/r2.drv" route_mtu 0
nsx "$ON" ip route add 10.98.0.0/24 via "$AS_IP" mtu 1300
drv r3 "$ON" route 10.98.0.7
expect "$TW_TMP/r3.drv" mtu 1300
expect "$TW_TMP/r3.drv" route_mtu 1300
expect "$TW_TMP/r3.drv" gateway "$AS_IP"
expect "$TW_TMP/r3.drv" nexthop "$AS_IP"
# 40 bytes of IP+TCP headers + 4 of options: 1356 bytes of data = 1400
drv fit "$ON" send -e rawip -s 192.168.200.61 -t "$TG_IP" -n 1 -l 1356
expect "$TW_TMP/fit.drv" results 0
drv over "$ON" send -e rawip -s 192.168.200.61 -t "$TG_IP" -n 1 -l 1357
expect "$TW_TMP/over.drv" results -90
drv fit2 "$ON" send -e afpacket -o eth0 -s 192.168.200.61 -t "$TG_IP" -n 1 -l 1356
expect "$TW_TMP/fit2.drv" results 0
drv over2 "$ON" send -e afpacket -o eth0 -s 192.168.200.61 -t "$TG_IP" -n 1 -l 1357
expect "$TW_TMP/over2.drv" results -90
nsx "$ON" ip link set eth0 mtu 1500

log "IPv6"
v6=1
for n in "$ON" "$TG"; do
	# no DAD: a tentative link-local address would keep the kernel from
	# sending neighbour solicitations for a while (ndisc_send_ns needs one)
	nsx "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.eth0.accept_dad=0 >/dev/null 2>&1 || v6=0
	nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.eth0.disable_ipv6=0 \
		>/dev/null 2>&1 || v6=0
done
if [ "$v6" = 1 ]; then
	nsx "$ON" ip -6 addr add fd00:10::1/64 dev eth0 nodad
	nsx "$TG" ip -6 addr add fd00:10::2/64 dev eth0 nodad
	nsx "$TG" ip -6 route add fd00:200::/64 via fd00:10::1
	cap_start c6 "$TG" ip6 and tcp and dst port 8080
	nsx "$ON" ip -6 route add fd00:99::/64 via fd00:10::2 mtu 1280
	drv r6 "$ON" route fd00:99::7
	expect "$TW_TMP/r6.drv" mtu 1280
	expect "$TW_TMP/r6.drv" gateway fd00:10::2
	expect "$TW_TMP/r6.drv" prefsrc fd00:10::1
	expect "$TW_TMP/r6.drv" dev eth0
	drv raw6 "$ON" send -e rawip -s fd00:200::1 -t fd00:10::2 -n 3
	nsx "$ON" ip -6 neigh flush all
	drv afp6 "$ON" send -e afpacket -o eth0 -s fd00:200::11 -t fd00:10::2 -n 3
	cap_stop c6
	expect "$TW_TMP/raw6.drv" packets 3
	expect "$TW_TMP/afp6.drv" packets 3
	n=$(count_syns "$TW_TMP/c6.out" 'fd00:200::[1-3]' 'fd00:10::2' "$ON_MAC" "$TG_MAC")
	[ "$n" -eq 3 ] || bad "IPv6 rawip: tg saw $n forged SYNs $ON_MAC > $TG_MAC, want 3"
	n=$(count_syns "$TW_TMP/c6.out" 'fd00:200::1[1-3]' 'fd00:10::2' "$ON_MAC" "$TG_MAC")
	[ "$n" -eq 3 ] || bad "IPv6 afpacket: tg saw $n forged SYNs $ON_MAC > $TG_MAC, want 3"
	c=$(grep -c '(correct)' "$TW_TMP/c6.out" || true)
	[ "$c" -eq 6 ] || bad "IPv6: $c TCP checksums verified correct by tcpdump, want 6"
	grep -q incorrect "$TW_TMP/c6.out" && bad "IPv6: tcpdump says a checksum is incorrect"
else
	log "IPv6 cannot be enabled in the lab: skipped that part"
fi

[ "$errors" -eq 0 ] || fail "$errors check(s) failed"
echo "PASS"
