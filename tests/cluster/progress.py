#!/usr/bin/env python3
"""Watches consumer-group progress on a Redis Cluster from the outside.

  progress.py poll OUT GROUP PORTS STREAM...   until SIGTERM: every 5 ms, the
      group's last delivered ID per stream (XINFO GROUPS); a line "t_ms stream id"
      to OUT whenever it changed. A stream follows MOVED and, when its node
      is gone, tries the other PORTS (comma-separated).
  progress.py gaps OUT KILL_MS DONE STREAM...  the longest pause per stream
      between two changes while it was still being consumed, and for the
      streams named in DONE=s1,s2 (the shard that failed over) the pause from
      KILL_MS to their next change. Prints one JSON line.
"""
import json
import signal
import socket
import sys
import time


def encode(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=0.5)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return ("err", rest.decode()) if kind == b"-" else rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError(line)


def poll(out, group, ports, streams):
    ports = [int(p) for p in ports.split(",")]
    conns = {}
    where = {s: ports[0] for s in streams}
    last = {}
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    with open(out, "w") as f:
        while running[0]:
            now = int(time.time() * 1000)
            for s in streams:
                port = where[s]
                try:
                    if port not in conns:
                        conns[port] = Conn(port)
                    c = conns[port]
                    c.sock.sendall(encode("XINFO", "GROUPS", s))
                    r = c.reply()
                except (OSError, ConnectionError, ValueError):
                    conns.pop(port, None)
                    where[s] = ports[(ports.index(port) + 1) % len(ports)]
                    continue
                if isinstance(r, tuple):  # MOVED / CLUSTERDOWN / LOADING ...
                    if r[1].startswith("MOVED"):
                        where[s] = int(r[1].rsplit(":", 1)[1])
                    continue
                for g in r or []:
                    fields = dict(zip(g[::2], g[1::2]))
                    if fields.get("name") == group:
                        # entries-read goes nil on a promoted replica
                        # (replicated reads arrive as XCLAIMs): the last
                        # delivered ID moves with every read either way.
                        n = fields.get("last-delivered-id")
                        if n is not None and last.get(s) != n:
                            last[s] = n
                            f.write("%d %s %s\n" % (now, s, n))
            f.flush()
            time.sleep(0.005)


def gaps(out, kill_ms, done, streams):
    kill_ms = int(kill_ms)
    failed = set(done.split(",")) if done else set()
    times = {s: [] for s in streams}
    with open(out) as f:
        for line in f:
            t, s, _ = line.split()
            if s in times:
                times[s].append(int(t))
    result = {"others_longest_gap_ms": 0, "failed_shard_pause_ms": 0, "streams": {}}
    for s, ts in times.items():
        gap = max((b - a for a, b in zip(ts, ts[1:])), default=0)
        info = {"changes": len(ts), "longest_gap_ms": gap}
        if s in failed:
            after = [t for t in ts if t > kill_ms]
            pause = (after[0] - kill_ms) if after else -1
            info["pause_after_kill_ms"] = pause
            result["failed_shard_pause_ms"] = max(result["failed_shard_pause_ms"], pause)
        else:
            result["others_longest_gap_ms"] = max(result["others_longest_gap_ms"], gap)
        result["streams"][s] = info
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1] == "poll":
        poll(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        gaps(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
