#!/usr/bin/env python3
"""dnsq.py - one DNS query over UDP, the answer in a form a test can compare.

  dnsq.py SERVER NAME [TYPE]     TYPE: A (default), AAAA, MX, TXT...

Prints the response code ("NOERROR", "NXDOMAIN", ...) on the first line,
then one line per answer record of the asked type: "A 10.1.2.3" or
"AAAA fd00::42".  The query is sent again every second until --timeout.
"""
import argparse
import os
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def skip_name(msg, i):
    while True:
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("name")
    ap.add_argument("type", nargs="?", default="A")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    qtype = TYPES[a.type.upper()]
    fam = socket.AF_INET6 if ":" in a.server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    qid = int.from_bytes(os.urandom(2), "big")
    query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname(a.name) + \
        struct.pack("!HH", qtype, 1)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        s.sendto(query, (a.server, a.port))
        s.settimeout(min(1.0, max(deadline - time.monotonic(), 0.01)))
        try:
            msg, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        rid, flags, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
        if rid != qid or not flags & 0x8000:
            continue
        print(RCODES.get(flags & 0xF, "RCODE%d" % (flags & 0xF)))
        i = 12
        for _ in range(qd):
            i = skip_name(msg, i) + 4
        for _ in range(an):
            i = skip_name(msg, i)
            rtype, _, _, rdlen = struct.unpack("!HHIH", msg[i:i + 10])
            rdata = msg[i + 10:i + 10 + rdlen]
            i += 10 + rdlen
            if rtype != qtype:
                continue
            if rtype == 1:
                print("A " + socket.inet_ntop(socket.AF_INET, rdata))
            elif rtype == 28:
                print("AAAA " + socket.inet_ntop(socket.AF_INET6, rdata))
            else:
                print("%s %s" % (a.type.upper(), rdata.hex()))
        return 0
    print("dnsq: no answer from %s in %g s" % (a.server, a.timeout), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
