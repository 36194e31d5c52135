#!/usr/bin/env python3
# make-seeds.py - write the seed corpora of tests/fuzz/corpus/ from the
# examples below (addresses from the README and man page, real frames, the
# API requests of the man page).  Run from anywhere:
#   tests/fuzz/make-seeds.py
# Files are named by what they are; re-running rewrites the same files.
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- fuzz-addr: addresses as users write them -----------------------------
ADDRS = {
    "stdio": "-",
    "tcp-listen-fork": "TCP-LISTEN:8080,fork,reuseaddr,backlog=64",
    "tcp-connect-v6": "TCP:[::1]:22,connect-timeout=2.5,retry=3,interval=0.5",
    "tcp4-bind-range": "TCP4-LISTEN:2222,bind=127.0.0.1,range=127.0.0.0/8,10.0.0.1-10.0.0.9",
    "unix-listen-mode": "UNIX-LISTEN:/tmp/v.sock,mode=0600,unlink-early,user=root,group=0",
    "abstract": "ABSTRACT-CONNECT:vrelay-test",
    "vsock-connect": "VSOCK-CONNECT:3:22",
    "vsock-listen-range": "VSOCK-LISTEN:1024,fork,range=3-10,42,max-children=8",
    "vsock-mux": "VSOCK-MUX:/run/firecracker.vsock:52,reply-timeout=5,no-reply-ok",
    "vsock-mux-listen": "VSOCK-MUX-LISTEN:/run/fc.vsock:1024",
    "hyperkit": "HYPERKIT-UNIX:/var/run/vm:3:22",
    "hyperkit-listen": "HYPERKIT-UNIX-LISTEN:/tmp:1024",
    "hvsock-guid": "HVSOCK:parent:00000016-facb-11e6-bd58-64006a7986d3",
    "hvsock-braces": "HVSOCK-LISTEN:wildcard:{00000016-FACB-11E6-BD58-64006A7986D3}",
    "exec-quoted": "EXEC:'sh -c \"echo hi; cat\"',pty,stderr",
    "system": "SYSTEM:echo a:b,c 'd'",
    "dual": "STDIN!!STDOUT",
    "dual-exec": "EXEC:cat!!UNIX-CONNECT:/tmp/x.sock",
    "fd-number": "3",
    "tap": "TAP:vr0,mac=02:00:00:00:00:01,netns=test",
    "nat": "NAT,subnet=10.0.2.0/24,gateway=10.0.2.1,host-ip=10.0.2.254,mtu=9000,no-ipv6",
    "nat-zones": "NAT,dns-zone=test.internal/www=10.1.2.3/@=10.1.2.4/v6=fd00::42,"
                 "dns-zone=example.test/api=10.9.9.9",
    "nat-forward": "NAT,forward=tcp:127.0.0.1:2222:192.168.127.2:22,"
                   "forward=udp::5353:192.168.127.2:53,api=/tmp/nat.sock,pcap=/tmp/x.pcap",
    "frames-post": "UNIX-CONNECT:/tmp/gv.sock,frames=qemu,post=/connect",
    "frames-accept": "UNIX-LISTEN:/tmp/gv.sock,frames=hyperkit,accept-post",
    "seqpacket": "UNIX-SEQPACKET-LISTEN:/tmp/s.sock",
    "dgram": "UNIX-DGRAM:/tmp/d.sock",
    "openssl": "OPENSSL:127.0.0.1:443,verify=0,alpn=h2,http/1.1,min-version=1.2,commonname=x",
    "openssl-listen": "OPENSSL-LISTEN:4433,cert=/nonexistent.pem,cafile=/nonexistent",
    "tls-on-unix": "UNIX-CONNECT:/tmp/t.sock,tls=client,no-sni,ciphers=HIGH",
    "readline": "READLINE,history=/tmp/h,prompt=> ",
    "acceptfd": "ACCEPT-FD:3,fork",
    "sizes": "TCP:127.0.0.1:1,sndbuf=64k,rcvbuf=1m,ignoreeof",
    "bad-quote": "EXEC:'unterminated",
    "bad-bracket": "TCP:[::1:22",
    "ssh-vsock": "ssh-proxy vsock/3 22",
    "ssh-unix": "ssh-proxy unix/run/vm.sock 22",
    "ssh-unix-rel": "ssh-proxy unix/./vm,1.sock 22",
    "ssh-mux": "ssh-proxy vsock-mux//run/fc:v.sock 2222",
    "ssh-hyperkit": "ssh-proxy hyperkit/var/run/d!!x/3 22",
}
for name, text in ADDRS.items():
    put("addr", name, text)

