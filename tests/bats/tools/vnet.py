#!/usr/bin/env python3
"""vnet.py - small network peers for vrelay's bats suites.

Every server writes its address to --ready FILE (atomically, after listen())
so that a test can wait for the file instead of sleeping.  Addresses are
"tcp:HOST:PORT" (PORT 0 picks a free one; the ready file then holds the
port) or "unix:PATH".  All waits are bounded by --timeout (default 60 s).

  sink      accept one connection, read to EOF (optionally slowly at
            first), then reply "SHA256 BYTES\\n" (unless --no-reply),
            stay silent --hold seconds, and close
  source    accept one connection, send FILE then shut the write side down,
            read what the peer sends to EOF; --result gets its "SHA BYTES"
  client    connect, send FILE (or nothing) then shut the write side down
            while reading to EOF; received data to stdout, or its
            "SHA BYTES" with --recv-hash, or into --out FILE
  echo      asyncio echo server for many connections (EOF is passed on)
  many      asyncio client: N connections, each with a unique payload
  fd-launch bind and listen on a unix socket, make it fd N, exec a command
  fdpair    run a command with one end of a socketpair as fd N; talk on
            the other end like "client"
  hash      read stdin to EOF, print its "SHA256 BYTES"
  freeport  print a TCP port on 127.0.0.1 that was free a moment ago
  http      HTTP server: GET of any path answers --body or --body-file (or,
            with --echo-path, "PATH\n"); HEAD too; ready file gets the port
  udp-echo  UDP echo server (each datagram back to its sender); with
            --prefix, the reply is PREFIX + the datagram
  udp-ask   send --text to a UDP address (udp:HOST:PORT), print the first
            reply; sent again every second until --timeout
  udp-freeport  print a UDP port on 127.0.0.1 that was free a moment ago
"""
import argparse
import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time

CHUNK = 1 << 20


def die(msg):
    print("vnet: " + msg, file=sys.stderr)
    sys.exit(2)


def parse_addr(text):
    if text.startswith("tcp:"):
        host, _, port = text[4:].rpartition(":")
        host = host.strip("[]")
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        return fam, (host, int(port))
    if text.startswith("unix:"):
        return socket.AF_UNIX, text[5:]
    die("bad address %r (tcp:HOST:PORT or unix:PATH)" % text)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def listen(addr, ready, backlog=128):
    fam, sa = parse_addr(addr)
    s = socket.socket(fam, socket.SOCK_STREAM)
    if fam != socket.AF_UNIX:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(sa)
    s.listen(backlog)
    if ready:
        if fam == socket.AF_UNIX:
            write_atomic(ready, sa + "\n")
        else:
            write_atomic(ready, "%d\n" % s.getsockname()[1])
    return s


def connect(addr, timeout):
    fam, sa = parse_addr(addr)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sa)
    return s


def recv_all(s, sink, slow=None, progress=None, limit=None):
    """Read to EOF (or until limit bytes); feed each chunk to sink(bytes).
    slow=(BYTES, CHUNK, DELAY): read the first BYTES in CHUNK-sized reads
    DELAY s apart."""
    got = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while limit is None or got < limit:
        want = CHUNK
        if slow and got < slow[0]:
            want = slow[1]
        if limit is not None:
            want = min(want, limit - got)
        n = s.recv_into(view, want)
        if n == 0:
            break
        sink(view[:n])
        slow_before = slow and got < slow[0]
        got += n
        if slow_before and progress:
            # every step of the slow phase, and the step that ends it
            write_atomic(progress, "%d\n" % got)
        if slow and got < slow[0]:
            time.sleep(slow[2])
    if progress:
        write_atomic(progress, "%d\n" % got)
    return got


def send_file(s, path):
    if path is None:
        return 0
    with open(path, "rb") as f:
        return s.sendfile(f)


def hasher():
    h = hashlib.sha256()
    return h, h.update


def parse_slow(text):
    if not text:
        return None
    b, c, d = text.split(":")
    return int(b), int(c), float(d)


def cmd_sink(a):
    ls = listen(a.listen, a.ready)
    ls.settimeout(a.timeout)
    c, _ = ls.accept()
    ls.close()
    c.settimeout(a.timeout)
    h, upd = hasher()
    n = recv_all(c, upd, parse_slow(a.slow), a.progress)
    line = "%s %d\n" % (h.hexdigest(), n)
    if a.result:
        write_atomic(a.result, line)
    if not a.no_reply:
        c.sendall(line.encode())
    if a.hold:
        # stay connected without a word: the peer has to give up
        time.sleep(a.hold)
    c.close()


