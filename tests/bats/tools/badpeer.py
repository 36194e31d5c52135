#!/usr/bin/env python3
"""badpeer.py - misbehaving (and half-closing) peers for faults.bats.

Every peer either listens ("--listen tcp:HOST:PORT" or "unix:PATH", port 0
picks one; the port or path goes to --ready FILE once it listens) or
connects ("--connect ADDR").  It serves one connection.  All waits are
bounded by --timeout (default 60 s).

  reset     send --send FILE (or nothing) and read, writing what it reads
            to --out FILE; once --after BYTES have gone out (or, with
            --count recv, come in), close with SO_LINGER {1, 0}: a RST
            instead of a FIN
  pausing   read --after BYTES, write their count to --paused FILE, stop
            reading until --go FILE exists, then read to EOF; "SHA256
            BYTES" of all of it to --result FILE
  send      send FILE then shut the write side down, writing the bytes
            sent so far to --progress FILE every MiB (with --pause-at,
            stop at BYTES, write them to --pause-at-file and wait for
            --go FILE); read to EOF
  halfclose send the first half of FILE while reading; then "first": the
            rest and shutdown(SHUT_WR) at once; "last": wait for the
            peer's EOF, then the rest and shutdown.  Reads to EOF, "SHA256
            BYTES" of what came to --result FILE
  sink      read to EOF into --out FILE, then write "eof" to --done FILE
  hold      open --count connections to --connect ADDR (the listener's
            backlog completes them), write "N" to --ready, wait for --go
            FILE, close them all
  crashy    an EXEC child: echo lines from stdin; a line "crash" makes it
            kill itself with SIGSEGV
"""
import argparse
import hashlib
import os
import signal
import socket
import struct
import sys
import threading
import time

CHUNK = 65536


def parse_addr(text):
    if text.startswith("tcp:"):
        host, _, port = text[4:].rpartition(":")
        return socket.AF_INET, (host, int(port))
    if text.startswith("unix:"):
        return socket.AF_UNIX, text[5:]
    sys.exit("badpeer: bad address %r" % text)


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def open_conn(a):
    """The one connection this peer serves"""
    if a.connect:
        fam, sa = parse_addr(a.connect)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        s.connect(sa)
        return s
    fam, sa = parse_addr(a.listen)
    ls = socket.socket(fam, socket.SOCK_STREAM)
    if fam != socket.AF_UNIX:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(sa)
    ls.listen(8)
    ls.settimeout(a.timeout)
    if a.ready:
        write_atomic(a.ready, "%s\n" % (sa if fam == socket.AF_UNIX else ls.getsockname()[1]))
    s, _ = ls.accept()
    ls.close()
    s.settimeout(a.timeout)
    return s


def wait_file(path, timeout):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            sys.exit("badpeer: timed out waiting for " + path)
        time.sleep(0.02)


def read_to_eof(s, h):
    n = 0
    while True:
        b = s.recv(CHUNK)
        if not b:
            return n
        h.update(b)
        n += len(b)


def cmd_reset(a):
    s = open_conn(a)
    data = open(a.send, "rb").read() if a.send else b""
    out = open(a.out, "wb") if a.out else None
    sent = got = 0
    s.setblocking(False)
    import selectors
    sel = selectors.DefaultSelector()
    end = time.monotonic() + a.timeout
    while time.monotonic() < end:
        done = sent if a.count == "sent" else got
        if done >= a.after:
            break
        events = selectors.EVENT_READ
        if sent < len(data):
            events |= selectors.EVENT_WRITE
        sel.register(s, events)
        ready = sel.select(1)
        sel.unregister(s)
        for _, ev in ready:
            if ev & selectors.EVENT_READ:
                want = CHUNK if a.count == "sent" else min(CHUNK, a.after - got)
                b = s.recv(want)
                if not b:
                    # the peer ended first: not the fault we wanted to make
                    sys.exit("badpeer: EOF after %d bytes in, %d out" % (got, sent))
                got += len(b)
                if out:
                    out.write(b)
            if ev & selectors.EVENT_WRITE:
                want = CHUNK if a.count == "recv" else min(CHUNK, a.after - sent)
                try:
                    sent += s.send(data[sent:sent + want])
                except BlockingIOError:
                    pass
    if out:
        out.close()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def cmd_pausing(a):
    s = open_conn(a)
    h = hashlib.sha256()
    n = 0
    while n < a.after:
        b = s.recv(min(CHUNK, a.after - n))
        if not b:
            break
        h.update(b)
        n += len(b)
    write_atomic(a.paused, "%d\n" % n)
    wait_file(a.go, a.timeout)
    n += read_to_eof(s, h)
    s.close()
    write_atomic(a.result, "%s %d\n" % (h.hexdigest(), n))


