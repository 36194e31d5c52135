#!/usr/bin/env python3
"""vframe.py - Ethernet-frame peers for vrelay's frame and NAT suites.

Links ("ADDR"):
  unix:PATH        unix stream socket carrying frames with --codec
                   (qemu: u32 big-endian length; hyperkit: u16 little-endian)
  seqpacket:PATH   unix seqpacket socket, one frame per message
  dgram:PATH       unix datagram socket, one frame per message (the client
                   binds --bind PATH, or an autobound name, so that replies
                   can come back)

Every server writes its address to --ready FILE after bind()/listen().
Frames are summarised as "LEN SHA256[:16]" lines.  All waits are bounded
by --timeout (default 30 s).

  serve      listen/bind ADDR, take one peer; log each frame's summary to
             --log (one line, flushed), echo it back with --echo; end after
             --count frames, or at the peer's EOF
  send       connect ADDR; send --sizes frames (deterministic content,
             optionally --chunk bytes per write), then --raw-hex bytes;
             read --expect frames back and print their summaries
  sums       print the summaries that "send --sizes" frames have
  dhcp       DHCP DISCOVER over ADDR; print the OFFER's fields
  flood      N DHCP DISCOVERs from random MACs over ADDR; count the OFFERs
  probe      ARP for --ip, then ICMP echo (--ping-sizes) to it: prints
             "arp IP is-at MAC" and "echo-reply SEQ LEN" lines
  garbage    send junk frames: random bytes, runts, an Ethernet header
             with nothing after it
"""
import argparse
import hashlib
import os
import random
import select
import socket
import struct
import sys
import time


def die(msg):
    print("vframe: " + msg, file=sys.stderr)
    sys.exit(2)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def summary(frame):
    return "%d %s" % (len(frame), hashlib.sha256(frame).hexdigest()[:16])


def make_frame(i, size):
    """frame number i of SIZE bytes: broadcast, a local source MAC, the
    local-experimental ethertype 0x88b5, then a pattern"""
    head = b"\xff" * 6 + bytes([0x02, 0x00, 0x00, 0x00, 0x00, i & 0xFF]) + b"\x88\xb5"
    body = b""
    seed = ("frame-%d-%d" % (i, size)).encode()
    while len(head) + len(body) < size:
        seed = hashlib.sha256(seed).digest()
        body += seed
    return (head + body)[:size]


def parse_sizes(text):
    if not text:
        return []
    return [int(x) for x in text.split(",") if x]


# ---- links ---------------------------------------------------------------

class Link:
    """one frame link to a peer"""

    def __init__(self, sock, kind, codec, peer=None):
        self.s = sock
        self.kind = kind
        self.codec = codec
        self.peer = peer
        self.buf = b""
        self.eof = False

    def send(self, frame, chunk=None):
        if self.kind == "unix":
            if self.codec == "qemu":
                data = struct.pack(">I", len(frame)) + frame
            elif self.codec == "hyperkit":
                data = struct.pack("<H", len(frame) & 0xFFFF) + frame
            else:
                die("codec %r" % self.codec)
            self.send_raw(data, chunk)
        elif self.kind == "dgram" and self.peer is not None:
            self.s.sendto(frame, self.peer)
        else:
            self.s.send(frame)

    def send_raw(self, data, chunk=None):
        if self.kind != "unix":
            self.send_msg(data)
            return
        if not chunk:
            self.s.sendall(data)
            return
        for off in range(0, len(data), chunk):
            self.s.sendall(data[off:off + chunk])
            # let the relay see each piece on its own
            time.sleep(0.001)

    def send_msg(self, data):
        if self.kind == "dgram" and self.peer is not None:
            self.s.sendto(data, self.peer)
        else:
            self.s.send(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.s], [], [], left)
        if not r:
            return False
        d = self.s.recv(1 << 20)
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def recv(self, timeout):
        """one frame, or None at timeout/EOF (self.eof says which)"""
        deadline = time.monotonic() + timeout
        if self.kind != "unix":
            left = timeout
            r, _, _ = select.select([self.s], [], [], max(left, 0))
            if not r:
                return None
            if self.kind == "dgram":
                d, addr = self.s.recvfrom(1 << 17)
                if self.peer is None:
                    self.peer = addr
                return d
            d = self.s.recv(1 << 17)
            if not d:
                self.eof = True
                return None
            return d
        hl = 4 if self.codec == "qemu" else 2
        while True:
            if len(self.buf) >= hl:
                if self.codec == "qemu":
                    n = struct.unpack(">I", self.buf[:4])[0]
                else:
                    n = struct.unpack("<H", self.buf[:2])[0]
                if len(self.buf) >= hl + n:
                    f = self.buf[hl:hl + n]
                    self.buf = self.buf[hl + n:]
                    return f
            if not self._fill(deadline):
                return None