def cmd_source(a):
    ls = listen(a.listen, a.ready)
    ls.settimeout(a.timeout)
    c, _ = ls.accept()
    ls.close()
    c.settimeout(a.timeout)
    h, upd = hasher()
    got = {}

    def reader():
        got["n"] = recv_all(c, upd)

    t = threading.Thread(target=reader)
    if not a.send_then_read:
        t.start()
    if a.file:
        send_file(c, a.file)
    if a.text is not None:
        c.sendall(a.text.encode())
    c.shutdown(socket.SHUT_WR)
    if a.send_then_read:
        t.start()
    t.join(a.timeout)
    if t.is_alive():
        die("source: peer did not finish in time")
    if a.result:
        write_atomic(a.result, "%s %d\n" % (h.hexdigest(), got["n"]))
    c.close()


def talk(s, a):
    """client side of a conversation on socket s"""
    out = None
    if a.out:
        out = open(a.out, "wb")
        sink = out.write
    elif a.recv_hash:
        h, sink = hasher()
    else:
        sink = sys.stdout.buffer.write
    err = {}

    def sender():
        try:
            if a.send:
                send_file(s, a.send)
            if a.text is not None:
                s.sendall(a.text.encode())
            if not a.no_shutdown:
                s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err["send"] = e

    t = threading.Thread(target=sender)
    if a.read_first:
        n = recv_all(s, sink)
        t.start()
        t.join(a.timeout)
    else:
        t.start()
        n = recv_all(s, sink, parse_slow(a.slow), limit=a.recv_bytes)
        t.join(a.timeout)
    if "send" in err:
        die("send: %s" % err["send"])
    if out:
        out.close()
    elif a.recv_hash:
        print("%s %d" % (h.hexdigest(), n))
    else:
        sys.stdout.flush()


def cmd_client(a):
    s = connect(a.connect, a.timeout)
    talk(s, a)
    s.close()


