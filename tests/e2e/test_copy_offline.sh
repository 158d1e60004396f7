#!/usr/bin/env bash
# tests/e2e/test_copy_offline.sh - offline raw-mode replay (tcptwin copy +
# tcptwin intercept) in the copy lab, checked byte-exact per connection:
# every stream the production server (ON) received must reach the target
# (TG) exactly once, and every session must end as "done".
#  1. mixed HTTP/1.1 keep-alive traffic (1 000 connections x 4 requests, 20 %
#     POSTs up to 100 KB, 5 % of replies 150 KB; the capture holds TSO
#     super-packets), replayed at top speed, then at recorded speed (-a 1);
#  2. uploads the server answers before reading the body (early=1), top speed;
#  3. -n 3 with -c 10.77.2.x: three copies of every stream;
#  4. the same small traffic recorded with `tcpdump -i any` (LINUX_SLL2) and
#     converted to pcapng by tshark: both replay like any other file;
#  5. --loop 2: two byte-exact copies of every stream (the second pass on
#     fresh tuples); -o eth0 with the next hop's MAC in -x (TCPCopy's
#     port@MAC form): sent at the link layer, byte-exact.
# shellcheck source-path=SCRIPTDIR source=copylab.sh
source "$(dirname "$0")/copylab.sh"
need_root
need_bin
need_cmd tcpdump "$COPYLAB_PY"

copylab_up
copylab_servers
copylab_intercept ICEPT

record() { # NAME CONNS REQS MIX [any]
	local f=$LAB/$1.pcap
	if [ "${5:-}" = any ]; then copylab_record_any "$f"; else copylab_record_start "$f"; fi
	copylab_drive "$2" "$3" "$4"
	copylab_record_stop
	[ "$COPYLAB_REC_DROPPED" -eq 0 ] || fail "the capture of $1 lost $COPYLAB_REC_DROPPED packets"
}

# replay NAME PCAP EXPECT_SESSIONS COPIES [COPY ARGS...]: replay, check the report and
# the target's streams against everything ON has recorded so far
replay() { copylab_replay "$1" "$2" "$3" "$4" "${@:5}"; }

log "1. mixed keep-alive traffic"
record mixed 1000 4 mixed
big=$(tcpdump -r "$LAB/mixed.pcap" -nn 'tcp dst port 80 and greater 3000' 2>/dev/null | wc -l)
log "client packets above 3000 bytes in the capture: $big"
[ "$big" -gt 0 ] || fail "no super-packets in the mixed capture: the test would not cover them"
replay mixed-top "$LAB/mixed.pcap" 1000 1 --topspeed
replay mixed-rec "$LAB/mixed.pcap" 1000 1 -a 1

log "2. early replies to uploads"
mv "$LAB/online" "$LAB/online.mixed" && mkdir -p "$LAB/online"
record early 100 3 early
copylab_wait_streams "$LAB/online" 100 || fail "online streams of the early mix missing"
replay early "$LAB/early.pcap" 100 1 --topspeed

log "3. -n 3 -c 10.77.2.x: three copies of every stream"
replay copies "$LAB/early.pcap" 300 3 --topspeed -n 3 -c 10.77.2.x

log "4. tcpdump -i any (LINUX_SLL2) and pcapng"
mv "$LAB/online" "$LAB/online.early" && mkdir -p "$LAB/online"
record small 200 4 small any
copylab_wait_streams "$LAB/online" 200 || fail "online streams of the small mix missing"
lt=$(tcpdump -r "$LAB/small.pcap" -c 1 2>&1 >/dev/null | sed -n 's/.*link-type \([A-Z0-9_]*\).*/\1/p')
[ "$lt" = LINUX_SLL2 ] || fail "the -i any capture has link type '$lt'"
replay sll2 "$LAB/small.pcap" 200 1 --topspeed
if command -v tshark >/dev/null; then
	tshark -F pcapng -r "$LAB/small.pcap" -w "$LAB/small.pcapng" 2>/dev/null || fail "tshark could not convert"
	replay pcapng "$LAB/small.pcapng" 200 1 --topspeed
else
	log "tshark not installed: pcapng not tested"
fi
log "5. --loop 2, and -o eth0 with the target's MAC"
replay loop "$LAB/small.pcap" 400 2 --topspeed --loop 2
mac=$(nsx "$NS_TG" cat /sys/class/net/eth0/address)
replay l2 "$LAB/small.pcap" 200 1 --topspeed -o eth0 -x "$PORT_ON@02:00:00:00:00:01-$IP_TG:$PORT_TG@$mac"
log "ok"
