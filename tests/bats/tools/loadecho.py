#!/usr/bin/env python3
"""loadecho.py - the load of soak.bats and scripts/soak: an echo server
and clients that hold many connections at once, each verified byte for byte.

Addresses are "tcp:HOST:PORT" or "unix:PATH".  Every wait is bounded by
--timeout (default 120 s): past it the command fails.

  echo LISTEN [--ready FILE]
        asyncio echo server: each connection gets its bytes back, and its
        EOF passed on after them (then it is closed).  The ready file gets
        the port (or the path) once it listens.
  hold CONNECT -n N [--size B] [--parallel K] [--peak FILE --go FILE]
        open N connections and keep every one of them open; then on each
        send "conn I of N\\n" + B random bytes and check the echo byte
        for byte; with --peak, write the number verified to FILE (all N
        connections still open: the moment to count the relay's fds) and
        wait for FILE --go to exist; then shut each write side down and
        expect EOF back (the relay passed the close both ways), close.
        At most K connects are in flight at once (the listen backlog).
  seq CONNECT -n N [--size B]
        N connections one after the other, each sends its own payload,
        shuts its write side down and must read exactly that back, then EOF.

hold and seq print "verified V of N" and exit 0 only if V == N; hold also
prints "opened", "closed" and the seconds each phase took.
"""
import argparse
import asyncio
import os
import socket
import sys
import time


def parse_addr(text):
    if text.startswith("tcp:"):
        host, _, port = text[4:].rpartition(":")
        host = host.strip("[]")
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        return fam, (host, int(port))
    if text.startswith("unix:"):
        return socket.AF_UNIX, text[5:]
    print("loadecho: bad address %r (tcp:HOST:PORT or unix:PATH)" % text, file=sys.stderr)
    sys.exit(2)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def payload(i, n, size):
    return ("conn %d of %d\n" % (i, n)).encode() + os.urandom(size)


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport

    def data_received(self, data):
        self.t.write(data)

    def eof_received(self):
        # False: the transport closes itself once what we wrote is sent,
        # so the peer sees its data, then EOF
        return False


def cmd_echo(a):
    async def main():
        fam, sa = parse_addr(a.listen)
        loop = asyncio.get_running_loop()
        if fam == socket.AF_UNIX:
            srv = await loop.create_unix_server(Echo, sa, backlog=4096)
            where = sa
        else:
            srv = await loop.create_server(Echo, sa[0], sa[1], backlog=4096,
                                           reuse_address=True)
            where = "%d" % srv.sockets[0].getsockname()[1]
        if a.ready:
            write_atomic(a.ready, where + "\n")
        async with srv:
            await srv.serve_forever()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


async def open_conn(fam, sa):
    if fam == socket.AF_UNIX:
        # a non-blocking AF_UNIX connect fails with EAGAIN while the
        # listener's backlog is full, and nothing is pending afterwards;
        # asyncio's sock_connect would take the socket for connected
        # (writable, SO_ERROR 0) and its reads fail with EINVAL later.
        # So connect here, and try again while the backlog is full.
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(sa)
                break
            except BlockingIOError:
                s.close()
                await asyncio.sleep(0.01)
            except BaseException:
                s.close()
                raise
        return await asyncio.open_unix_connection(sock=s, limit=1 << 20)
    return await asyncio.open_connection(sa[0], sa[1], limit=1 << 20)


async def wait_file(path, timeout):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise TimeoutError("no %s after %gs" % (path, timeout))
        await asyncio.sleep(0.05)


def report(bad, what):
    for r in bad[:5]:
        print("loadecho: %s: %r" % (what, r), file=sys.stderr)