def cmd_fdpair(a):
    parent, child = socket.socketpair()
    os.set_inheritable(child.fileno(), True)

    def place():
        os.dup2(child.fileno(), a.fd)

    parent.settimeout(a.timeout)
    p = subprocess.Popen(a.cmd, preexec_fn=place, close_fds=False)
    child.close()
    talk(parent, a)
    parent.close()
    try:
        rc = p.wait(a.timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        die("fdpair: command did not end")
    sys.exit(rc)


def cmd_fd_launch(a):
    s = listen(a.listen, None)
    if s.fileno() == a.fd:
        s.detach()
    else:
        os.dup2(s.fileno(), a.fd)
        s.close()
    os.set_inheritable(a.fd, True)
    os.execvp(a.cmd[0], a.cmd)


def cmd_hash(a):
    h = hashlib.sha256()
    n = 0
    while True:
        b = sys.stdin.buffer.read1(CHUNK)
        if not b:
            break
        h.update(b)
        n += len(b)
    print("%s %d" % (h.hexdigest(), n), flush=True)


def cmd_freeport(a):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


async def echo_conn(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def cmd_echo(a):
    async def main():
        fam, sa = parse_addr(a.listen)
        if fam == socket.AF_UNIX:
            srv = await asyncio.start_unix_server(echo_conn, sa, backlog=4096)
        else:
            srv = await asyncio.start_server(echo_conn, sa[0], sa[1], backlog=4096,
                                             reuse_address=True)
        if a.ready:
            if fam == socket.AF_UNIX:
                write_atomic(a.ready, sa + "\n")
            else:
                write_atomic(a.ready, "%d\n" % srv.sockets[0].getsockname()[1])
        async with srv:
            await srv.serve_forever()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


def wait_file(path, timeout):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            die("timed out waiting for %s" % path)
        time.sleep(0.02)


def cmd_many(a):
    """N clients.  --halfclose: each connects, sends its payload, shuts down
    its write side and expects the payload back then EOF (all in parallel).
    Otherwise: open all N first and hold them, then send a payload on each
    and check each echo, then (--hold/--go) report and wait, then close."""
    fam, sa = parse_addr(a.connect)
    tag = os.urandom(4).hex()

    def payload(i):
        head = ("%s-conn-%05d-" % (tag, i)).encode()
        body = hashlib.sha256(head).hexdigest().encode() * (a.size // 64 + 1)
        return (head + body)[: max(a.size, len(head))] + b"\n"

    async def opener(i, sem):
        async with sem:
            for attempt in range(50):
                try:
                    if fam == socket.AF_UNIX:
                        return await asyncio.open_unix_connection(sa, limit=1 << 20)
                    return await asyncio.open_connection(sa[0], sa[1], limit=1 << 20)
                except OSError:
                    # e.g. a full accept backlog; try again shortly
                    await asyncio.sleep(0.05)
            raise RuntimeError("connection %d: cannot connect" % i)

    async def exchange(i, r, w, halfclose):
        data = payload(i)
        w.write(data)
        await w.drain()
        if halfclose:
            w.write_eof()
            got = await r.read(-1)
        else:
            got = await r.readexactly(len(data))
        return got == data

    async def main():
        sem = asyncio.Semaphore(a.parallel_connects)
        ok = 0
        if a.halfclose:
            async def one(i):
                r, w = await opener(i, sem)
                try:
                    return await exchange(i, r, w, True)
                finally:
                    w.close()
            res = await asyncio.wait_for(
                asyncio.gather(*(one(i) for i in range(a.n)), return_exceptions=True),
                a.timeout)
            bad = [r for r in res if r is not True]
            ok = a.n - len(bad)
            for r in bad[:5]:
                print("failure: %r" % (r,), file=sys.stderr)
            print("verified %d of %d" % (ok, a.n))
            return ok == a.n
        conns = await asyncio.wait_for(
            asyncio.gather(*(opener(i, sem) for i in range(a.n))), a.timeout)
        print("opened %d" % len(conns), flush=True)
        res = await asyncio.wait_for(
            asyncio.gather(*(exchange(i, r, w, False) for i, (r, w) in enumerate(conns)),
                           return_exceptions=True), a.timeout)
        bad = [r for r in res if r is not True]
        ok = a.n - len(bad)
        for r in bad[:5]:
            print("failure: %r" % (r,), file=sys.stderr)
        print("verified %d of %d" % (ok, a.n), flush=True)
        if a.hold:
            write_atomic(a.hold, "%d\n" % ok)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, wait_file, a.go, a.timeout)
        for r, w in conns:
            w.close()
        for r, w in conns:
            try:
                await w.wait_closed()
            except OSError:
                pass
        print("closed %d" % len(conns), flush=True)
        return ok == a.n

    sys.exit(0 if asyncio.run(main()) else 1)


def parse_udp(text):
    if not text.startswith("udp:"):
        die("bad address %r (udp:HOST:PORT)" % text)
    host, _, port = text[4:].rpartition(":")
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return fam, (host, int(port))


def cmd_http(a):
    import http.server

    fam, sa = parse_addr(a.listen)
    body_text = a.body
    if a.body_file:
        with open(a.body_file) as f:
            body_text = f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, with_body):
            body = (self.path + "\n" if a.echo_path else body_text).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self):
            self._answer(True)

        def do_HEAD(self):
            self._answer(False)

        def log_message(self, fmt, *args):
            if a.log:
                with open(a.log, "a") as f:
                    f.write("%s %s\n" % (self.client_address[0], fmt % args))

    class Server(http.server.ThreadingHTTPServer):
        address_family = fam
        allow_reuse_address = True

    srv = Server(sa, Handler)
    if a.ready:
        write_atomic(a.ready, "%d\n" % srv.server_address[1])
    srv.timeout = a.timeout
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


def cmd_udp_echo(a):
    fam, sa = parse_udp(a.listen)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(sa)
    if a.ready:
        write_atomic(a.ready, "%d\n" % s.getsockname()[1])
    prefix = (a.prefix or "").encode()
    while True:
        d, peer = s.recvfrom(65535)
        if a.log:
            with open(a.log, "a") as f:
                f.write("%s %d\n" % (peer[0], len(d)))
        s.sendto(prefix + d, peer)


