#!/usr/bin/env python3
"""natflood.py - a hostile guest for the NAT engine's fault tests.

Speaks to the engine over a frame link (vframe.py's addresses: unix:PATH
with --codec, seqpacket:PATH, dgram:PATH) and sends a bounded burst of one
kind of bad traffic, reading what comes back without ever blocking on it:

  syn      -n SYNs to --dst, spread over the --port list, from random
           source ports (and, with --random-src, random guest addresses
           and MACs); nobody ever completes a handshake.  Prints
           "sent N synack A rst R"; with --hold FILE, then keeps the link
           open until FILE exists
  arp      -n ARP frames from random MACs and addresses: requests for the
           gateway (which answers), requests for free addresses, and
           gratuitous replies.  Prints "sent N replies R"
  junk     -n bad frames, a fixed mix: random bytes, runts, frames over
           the MTU, IPv4 with a bad header checksum, a bad IHL or a total
           length past the frame, TCP and UDP headers cut short, IPv6 with
           a payload length past the frame, a cut-off ARP.  Prints
           "sent N random R runt U oversize O malformed M" (each count is
           what the engine should say about that kind)

Every IP packet goes to --dst, which must be the gateway or the host
alias (.1 or .254) of --net: libslirp turns a flow to any other address
outside the virtual network into a real one, and these tests send
nothing anywhere but to the engine's own host.
"""
import argparse
import ipaddress
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vframe  # noqa: E402  (the links and packet builders)

BCAST = b"\xff" * 6


def die(msg):
    print("natflood: " + msg, file=sys.stderr)
    sys.exit(2)


def check_dst(a):
    net = ipaddress.ip_network(a.net)
    dst = ipaddress.ip_address(a.dst)
    if dst not in net or int(dst) - int(net.network_address) not in (1, net.num_addresses - 2):
        die("--dst %s: only the gateway or the host alias of %s" % (a.dst, a.net))
    return net


def rand_mac(rnd):
    # locally administered, unicast
    return bytes([0x02, 0x77]) + bytes(rnd.getrandbits(8) for _ in range(4))