# ---- frames: streams of length-prefixed Ethernet frames -------------------
eth = bytes.fromhex("ffffffffffff020000000001 0806".replace(" ", "")) + bytes(28)
big = bytes.fromhex("020000000002020000000001 0800".replace(" ", "")) + bytes(1486)
post = b"POST /connect HTTP/1.1\r\nHost: vrelay\r\nContent-Length: 0\r\n\r\n"
for codec, hdr in (("qemu", lambda n: struct.pack(">I", n)),
                   ("hyperkit", lambda n: struct.pack("<H", n))):
    t = "frame-" + codec
    put(t, "one-arp", hdr(len(eth)) + eth)
    put(t, "two-frames", hdr(len(eth)) + eth + hdr(len(big)) + big)
    put(t, "partial", hdr(len(big)) + big[:100])
    put(t, "runt", hdr(4) + b"abcd" + hdr(0))
    put(t, "post-then-frame", post + hdr(len(eth)) + eth)
    put(t, "post-partial", post[:30])
    put(t, "not-post", b"GET / HTTP/1.1\r\n\r\n")
put("frame-qemu", "corrupt-length", struct.pack(">I", 70000) + bytes(16))

# ---- VSOCK-MUX replies ----------------------------------------------------
for name, text in {
    "firecracker": "OK 1073741824\n",
    "vhost-user": "OK 52\nguest data",
    "bare-ok": "ok\n",
    "partial": "OK 10",
    "refused": "ERR no such port\n",
    "old-vmm-data": "SSH-2.0-OpenSSH_9.2\r\n",
    "ok-space": "OK \n",
    "oversized": "OK " + "1" * 70,
}.items():
    put("vsockmux", name, text)

# ---- HyperKit header: CID and port, then a header as bytes -----------------
put("hyperkit", "cid3-port22", struct.pack(">II", 3, 22))
put("hyperkit", "header", b"00000003.00000016\n")
put("hyperkit", "max", struct.pack(">II", 0xffffffff, 0xffffffff))

# ---- HVSOCK GUIDs ------------------------------------------------------------
for name, text in {
    "vsock-port": "00000016-facb-11e6-bd58-64006a7986d3",
    "braces-upper": "{0000C350-FACB-11E6-BD58-64006A7986D3}",
    "parent": "parent",
    "loopback-guid": "e0e16197-dd56-4a10-9195-5ee7a155a838",
    "wildcard": "00000000-0000-0000-0000-000000000000",
    "bad-dash": "00000016-facb-11e6bd58-64006a7986d3-",
}.items():
    put("hvguid", name, text)

# ---- NAT API requests (the man page's) ----------------------------------------
def req(method, path, body=None, extra=""):
    head = f"{method} {path} HTTP/1.1\r\nHost: unix\r\n{extra}"
    if body is not None:
        head += f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n"
    return (head + "\r\n" + (body or "")).encode()


put("natapi", "stats", req("GET", "/stats"))
put("natapi", "all", req("GET", "http://unix/services/forwarder/all"))
put("natapi", "head-all", req("HEAD", "/services/forwarder/all"))
put("natapi", "expose", req("POST", "/services/forwarder/expose",
                            '{"local":":6443","remote":"192.168.127.2:6443","protocol":"tcp"}'))
put("natapi", "expose-udp", req("POST", "/services/forwarder/expose",
                                '{"Local":"127.0.0.1:5353","remote":"192.168.127.3:53",'
                                '"protocol":"udp","x":"\\u0041\\n"}'))
put("natapi", "unexpose", req("POST", "/services/forwarder/unexpose",
                              '{"local":":6443","protocol":"tcp"}'))
put("natapi", "expect-continue", req("POST", "/services/forwarder/expose", '{"local":":1"}',
                                     "Expect: 100-continue\r\n"))
put("natapi", "chunked", req("POST", "/services/forwarder/expose", None,
                             "Transfer-Encoding: chunked\r\n"))
put("natapi", "wrong-method", req("DELETE", "/stats"))
put("natapi", "http2", b"GET /stats HTTP/2.0\r\n\r\n")
put("natapi", "short-body", b"POST /services/forwarder/expose HTTP/1.0\r\nContent-Length: 50\r\n\r\n{}")