def cmd_udp_ask(a):
    fam, sa = parse_udp(a.connect)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    end = time.monotonic() + a.timeout
    while time.monotonic() < end:
        s.sendto(a.text.encode(), sa)
        s.settimeout(min(1.0, max(end - time.monotonic(), 0.01)))
        try:
            d, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        except ConnectionRefusedError:
            # an ICMP port unreachable from an earlier try: try again
            continue
        sys.stdout.write(d.decode(errors="replace") + "\n")
        return
    die("udp-ask: no reply from %s" % a.connect)


def cmd_udp_freeport(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float, default=60.0)
    sub = ap.add_subparsers(dest="cmd_name", required=True)

    p = sub.add_parser("sink")
    p.add_argument("listen")
    p.add_argument("--ready")
    p.add_argument("--result")
    p.add_argument("--no-reply", action="store_true")
    p.add_argument("--hold", type=float, help="after EOF (and the reply), wait SECS before closing")
    p.add_argument("--slow", help="BYTES:CHUNK:DELAY - read the first BYTES slowly")
    p.add_argument("--progress", help="file: bytes read so far (during --slow)")
    p.set_defaults(fn=cmd_sink)

    p = sub.add_parser("source")
    p.add_argument("listen")
    p.add_argument("--ready")
    p.add_argument("--file")
    p.add_argument("--text")
    p.add_argument("--result")
    p.add_argument("--send-then-read", action="store_true",
                   help="read the peer's data only after our write side is shut")
    p.set_defaults(fn=cmd_source)

    for name, fn in (("client", cmd_client), ("fdpair", cmd_fdpair)):
        p = sub.add_parser(name)
        if name == "client":
            p.add_argument("connect")
        else:
            p.add_argument("--fd", type=int, required=True)
            p.add_argument("cmd", nargs="+")
        p.add_argument("--send", help="file to send")
        p.add_argument("--text", help="text to send (after --send)")
        p.add_argument("--no-shutdown", action="store_true")
        p.add_argument("--read-first", action="store_true",
                       help="read to EOF before sending anything")
        p.add_argument("--recv-hash", action="store_true")
        p.add_argument("--recv-bytes", type=int,
                       help="stop reading after this many bytes (peers that never half-close)")
        p.add_argument("--out")
        p.add_argument("--slow", help="BYTES:CHUNK:DELAY - read the first BYTES slowly")
        p.set_defaults(fn=fn)

    p = sub.add_parser("echo")
    p.add_argument("listen")
    p.add_argument("--ready")
    p.set_defaults(fn=cmd_echo)

    p = sub.add_parser("many")
    p.add_argument("connect")
    p.add_argument("-n", type=int, required=True)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--parallel-connects", type=int, default=256)
    p.add_argument("--halfclose", action="store_true")
    p.add_argument("--hold", help="file written once every echo is checked")
    p.add_argument("--go", help="file to wait for before closing")
    p.set_defaults(fn=cmd_many)

    p = sub.add_parser("fd-launch")
    p.add_argument("listen")
    p.add_argument("--fd", type=int, default=3)
    p.add_argument("cmd", nargs="+")
    p.set_defaults(fn=cmd_fd_launch)

    p = sub.add_parser("hash")
    p.set_defaults(fn=cmd_hash)

    p = sub.add_parser("freeport")
    p.set_defaults(fn=cmd_freeport)

    p = sub.add_parser("http")
    p.add_argument("listen")
    p.add_argument("--ready")
    p.add_argument("--body", default="hello from vnet\n")
    p.add_argument("--body-file", help="answer the contents of this file")
    p.add_argument("--echo-path", action="store_true")
    p.add_argument("--log", help="file: one line per request (client address, request)")
    p.set_defaults(fn=cmd_http)

    p = sub.add_parser("udp-echo")
    p.add_argument("listen")
    p.add_argument("--ready")
    p.add_argument("--prefix")
    p.add_argument("--log", help="file: one line per datagram (sender address, size)")
    p.set_defaults(fn=cmd_udp_echo)

    p = sub.add_parser("udp-ask")
    p.add_argument("connect")
    p.add_argument("--text", required=True)
    p.set_defaults(fn=cmd_udp_ask)

    p = sub.add_parser("udp-freeport")
    p.set_defaults(fn=cmd_udp_freeport)

    a = ap.parse_args()
    if a.cmd_name == "many" and a.hold and not a.go:
        die("--hold needs --go")
    a.fn(a)


if __name__ == "__main__":
    main()
