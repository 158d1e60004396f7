#!/usr/bin/env bash
# tests/unit/data/print/gen.sh - regenerates the pcaps of the printer and
# pcap-writer tests with scapy and the expected text with tcpdump 4.99.3:
#   X.pcap -> X.txt (TZ=UTC tcpdump -r X.pcap -n), X-S.txt (... -S),
#   nano.pcap -> nano.txt (--nano), decap.pcap -> decap.txt (tcpdump's text
#   for decap-inner.pcap, the same frames without their tunnels),
#   rotate-*.txt: file names and sizes tcpdump -C/-W writes for rotate.py's input.
# Needs /usr/bin/python3 with python3-scapy, tcpdump; run as root (tcpdump -Z root).
set -euo pipefail
cd "$(dirname "$0")"
export TZ=UTC
/usr/bin/python3 - <<'EOF'
import struct
from scapy.all import *
from scapy.contrib.geneve import GENEVE
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III
from scapy.layers.l2 import GRE

T0 = 1700000000
E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
c, s = "10.0.0.1", "10.0.0.2"
OPTS = [('MSS', 1460), ('SAckOK', b''), ('Timestamp', (1000, 0)), ('NOP', None), ('WScale', 7)]

def stamp(pk, frac=0.123456):
    out = []
    for i, p in enumerate(pk):
        p = Raw(p) if isinstance(p, bytes) else p.copy()
        p.time = T0 + i + frac
        out.append(p)
    return out