def bind_unix(kind, path, ready):
    st = {"unix": socket.SOCK_STREAM, "seqpacket": socket.SOCK_SEQPACKET,
          "dgram": socket.SOCK_DGRAM}[kind]
    s = socket.socket(socket.AF_UNIX, st)
    s.bind(path)
    if kind != "dgram":
        s.listen(8)
    if ready:
        write_atomic(ready, path + "\n")
    return s


def split_addr(addr):
    kind, _, path = addr.partition(":")
    if kind not in ("unix", "seqpacket", "dgram") or not path:
        die("bad address %r (unix:PATH, seqpacket:PATH or dgram:PATH)" % addr)
    return kind, path


def open_server(a):
    kind, path = split_addr(a.addr)
    s = bind_unix(kind, path, a.ready)
    if kind == "dgram":
        return Link(s, kind, a.codec)
    s.settimeout(a.timeout)
    c, _ = s.accept()
    s.close()
    c.settimeout(None)
    return Link(c, kind, a.codec)


def open_client(a):
    kind, path = split_addr(a.addr)
    st = {"unix": socket.SOCK_STREAM, "seqpacket": socket.SOCK_SEQPACKET,
          "dgram": socket.SOCK_DGRAM}[kind]
    s = socket.socket(socket.AF_UNIX, st)
    if kind == "dgram":
        if getattr(a, "bind", None):
            s.bind(a.bind)
        else:
            s.bind("")  # autobind: an abstract name the relay can answer
        link = Link(s, kind, a.codec, peer=path)
    else:
        s.settimeout(a.timeout)
        s.connect(path)
        s.settimeout(None)
        link = Link(s, kind, a.codec)
    if getattr(a, "greet", None):
        link.send_msg(a.greet.encode())
    return link


# ---- serve / send ----------------------------------------------------------

def read_request(link, timeout):
    """the HTTP request head in front of the frames (gvproxy /connect);
    what follows it stays in the link's buffer"""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in link.buf:
        if not link._fill(deadline):
            die("serve: no complete HTTP request before the frames")
    head, _, link.buf = link.buf.partition(b"\r\n\r\n")
    return head.decode(errors="replace").split("\r\n")


def cmd_serve(a):
    link = open_server(a)
    log = open(a.log, "a") if a.log else None
    if a.expect_post:
        lines = read_request(link, a.timeout)
        if log:
            log.write("request %s\n" % lines[0])
            for h in lines[1:]:
                log.write("header %s\n" % h)
            log.flush()
    n = 0
    deadline = time.monotonic() + a.timeout
    while a.count is None or n < a.count:
        f = link.recv(max(deadline - time.monotonic(), 0))
        if f is None:
            break
        n += 1
        if log:
            log.write(summary(f) + "\n")
            log.flush()
        if a.echo:
            link.send(f)
    if log:
        log.write("end %d\n" % n)
        log.close()


def encode(link, frame):
    if link.codec == "qemu":
        return struct.pack(">I", len(frame)) + frame
    return struct.pack("<H", len(frame) & 0xFFFF) + frame


