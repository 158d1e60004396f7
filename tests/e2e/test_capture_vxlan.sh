#!/usr/bin/env bash
# tests/e2e/test_capture_vxlan.sh - receiving an emulated cloud traffic mirror.
# Bridge lab (linux-net.md 10): client in ON, nginx in TG, collector in AS.
# TG mirrors its port-8080 TCP traffic with tc mirred into a VXLAN device (VNI
# 42) toward AS:4789 (recipe of linux-net.md 10.1). In AS,
# `tcptwin capture -i vxlan:4789 --decap -w F` records the mirror while curl
# and ab run; at the same time tcpdump records TG's eth0.
# Asserts: F is a raw-IP pcap (LINKTYPE_RAW); every client->server TCP
# segment that TG's own capture saw is in F with the same line (addresses,
# ports, flags, absolute seq/ack, win, options, length), as printed by
# `tcpdump -r -nn -S`; the collector sent no ICMP port-unreachable (the
# listener really holds UDP 4789); the capture exits 0 on SIGINT with its
# statistics lines; and reading the raw mirror (outer) pcap with
# `capture -r --decap -n -S` prints exactly tcpdump's inner lines. Server->client segments are not compared: TSO
# super-packets mirrored on egress may be split differently in the tunnel.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
need_cmd nginx ab curl tcpdump tc nstat
need_bin

make_bridge_lab
if ! vxlan_mirror "$TG" "$AS_IP" 8080 42 2>"$TW_TMP/mirror.err"; then
	cat "$TW_TMP/mirror.err"
	skip "VXLAN device or tc mirred not available"
fi
nginx_start NGINX "$TG" "$TG_IP" 8080
F=$TW_TMP/mirror.pcap

log "collector: $TW_BIN capture -i vxlan:4789 --decap -w $F (in $AS)"
start_capture COL "$AS" 300 "$TW_BIN" capture -i vxlan:4789 --decap -w "$F"
start_capture REF "$TG" 300 tcpdump -i eth0 -w "$TW_TMP/server.pcap" tcp port 8080
# the raw mirror as it arrives (outer Ethernet/IP/UDP/VXLAN), for the -r --decap check below
start_capture RAW "$AS" 300 tcpdump -i eth0 -w "$TW_TMP/outer.pcap" udp dst port 4789
nsx "$AS" nstat -n >/dev/null   # reset nstat's history: the next call shows the delta

log "traffic: curl x 3, ab -c 10 -n 500, ab -n 10 on 200 KB"
for f in index.html 10k.bin 200k.bin; do
	nsx "$ON" curl -sf -o /dev/null "http://$TG_IP:8080/$f"
done
T_STEP=120 nsx "$ON" ab -q -c 10 -n 500 "http://$TG_IP:8080/small.html" >"$TW_TMP/ab1.txt"
T_STEP=120 nsx "$ON" ab -q -c 2 -n 10 "http://$TG_IP:8080/200k.bin" >"$TW_TMP/ab2.txt"
grep -qE '^Failed requests: +0$' "$TW_TMP/ab1.txt" || fail "ab had failures"

sleep 2
nsx "$AS" nstat -az IcmpOutDestUnreachs UdpInDatagrams UdpRcvbufErrors UdpInErrors >"$TW_TMP/nstat.txt"
unreach=$(awk '$1 == "IcmpOutDestUnreachs" { print $2 }' "$TW_TMP/nstat.txt")
nsx "$TG" ip -s link show vx0 >"$TW_TMP/vx0.txt"
rc=0
stop_wait "$COL" INT || rc=$?
stop_wait "$REF" INT || fail "tcpdump on the server failed"
stop_wait "$RAW" INT || fail "tcpdump on the collector failed"
cat "$TW_TMP/COL.err"
[ "$rc" -eq 0 ] || fail "collector exited $rc after SIGINT"
[ -n "$(stats_get "$TW_TMP/COL.err" captured)" ] || fail "collector printed no statistics"
[ "${unreach:-0}" -eq 0 ] || fail "collector sent $unreach ICMP destination-unreachable (port 4789 not held?)"
[ -s "$F" ] || fail "no output file"

# pcap header: link type at bytes 20-23 (little endian as written here)
lt=$(od -An -tu4 -j20 -N4 "$F" | tr -d ' ')
[ "$lt" = 101 ] || fail "link type of $F is $lt, want 101 (LINKTYPE_RAW)"

