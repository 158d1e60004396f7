#!/usr/bin/python3
"""tests/e2e/streams.py - compare two directories of recorded TCP byte streams.

    streams.py EXPECTED_DIR GOT_DIR [--copies N] [--ignore-empty] [--expect-missing FILE]
               [--suffix-from FILE]

Reads every *.bin in both directories (as written by tests/e2e/recorder.c, one
file per connection) and compares them as multisets of byte streams (sha256):
each expected stream must appear exactly N times in GOT (default 1) and GOT
must hold nothing else. Prints one summary line

    streams: expected E (xN), got G, exact M, missing K, extra X

then up to 20 lines about mismatches: a missing stream with its file name and
length, and the longest common prefix any extra GOT stream has with it (a GOT
stream that is a prefix of it is a truncated replay); an extra stream with its
length and whether it duplicates an expected stream. Exit 0 when everything
matches, 1 when not, 2 on bad usage.

--ignore-empty: zero-length files are skipped on both sides.
--expect-missing FILE: FILE names expected files (one a line, base names or
paths; blank lines and #comments ignored) whose streams are allowed not to
arrive in full, e.g. sessions with packets removed from the capture. They are
left out of the expected set, and up to N GOT streams equal to one of them or a
prefix of it (the empty stream included) are accepted instead of counted as
extra. A second line reports them: listed L, complete C, partial P, absent A.
--suffix-from FILE: FILE has lines "NAME OFFSET" (NAME an expected file, base
name or path; OFFSET a byte offset into it; blank lines and #comments
ignored): the stream of NAME is expected in GOT only from byte OFFSET on, e.g.
a connection that was already open when a live capture started and is
replayed from its next request on. The bytes NAME[OFFSET:] then take the place
of the whole stream and are checked as strictly as any other (exactly N
times, byte-exact; the whole stream or any other suffix is an extra). OFFSET
must lie inside the stream (0 <= OFFSET < length); a name may not be listed
twice nor also in --expect-missing. A line after the summary reports them:
listed L (xN), exact E.

It does not look inside the streams (no HTTP parsing) and does not care about
file names or ordering.
"""
import argparse
import collections
import hashlib
import os
import sys


def load(d, ignore_empty):
    """{name: (sha256, length)} of every *.bin in d"""
    out = {}
    for e in os.scandir(d):
        if not e.name.endswith(".bin") or not e.is_file():
            continue
        with open(e.path, "rb") as f:
            data = f.read()
        if ignore_empty and not data:
            continue
        out[e.name] = (hashlib.sha256(data).digest(), len(data))
    return out


def read(d, name):
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


