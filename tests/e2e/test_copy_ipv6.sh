#!/usr/bin/env bash
# tests/e2e/test_copy_ipv6.sh - raw-mode replay (tcptwin copy + tcptwin
# intercept) over IPv6 in the copy lab (COPYLAB_V6=1, ULA fd00:77::/48),
# checked byte-exact per connection: every stream the production server (ON)
# received must reach the target (TG) exactly once (or N times with -n N),
# from a client address of the expected family and range, every session ends
# as "done", and the replies the intercept relays belong to our sessions.
#  1. mixed HTTP/1.1 keep-alive traffic over IPv6 (200 connections x 4
#     requests, 20 % POSTs up to 100 KB, 5 % of replies 150 KB; the capture
#     holds TSO super-packets), replayed at top speed to [fd00:77::2]:8080
#     (rawip sink, AF_INET6 raw socket), the intercept channel over IPv4;
#  2. the same with the channel over IPv6 (-s [fd00:77::3]);
#  3. -n 2 -c fd00:77:2::/120: two copies of every stream from the fake IPv6
#     range (the target routes it to the assistant);
#  4. -o eth0 after `ip -6 neigh flush`: sent at the link layer, the target's
#     MAC resolved through the IPv6 neighbour table (neighbour solicitation);
#  5. a dual-stack capture (IPv4 and IPv6 clients) with one -x rule per
#     family, "80-10.77.0.2:8080,80-[fd00:77::2]:8080": each session goes to
#     the target of its own family; with -c 10.77.2.x all go to the IPv4
#     target, the IPv6 sessions from IPv4 fake clients;
#  6. socket mode over IPv6: kernel connections from the online host's own
#     IPv6 address, byte-exact.
# intercept captures with -F 'tcp and src port 8080', which takes ip6 too.
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_bin
need_cmd tcpdump "$COPYLAB_PY"

COPYLAB_V6=1
copylab_up
copylab_servers
copylab_intercept ICEPT
X6="$PORT_ON-[$IP6_TG]:$PORT_TG"

# replies NAME: "received unknown" from the report
replies() {
	"$COPYLAB_PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["replies"]; print(r["received"], r["unknown"])' \
		"$LAB/$1.json"
}

