#!/usr/bin/env python3
"""fake-vmm.py - a VMM's unix-socket side of hybrid vsock, scripted.

Listens on SOCKET, serves one connection the way the chosen MODE says, and
then behaves as the guest: echoes what it gets, upper-cased, so a test can
tell the guest's answer from its own bytes.  What the client sent before
the guest took over (the CONNECT line or HyperKit header) is written to
RECORD.  Readiness: the socket file exists.

    fake-vmm.py SOCKET MODE RECORD [GUEST_TCP_PORT]

With GUEST_TCP_PORT the guest is not the echo but whatever listens on
127.0.0.1:GUEST_TCP_PORT (say, openssl s_server): once the VMM's part is
done, bytes go both ways between the client and it, half-closes included.

Modes (Firecracker / cloud-hypervisor / vhost-device-vsock protocol):
  firecracker  reply "OK 1073741824\\n" (an allocated host port)
  vhost        reply "OK <guest port>\\n"
  silent       no reply line; the guest just echoes (old VMMs)
  banner       no reply line; the guest speaks first ("SSH-2.0-guest\\r\\n")
  refuse       close without a reply (no guest listener)
  garbage      reply "ERR no such port\\n"
  slow         reply "OK 1073741825\\n" after 1.5 s
  oversized    100 bytes without a newline
  hyperkit     read the 18-byte "%08x.%08x\\n" header, no reply
"""
import os
import socket
import sys
import threading
import time


def pipe(src, dst):
    while True:
        data = src.recv(65536)
        if not data:
            break
        dst.sendall(data)
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def be_guest(conn, guest_port):
    if guest_port is None:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data.upper())
        conn.shutdown(socket.SHUT_WR)
        conn.close()
        return
    guest = socket.create_connection(("127.0.0.1", int(guest_port)))
    t = threading.Thread(target=pipe, args=(guest, conn))
    t.start()
    pipe(conn, guest)
    t.join()
    guest.close()
    conn.close()


def serve(conn, mode, record, guest_port=None):
    if mode == "hyperkit":
        header = b""
        while len(header) < 18:
            chunk = conn.recv(18 - len(header))
            if not chunk:
                break
            header += chunk
        open(record, "wb").write(header)
    else:
        line = b""
        while not line.endswith(b"\n") and len(line) < 32:
            chunk = conn.recv(1)
            if not chunk:
                break
            line += chunk
        open(record, "wb").write(line)
        port = line.split()[1].decode() if len(line.split()) > 1 else "0"
        if mode == "refuse":
            conn.close()
            return
        replies = {
            "firecracker": b"OK 1073741824\n",
            "vhost": ("OK %s\n" % port).encode(),
            "garbage": b"ERR no such port\n",
            "oversized": b"OK " + b"1" * 100,
            "banner": b"SSH-2.0-guest\r\n",
        }
        if mode == "slow":
            time.sleep(1.5)
            conn.sendall(b"OK 1073741825\n")
        elif mode in replies:
            conn.sendall(replies[mode])
        if mode in ("garbage", "oversized"):
            # a broken VMM: keep the socket open until the client gives up
            try:
                conn.recv(1)
            except ConnectionResetError:
                pass
            conn.close()
            return
    be_guest(conn, guest_port)


def main():
    path, mode, record = sys.argv[1:4]
    guest_port = sys.argv[4] if len(sys.argv) > 4 else None
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = path + ".tmp"
    srv.bind(tmp)
    srv.listen(4)
    # rename so that the path appears only once it accepts connections
    os.rename(tmp, path)
    conn, _ = srv.accept()
    serve(conn, mode, record, guest_port)


if __name__ == "__main__":
    main()