def rand_guest(rnd, net):
    """a guest address from the top half of the network, below the host
    alias and the engine's hidden DNS address: never the gateway, never
    an address DHCP hands out first"""
    n = net.num_addresses
    return str(net.network_address + rnd.randrange(n // 2, n - 3))


def arp_frame(op, src_mac, src_ip, dst_mac, tip, eth_dst=BCAST):
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, src_mac, socket.inet_aton(src_ip),
                      dst_mac, socket.inet_aton(tip))
    return vframe.eth(eth_dst, src_mac, 0x0806, arp)


def resolve(link, mac, ip, target, timeout):
    """the MAC that answers ARP for @target"""
    got = vframe.ask(link, arp_frame(1, mac, ip, b"\0" * 6, target),
                     vframe.arp_reply_from(target), time.monotonic() + timeout)
    if got is None:
        die("no ARP reply from %s" % target)
    return got


def drain(link, seconds, fn):
    """hand every frame that comes within @seconds (0: what is there) to fn"""
    end = time.monotonic() + seconds
    while True:
        f = link.recv(max(end - time.monotonic(), 0))
        if f is None:
            if link.eof:
                die("the link ended")
            return
        fn(f)


def dhcp_after(link, a):
    """--dhcp MAC: then, on the same link, DISCOVER until an OFFER comes;
    print "offer IP"
    """
    if not a.dhcp:
        return
    mac, xid = vframe.mac_bytes(a.dhcp), random.getrandbits(32)

    def offer(f):
        d = vframe.parse_dhcp(f)
        return d[1] if d and d[0] == xid else None
    got = vframe.ask(link, vframe.dhcp_discover(mac, xid), offer, time.monotonic() + a.timeout)
    if got is None:
        die("no DHCP offer after the flood")
    print("offer %s" % got, flush=True)


def tcp_syn(src, sport, dst, dport, seq):
    # SYN with an MSS option, as any stack sends
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 6 << 4, 0x02, 64240, 0, 0)
    tcp += struct.pack("!BBH", 2, 4, 1460)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    c = vframe.csum(pseudo + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    return vframe.ipv4(src, dst, 6, tcp)


def cmd_syn(a):
    net = check_dst(a)
    rnd = random.Random(a.seed)
    link = vframe.open_client(a)
    me_mac, me_ip = vframe.mac_bytes(a.mac), a.src or rand_guest(rnd, net)
    gw = resolve(link, me_mac, me_ip, a.dst, a.timeout)
    ports = [int(p) for p in a.port]
    seen = {"synack": 0, "rst": 0}

    def count(f):
        if f[12:14] != b"\x08\x00" or f[23] != 6:
            return
        ihl = (f[14] & 0xF) * 4
        flags = f[14 + ihl + 13]
        if flags & 0x04:
            seen["rst"] += 1
        elif flags & 0x12 == 0x12:
            seen["synack"] += 1

    for i in range(a.n):
        mac, ip = (rand_mac(rnd), rand_guest(rnd, net)) if a.random_src else (me_mac, me_ip)
        pkt = tcp_syn(ip, rnd.randrange(1024, 65536), a.dst, ports[i % len(ports)],
                      rnd.getrandbits(32))
        link.send(vframe.eth(gw, mac, 0x0800, pkt))
        drain(link, 0, count)
    drain(link, a.drain, count)
    line = "sent %d synack %d rst %d" % (a.n, seen["synack"], seen["rst"])
    print(line, flush=True)
    if a.result:
        vframe.write_atomic(a.result, line + "\n")
    if a.hold:
        # keep the link, and with it the half-open flows, until told
        end = time.monotonic() + a.timeout
        while not os.path.exists(a.hold) and time.monotonic() < end:
            drain(link, 0.05, lambda f: None)


def cmd_arp(a):
    net = check_dst(a)
    rnd = random.Random(a.seed)
    link = vframe.open_client(a)
    gw_ip = a.dst
    want = set()
    got = [0]

    def count(f):
        if f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02" and f[32:38] in want:
            got[0] += 1

    for i in range(a.n):
        mac, ip = rand_mac(rnd), rand_guest(rnd, net)
        kind = i % 3
        if kind == 0:
            # who has the gateway?  It must answer each of these
            want.add(mac)
            f = arp_frame(1, mac, ip, b"\0" * 6, gw_ip)
        elif kind == 1:
            # who has a free address?  Nobody answers
            f = arp_frame(1, mac, ip, b"\0" * 6, rand_guest(rnd, net))
        else:
            # gratuitous reply: "ip is at mac", to everyone
            f = arp_frame(2, mac, ip, BCAST, ip)
        link.send(f)
        drain(link, 0, count)
    drain(link, a.drain, count)
    print("sent %d replies %d" % (a.n, got[0]), flush=True)
    dhcp_after(link, a)


def cmd_junk(a):
    net = check_dst(a)
    rnd = random.Random(a.seed)
    link = vframe.open_client(a)
    me_mac = vframe.mac_bytes(a.mac)
    me_ip = rand_guest(rnd, net)
    dst_mac = bytes([0x52, 0x55]) + socket.inet_aton(a.dst)
    n = {"random": 0, "runt": 0, "oversize": 0, "malformed": 0}

    def udp(payload=b"junk"):
        # to a port of the host alias that nothing uses (the discard port)
        return vframe.udp4(me_ip, 40000, a.dst, 9, payload)

    def ip_frame(pkt, etype=0x0800):
        return vframe.eth(dst_mac, me_mac, etype, pkt)

    def bad_csum():
        p = bytearray(udp())
        p[10] ^= 0x5A
        return ip_frame(bytes(p))

    def bad_ihl():
        p = bytearray(udp())
        p[0] = 0x40 | rnd.randrange(0, 5)
        return ip_frame(bytes(p))

    def long_total():
        p = bytearray(udp())
        struct.pack_into("!H", p, 2, len(p) + rnd.randrange(1, 1000))
        p[10:12] = b"\0\0"
        p[10:12] = struct.pack("!H", vframe.csum(bytes(p[:20])))
        return ip_frame(bytes(p))

    def short_tcp():
        # an IPv4 packet whose TCP header is cut off after 1..19 bytes
        tcp = struct.pack("!HHIIBBHHH", 40001, 9, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
        return ip_frame(vframe.ipv4(me_ip, a.dst, 6, tcp[:rnd.randrange(1, 20)]))

    def short_udp():
        # the UDP length says more than the IP packet holds
        p = bytearray(udp(b"x" * 8))
        struct.pack_into("!H", p, 24, 8 + 8 + rnd.randrange(1, 500))
        return ip_frame(bytes(p))

    def long_ip6():
        hdr = struct.pack("!IHBB16s16s", 6 << 28, 1000 + rnd.randrange(0, 1000), 17, 64,
                          socket.inet_pton(socket.AF_INET6, "fd00::2"),
                          socket.inet_pton(socket.AF_INET6, "fd00::1"))
        return ip_frame(hdr + b"\0" * 8, 0x86DD)

    def short_arp():
        f = arp_frame(1, me_mac, me_ip, b"\0" * 6, a.dst)
        return f[:14 + rnd.randrange(8, 28)]

    bad_xids = set()

    def bad_csum_dhcp():
        # a DISCOVER the engine would answer, but for its IPv4 checksum
        xid = rnd.getrandbits(32)
        bad_xids.add(xid)
        f = bytearray(vframe.dhcp_discover(rand_mac(rnd), xid))
        f[14 + 10] ^= 0xA5
        return bytes(f)

    answered = [0]

    def count(f):
        d = vframe.parse_dhcp(f)
        if d and d[0] in bad_xids:
            answered[0] += 1

    malformed = [bad_csum, bad_ihl, long_total, short_tcp, short_udp, long_ip6, short_arp,
                 bad_csum_dhcp]
    for i in range(a.n):
        kind = i % 4
        if kind == 0:
            f = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(14, 1515)))
            n["random"] += 1
        elif kind == 1:
            f = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 14)))
            n["runt"] += 1
        elif kind == 2 and i % 8 == 2:
            # over the MTU plus an Ethernet header with a VLAN tag (18),
            # within what the codec carries
            f = os.urandom(rnd.randrange(a.mtu + 19, a.max_frame + 1))
            n["oversize"] += 1
        else:
            f = malformed[(i // 4) % len(malformed)]()
            n["malformed"] += 1
        link.send(f)
        drain(link, 0, count)
    drain(link, a.drain, count)
    print("sent %d random %d runt %d oversize %d malformed %d answered %d" %
          (a.n, n["random"], n["runt"], n["oversize"], n["malformed"], answered[0]), flush=True)
    dhcp_after(link, a)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float, default=30.0)
    sub = ap.add_subparsers(dest="cmd_name", required=True)

    def common(p, fn):
        p.add_argument("addr")
        p.add_argument("--codec", default="qemu", choices=["qemu", "hyperkit"])
        p.add_argument("--bind", help="dgram: local path to bind")
        p.add_argument("--net", default="192.168.127.0/24")
        p.add_argument("--dst", default="192.168.127.254",
                       help="the gateway or the host alias (nothing else)")
        p.add_argument("-n", type=int, default=1000)
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--mac", default="02:00:00:00:00:66", help="our own MAC")
        p.add_argument("--drain", type=float, default=1.0,
                       help="after sending, count replies this long")
        p.add_argument("--dhcp", metavar="MAC",
                       help="then get a DHCP offer for MAC on the same link")
        p.set_defaults(fn=fn)
        return p

    p = common(sub.add_parser("syn"), cmd_syn)
    p.add_argument("--port", action="append", required=True)
    p.add_argument("--src", help="our address (default: a random one of --net)")
    p.add_argument("--random-src", action="store_true",
                   help="every SYN from a new MAC and guest address")
    p.add_argument("--hold", help="after the flood, keep the link until this file exists")
    p.add_argument("--result", help="file: the summary line, once the flood is sent")
    common(sub.add_parser("arp"), cmd_arp)
    p = common(sub.add_parser("junk"), cmd_junk)
    p.add_argument("--mtu", type=int, default=1500)
    p.add_argument("--max-frame", type=int, default=9000)

    a = ap.parse_args()
    a.greet = None
    a.fn(a)


if __name__ == "__main__":
    main()
