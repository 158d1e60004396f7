#!/usr/bin/python3
"""tests/golden/gen.py - writes the golden input pcaps into tests/golden/pcaps/.

Deterministic: fixed addresses, ports, sequence numbers and timestamps, no
randomness, so re-running it produces byte-identical files. Packets are built
with scapy (so lengths and checksums are right); the file containers (pcap,
nanosecond pcap, pcapng) and the link-layer and tunnel headers that matter
(SLL, SLL2, BSD NULL, VXLAN, Geneve, GRE, ERSPAN II/III) are written by hand
with struct so every byte is under our control.

For every tunnel input NAME.pcap it also writes NAME.inner.pcap: the inner
packets as raw IP (LINKTYPE_RAW, 101) with the outer packet's timestamp. That
is exactly what `tcptwin capture --decap -w` must produce, and tcpdump's text
for it is the expected output of `tcptwin capture --decap`.

It does not run tcpdump; gen.sh does (expected text).
Run with /usr/bin/python3 (Debian's python3-scapy).
"""
import os
import struct
import sys

from scapy.all import IP, IPv6, TCP, UDP, Ether, Dot1Q, Raw, conf  # noqa: E402

conf.verb = 0

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pcaps")

LT_NULL, LT_EN10MB, LT_RAW, LT_SLL, LT_SLL2 = 0, 1, 101, 113, 276
BASE = 1700000000  # 2023-11-14 22:13:20 UTC

MAC_C = "02:00:00:00:00:01"
MAC_S = "02:00:00:00:00:02"
MAC_T1 = "02:00:00:00:01:01"
MAC_T2 = "02:00:00:00:01:02"


# ---------------------------------------------------------------- containers

class Rec:
    """One record: timestamp (seconds, nanoseconds), bytes, original length."""

    def __init__(self, ns, data, wirelen=None):
        self.sec, self.nsec = divmod(ns, 10**9)
        self.data = bytes(data)
        self.wirelen = len(self.data) if wirelen is None else wirelen


def write_pcap(name, linktype, recs, nano=False, snaplen=262144, order="<"):
    """order "<" = little endian (x86 writer), ">" = big endian writer."""
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        magic = 0xA1B23C4D if nano else 0xA1B2C3D4
        f.write(struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        for r in recs:
            frac = r.nsec if nano else r.nsec // 1000
            f.write(struct.pack(order + "IIII", r.sec, frac, len(r.data), r.wirelen))
            f.write(r.data)


def _pad4(b):
    return b + b"\0" * (-len(b) % 4)


def _block(btype, body):
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def write_pcapng(name, linktype, recs, snaplen=262144, nano=False):
    """SHB + one IDB + EPBs, little endian. Microsecond resolution (the
    default, no option), or with nano an if_tsresol option of 9 (what
    Wireshark's dumpcap writes)."""
    path = os.path.join(OUT, name)
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    # if_name option (2) "eth0", [if_tsresol (9) = 9], then opt_endofopt
    opts = struct.pack("<HH", 2, 4) + _pad4(b"eth0")
    if nano:
        opts += struct.pack("<HH", 9, 1) + _pad4(b"\x09")
    opts += struct.pack("<HH", 0, 0)
    idb = struct.pack("<HHI", linktype, 0, snaplen) + opts
    with open(path, "wb") as f:
        f.write(_block(0x0A0D0D0A, shb))
        f.write(_block(0x00000001, idb))
        for r in recs:
            ts = r.sec * 10**9 + r.nsec if nano else r.sec * 10**6 + r.nsec // 1000
            body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(r.data), r.wirelen)
            f.write(_block(0x00000006, body + _pad4(r.data)))


# ------------------------------------------------------------- TCP sessions