def cmd_hold(a):
    fam, sa = parse_addr(a.connect)
    n = a.n

    async def opener(sem):
        # no retry: a connect that fails is a connection the relay lost
        async with sem:
            return await open_conn(fam, sa)

    async def exchange(i, r, w):
        data = payload(i, n, a.size)
        w.write(data)
        await w.drain()
        got = await r.readexactly(len(data))
        if got != data:
            raise ValueError("connection %d: echo differs from what was sent" % i)

    async def finish(i, r, w):
        w.write_eof()
        rest = await r.read()
        if rest:
            raise ValueError("connection %d: %d extra bytes before EOF" % (i, len(rest)))
        w.close()
        await w.wait_closed()

    async def phase(coros):
        res = await asyncio.gather(*coros, return_exceptions=True)
        return [r for r in res if isinstance(r, BaseException)], res

    async def main():
        t0 = time.monotonic()
        bad, conns = await phase(opener(asyncio.Semaphore(a.parallel)) for _ in range(n))
        report(bad, "connect")
        conns = [c for c in conns if not isinstance(c, BaseException)]
        t1 = time.monotonic()
        print("opened %d of %d in %.1fs" % (len(conns), n, t1 - t0), flush=True)
        bad, _ = await phase(exchange(i, r, w) for i, (r, w) in enumerate(conns))
        report(bad, "echo")
        ok = len(conns) - len(bad)
        t2 = time.monotonic()
        print("verified %d of %d in %.1fs" % (ok, n, t2 - t1), flush=True)
        if a.peak:
            write_atomic(a.peak, "%d\n" % ok)
            await wait_file(a.go, a.timeout)
        t3 = time.monotonic()
        bad, _ = await phase(finish(i, r, w) for i, (r, w) in enumerate(conns))
        report(bad, "close")
        print("closed %d of %d in %.1fs" % (len(conns) - len(bad), n,
                                             time.monotonic() - t3), flush=True)
        return ok == n and not bad

    try:
        good = asyncio.run(asyncio.wait_for(main(), a.timeout))
    except TimeoutError:
        print("loadecho: hold: not done after %gs" % a.timeout, file=sys.stderr)
        good = False
    sys.exit(0 if good else 1)


def cmd_seq(a):
    fam, sa = parse_addr(a.connect)
    end = time.monotonic() + a.timeout
    ok = 0
    for i in range(a.n):
        left = end - time.monotonic()
        if left <= 0:
            print("loadecho: seq: not done after %gs" % a.timeout, file=sys.stderr)
            break
        data = payload(i, a.n, a.size)
        got = bytearray()
        try:
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                s.settimeout(left)
                s.connect(sa)
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
        except OSError as e:
            print("loadecho: connection %d: %s" % (i, e), file=sys.stderr)
            continue
        if got == data:
            ok += 1
        else:
            print("loadecho: connection %d: sent %d bytes, got %d back, not the same"
                  % (i, len(data), len(got)), file=sys.stderr)
    print("verified %d of %d" % (ok, a.n))
    sys.exit(0 if ok == a.n else 1)


def main():
    ap = argparse.ArgumentParser(description="echo load for vrelay's soak tests")
    ap.add_argument("--timeout", type=float, default=120.0)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("echo")
    p.add_argument("listen")
    p.add_argument("--ready")
    p.set_defaults(fn=cmd_echo)
    p = sub.add_parser("hold")
    p.add_argument("connect")
    p.add_argument("-n", type=int, required=True)
    p.add_argument("--size", type=int, default=1000)
    p.add_argument("--parallel", type=int, default=256)
    p.add_argument("--peak")
    p.add_argument("--go")
    p.set_defaults(fn=cmd_hold)
    p = sub.add_parser("seq")
    p.add_argument("connect")
    p.add_argument("-n", type=int, required=True)
    p.add_argument("--size", type=int, default=1000)
    p.set_defaults(fn=cmd_seq)
    a = ap.parse_args()
    if a.cmd == "hold" and bool(a.peak) != bool(a.go):
        ap.error("--peak and --go go together")
    a.fn(a)


if __name__ == "__main__":
    main()
