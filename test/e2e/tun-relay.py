#!/usr/bin/env python3
"""
A slow, lossy point-to-point link between two network namespaces, made of two TUN devices and this relay.

Each TUN device is created inside its own namespace (setns on /var/run/netns/<ns>, then open /dev/net/tun and
TUNSETIFF). Every IP packet read from one device is written to the other after a fixed delay, unless it is dropped
(each packet independently, with the given probability). The devices are not persistent: they disappear when this
process exits.

The relay stops by itself: when its standard input reaches end of file (the parent went away), on SIGTERM/SIGINT,
or after --max-seconds. On start it prints one line "ready"; on exit one JSON line with the packet counts.

With --log-syn, every TCP SYN (without ACK) that comes out of device B (the client side) is reported on one line
"syn <CLOCK_MONOTONIC ns> <destination port>" as it is read from the device, before the delay: the moment the client
sent it. Node's process.hrtime() reads the same clock, so a caller can time "process start → first SYN".

usage: tun-relay.py --ns-a NS --dev-a DEV --ns-b NS --dev-b DEV [--delay-ms 150] [--loss 0.02] [--max-seconds 120]
                    [--seed N] [--log-syn]
"""
import argparse
import collections
import ctypes
import fcntl
import json
import os
import random
import select
import signal
import stat
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def open_tun(namespace, name):
    """Create the TUN device `name` inside `namespace` and return its file descriptor."""
    setns(f"/var/run/netns/{namespace}")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    ifr = struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    os.set_blocking(fd, False)
    return fd


def syn_port(packet):
    """Destination port of a TCP SYN without ACK (IPv4, or IPv6 without extension headers), else None."""
    if len(packet) >= 20 and packet[0] >> 4 == 4 and packet[9] == 6:
        off = (packet[0] & 0x0F) * 4
    elif len(packet) >= 40 and packet[0] >> 4 == 6 and packet[6] == 6:
        off = 40
    else:
        return None
    if len(packet) < off + 14:
        return None
    if packet[off + 13] & 0x12 != 0x02:
        return None
    return (packet[off + 2] << 8) | packet[off + 3]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ns-a", required=True)
    parser.add_argument("--dev-a", required=True)
    parser.add_argument("--ns-b", required=True)
    parser.add_argument("--dev-b", required=True)
    parser.add_argument("--delay-ms", type=float, default=150.0, help="one-way delay, each direction")
    parser.add_argument("--loss", type=float, default=0.0, help="probability of dropping each packet")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log-syn", action="store_true", help="print a line for every SYN the client side sends")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    own_ns = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    fd_a = open_tun(args.ns_a, args.dev_a)
    fd_b = open_tun(args.ns_b, args.dev_b)
    # Back to the namespace we came from: the relay itself needs no network.
    if libc.setns(own_ns, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns back")
    os.close(own_ns)

    stop = {"why": None}

    def on_signal(signum, _frame):
        stop["why"] = signal.Signals(signum).name

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    delay = args.delay_ms / 1000.0
    deadline = time.monotonic() + args.max_seconds
    # A fixed delay keeps each direction in order: a FIFO per direction is enough.
    queues = {fd_a: collections.deque(), fd_b: collections.deque()}  # keyed by the device to write to
    peer = {fd_a: fd_b, fd_b: fd_a}
    stats = {"forwarded": 0, "dropped": 0, "bytes": 0}
    stdin_fd = sys.stdin.fileno()
    # Only a pipe from the parent tells us when the parent is gone.
    mode = os.fstat(stdin_fd).st_mode
    watch_stdin = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)

    print("ready", flush=True)
    while stop["why"] is None:
        now = time.monotonic()
        if now >= deadline:
            stop["why"] = "max-seconds"
            break
        for out_fd, queue in queues.items():
            while queue and queue[0][0] <= now:
                _, packet = queue.popleft()
                try:
                    os.write(out_fd, packet)
                    stats["forwarded"] += 1
                    stats["bytes"] += len(packet)
                except OSError:
                    stats["dropped"] += 1
        due = [q[0][0] for q in queues.values() if q]
        # Wake at least every 0.2 s: select() is resumed after a signal, so the flag is checked here.
        wait = min([deadline - now, 0.2] + [d - now for d in due])
        readers = [fd_a, fd_b] + ([stdin_fd] if watch_stdin else [])
        try:
            ready, _, _ = select.select(readers, [], [], max(0.0, wait))
        except InterruptedError:
            continue
        arrived = time.monotonic()
        for fd in ready:
            if fd == stdin_fd:
                try:
                    data = os.read(stdin_fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    stop["why"] = "stdin-closed"
                continue
            while True:
                try:
                    packet = os.read(fd, 65535)
                except BlockingIOError:
                    break
                except OSError:
                    break
                if not packet:
                    break
                if args.log_syn and fd == fd_b:
                    port = syn_port(packet)
                    if port is not None:
                        print(f"syn {time.monotonic_ns()} {port}", flush=True)
                if args.loss > 0 and rng.random() < args.loss:
                    stats["dropped"] += 1
                    continue
                queues[peer[fd]].append((arrived + delay, packet))

    os.close(fd_a)
    os.close(fd_b)
    print(json.dumps({"stopped": stop["why"], **stats}), flush=True)


if __name__ == "__main__":
    main()