class Conv:
    """A TCP conversation; builds IP(v6)/TCP packets with tracked seq/ack."""

    def __init__(self, cli, srv, cport, sport, cisn, sisn, v6=False):
        self.ip = IPv6 if v6 else IP
        self.cli, self.srv, self.cport, self.sport = cli, srv, cport, sport
        self.cseq, self.sseq = cisn, sisn

    def _pkt(self, from_client, flags, payload=b"", opts=None, win=None, adv=None):
        if from_client:
            src, dst, sp, dp, seq, ack = self.cli, self.srv, self.cport, self.sport, self.cseq, self.sseq
        else:
            src, dst, sp, dp, seq, ack = self.srv, self.cli, self.sport, self.cport, self.sseq, self.cseq
        if "A" not in flags:
            ack = 0
        if win is None:
            win = 502 if "S" not in flags else 64240
        ipl = self.ip(src=src, dst=dst)
        if self.ip is IP:
            ipl.id = 0x1000 + (seq & 0xFF)
            ipl.flags = "DF"
            ipl.ttl = 64
        else:
            ipl.hlim = 64
        tcp = TCP(sport=sp, dport=dp, seq=seq, ack=ack, flags=flags, window=win,
                  options=opts if opts is not None else [])
        p = ipl / tcp
        if payload:
            p = p / Raw(payload)
        step = len(payload) + (1 if ("S" in flags or "F" in flags) else 0)
        if adv is not None:
            step = adv
        if from_client:
            self.cseq = (self.cseq + step) & 0xFFFFFFFF
        else:
            self.sseq = (self.sseq + step) & 0xFFFFFFFF
        return p

    def c(self, flags, payload=b"", **kw):
        return self._pkt(True, flags, payload, **kw)

    def s(self, flags, payload=b"", **kw):
        return self._pkt(False, flags, payload, **kw)


SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (2729165857, 0)), ("NOP", None), ("WScale", 7)]
SYNACK_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (3508911594, 2729165857)), ("NOP", None), ("WScale", 7)]


def ts_opts(val, ecr):
    return [("NOP", None), ("NOP", None), ("Timestamp", (val, ecr))]


def http_session(cli="10.1.0.1", srv="10.1.0.2", cport=43148, sport=80, v6=False,
                 cisn=2974152740, sisn=1005000000, body_len=3000):
    """Handshake, GET, a response with one super-packet (> MTU, as GRO makes
    them), ACKs, FIN from the client, FIN from the server, last ACK."""
    t = Conv(cli, srv, cport, sport, cisn, sisn, v6)
    get = b"GET /index.html HTTP/1.1\r\nHost: " + srv.encode() + b"\r\nUser-Agent: golden\r\nAccept: */*\r\n\r\n"
    hdr = b"HTTP/1.1 200 OK\r\nServer: golden\r\nContent-Length: %d\r\n\r\n" % body_len
    body = bytes((i * 7 + 3) & 0xFF for i in range(body_len))
    resp = hdr + body
    big, rest = resp[:2896], resp[2896:]
    v, e = 2729165857, 3508911594
    pk = [
        t.c("S", opts=SYN_OPTS),
        t.s("SA", opts=SYNACK_OPTS),
        t.c("A", opts=ts_opts(v + 1, e)),
        t.c("PA", get, opts=ts_opts(v + 1, e)),
        t.s("A", opts=ts_opts(e + 1, v + 1)),
        t.s("A", big, opts=ts_opts(e + 2, v + 1)),       # GRO super-packet
        t.s("PA", rest, opts=ts_opts(e + 2, v + 1)),
        t.c("A", opts=ts_opts(v + 3, e + 2)),
        t.c("FA", opts=ts_opts(v + 4, e + 2)),
        t.s("FA", opts=ts_opts(e + 3, v + 4)),
        t.c("A", opts=ts_opts(v + 5, e + 3)),
    ]
    return pk


def times(n, start_us=0, step_us=137):
    """Microsecond-aligned timestamps in ns."""
    return [BASE * 10**9 + (start_us + i * step_us) * 1000 for i in range(n)]


def recs(frames, ts=None):
    ts = ts or times(len(frames))
    return [Rec(t, f) for t, f in zip(ts, frames)]


def eth(p, src=MAC_C, dst=MAC_S):
    et = 0x86DD if p.version == 6 else 0x0800
    return Ether(src=src, dst=dst, type=et) / p


def swap_mac(pkts):
    """Ethernet frames with MACs following the IP direction."""
    out = []
    first_src = pkts[0].src
    for p in pkts:
        if p.src == first_src:
            out.append(eth(p, MAC_C, MAC_S))
        else:
            out.append(eth(p, MAC_S, MAC_C))
    return out


# ------------------------------------------------------------- link layers

def sll(ip_bytes, pkttype, proto=0x0800, mac=MAC_C):
    addr = bytes(int(x, 16) for x in mac.split(":")) + b"\0\0"
    return struct.pack(">HHH", pkttype, 1, 6) + addr + struct.pack(">H", proto) + ip_bytes