# ---- frames into the NAT engine ----------------------------------------------
GUEST = bytes.fromhex("020000000077")
BCAST = b"\xff" * 6
GWMAC = bytes.fromhex("5255c0a87f01")     # libslirp-style MAC; the switch learns
NET = "192.168.127."


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                    ip4(src), ip4(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def l4sum(src, dst, proto, seg):
    return csum(ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, len(seg)) + seg)


def udp(src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = l4sum(src, dst, 17, seg) or 0xffff
    return ipv4(src, dst, 17, seg[:6] + struct.pack("!H", c) + seg[8:])


def tcp_syn(src, dst, sport, dport):
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, 0x02, 65535, 0, 0)
    c = l4sum(src, dst, 6, seg)
    return ipv4(src, dst, 6, seg[:16] + struct.pack("!H", c) + seg[18:])


def eth_frame(dst, payload, etype=0x0800):
    return dst + GUEST + struct.pack("!H", etype) + payload


def arp(tip):
    return eth_frame(BCAST, struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + GUEST + ip4(NET + "2") +
                     bytes(6) + ip4(tip), 0x0806)


def dhcp(msgtype, extra=b""):
    b = bytearray(240)
    b[0:4] = b"\x01\x01\x06\x00"
    b[4:8] = b"\x12\x34\x56\x78"
    b[28:34] = GUEST
    b[236:240] = b"\x63\x82\x53\x63"
    b += bytes([53, 1, msgtype]) + extra + b"\xff"
    return eth_frame(BCAST, udp("0.0.0.0", "255.255.255.255", 68, 67, bytes(b)))


def dns_query(name, qtype=1):
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", qtype, 1)


def ping(dst):
    icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"vrelay-fuzz"
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    return eth_frame(GWMAC, ipv4(NET + "2", dst, 1, icmp))


def records(*frames, cfg=0, run_each=True):
    out = bytes([cfg])
    for i, f in enumerate(frames):
        link = 0
        if isinstance(f, tuple):
            link, f = f
        out += bytes([link | (2 if run_each else 0)]) + struct.pack("<H", len(f)) + f
    return out


put("natframes", "dhcp-discover", records(dhcp(1)))
put("natframes", "dhcp-request", records(dhcp(1), dhcp(3, bytes([50, 4]) + ip4(NET + "2") +
                                                      bytes([54, 4]) + ip4(NET + "1"))))
put("natframes", "arp-gateway-host", records(arp(NET + "1"), arp(NET + "254")))
put("natframes", "ping-gateway-host", records(ping(NET + "1"), ping(NET + "254")))
put("natframes", "tcp-syn-host", records(eth_frame(GWMAC, tcp_syn(NET + "2", NET + "254", 40000, 22))))
put("natframes", "dns-zone-a", records(eth_frame(GWMAC, udp(NET + "2", NET + "1", 5353, 53,
                                                            dns_query("www.test.internal")))))
put("natframes", "dns-zone-aaaa", records(eth_frame(GWMAC, udp(NET + "2", NET + "1", 5353, 53,
                                                               dns_query("v6.test.internal", 28)))))
put("natframes", "dns-zone-nx", records(eth_frame(GWMAC, udp(NET + "2", NET + "1", 5353, 53,
                                                             dns_query("nope.vm.test")))))
put("natframes", "dns-forwarded", records(eth_frame(GWMAC, udp(NET + "2", NET + "1", 5353, 53,
                                                               dns_query("example.com")))))
put("natframes", "udp-host", records(eth_frame(GWMAC, udp(NET + "2", NET + "254", 5000, 7, b"x"))))
# link 0's guest is learned from its ARP; a second guest on link 1 sends it
# a frame, which the switch carries across
OTHER = bytes.fromhex("020000000088")
put("natframes", "two-links", records((0, arp(NET + "1")),
                                      (1, GUEST + OTHER + b"\x08\x00" +
                                       udp(NET + "3", NET + "2", 1000, 2000, b"hello"))))
put("natframes", "mtu576-ipv6-off", records(dhcp(1), ping(NET + "1"), cfg=0b011))
put("natframes", "runt-and-junk", records(b"\x01" * 10, bytes(60)))
print("seeds written under", os.path.join(here, "corpus"))