def tcp_pkts():
    pk = []
    a = lambda **k: E/IP(src=c, dst=s)/TCP(sport=40000, dport=80, **k)
    b = lambda **k: E/IP(src=s, dst=c)/TCP(sport=80, dport=40000, **k)
    pk.append(a(flags='S', seq=1000, window=64240, options=OPTS))
    pk.append(b(flags='SA', seq=5000, ack=1001, window=65160, options=OPTS))
    pk.append(a(flags='A', seq=1001, ack=5001, window=502, options=[('NOP', None), ('NOP', None), ('Timestamp', (1001, 2000))]))
    pk.append(a(flags='PA', seq=1001, ack=5001, window=502)/b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    pk.append(b(flags='PA', seq=5001, ack=1028, window=509)/b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
    pk.append(b(flags='PA', seq=5041, ack=1028, window=509)/b"more data")
    pk.append(a(flags='FA', seq=1028, ack=5050, window=502))
    pk.append(b(flags='FA', seq=5050, ack=1029, window=509))
    pk.append(a(flags='A', seq=1029, ack=5051, window=502))
    t = lambda sp, dp, **k: E/IP(src=c, dst=s)/TCP(sport=sp, dport=dp, **k)
    pk.append(t(40001, 8080, flags='PA', seq=77, ack=99)/b"POST /x HTTP/1.0\r\n\r\n")
    pk.append(t(40002, 5000, flags='PA', seq=77, ack=99)/b"GET / HTTP/1.1\r\n\r\n")
    pk.append(t(40002, 5000, flags='R', seq=100))
    pk.append(t(40003, 5000, flags='', seq=100))
    pk.append(t(40003, 5000, flags='SEC', seq=100))
    pk.append(t(40003, 5000, flags='UA', seq=200, ack=5, urgptr=3)/b"abc")
    pk.append(t(40003, 5000, flags='A', seq=300, ack=5, options=[('SAck', (1000, 2000, 3000, 4000))]))
    pk.append(t(40003, 5000, flags='A', seq=300, ack=5, options=[('NOP', None), ('EOL', None)]))
    pk.append(t(40003, 5000, flags='A', seq=300, ack=5, options=[(99, b'ab'), ('NOP', None)]))
    pk.append(t(40004, 5000, flags='S', options=[(34, b''), (28, b'\x80\x10')]))
    pk.append(t(40004, 5000, flags='S', options=[(34, b'\x01\x02\x03\x04')]))
    pk.append(t(40004, 5000, flags=0x1c2))
    pk.append(t(40004, 5000, flags='S', dataofs=4))
    pk.append(t(40004, 5000, flags='S', dataofs=15))
    pk.append(t(40004, 5000, flags='S', options=[(2, b'\x05')]))
    pk.append(t(40004, 5000, flags='S', options=[('NOP', None), (3, b'')]))
    pk.append(t(40004, 5000, flags='S', options=[('NOP', None), ('NOP', None), (3, b'\x07'), (5, b'')]))
    x = bytearray(bytes(t(40004, 5000, flags='S', options=[('NOP', None)] * 4)))
    x[56] = 8
    pk.append(bytes(x))                                     # [bad opt]
    pk.append(E/IP(src=c, dst=s, len=100)/TCP(sport=40000, dport=5000, flags='PA')/b"abc")
    pk.append(E/IP(src=c, dst=s, len=0)/TCP(sport=40000, dport=5000, flags='PA')/b"abcdef")
    for pl in (b"GET /a\r", b"GET /a", b"GET /a\x01\r\n", b"get /a\n", b"FOO 200 x\r\n",
               b"FOO 2000 x\r\n", b"GET\r\n", b"GET \t /x\tv\r\n", b"A" * 200 + b" 200\r\n"):
        pk.append(t(40005, 80, flags='PA', seq=9, ack=9)/pl)
    pk.append(t(40005, 80, flags='RA', seq=9, ack=9)/b"GET /\r\n")
    pk.append(t(3128, 8080, flags='PA')/b"OPTIONS * HTTP/1.1\r\n")
    pk.append(E/IP(src=c, dst=s)/UDP(sport=40000, dport=9999)/b"hello")
    pk.append(E/IP(src=c, dst=s, flags='MF', frag=0, id=77)/TCP(sport=40006, dport=5000, flags='PA')/(b"z" * 40))
    pk.append(E/IP(src=c, dst=s, frag=6, id=77, proto=6)/(b"z" * 40))
    pk.append(E/Dot1Q(vlan=100)/IP(src=c, dst=s)/TCP(sport=1, dport=2, flags='S'))
    pk.append(E/IP(src=c, dst=s)/ICMP()/b"abcd")
    pk.append(E/IP(src=c, dst=s)/ICMP(type=3, code=3)/IP(src=s, dst=c)/UDP(sport=5, dport=4789))
    pk.append(E/IP(src=c, dst=s)/IP(src="1.1.1.1", dst="2.2.2.2")/UDP(sport=1000, dport=2000))
    pk.append(E/IP(src=c, dst=s, proto=200)/b"abc")
    pk.append(E/ARP(op=1, hwsrc="02:00:00:00:00:01", psrc=c, pdst=s))
    pk.append(E/ARP(op=2, hwsrc="02:00:00:00:00:02", psrc=s, hwdst="02:00:00:00:00:01", pdst=c))
    pk.append(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x88b5)/(b"x" * 30 + b"\x00 ~"))
    v6 = lambda **k: E/IPv6(src="fd00::1", dst="fd00::2")
    pk.append(E/IPv6(src="fd00::1", dst="fd00::2")/TCP(sport=40000, dport=80, flags='S', seq=1000, options=OPTS))
    pk.append(E/IPv6(src="fd00::2", dst="fd00::1")/TCP(sport=80, dport=40000, flags='SA', seq=2000, ack=1001))
    pk.append(E/IPv6(src="fd00::1", dst="fd00::2")/TCP(sport=40000, dport=80, flags='PA', seq=1001, ack=2001)/b"GET /6 HTTP/1.1\r\n\r\n")
    pk.append(E/IPv6(src="fd00::1", dst="fd00::2")/UDP(sport=40000, dport=9999)/b"hello6")
    pk.append(E/IPv6(src="fd00::1", dst="fd00::2")/IPv6ExtHdrHopByHop()/TCP(sport=1, dport=2, flags='S'))
    pk.append(E/IPv6(src="fd00::1", dst="fd00::2")/IPv6ExtHdrFragment(m=1, id=5)/TCP(sport=1, dport=2, flags='S'))
    pk.append(E/IPv6(src="fd00::1", dst="fd00::2")/ICMPv6EchoRequest())
    return pk

INNER = Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:0b")/IP(src="192.168.1.1", dst="192.168.1.2")
def tun_pkts(decap_inner=False):
    """Tunnelled frames, or (decap_inner) the frames inside them as Ethernet."""
    i1 = INNER/TCP(sport=40000, dport=80, flags='PA', seq=10, ack=20)/b"GET / HTTP/1.1\r\n\r\n"
    i2 = Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:0b")/ARP(psrc="192.168.1.1", pdst="192.168.1.2")
    i3 = IP(src="192.168.1.1", dst="192.168.1.2")/TCP(sport=40000, dport=5000, flags='S', seq=10)
    i4 = INNER/TCP(sport=40001, dport=5000, flags='S', seq=10)
    i5 = IP(src="192.168.1.1", dst="192.168.1.2")/UDP(sport=1, dport=2)
    o = E/IP(src=c, dst=s)
    pk = [
        (o/UDP(sport=12345, dport=4789)/VXLAN(vni=42, flags=0x08)/i1, i1),
        (o/UDP(sport=12345, dport=4789)/VXLAN(vni=42, flags=0x0c)/i2, i2),
        (o/UDP(sport=12345, dport=6081)/GENEVE(vni=7, proto=0x0800)/i3, E/i3),
        (o/UDP(sport=12345, dport=6081)/GENEVE(vni=7, proto=0x6558)/i1, i1),
        (o/UDP(sport=12345, dport=6081)/GENEVE(vni=7, proto=0x0800, optionlen=3,
            options=b"\x01\x08\x01\x02\x00\x00\x00\x00\x00\x00\x00\x01")/i5, E/i5),
        (o/GRE(proto=0x0800)/i3, E/i3),
        (o/GRE(proto=0x6558, key_present=1, key=5)/i1, i1),
        (o/GRE(proto=0x88be, seqnum_present=1, seqence_number=3)/ERSPAN_II(session_id=9, index=1)/i4, i4),
        (o/GRE(proto=0x88be)/i4, i4),
        (o/GRE(proto=0x22eb, seqnum_present=1, seqence_number=3)/ERSPAN_III(session_id=9)/i4, i4),
        (E/IPv6(src="fd00::1", dst="fd00::2")/UDP(sport=1, dport=4789)/VXLAN(vni=1)/i4, i4),
    ]
    return [q if decap_inner else p for p, q in pk]

def wr_trunc(name, pk, snaps):
    """A pcap whose records are cut at each snap length in turn."""
    with open(name, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        i = 0
        for sn in snaps:
            for p in pk:
                b = bytes(p)
                cut = b[:sn]
                f.write(struct.pack("<IIII", T0 + i, 500000, len(cut), len(b)))
                f.write(cut)
                i += 1

wrpcap("tcp.pcap", stamp(tcp_pkts()))
wrpcap("tunnels.pcap", stamp(tun_pkts(), 0.5))
wrpcap("decap.pcap", stamp(tun_pkts(), 0.5))
wrpcap("decap-inner.pcap", stamp(tun_pkts(True), 0.5))
wr_trunc("trunc.pcap", tcp_pkts()[:12] + tcp_pkts()[-7:] + tun_pkts(),
         [14, 15, 20, 34, 36, 40, 47, 54, 56, 58, 60, 62, 66, 70, 78, 90])

ip = IP(src=c, dst=s)/TCP(sport=40000, dport=80, flags='PA', seq=1, ack=2, options=[('MSS', 1460), ('Timestamp', (1, 2))])/b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
ip6 = IPv6(src="fd00::1", dst="fd00::2")/UDP(sport=1, dport=2)/b"abc"
def w(name, lt, pk, frac=0.25):
    wrpcap(name, stamp(pk, frac), linktype=lt)
w("raw.pcap", 101, [ip, ip6])
w("sll.pcap", 113, [CookedLinux(pkttype=t, proto=0x800)/ip for t in range(6)] +
  [CookedLinux(pkttype=4, proto=0x86dd)/ip6, CookedLinux(proto=0x806)/ARP(psrc=c, pdst=s),
   CookedLinux(proto=0x88b5)/b"abc"])
w("sll2.pcap", 276, [CookedLinuxV2(proto=0x800, ifindex=1, pkttype=t)/ip for t in range(6)] +
  [CookedLinuxV2(proto=0x86dd, ifindex=1, pkttype=4)/ip6,
   CookedLinuxV2(proto=0x806, ifindex=1, pkttype=1)/ARP(psrc=c, pdst=s),
   CookedLinuxV2(proto=0x88b5, ifindex=1)/b"abc"])
w("null.pcap", 0, [b"\x02\0\0\0" + bytes(ip), b"\0\0\0\x1e" + bytes(ip6), b"\x1c\0\0\0" + bytes(ip6),
                   b"\x18\0\0\0" + bytes(ip6)])
w("loop.pcap", 108, [b"\0\0\0\x02" + bytes(ip)])
w("ipv4.pcap", 228, [ip])
w("ipv6.pcap", 229, [ip6])

# nanosecond pcap: 9 digits with --nano
with open("nano.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 262144, 1))
    for i, p in enumerate(tcp_pkts()[:4]):
        b = bytes(p)
        f.write(struct.pack("<IIII", T0 + 3600 * 5 + i, 123456789 + i, len(b), len(b)))
        f.write(b)

# rotation input (the test builds the same frame sizes itself)
pk = [Ether()/IP(src=c, dst=s)/UDP(sport=1, dport=2)/(b"x" * 1000) for i in range(3500)]
for i, p in enumerate(pk):
    p.time = T0 + i * 0.01
wrpcap("/tmp/tw-rotate-in.pcap", pk)
EOF

for f in tcp tunnels trunc raw sll sll2 null loop ipv4 ipv6; do
	tcpdump -r $f.pcap -n >$f.txt 2>/dev/null
done
tcpdump -r tcp.pcap -n -S >tcp-S.txt 2>/dev/null
tcpdump -r trunc.pcap -n -S >trunc-S.txt 2>/dev/null
tcpdump -r nano.pcap -n --nano >nano.txt 2>/dev/null
tcpdump -r decap-inner.pcap -n >decap.txt 2>/dev/null
rm -f decap-inner.pcap

# what tcpdump -C/-W writes for 3500 frames of 1042 bytes
d=$(mktemp -d /tmp/tw-rot.XXXXXX)
for opts in "-C 1" "-C 1 -W 3" "-C 1 -W 12"; do
	name=rotate$(echo "$opts" | tr -d ' ').txt
	(cd "$d" && rm -f A* && tcpdump -Z root -r /tmp/tw-rotate-in.pcap -w A $opts 2>/dev/null &&
		for f in A*; do echo "$f $(stat -c %s "$f") $(tcpdump -r "$f" 2>/dev/null | wc -l)"; done) >"$name"
done
rm -rf "$d" /tmp/tw-rotate-in.pcap