def cmd_send(a):
    link = open_client(a)
    if a.post:
        link.send_raw(("POST %s HTTP/1.1\r\nHost: vrelay-test\r\n\r\n" % a.post).encode())
    if a.one_write and link.kind == "unix":
        link.send_raw(b"".join(encode(link, make_frame(i, size))
                               for i, size in enumerate(parse_sizes(a.sizes))))
    else:
        for i, size in enumerate(parse_sizes(a.sizes)):
            link.send(make_frame(i, size), a.chunk)
    if a.raw_hex:
        link.send_raw(bytes.fromhex(a.raw_hex), a.chunk)
    for i, size in enumerate(parse_sizes(a.then_sizes)):
        link.send(make_frame(100 + i, size), a.chunk)
    got = 0
    deadline = time.monotonic() + a.timeout
    while got < a.expect:
        f = link.recv(max(deadline - time.monotonic(), 0))
        if f is None:
            print("vframe: got %d of %d frames (%s)" % (got, a.expect,
                  "EOF" if link.eof else "timeout"), file=sys.stderr)
            sys.exit(1)
        print(summary(f), flush=True)
        got += 1
    if a.wait_eof:
        while not link.eof:
            if link.recv(max(deadline - time.monotonic(), 0)) is None and not link.eof:
                print("vframe: no EOF from the relay", file=sys.stderr)
                sys.exit(1)
        print("eof")


def cmd_sums(a):
    for i, size in enumerate(parse_sizes(a.sizes)):
        print(summary(make_frame(i, size)))
    for i, size in enumerate(parse_sizes(a.then_sizes)):
        print(summary(make_frame(100 + i, size)))


# ---- packets ---------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def mac_text(b):
    return ":".join("%02x" % x for x in b)


def ipv4(src, dst, proto, payload, ident=1):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def udp4(src, sport, dst, dport, payload):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, len(u))
    c = csum(pseudo + u) or 0xFFFF
    u = u[:6] + struct.pack("!H", c) + u[8:]
    return ipv4(src, dst, 17, u)


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def dhcp_discover(mac, xid):
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,
                        b"\0" * 4, b"\0" * 4, b"\0" * 4, b"\0" * 4, mac + b"\0" * 10,
                        b"\0" * 64, b"\0" * 128)
    opts = b"\x63\x82\x53\x63" + b"\x35\x01\x01" + b"\x37\x05\x01\x03\x06\x1a\x0f" + b"\xff"
    return eth(b"\xff" * 6, mac, 0x0800,
               udp4("0.0.0.0", 68, "255.255.255.255", 67, bootp + opts))


def parse_dhcp(frame):
    """(xid, yiaddr, {option: bytes}) of a DHCP reply frame, or None"""
    if len(frame) < 14 + 20 + 8 + 240 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0xF) * 4
    if ip[9] != 17:
        return None
    udp = ip[ihl:]
    sport, dport = struct.unpack("!HH", udp[:4])
    if sport != 67 or dport != 68:
        return None
    b = udp[8:]
    if b[0] != 2 or b[236:240] != b"\x63\x82\x53\x63":
        return None
    xid = struct.unpack("!I", b[4:8])[0]
    yiaddr = socket.inet_ntoa(b[16:20])
    opts = {}
    i = 240
    while i < len(b):
        t = b[i]
        if t == 255:
            break
        if t == 0:
            i += 1
            continue
        ln = b[i + 1]
        opts[t] = b[i + 2:i + 2 + ln]
        i += 2 + ln
    return xid, yiaddr, opts


def cmd_dhcp(a):
    link = open_client(a)
    mac = mac_bytes(a.mac) if a.mac else bytes([0x02, 0x56]) + os.urandom(4)
    xid = random.getrandbits(32)
    for i, size in enumerate(parse_sizes(a.before_sizes)):
        link.send(make_frame(i, size))
    deadline = time.monotonic() + a.timeout
    next_try = 0
    while time.monotonic() < deadline:
        if time.monotonic() >= next_try:
            link.send(dhcp_discover(mac, xid))
            next_try = time.monotonic() + 1.0
        f = link.recv(min(0.2, max(deadline - time.monotonic(), 0)))
        if f is None:
            if link.eof:
                die("dhcp: the link ended")
            continue
        d = parse_dhcp(f)
        if not d or d[0] != xid:
            continue
        _, yiaddr, opts = d
        kind = {2: "offer", 5: "ack", 6: "nak"}.get(opts.get(53, b"\0")[0], "other")
        out = ["%s %s" % (kind, yiaddr)]
        if 1 in opts:
            out.append("mask " + socket.inet_ntoa(opts[1][:4]))
        if 3 in opts:
            out.append("router " + socket.inet_ntoa(opts[3][:4]))
        if 6 in opts:
            out.append("dns " + socket.inet_ntoa(opts[6][:4]))
        if 26 in opts:
            out.append("mtu %d" % struct.unpack("!H", opts[26][:2]))
        print(" ".join(out), flush=True)
        return
    die("dhcp: no offer in %g s" % a.timeout)