# replay NAME PCAP EXPECT_SESSIONS COPIES SOURCES [COPY ARGS...]: replay, check
# the report, that the target streams come from the client addresses in
# SOURCES ("ADDR-PREFIX=COUNT ..."; the recorder names files ADDR_PORT_N.bin),
# and compare them with everything ON recorded so far
replay() {
	local name=$1 pcap=$2 sess=$3 copies=$4 sources=$5 n rep want pfx cnt total=0
	shift 5
	copylab_copy "$name" -i "$pcap" --topspeed "$@" || fail "copy $name exited non-zero"
	n=$(copylab_outcome "$name" sessions)
	[ "$n" -eq "$sess" ] || fail "$name: $n sessions replayed, expected $sess"
	n=$(copylab_outcome "$name" "done")
	[ "$n" -eq "$sess" ] || fail "$name: only $n of $sess sessions done"
	rep=$(replies "$name")
	# replies for sessions that have ended (a late retransmission) are normal;
	# replies that belong to no session of ours would be most of them
	if [ "${rep% *}" -eq 0 ] || [ $((${rep#* } * 100)) -gt "${rep% *}" ]; then
		fail "$name: replies received/unknown: $rep"
	fi
	copylab_target_round "$name" "$sess"
	for want in $sources; do
		pfx=${want%=*} cnt=${want#*=}
		n=$(find "$LAB/target.$name" -maxdepth 1 -name "${pfx}*.bin" | wc -l)
		[ "$n" -eq "$cnt" ] || fail "$name: $n target streams from $pfx*, expected $cnt"
		total=$((total + cnt))
	done
	n=$(copylab_count "$LAB/target.$name")
	[ "$n" -eq "$total" ] || fail "$name: $n target streams, expected $total ($sources)"
	copylab_compare_round "$name" --copies "$copies" ||
		fail "$name: the target did not get every stream byte-exact"
}

log "recording 200 connections x 4 over IPv6 ($IP6_CL -> [$IP6_ON_CL]:$PORT_ON)"
copylab_record_start "$LAB/v6.pcap"
COPYLAB_HOST=$IP6_ON_CL copylab_drive 200 4 mixed
copylab_record_stop
[ "$COPYLAB_REC_DROPPED" -eq 0 ] || fail "the capture lost $COPYLAB_REC_DROPPED packets"
copylab_wait_streams "$LAB/online" 200 || fail "online streams missing"
n=$(find "$LAB/online" -maxdepth 1 -name "${IP6_CL}_*.bin" | wc -l)
[ "$n" -eq 200 ] || fail "ON recorded $n streams from $IP6_CL, expected 200"
n=$(tcpdump -r "$LAB/v6.pcap" -nn ip 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "the IPv6 capture holds $n IPv4 packets"
big=$(tcpdump -r "$LAB/v6.pcap" -nn 'ip6 and tcp dst port 80 and greater 3000' 2>/dev/null | wc -l)
log "client packets above 3000 bytes in the capture: $big"
[ "$big" -gt 0 ] || fail "no super-packets in the capture: the test would not cover them"

log "1. IPv6 replay, channel over IPv4"
replay v6 "$LAB/v6.pcap" 200 1 "${IP6_CL}_=200" -x "$X6"

log "2. IPv6 replay, channel over IPv6 (-s [$IP6_AS])"
replay v6chan "$LAB/v6.pcap" 200 1 "${IP6_CL}_=200" -x "$X6" -s "[$IP6_AS]"
grep -qF "copy [$IP6_ON]:" "$TW_TMP/ICEPT.err" ||
	{ cat "$TW_TMP/ICEPT.err"; fail "intercept saw no copy connect from [$IP6_ON]"; }

log "3. -n 2 -c fd00:77:2::/120: two copies from the fake IPv6 range"
replay v6fake "$LAB/v6.pcap" 400 2 "fd00:77:2::=400" -x "$X6" -n 2 -c 'fd00:77:2::/120'

log "4. -o eth0: link layer, next hop from the IPv6 neighbour table"
nsx "$NS_ON" ip -6 neigh flush dev eth0
nb=$(nsx "$NS_ON" ip -6 neigh show "$IP6_TG" dev eth0)
[[ $nb != *lladdr* ]] || fail "ON still knows $IP6_TG after the flush: $nb"
replay v6l2 "$LAB/v6.pcap" 200 1 "${IP6_CL}_=200" -x "$X6" -o eth0
mac=$(nsx "$NS_TG" cat /sys/class/net/eth0/address)
nb=$(nsx "$NS_ON" ip -6 neigh show "$IP6_TG" dev eth0)
[[ $nb == *"lladdr $mac"* ]] || fail "ON's neighbour entry for $IP6_TG is '$nb', expected lladdr $mac"

log "6. socket mode over IPv6"
copylab_copy v6sock -i "$LAB/v6.pcap" --topspeed --mode socket -x "$X6" || fail "copy v6sock exited non-zero"
[ "$(copylab_outcome v6sock "done")" -eq 200 ] || fail "v6sock: only $(copylab_outcome v6sock "done") of 200 done"
copylab_target_round v6sock 200
n=$(find "$LAB/target.v6sock" -maxdepth 1 -name "${IP6_ON}_*.bin" | wc -l)
[ "$n" -eq 200 ] || fail "v6sock: $n target streams from $IP6_ON, expected 200"
copylab_compare_round v6sock || fail "v6sock: the target did not get every stream byte-exact"

log "5. dual-stack capture, one -x rule per family"
mv "$LAB/online" "$LAB/online.v6" && mkdir -p "$LAB/online"
copylab_record_start "$LAB/both.pcap"
COPYLAB_HOST=$IP6_ON_CL copylab_drive 60 3 mixed
copylab_drive 40 3 mixed
copylab_record_stop
[ "$COPYLAB_REC_DROPPED" -eq 0 ] || fail "the capture lost $COPYLAB_REC_DROPPED packets"
copylab_wait_streams "$LAB/online" 100 || fail "online streams missing"
replay dual "$LAB/both.pcap" 100 1 "${IP6_CL}_=60 ${IP_CL}_=40" \
	-x "$PORT_ON-$IP_TG:$PORT_TG,$X6"
replay dual-c4 "$LAB/both.pcap" 100 1 "10.77.2.=100" \
	-x "$PORT_ON-$IP_TG:$PORT_TG,$X6" -c 10.77.2.x

copylab_stop_servers
rc=0
stop_wait "$ICEPT" INT || rc=$?
SAN_RE='runtime error:|ERROR: (Address|Undefined|Leak)Sanitizer'
if [ "$rc" -ne 0 ] || grep -qE "$SAN_RE" "$TW_TMP/ICEPT.err"; then
	tail -30 "$TW_TMP/ICEPT.err"
	fail "intercept exited $rc or reported a sanitizer error"
fi
for f in "$LAB"/*.log; do
	! grep -qE "$SAN_RE" "$f" || { cat "$f"; fail "copy: sanitizer report in $f"; }
done
log "ok"