def lcp(a, b):
    """length of the common prefix of bytes a and b (binary search on slices)"""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("expected")
    ap.add_argument("got")
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--ignore-empty", action="store_true")
    ap.add_argument("--expect-missing", metavar="FILE")
    ap.add_argument("--suffix-from", metavar="FILE")
    a = ap.parse_args()
    for d in (a.expected, a.got):
        if not os.path.isdir(d):
            print(f"streams: {d}: not a directory", file=sys.stderr)
            return 2
    n = a.copies
    exp = load(a.expected, a.ignore_empty)
    got = load(a.got, a.ignore_empty)

    allowed = {}  # name -> bytes of the expected streams allowed to be missing
    if a.expect_missing:
        with open(a.expect_missing) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    name = os.path.basename(line)
                    if name not in exp:
                        print(f"streams: --expect-missing: {name} not in {a.expected}",
                              file=sys.stderr)
                        return 2
                    allowed[name] = read(a.expected, name)

    suffix = {}  # name -> offset: only NAME[offset:] is expected
    if a.suffix_from:
        with open(a.suffix_from) as f:
            for line in f:
                fields = line.split("#", 1)[0].split()
                if not fields:
                    continue
                name = os.path.basename(fields[0]) if len(fields) == 2 else None
                try:
                    off = int(fields[1]) if name else -1
                except ValueError:
                    off = -1
                if name is None or off < 0:
                    print(f"streams: --suffix-from: bad line {line.strip()!r} "
                          f"(NAME OFFSET expected)", file=sys.stderr)
                    return 2
                if name not in exp or name in suffix or name in allowed:
                    why = ("not in " + a.expected if name not in exp else
                           "listed twice" if name in suffix else "also in --expect-missing")
                    print(f"streams: --suffix-from: {name} {why}", file=sys.stderr)
                    return 2
                if off >= exp[name][1]:
                    print(f"streams: --suffix-from: {name}: offset {off} not inside its "
                          f"{exp[name][1]} bytes", file=sys.stderr)
                    return 2
                suffix[name] = off
        for name, off in suffix.items():
            data = read(a.expected, name)[off:]
            exp[name] = (hashlib.sha256(data).digest(), len(data))

    def read_exp(name):
        return read(a.expected, name)[suffix.get(name, 0):]

    want = collections.Counter()  # sha -> how many GOT must hold
    exp_by_sha = {}
    for name, (sha, _) in exp.items():
        if name in allowed:
            continue
        want[sha] += n
        exp_by_sha.setdefault(sha, name)
    have = collections.defaultdict(list)  # sha -> GOT names
    for name in sorted(got):
        have[got[name][0]].append(name)

    exact = missing = 0
    extra_names = []
    for sha, names in have.items():
        k = want.get(sha, 0)
        exact += min(k, len(names))
        extra_names += names[k:]
    missing_names = []
    for name in sorted(exp):
        if name in allowed:
            continue
        sha = exp[name][0]
        short = want[sha] - len(have.get(sha, ()))
        if short > 0:
            missing += min(short, n)
            want[sha] -= min(short, n)  # report each expected file once
            missing_names.append((name, min(short, n)))

    # --expect-missing: extra GOT streams that are (prefixes of) allowed ones
    adone = collections.Counter()
    apart = collections.Counter()
    if allowed:
        keep = []
        for g in extra_names:
            data = read(a.got, g)
            for name, full in allowed.items():
                if adone[name] + apart[name] < n and full.startswith(data):
                    if len(data) == len(full):
                        adone[name] += 1
                    else:
                        apart[name] += 1
                    break
            else:
                keep.append(g)
        extra_names = keep

    total_exp = len(exp) - len(allowed)
    print(f"streams: expected {total_exp} (x{n}), got {len(got)}, exact {exact}, "
          f"missing {missing}, extra {len(extra_names)}")
    if suffix:
        sexact = 0
        for name in suffix:
            sha = exp[name][0]
            sexact += min(n, len(have.get(sha, ())))
        print(f"streams: suffix-from: listed {len(suffix)} (x{n}), exact {sexact}")
    if allowed:
        absent = sum(1 for x in allowed if not adone[x] and not apart[x])
        print(f"streams: expect-missing: listed {len(allowed)}, complete {sum(adone.values())}, "
              f"partial {sum(apart.values())}, absent {absent}")

    lines = 0
    extra_data = None
    for name, k in missing_names[:20]:
        full = read_exp(name)
        if extra_data is None:
            extra_data = {g: read(a.got, g) for g in extra_names}
        best, best_name = 0, None
        for g, data in extra_data.items():
            if data[:1] == full[:1]:
                m = lcp(full, data)
                if m > best:
                    best, best_name = m, g
        if best_name is None:
            note = "no extra GOT stream shares a prefix"
        elif best == len(extra_data[best_name]):
            note = f"truncated: GOT {best_name} is a prefix ({best} bytes match)"
        else:
            note = f"closest GOT {best_name}: first {best} bytes match"
        times = f" x{k}" if k > 1 else ""
        part = f" from byte {suffix[name]}" if name in suffix else ""
        print(f"  missing {name}{times}: {len(full)} bytes{part}; {note}")
        lines += 1
    for g in extra_names[:20 - lines]:
        sha, ln = got[g]
        dup = exp_by_sha.get(sha)
        note = f"one copy too many of {dup}" if dup else "not an expected stream"
        print(f"  extra {g}: {ln} bytes; {note}")
        lines += 1
    shown = len(missing_names) + len(extra_names)
    if shown > lines:
        print(f"  ... {shown - lines} more")
    return 0 if missing == 0 and not extra_names else 1


if __name__ == "__main__":
    sys.exit(main())