def cmd_send(a):
    s = open_conn(a)
    sent = 0
    with open(a.file, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            s.sendall(b)
            sent += len(b)
            if a.pause_at and sent >= a.pause_at:
                write_atomic(a.pause_at_file, "%d\n" % sent)
                wait_file(a.go, a.timeout)
                a.pause_at = 0
            if a.progress and sent % (1 << 20) == 0:
                write_atomic(a.progress, "%d\n" % sent)
    if a.progress:
        write_atomic(a.progress, "%d\n" % sent)
    s.shutdown(socket.SHUT_WR)
    read_to_eof(s, hashlib.sha256())
    s.close()


def cmd_halfclose(a):
    s = open_conn(a)
    data = open(a.send, "rb").read()
    h = hashlib.sha256()
    got = [0]
    eof = threading.Event()

    def reader():
        got[0] = read_to_eof(s, h)
        eof.set()

    t = threading.Thread(target=reader)
    t.start()
    half = len(data) // 2
    s.sendall(data[:half])
    if a.order == "last":
        if not eof.wait(a.timeout):
            sys.exit("badpeer: no EOF from the peer")
    s.sendall(data[half:])
    s.shutdown(socket.SHUT_WR)
    t.join(a.timeout)
    if t.is_alive():
        sys.exit("badpeer: no EOF from the peer")
    s.close()
    write_atomic(a.result, "%s %d\n" % (h.hexdigest(), got[0]))


def cmd_sink(a):
    s = open_conn(a)
    with open(a.out, "wb") as out:
        while True:
            b = s.recv(CHUNK)
            if not b:
                break
            out.write(b)
    s.close()
    write_atomic(a.done, "eof\n")


def cmd_hold(a):
    fam, sa = parse_addr(a.connect)
    conns = []
    for _ in range(a.count):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(a.timeout)
        s.connect(sa)
        conns.append(s)
    write_atomic(a.ready, "%d\n" % len(conns))
    wait_file(a.go, a.timeout)
    for s in conns:
        s.close()


def cmd_crashy(a):
    for line in sys.stdin:
        if line.strip() == "crash":
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGSEGV)
        sys.stdout.write(line)
        sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60.0)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def peer(name):
        p = sub.add_parser(name)
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("--listen")
        g.add_argument("--connect")
        p.add_argument("--ready")
        return p

    p = peer("reset")
    p.add_argument("--send")
    p.add_argument("--out")
    p.add_argument("--after", type=int, required=True)
    p.add_argument("--count", choices=("sent", "recv"), default="sent")
    p = peer("pausing")
    p.add_argument("--after", type=int, required=True)
    p.add_argument("--paused", required=True)
    p.add_argument("--go", required=True)
    p.add_argument("--result", required=True)
    p = peer("send")
    p.add_argument("--file", required=True)
    p.add_argument("--progress")
    p.add_argument("--pause-at", type=int, help="stop sending after BYTES until --go FILE exists")
    p.add_argument("--pause-at-file", help="where to write the count when stopping")
    p.add_argument("--go")
    p = peer("halfclose")
    p.add_argument("--send", required=True)
    p.add_argument("--order", choices=("first", "last"), required=True)
    p.add_argument("--result", required=True)
    p = peer("sink")
    p.add_argument("--out", required=True)
    p.add_argument("--done", required=True)
    p = sub.add_parser("hold")
    p.add_argument("--connect", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--go", required=True)
    sub.add_parser("crashy")
    a = ap.parse_args()
    globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    main()
