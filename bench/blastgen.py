#!/usr/bin/python3
# bench/blastgen.py OUT.pcap N PAYLOAD GAP_US DSTMAC - a pcap of N Ethernet/
# IPv4/TCP frames (PAYLOAD bytes each, 64 flows from 10.99.1.x to
# 10.99.2.1:8080) captured GAP_US microseconds apart, for bench/blast.sh.
# Written with struct (fast; no scapy); checksums are correct. Sends nothing.
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def main():
    out, n, plen, gap, dmac = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    dst = bytes(int(x, 16) for x in dmac.split(":"))
    eth = dst + b"\x02\x00\x00\x00\x00\x01\x08\x00"
    payload = bytes((i * 7) & 0xff for i in range(plen))
    t = 1700000000 * 1000000
    seqs = [1000] * 64
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for i in range(n):
            fl = i % 64
            src = bytes([10, 99, 1, fl + 1])
            dip = bytes([10, 99, 2, 1])
            tcp = struct.pack("!HHIIBBHHH", 40000 + fl, 8080, seqs[fl], 1, 5 << 4, 0x18, 8192, 0, 0)
            seqs[fl] += plen
            ph = src + dip + struct.pack("!BBH", 0, 6, 20 + plen)
            c = csum(ph + tcp + payload)
            tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + plen, i & 0xffff, 0x4000, 64, 6, 0, src, dip)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            frame = eth + ip + tcp + payload
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(frame), len(frame)))
            f.write(frame)
            t += gap


main()
