#!/usr/bin/env bash
# tests/e2e/test_copy_mirror.sh - raw-mode replay from a cloud-style traffic
# mirror: the online host ON mirrors its client traffic (tc mirred on cl0, to
# a kernel VXLAN device, VNI 42) to the assistant AS, where
# `tcptwin copy -i vxlan:4789` receives it live and replays every session to
# the target, with the replies through the intercept on the same host.
# Mixed keep-alive traffic (POSTs, 150 KB replies) of 300 connections x 4
# requests: every session done, every stream byte-exact on the target.
# Then the same live mirror replayed in socket mode (no intercept involved),
# byte-exact too; and a mirror cut to 96 bytes of inner packet (the outer
# capture's snap length): every session with data ends "truncated", nothing
# with bytes missing reaches the target.
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_bin
need_cmd tc "$COPYLAB_PY"

copylab_up
copylab_servers
# the underlay carries full-size inner frames (a vxlan device's default MTU of
# 1450 would cut 1500-byte packets)
for n in "$NS_ON" "$NS_TG" "$NS_AS"; do nsx "$n" ip link set eth0 mtu 1600; done
for p in p-on p-tg p-as; do nsx "$NS_SW" ip link set "$p" mtu 1600; done
if ! nsx "$NS_ON" ip link add vx0 type vxlan id 42 remote "$IP_AS" dstport 4789 dev eth0 2>"$TW_TMP/vx.err"; then
	skip "no vxlan devices here: $(head -1 "$TW_TMP/vx.err")"
fi
nsx "$NS_ON" ip link set vx0 mtu 1500 up
nsx "$NS_ON" tc qdisc add dev cl0 clsact
nsx "$NS_ON" tc filter add dev cl0 ingress protocol ip u32 match ip protocol 6 0xff \
	match ip dport "$PORT_ON" 0xffff action mirred egress mirror dev vx0
nsx "$NS_ON" tc filter add dev cl0 egress protocol ip u32 match ip protocol 6 0xff \
	match ip sport "$PORT_ON" 0xffff action mirred egress mirror dev vx0
copylab_intercept ICEPT

bg COPY "$NS_AS" 300 "$TW_BIN" copy -x "$PORT_ON-$IP_TG:$PORT_TG" -s "$IP_AS" -i vxlan:4789 \
	--report "$LAB/mirror.json" --progress 2
wait_file_has "$TW_TMP/COPY.err" 'replaying live' 10 || { cat "$TW_TMP/COPY.err"; fail "copy did not start"; }
copylab_drive 300 4 mixed
copylab_wait_streams "$LAB/online" 300 || fail "online streams missing"
copylab_wait_streams "$LAB/target" 300 60 || log "the target has only $(copylab_count "$LAB/target") streams so far"
rc=0
stop_wait "$COPY" INT || rc=$?
grep -v '^\[' "$TW_TMP/COPY.err" | sed 's/^/    /'
[ "$rc" -eq 0 ] || fail "copy exited $rc"
n=$(copylab_outcome mirror sessions)
[ "$n" -eq 300 ] || fail "$n sessions replayed, expected 300"
n=$(copylab_outcome mirror "done")
[ "$n" -eq 300 ] || fail "only $n of 300 sessions done"
copylab_target_round mirror 300
copylab_compare_round mirror || fail "the target did not get every stream byte-exact"

log "socket mode, live from the mirror"
mv "$LAB/online" "$LAB/online.raw" && mkdir -p "$LAB/online"
bg SCOPY "$NS_AS" 300 "$TW_BIN" copy --mode socket -x "$PORT_ON-$IP_TG:$PORT_TG" -i vxlan:4789 \
	--report "$LAB/msock.json" --progress 2
wait_file_has "$TW_TMP/SCOPY.err" 'replaying live' 10 || { cat "$TW_TMP/SCOPY.err"; fail "copy did not start"; }
# a tcpdump of the tunnel beside it, cut to 96 bytes of inner packet, for the last part
start_capture CUT "$NS_AS" 120 tcpdump -i eth0 -s 146 -w "$LAB/cut.pcap" 'udp port 4789'
copylab_drive 300 4 mixed
copylab_wait_streams "$LAB/online" 300 || fail "online streams missing"
copylab_wait_streams "$LAB/target" 300 60 || log "the target has only $(copylab_count "$LAB/target") streams so far"
sleep 1.2
stop_wait "$CUT" INT || true
rc=0
stop_wait "$SCOPY" INT || rc=$?
grep -v '^\[' "$TW_TMP/SCOPY.err" | sed 's/^/    /'
[ "$rc" -eq 0 ] || fail "copy --mode socket exited $rc"
[ "$(copylab_outcome msock "done")" -eq 300 ] || fail "socket mode: only $(copylab_outcome msock "done") of 300 done"
copylab_target_round msock 300
copylab_compare_round msock || fail "socket mode: the target did not get every stream byte-exact"

log "a mirror cut to 96 bytes per packet"
copylab_copy cut -i "$LAB/cut.pcap" --mode socket --topspeed || fail "copy of the cut mirror exited non-zero"
tr=$(copylab_outcome cut truncated)
log "sessions ended truncated: $tr of $(copylab_outcome cut sessions)"
[ "$tr" -eq 300 ] || fail "expected all 300 sessions (all send data) to end truncated, got $tr"
sleep 2
for f in "$LAB"/target/*.bin; do
	[ -e "$f" ] || continue
	[ -s "$f" ] && fail "a damaged stream reached the target: $f ($(stat -c %s "$f") bytes)"
done
log "ok"