def sll2(ip_bytes, pkttype, proto=0x0800, ifindex=4242, mac=MAC_C):
    addr = bytes(int(x, 16) for x in mac.split(":")) + b"\0\0"
    return struct.pack(">HHIHBB", proto, 0, ifindex, 1, pkttype, 6) + addr + ip_bytes


def bsd_null(ip_bytes, af):
    return struct.pack("<I", af) + ip_bytes   # host order of a little-endian capturer


# ------------------------------------------------------------- tunnels

COLL = "10.200.0.9"      # collector
MIRR = "10.200.0.1"      # mirror source (cloud hypervisor / switch)


def outer_udp(payload, dport, sport=49152, v6=False):
    if v6:
        o = IPv6(src="fd00:200::1", dst="fd00:200::9", hlim=64) / UDP(sport=sport, dport=dport) / Raw(payload)
        return Ether(src=MAC_T1, dst=MAC_T2, type=0x86DD) / o
    o = IP(src=MIRR, dst=COLL, id=0x4242, ttl=64, flags="DF") / UDP(sport=sport, dport=dport) / Raw(payload)
    return Ether(src=MAC_T1, dst=MAC_T2) / o


def outer_gre(payload):
    o = IP(src=MIRR, dst=COLL, id=0x4343, ttl=64, proto=47) / Raw(payload)
    return Ether(src=MAC_T1, dst=MAC_T2) / o


def vxlan_hdr(vni):
    return struct.pack(">BBHI", 0x08, 0, 0, vni << 8)


def geneve_hdr(proto, opts):
    optlen = len(opts) // 4
    return struct.pack(">BBH", optlen & 0x3F, 0, proto) + struct.pack(">I", 0x000000 << 8) + opts


