#!/usr/bin/python3
# tests/e2e/blastpkts.py - pcaps for test_blast.sh and the check of what
# arrived. Run with /usr/bin/python3 (Debian's scapy).
#   gen OUT.pcap [raw]   TCP flows both ways (client 10.99.1.x -> server
#                        10.99.2.y:8080, and two over IPv6 fd00:99:1::x ->
#                        fd00:99:2::y) with payloads up to 20 000 bytes
#                        (GRO-sized super-packets, DF set) and spoiled
#                        checksums as captured partial ones, plus UDP to
#                        port 8080 and an ARP. "raw": the same as
#                        LINKTYPE_RAW (no link header).
#   check SENT.pcap GOT.pcap DSTMAC LOOPS   every TCP payload byte of SENT,
#                        with the test's rewriting applied (--dstipmap
#                        10.99.2.0/24:10.77.0.0/24 and [fd00:99:2::/48]:
#                        [fd00:77::/48], --srcipmap 10.99.1.0/24:10.88.1.0/24
#                        and [fd00:99:1::/48]:[fd00:88:1::/48], --portmap
#                        8080:9090, with LOOPS > 1 --unique-ip) arrived in GOT: the
#                        multisets of (flow, seq, byte) are equal; every
#                        frame has DSTMAC, valid IP/TCP checksums, and no
#                        IP packet is above 1500 bytes.
# Does not send anything.
import ipaddress
import random
import sys
from collections import Counter

from scapy.all import ARP, IP, TCP, UDP, Ether, IPv6, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.utils import checksum  # noqa: E402


def gen(out, raw=False):
    rnd = random.Random(7)
    pkts = []
    t = 1700000000.0
    for f in range(8):
        v6 = f >= 6
        cli = "fd00:99:1::%d" % (10 + f) if v6 else "10.99.1.%d" % (10 + f)
        srv = "fd00:99:2::%d" % (50 + f % 3) if v6 else "10.99.2.%d" % (50 + f % 3)
        cport = 40000 + f
        cseq, sseq = rnd.randrange(1 << 32), rnd.randrange(1 << 32)
        for i in range(12):
            n = rnd.choice([1, 100, 1448, 1448, 3000, 9000, 20000]) if i % 3 else rnd.randrange(1, 600)
            data = bytes(rnd.randrange(256) for _ in range(n))
            if i % 2 == 0:
                ip = IPv6(src=cli, dst=srv) if v6 else IP(src=cli, dst=srv, flags="DF", id=i)
                p = ip / TCP(sport=cport, dport=8080, seq=cseq, ack=sseq, flags="PA", chksum=0x1234) / Raw(data)
                cseq = (cseq + n) & 0xffffffff
            else:
                ip = IPv6(src=srv, dst=cli) if v6 else IP(src=srv, dst=cli, flags="DF", id=i)
                p = ip / TCP(sport=8080, dport=cport, seq=sseq, ack=cseq, flags="A", chksum=0x4321) / Raw(data)
                sseq = (sseq + n) & 0xffffffff
            t += 0.001
            if not raw:
                p = Ether(src="02:00:00:00:00:bb", dst="02:00:00:00:00:aa") / p
            p.time = t
            pkts.append(p)
    u = IP(src="10.99.1.99", dst="10.99.2.60") / UDP(sport=5353, dport=8080) / Raw(b"u" * 300)
    if not raw:
        u = Ether(src="02:00:00:00:00:bb", dst="02:00:00:00:00:aa") / u
        a = Ether(src="02:00:00:00:00:bb", dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.99.1.10", pdst="10.99.2.50")
        a.time = t + 0.002
        pkts.append(a)
    u.time = t + 0.001
    pkts.append(u)
    wrpcap(out, pkts, linktype=101 if raw else 1)


def remap(addr, frm, to):
    a = ipaddress.ip_address(addr)
    n = ipaddress.ip_network(frm)
    if a in n:
        return str(ipaddress.ip_network(to).network_address + (int(a) - int(n.network_address)))
    return addr


MAPS = [("10.99.1.0/24", "10.88.1.0/24", 0), ("10.99.2.0/24", "10.77.0.0/24", 1),
        ("fd00:99:1::/48", "fd00:88:1::/48", 0), ("fd00:99:2::/48", "fd00:77::/48", 1)]


def mapped(addr, which):
    for frm, to, w in MAPS:
        if w == which and ipaddress.ip_address(addr).version == ipaddress.ip_network(frm).version:
            addr = remap(addr, frm, to)
    return addr


def port(p):
    return 9090 if p == 8080 else p


def tcp_ok(ip):
    raw = bytes(ip)
    if ip.version == 6:
        seg = raw[40:40 + ip.plen]
        pseudo = raw[8:40] + len(seg).to_bytes(4, "big") + bytes([0, 0, 0, 6])
        return checksum(pseudo + seg) == 0
    ihl = (raw[0] & 15) * 4
    if checksum(raw[:ihl]) != 0:
        return False
    seg = raw[ihl:ip.len]
    pseudo = raw[12:20] + bytes([0, ip.proto]) + len(seg).to_bytes(2, "big")
    return checksum(pseudo + seg) == 0


def ip_of(p):
    if IP in p:
        return p[IP]
    if IPv6 in p:
        return p[IPv6]
    return None


def ip_size(ip):
    return ip.len if ip.version == 4 else 40 + ip.plen


def unique(addr, lp):
    a = ipaddress.ip_address(addr)
    if a.version == 6:
        low = (int(a) + lp) & 0xffffffff
        return str(ipaddress.ip_address((int(a) & ~0xffffffff) | low))
    return str(a + lp)


def check(sent, got, dstmac, loops):
    want = Counter()
    for p in rdpcap(sent):
        ip = ip_of(p)
        if ip is None or TCP not in p:
            continue
        for lp in range(loops):
            s = mapped(ip.src, 0)
            d = mapped(ip.dst, 1)
            if loops > 1:
                s = unique(s, lp)
                d = unique(d, lp)
            tcp = p[TCP]
            key = (s, d, port(tcp.sport), port(tcp.dport))
            for i, b in enumerate(bytes(tcp.payload)):
                want[key + ((tcp.seq + i) & 0xffffffff, b)] += 1
    have = Counter()
    bad = []
    for p in rdpcap(got):
        ip = ip_of(p)
        if ip is None or TCP not in p:
            continue
        if p[Ether].dst.lower() != dstmac.lower():
            bad.append("dst MAC %s" % p[Ether].dst)
        if ip_size(ip) > 1500:
            bad.append("IP packet of %d bytes" % ip_size(ip))
        if not tcp_ok(ip):
            bad.append("bad checksum %s" % p.summary())
        tcp = p[TCP]
        key = (ip.src, ip.dst, tcp.sport, tcp.dport)
        hl = ip.ihl * 4 if ip.version == 4 else 40
        for i, b in enumerate(bytes(tcp.payload)[: ip_size(ip) - hl - tcp.dataofs * 4]):
            have[key + ((tcp.seq + i) & 0xffffffff, b)] += 1
    missing = want - have
    extra = have - want
    print("payload bytes: want %d, have %d, missing %d, extra %d, bad frames %d"
          % (sum(want.values()), sum(have.values()), sum(missing.values()), sum(extra.values()), len(bad)))
    for b in bad[:5]:
        print("  " + b)
    for k in list(missing)[:3]:
        print("  missing", k)
    for k in list(extra)[:3]:
        print("  extra", k)
    return 0 if not missing and not extra and not bad and want else 1


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == "raw")
        sys.exit(0)
    sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
