#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal for `kubectl exec -t`.

Deno has no pseudo-terminal API, so the node agent runs this helper. Its stdin
carries frames of one type byte and a 4-byte big-endian length:
  0: bytes for the terminal, 1: a resize as JSON {"Width": W, "Height": H},
  2: end of input.
The terminal's output goes to stdout unframed; the helper exits with the
command's exit code (128 + signal when it was killed).
"""
import fcntl
import json
import os
import pty
import select
import struct
import sys
import termios


def resize(fd, size):
    rows, cols = int(size.get("Height", 0)), int(size.get("Width", 0))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    pid, terminal = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    pending = b""
    reading = [0, terminal]
    while terminal in reading:
        ready, _, _ = select.select(reading, [], [])
        if terminal in ready:
            try:
                data = os.read(terminal, 65536)
            except OSError:  # EIO once the command has exited
                data = b""
            if not data:
                reading.remove(terminal)
                break
            os.write(1, data)
        if 0 in ready:
            data = os.read(0, 65536)
            if not data:
                reading.remove(0)
                continue
            pending += data
            while len(pending) >= 5:
                kind, length = pending[0], struct.unpack(">I", pending[1:5])[0]
                if len(pending) < 5 + length:
                    break
                payload, pending = pending[5:5 + length], pending[5 + length:]
                if kind == 0:
                    os.write(terminal, payload)
                elif kind == 1:
                    resize(terminal, json.loads(payload))
                elif kind == 2:
                    os.write(terminal, b"\x04")
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    sys.exit(128 - code if code < 0 else code)


if __name__ == "__main__":
    main()