def geneve_opt(cls, typ, data):
    assert len(data) % 4 == 0
    return struct.pack(">HBB", cls, typ, len(data) // 4) + data


def gre_key_hdr(proto, key):
    return struct.pack(">HHI", 0x2000, proto, key)


def erspan2_hdr(seq, session, vlan=0, index=0x123):
    gre = struct.pack(">HHI", 0x1000, 0x88BE, seq)              # S bit, seq
    ver, cos, en, t = 1, 0, 3, 0
    w1 = (ver << 12) | (vlan & 0xFFF)
    w2 = (cos << 13) | (en << 11) | (t << 10) | (session & 0x3FF)
    w3 = index & 0xFFFFF
    return gre + struct.pack(">HHI", w1, w2, w3)


def erspan3_hdr(seq, session, tstamp, vlan=0):
    gre = struct.pack(">HHI", 0x1000, 0x22EB, seq)
    ver, cos, bso, t = 2, 0, 0, 0
    w1 = (ver << 12) | (vlan & 0xFFF)
    w2 = (cos << 13) | (bso << 11) | (t << 10) | (session & 0x3FF)
    sgt, p, ft, hw, d, gra, o = 0, 1, 0, 0, 0, 3, 1
    w4 = (p << 15) | (ft << 10) | (hw << 4) | (d << 3) | (gra << 1) | o
    hdr = struct.pack(">HHIHH", w1, w2, tstamp, sgt, w4)
    platf = struct.pack(">II", (3 << 26) | 0x1234, 0x00000042)  # platform id 3 subheader
    return gre + hdr + platf


def tunnel_pair(name, inner_ip, wrap, ts=None):
    """Writes NAME.pcap (outer Ethernet frames) and NAME.inner.pcap (raw IP)."""
    ts = ts or times(len(inner_ip))
    outer = [wrap(i, p) for i, p in enumerate(inner_ip)]
    write_pcap(name + ".pcap", LT_EN10MB, [Rec(t, bytes(o)) for t, o in zip(ts, outer)])
    write_pcap(name + ".inner.pcap", LT_RAW, [Rec(t, bytes(p)) for t, p in zip(ts, inner_ip)])


# ------------------------------------------------------------- the files

def main():
    os.makedirs(OUT, exist_ok=True)

    http = http_session()
    frames = swap_mac(http)
    write_pcap("eth_http.pcap", LT_EN10MB, recs(frames))

    # 802.1Q and QinQ (802.1ad outer tag 0x88a8, then 802.1Q)
    q = [Ether(src=bytes(f)[6:12], dst=bytes(f)[0:6]) / Dot1Q(vlan=100, prio=3) / f.payload for f in frames]
    q = [Ether(bytes(x)) for x in q]
    write_pcap("vlan.pcap", LT_EN10MB, recs(q))
    qq = []
    for f in frames:
        b = bytes(f)
        qq.append(b[:12] + struct.pack(">HHHH", 0x88A8, 200, 0x8100, 100) + b[12:])
    write_pcap("qinq.pcap", LT_EN10MB, recs(qq))

    # Linux cooked captures (tcpdump -i any): SLL v1 (113) and SLL2 (276)
    cli_ip = http[0].src
    s1 = [sll(bytes(p), 4 if p.src == cli_ip else 0) for p in http]     # 4 = outgoing, 0 = to us
    write_pcap("sll.pcap", LT_SLL, recs(s1))
    s2 = [sll2(bytes(p), 4 if p.src == cli_ip else 0) for p in http]
    write_pcap("sll2.pcap", LT_SLL2, recs(s2))

    # raw IP (101) and BSD loopback (0), the latter with IPv4 and IPv6 (AF 30, Darwin)
    write_pcap("raw.pcap", LT_RAW, recs([bytes(p) for p in http]))
    h6 = http_session(cli="fd00:1::1", srv="fd00:1::2", cport=50000, v6=True)
    nl = [bsd_null(bytes(p), 2) for p in http[:4]] + [bsd_null(bytes(p), 30) for p in h6[:4]]
    write_pcap("null.pcap", LT_NULL, recs(nl))

    # IPv6 TCP over Ethernet
    write_pcap("ipv6_tcp.pcap", LT_EN10MB, recs(swap_mac(h6)))

    # UDP, IPv4 and IPv6, ports without a tcpdump dissector
    u = [
        IP(src="10.1.0.1", dst="10.1.0.2", id=7, ttl=64) / UDP(sport=40001, dport=7777) / Raw(b"x" * 20),
        IP(src="10.1.0.2", dst="10.1.0.1", id=8, ttl=64) / UDP(sport=7777, dport=40001) / Raw(b"y" * 1),
        IP(src="10.1.0.1", dst="10.1.0.2", id=9, ttl=64) / UDP(sport=40001, dport=7777),
        IPv6(src="fd00:1::1", dst="fd00:1::2", hlim=64) / UDP(sport=40002, dport=7777) / Raw(b"z" * 100),
    ]
    write_pcap("udp.pcap", LT_EN10MB, recs([eth(p) for p in u]))

    # nanosecond pcap: timestamps with non-zero sub-microsecond digits
    tsn = [BASE * 10**9 + 123456789 + i * 1000001 for i in range(len(frames))]
    write_pcap("nano.pcap", LT_EN10MB, [Rec(t, bytes(f)) for t, f in zip(tsn, frames)], nano=True)

    # pcapng, one interface (Ethernet); and with nanosecond if_tsresol
    write_pcapng("eth_http.pcapng", LT_EN10MB, recs(frames))
    write_pcapng("nano.pcapng", LT_EN10MB, [Rec(t, bytes(f)) for t, f in zip(tsn, frames)], nano=True)

    # a pcap written on a big-endian machine (byte-swapped headers)
    write_pcap("be.pcap", LT_EN10MB, recs(frames), order=">")

    # TCP corner cases: RST, URG, ECN flags, SACK, window 0, no flags, seq wrap
    t = Conv("10.1.0.1", "10.1.0.2", 40100, 9000, 0xFFFFFF00, 4000000000)
    misc = [
        t.c("SEC", opts=SYN_OPTS),
        t.s("SAE", opts=SYNACK_OPTS),
        t.c("A"),
        t.c("PA", b"a" * 300),                                  # crosses the 2^32 wrap
        t.s("A", opts=[("NOP", None), ("NOP", None), ("SAck", ((0xFFFFFF01 + 400) & 0xFFFFFFFF, (0xFFFFFF01 + 500) & 0xFFFFFFFF))]),
        t.c("PAU", b"u" * 10, adv=10),
        t.s("A", win=0),
        t.c("", b"", adv=0),
        t.c("R"),
    ]
    misc[5][TCP].urgptr = 5
    write_pcap("tcp_misc.pcap", LT_EN10MB, recs([eth(p) for p in misc]))

    # ---- tunnels: inner traffic is the HTTP session above
    inner = http

    tunnel_pair("vxlan", inner, lambda i, p: outer_udp(vxlan_hdr(42) + bytes(eth(p)), 4789, 51000 + i))
    tunnel_pair("vxlan6", inner[:4],
                lambda i, p: outer_udp(vxlan_hdr(42) + bytes(eth(p)), 4789, 50000 + i, v6=True))

    # two VNIs interleaved: --vni 42 keeps the session, VNI 43 carries UDP
    other = [IP(src="10.3.0.1", dst="10.3.0.2", id=i, ttl=64) / UDP(sport=5000, dport=6000) / Raw(b"n" * 8)
             for i in range(3)]
    mix = []
    for i, p in enumerate(inner[:6]):
        mix.append((42, p))
        if i % 2 == 0:
            mix.append((43, other[i // 2]))
    ts = times(len(mix))
    write_pcap("vxlan_vni.pcap", LT_EN10MB,
               [Rec(tt, bytes(outer_udp(vxlan_hdr(v) + bytes(eth(p)), 4789, 51000 + i)))
                for i, (tt, (v, p)) in enumerate(zip(ts, mix))])
    write_pcap("vxlan_vni.inner.pcap", LT_RAW, [Rec(tt, bytes(p)) for tt, (v, p) in zip(ts, mix)])
    write_pcap("vxlan_vni42.inner.pcap", LT_RAW, [Rec(tt, bytes(p)) for tt, (v, p) in zip(ts, mix) if v == 42])

    # Geneve (UDP 6081) with options, inner IP (AWS GWLB style: class 0x0108)
    gopts = (geneve_opt(0x0108, 1, struct.pack(">Q", 0x0123456789ABCDEF))
             + geneve_opt(0x0108, 2, struct.pack(">Q", 0x1122334455667788))
             + geneve_opt(0x0108, 3, struct.pack(">I", 0xDEADBEEF)))
    tunnel_pair("geneve", inner, lambda i, p: outer_udp(geneve_hdr(0x0800, gopts) + bytes(p), 6081, 40000 + i))

    # GRE with key, inner IP
    tunnel_pair("gre_key", inner, lambda i, p: outer_gre(gre_key_hdr(0x0800, 0x12345678) + bytes(p)))

    # ERSPAN type II and type III (inner Ethernet)
    tunnel_pair("erspan2", inner, lambda i, p: outer_gre(erspan2_hdr(i + 1, 77) + bytes(eth(p))))
    tunnel_pair("erspan3", inner,
                lambda i, p: outer_gre(erspan3_hdr(i + 1, 78, 0x10000000 + i * 100) + bytes(eth(p))))

    # Truncated mirrors.
    # (a) snaplen cut: records with caplen < wire length (tcpdump -s 128 on the collector)
    ts = times(len(inner))
    outer = [bytes(outer_udp(vxlan_hdr(42) + bytes(eth(p)), 4789, 51000 + i)) for i, p in enumerate(inner)]
    cut = 128
    write_pcap("trunc_snap.pcap", LT_EN10MB,
               [Rec(tt, o[:cut], len(o)) for tt, o in zip(ts, outer)], snaplen=cut)
    hdr = 14 + 20 + 8 + 8 + 14
    write_pcap("trunc_snap.inner.pcap", LT_RAW,
               [Rec(tt, bytes(p)[:cut - hdr], len(bytes(p))) for tt, p in zip(ts, inner)], snaplen=cut - hdr)
    # (b) mirror packet-length truncation: complete outer packet whose inner
    # frame was cut at 96 bytes (Huawei packet_length default), so the inner IP
    # total length is larger than the bytes present.
    keep = 96
    write_pcap("trunc_mirror.pcap", LT_EN10MB,
               [Rec(tt, bytes(outer_udp(vxlan_hdr(42) + bytes(eth(p))[:keep], 4789, 51000 + i)))
                for i, (tt, p) in enumerate(zip(ts, inner))])
    # Wire lengths of the inner records: in (a) the packet was whole on the
    # wire and only the capture cut it, so the inner wire length is the outer
    # one minus the outer headers (= the inner IP total length; tcpdump shows
    # "[|http]"). In (b) the mirror sent only 96 bytes, so that is the inner
    # packet's wire length (tcpdump shows "truncated-ip - N bytes missing!",
    # as it does for the inner packet of the outer file).
    write_pcap("trunc_mirror.inner.pcap", LT_RAW,
               [Rec(tt, bytes(p)[:keep - 14]) for tt, p in zip(ts, inner)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