def cmd_flood(a):
    link = open_client(a)
    offers = 0
    xids = set()
    for i in range(a.n):
        mac = bytes([0x02, 0x66]) + os.urandom(4)
        xid = random.getrandbits(32)
        xids.add(xid)
        link.send(dhcp_discover(mac, xid))
        # read what is there without waiting, so that neither side blocks
        while True:
            f = link.recv(0)
            if f is None:
                break
            d = parse_dhcp(f)
            if d and d[0] in xids:
                offers += 1
        if link.eof:
            die("flood: the link ended after %d DISCOVERs" % (i + 1))
    end = time.monotonic() + a.drain
    while time.monotonic() < end:
        f = link.recv(max(end - time.monotonic(), 0))
        if f is None:
            break
        d = parse_dhcp(f)
        if d and d[0] in xids:
            offers += 1
    print("sent %d offers %d" % (a.n, offers), flush=True)


def ask(link, frame, answer, deadline, what=""):
    """send @frame once a second until answer(f) of a frame that comes back
    is not None, and return that; None once time.monotonic() passes
    @deadline.  @what prefixes the message if the link ends."""
    next_try = 0
    while time.monotonic() <= deadline:
        if time.monotonic() >= next_try:
            link.send(frame)
            next_try = time.monotonic() + 1.0
        f = link.recv(0.2)
        if f is None:
            if link.eof:
                die(what + "the link ended")
            continue
        got = answer(f)
        if got is not None:
            return got
    return None


def arp_reply_from(ip):
    """for ask(): the sender MAC of an ARP reply from @ip, else None"""
    def answer(f):
        if f[12:14] == b"\x08\x06" and struct.unpack("!H", f[20:22])[0] == 2 and \
                f[28:32] == socket.inet_aton(ip):
            return f[22:28]
        return None
    return answer


