#!/usr/bin/env bash
# tests/e2e/test_copy_socket.sh - socket mode (`copy --mode socket`): every
# captured session becomes a kernel TCP connection from the replay host to
# the target, no intercept, no routes, no forged packets. On the offline
# corpora of the raw-mode tests, byte-exact per connection:
#  1. mixed keep-alive traffic (POSTs up to 100 KB, 150 KB replies, TSO
#     super-packets), top speed;
#  2. uploads the server answers before reading the body (early=1);
#  3. -n 3: three copies of every stream;
#  4. 10 000 short connections whose client ports are reused;
#  5. a pcap of VXLAN-encapsulated traffic (the mirror as the assistant's
#     tcpdump wrote it, outer headers and all);
#  6. --source-ip with two local addresses: connections from both;
#  7. --transparent: the connections keep the client addresses; the target
#     routes them back to the replay host, which delivers them locally with
#     the policy route the README gives.
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_bin
need_cmd tcpdump tc "$COPYLAB_PY"

copylab_up
copylab_servers

record() { # NAME CONNS REQS MIX
	copylab_record_start "$LAB/$1.pcap"
	copylab_drive "$2" "$3" "$4"
	copylab_record_stop
	[ "$COPYLAB_REC_DROPPED" -eq 0 ] || fail "the capture of $1 lost $COPYLAB_REC_DROPPED packets"
}

replay() { copylab_replay "$1" "$2" "$3" "$4" --mode socket "${@:5}"; }

newround() { mv "$LAB/online" "$LAB/online.$1" && mkdir -p "$LAB/online"; }

log "1. mixed keep-alive traffic, top speed"
record mixed 400 4 mixed
copylab_wait_streams "$LAB/online" 400 || fail "online streams missing"
replay mixed "$LAB/mixed.pcap" 400 1 --topspeed

log "2. early replies"
newround mixed
record early 100 3 early
copylab_wait_streams "$LAB/online" 100 || fail "online streams missing"
replay early "$LAB/early.pcap" 100 1 --topspeed

log "3. -n 3"
replay copies "$LAB/early.pcap" 300 3 --topspeed -n 3

log "4. 10 000 short connections with client port reuse"
newround early
record short 10000 1 short
copylab_wait_streams "$LAB/online" 10000 || fail "online streams missing"
replay short "$LAB/short.pcap" 10000 1 --topspeed

log "5. a pcap of VXLAN-encapsulated traffic"
newround short
# the underlay carries full-size inner frames (a vxlan device's default MTU of
# 1450 would cut 1500-byte packets: a truncated mirror, which copy refuses)
for n in "$NS_ON" "$NS_TG" "$NS_AS"; do nsx "$n" ip link set eth0 mtu 1600; done
for p in p-on p-tg p-as; do nsx "$NS_SW" ip link set "$p" mtu 1600; done
nsx "$NS_ON" ip link add vx0 type vxlan id 42 remote "$IP_AS" dstport 4789 dev eth0
nsx "$NS_ON" ip link set vx0 mtu 1500 up
nsx "$NS_ON" tc qdisc add dev cl0 clsact
nsx "$NS_ON" tc filter add dev cl0 ingress protocol ip u32 match ip protocol 6 0xff \
	match ip dport "$PORT_ON" 0xffff action mirred egress mirror dev vx0
# the assistant drops the mirror (nothing listens on 4789 there: no ICMP back either)
nsx "$NS_AS" iptables -t raw -A PREROUTING -p udp --dport 4789 -j DROP
start_capture VXC "$NS_AS" 120 tcpdump -i eth0 -s 262144 -w "$LAB/vxlan.pcap" 'udp port 4789'
copylab_drive 200 3 mixed
copylab_wait_streams "$LAB/online" 200 || fail "online streams missing"
sleep 1.2
stop_wait "$VXC" INT || true
grep -E 'dropped by kernel' "$TW_TMP/VXC.err" | grep -q '^0 ' || log "warning: $(grep dropped "$TW_TMP/VXC.err")"
replay vxlan "$LAB/vxlan.pcap" 200 1 --topspeed
n=$(tcpdump -r "$LAB/vxlan.pcap" -nn 'udp port 4789' 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || fail "the VXLAN pcap holds no VXLAN packets"

log "6. --source-ip with two addresses"
nsx "$NS_ON" ip addr add 10.77.0.11/24 dev eth0
nsx "$NS_ON" ip addr add 10.77.0.12/24 dev eth0
replay sources "$LAB/vxlan.pcap" 200 1 --topspeed --source-ip 10.77.0.11,10.77.0.12
for a in 10.77.0.11 10.77.0.12; do
	ls "$LAB/target.sources/${a}_"*.bin >/dev/null 2>&1 || fail "no connection came from $a"
done
log "7. --transparent"
nsx "$NS_TG" ip route replace "$NET_CL" via "$IP_ON"
nsx "$NS_ON" ip rule add fwmark 1 lookup 100
nsx "$NS_ON" ip route add local 0.0.0.0/0 dev lo table 100
nsx "$NS_ON" iptables -t mangle -A PREROUTING -p tcp --sport "$PORT_TG" -j MARK --set-mark 1
replay transparent "$LAB/vxlan.pcap" 200 1 --topspeed --transparent
n=$(find "$LAB/target.transparent" -name "${IP_CL}_*.bin" | wc -l)
[ "$n" -eq 200 ] || fail "--transparent: $n of 200 connections came from the client address $IP_CL"
log "ok"