c2s="src host $ON_IP and tcp dst port 8080"
timeout 60 tcpdump -r "$TW_TMP/server.pcap" -nn -S "$c2s" 2>/dev/null | cut -d' ' -f2- | sort >"$TW_TMP/server.c2s"
timeout 60 tcpdump -r "$F" -nn -S "$c2s" 2>"$TW_TMP/mirror.rd" | cut -d' ' -f2- | sort >"$TW_TMP/mirror.c2s" ||
	{ cat "$TW_TMP/mirror.rd"; fail "tcpdump cannot read $F"; }
ns=$(wc -l <"$TW_TMP/server.c2s")
nm=$(wc -l <"$TW_TMP/mirror.c2s")
log "client->server segments: server saw $ns, mirror file has $nm"
[ "$ns" -ge 3000 ] || fail "server capture has only $ns client->server segments"
missing=$(comm -23 "$TW_TMP/server.c2s" "$TW_TMP/mirror.c2s" | tee "$TW_TMP/missing.txt" | wc -l)
if [ "$missing" -ne 0 ]; then
	head -10 "$TW_TMP/missing.txt"
	echo "collector UDP counters:"; cat "$TW_TMP/nstat.txt"
	echo "mirror device:"; cat "$TW_TMP/vx0.txt"
	fail "$missing client->server segments seen by the server are not in the mirror file"
fi
# and the server->client side is there too (not compared line by line)
s2c=$(timeout 60 tcpdump -r "$F" -nn "src host $TG_IP and tcp src port 8080" 2>/dev/null | wc -l)
[ "$s2c" -gt 0 ] || fail "no server->client packets in the mirror file"
log "all $ns client->server segments present; $s2c server->client packets"

# Reading the raw mirror file: `tcptwin capture -r F --decap -n -S` prints, for
# every packet, the inner line that tcpdump prints under its VXLAN line
# (tcpdump: "TIME IP outer > outer: VXLAN, flags [I] (0x08), vni 42" then
# "IP inner..." on the next line; tcptwin --decap: "TIME IP inner...").
tcpdump -r "$TW_TMP/outer.pcap" -nn -S 2>/dev/null >"$TW_TMP/outer.td"
grep -c 'VXLAN, flags \[I\] (0x08), vni 42$' "$TW_TMP/outer.td" >"$TW_TMP/outer.nvx" || true
awk '/VXLAN, flags/ { want = 1; next } want { print; want = 0 }' "$TW_TMP/outer.td" >"$TW_TMP/outer.inner"
"$TW_BIN" capture -r "$TW_TMP/outer.pcap" --decap -n -S 2>"$TW_TMP/outer.err" |
	cut -d' ' -f2- >"$TW_TMP/outer.tw" || { cat "$TW_TMP/outer.err"; fail "tcptwin -r --decap failed"; }
nvx=$(cat "$TW_TMP/outer.nvx")
ntw=$(wc -l <"$TW_TMP/outer.tw")
[ "$nvx" -ge 3000 ] || fail "raw mirror file has only $nvx VXLAN packets"
[ "$nvx" -eq "$ntw" ] || fail "tcpdump shows $nvx VXLAN packets, tcptwin --decap printed $ntw lines"
if ! diff -u "$TW_TMP/outer.inner" "$TW_TMP/outer.tw" >"$TW_TMP/outer.diff"; then
	head -20 "$TW_TMP/outer.diff"
	fail "tcptwin -r --decap differs from tcpdump's inner lines"
fi
log "-r --decap: $ntw inner lines identical to tcpdump's"
# and without --decap the whole file prints as tcpdump prints it (outer VXLAN
# line, inner line; first fragments of oversize mirror packets included)
"$TW_BIN" capture -r "$TW_TMP/outer.pcap" -n -S 2>/dev/null >"$TW_TMP/outer.tw2"
if ! diff -u "$TW_TMP/outer.td" "$TW_TMP/outer.tw2" >"$TW_TMP/outer.diff2"; then
	head -20 "$TW_TMP/outer.diff2"
	fail "tcptwin -r of the raw mirror differs from tcpdump -r"
fi
log "-r: $(wc -l <"$TW_TMP/outer.td") lines identical to tcpdump's"
echo "PASS"