def cmd_probe(a):
    link = open_client(a)
    mymac = mac_bytes(a.mac)
    deadline = time.monotonic() + a.timeout
    hop = a.via or a.ip   # ARP for the next hop; ping a.ip through it
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mymac, socket.inet_aton(a.src),
                      b"\0" * 6, socket.inet_aton(hop))
    peer = ask(link, eth(b"\xff" * 6, mymac, 0x0806, arp), arp_reply_from(hop), deadline,
               "probe: ")
    if peer is None:
        die("probe: no ARP reply from %s" % hop)
    print("arp %s is-at %s" % (hop, mac_text(peer)), flush=True)
    ident = os.getpid() & 0xFFFF
    want = {}
    for seq, size in enumerate(parse_sizes(a.ping_sizes), 1):
        # size: the whole frame; the echo data fills what the headers leave
        data = (b"vframe-ping-%d-" % seq) * (size // 10 + 1)
        data = data[:max(size - 14 - 20 - 8, 0)]
        icmp = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        link.send(eth(peer, mymac, 0x0800, ipv4(a.src, a.ip, 1, icmp, ident=seq)))
        want[seq] = len(icmp) + 20 + 14
    while want and time.monotonic() < deadline:
        f = link.recv(max(min(a.wait, deadline - time.monotonic()), 0))
        if f is None:
            if link.eof:
                die("probe: the link ended")
            break
        if f[12:14] != b"\x08\x00" or f[14 + 9] != 1:
            continue
        ihl = (f[14] & 0xF) * 4
        icmp = f[14 + ihl:]
        t, _, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
        if t == 0 and rid == ident and rseq in want:
            print("echo-reply %d %d" % (rseq, want.pop(rseq)), flush=True)
    for seq in sorted(want):
        print("no-reply %d" % seq, flush=True)


def cmd_garbage(a):
    link = open_client(a)
    rnd = random.Random(a.seed)
    for i in range(a.n):
        kind = i % 3
        if kind == 0:
            f = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(60, 1500)))
        elif kind == 1:
            f = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 13)))
        else:
            f = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x09" + b"\x08\x00"
        link.send(f)
    # a frame with a length that cannot be (qemu: over 69632 bytes) ends the
    # link, when asked for
    if a.bad_length is not None and link.kind == "unix":
        if link.codec == "qemu":
            link.send_raw(struct.pack(">I", a.bad_length) + b"junk" * 4)
        else:
            link.send_raw(struct.pack("<H", a.bad_length & 0xFFFF) + b"junk" * 4)
    if a.truncate is not None and link.kind == "unix":
        # a header that promises more than ever comes, then EOF
        hdr = struct.pack(">I", a.truncate) if link.codec == "qemu" else \
            struct.pack("<H", a.truncate)
        link.send_raw(hdr + b"\x01" * 10)
        link.s.shutdown(socket.SHUT_WR)
    if a.wait_eof:
        deadline = time.monotonic() + a.timeout
        while not link.eof and time.monotonic() < deadline:
            link.recv(max(deadline - time.monotonic(), 0))
        print("eof" if link.eof else "no-eof", flush=True)
    else:
        print("sent %d" % a.n, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float, default=30.0)
    sub = ap.add_subparsers(dest="cmd_name", required=True)

    def link_args(p, server=False):
        p.add_argument("addr")
        p.add_argument("--codec", default="qemu", choices=["qemu", "hyperkit"])
        if server:
            p.add_argument("--ready")
        else:
            p.add_argument("--bind", help="dgram: local path to bind")
            p.add_argument("--greet", help="send this message first (e.g. VFKT)")

    p = sub.add_parser("serve")
    link_args(p, server=True)
    p.add_argument("--log")
    p.add_argument("--echo", action="store_true")
    p.add_argument("--count", type=int)
    p.add_argument("--expect-post", action="store_true",
                   help="an HTTP request head comes before the frames (logged)")
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("send")
    link_args(p)
    p.add_argument("--sizes", default="")
    p.add_argument("--raw-hex")
    p.add_argument("--then-sizes", default="")
    p.add_argument("--chunk", type=int)
    p.add_argument("--expect", type=int, default=0)
    p.add_argument("--wait-eof", action="store_true")
    p.add_argument("--one-write", action="store_true", help="all --sizes frames in one write")
    p.add_argument("--post", help="send 'POST PATH HTTP/1.1' request headers first")
    p.set_defaults(fn=cmd_send)

    p = sub.add_parser("sums")
    p.add_argument("--sizes", default="")
    p.add_argument("--then-sizes", default="")
    p.set_defaults(fn=cmd_sums)

    p = sub.add_parser("dhcp")
    link_args(p)
    p.add_argument("--mac")
    p.add_argument("--before-sizes", default="",
                   help="send frames of these sizes first (e.g. an oversize one)")
    p.set_defaults(fn=cmd_dhcp)

    p = sub.add_parser("flood")
    link_args(p)
    p.add_argument("-n", type=int, default=1000)
    p.add_argument("--drain", type=float, default=2.0,
                   help="after sending, collect OFFERs this long at most")
    p.set_defaults(fn=cmd_flood)

    p = sub.add_parser("probe")
    link_args(p)
    p.add_argument("--mac", default="02:00:00:00:00:42")
    p.add_argument("--src", required=True, help="our IPv4 address")
    p.add_argument("--ip", required=True, help="the address to ARP and ping")
    p.add_argument("--via", help="ARP for this next hop instead and ping --ip through it")
    p.add_argument("--ping-sizes", default="", help="frame sizes of the echo requests")
    p.add_argument("--wait", type=float, default=5.0,
                   help="after the last reply, wait this long for more")
    p.set_defaults(fn=cmd_probe)

    p = sub.add_parser("garbage")
    link_args(p)
    p.add_argument("-n", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bad-length", type=int)
    p.add_argument("--truncate", type=int)
    p.add_argument("--wait-eof", action="store_true")
    p.set_defaults(fn=cmd_garbage)

    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
