#!/usr/bin/env python3
"""Writes the small committed seed corpora in fuzz/seeds/<target>/ from the capture
files in tests/vectors (the project's copy of shared/vectors). Run from anywhere;
deterministic. Generated corpus growth goes to fuzz/corpus/ (ignored), not here."""
import hashlib, os, re, shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VEC = os.path.join(ROOT, "tests", "vectors")
OUT = os.path.join(ROOT, "fuzz", "seeds")


def udp():
    reqs, resps = [], []
    for name in sorted(os.listdir(os.path.join(VEC, "udp"))):
        for line in open(os.path.join(VEC, "udp", name)):
            f = line.split()
            if not f or f[0].startswith("#") or len(f) < 5:
                continue
            data = bytes.fromhex(f[5]) if len(f) > 5 else b""
            (reqs if f[1] == "C>T" else resps).append(data)
    return reqs, resps


def unescape(s):
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            c = s[i + 1]
            if c == "x":
                out.append(int(s[i + 2 : i + 4], 16)); i += 4; continue
            out += {"\\": b"\\", "r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0"}[c]
            i += 2
        else:
            out += s[i].encode(); i += 1
    return bytes(out)


def ctcs():
    client, server, streams = [], [], []
    for name in sorted(os.listdir(os.path.join(VEC, "ctcs"))):
        stream = bytearray()
        for line in open(os.path.join(VEC, "ctcs", name)):
            m = re.match(r"^([CS])>\s+\S+\s+c\d+ (.*)$", line.rstrip("\n"))
            if not m:
                continue
            data = unescape(m.group(2))
            (client if m.group(1) == "C" else server).append(data)
            if m.group(1) == "C":
                stream += data
        streams.append(bytes(stream[:1500]))
    return client, server, streams


def pick(items, key, limit):
    """One item per distinct key, first seen first, at most `limit`."""
    seen, out = set(), []
    for it in items:
        k = key(it)
        if k not in seen:
            seen.add(k); out.append(it)
    return out[:limit]


def write(target, items):
    d = os.path.join(OUT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for it in items:
        open(os.path.join(d, hashlib.sha1(it).hexdigest()[:16]), "wb").write(it)


reqs, resps = udp()
req_seeds = pick(reqs, lambda b: (b[8:12], min(len(b), 99), len(b) > 98 and b[98:99]), 10)
resp_seeds = pick(resps, lambda b: (b[:4], min(len(b) // 6, 4)), 10)
tails = [b[98:] for b in reqs if len(b) > 98 and b[8:12] == b"\0\0\0\1"]
# A legacy tail: extensions = auth | request string, user "u", hash, "/announce".
tails.append(b"\x00\x03\x01u" + b"\x11" * 8 + b"\x09/announce")
tail_seeds = pick(tails, lambda b: b, 8)
client, server, streams = ctcs()
kw = lambda b: b.split(b" ")[0].rstrip(b"\r\n")
client_seeds = pick(client, kw, 20)
server_seeds = pick(server, kw, 14)

for t in ("udp_request", "udp_request_roundtrip"):
    write(t, req_seeds)
for t in ("udp_response", "udp_response_roundtrip"):
    write(t, resp_seeds)
write("udp_announce_tail", tail_seeds)
for t in ("ctcs_client_line", "ctcs_client_roundtrip"):
    write(t, client_seeds)
for t in ("ctcs_server_line", "ctcs_server_roundtrip"):
    write(t, server_seeds)
write("ctcs_framing", streams[:4])
# Structured (arbitrary-driven) targets: real bytes make a start the fuzzer mutates.
write("udp_client", resp_seeds[:4])
write("udp_server", req_seeds[:4])
