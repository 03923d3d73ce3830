#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal for `kubectl exec -t`.

Deno has no pseudo-terminal API, so the node agent runs this helper. Its stdin
carries frames of one type byte and a 4-byte big-endian length:
  0: bytes for the terminal, 1: a resize as JSON {"Width": W, "Height": H},
  2: end of input.
The terminal's output goes to stdout unframed; the helper exits with the
command's exit code (128 + signal when it was killed).

kubectl sends the terminal's size right after the streams open, so the helper
waits for that first size (up to a second) before it starts the command: a
command that asks for its size at once (`stty size`, a shell's prompt) would
otherwise see 0x0.
"""
import fcntl
import json
import os
import pty
import select
import struct
import sys
import termios
import time

FIRST_SIZE_WAIT_SECONDS = 1.0


def resize(fd, size):
    rows, cols = int(size.get("Height", 0)), int(size.get("Width", 0))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def frames(pending):
    """Splits complete frames off the buffer: ([(kind, payload)], rest)."""
    found = []
    while len(pending) >= 5:
        kind, length = pending[0], struct.unpack(">I", pending[1:5])[0]
        if len(pending) < 5 + length:
            break
        found.append((kind, pending[5:5 + length]))
        pending = pending[5 + length:]
    return found, pending


def handle(terminal, pending):
    """Carries out the buffer's complete frames; returns what is left."""
    found, rest = frames(pending)
    for kind, payload in found:
        if kind == 0:
            os.write(terminal, payload)
        elif kind == 1:
            resize(terminal, json.loads(payload))
        elif kind == 2:
            os.write(terminal, b"\x04")
    return rest


def first_size():
    """Reads input until the first resize frame, its end or the wait runs out.

    Returns the size (or None) and every byte read, to be handled as usual."""
    read, deadline = b"", time.monotonic() + FIRST_SIZE_WAIT_SECONDS
    while True:
        for kind, payload in frames(read)[0]:
            if kind == 1:
                return json.loads(payload), read
            if kind == 2:
                return None, read
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([0], [], [], left)[0]:
            return None, read
        data = os.read(0, 65536)
        if not data:
            return None, read
        read += data


def main():
    size, pending = first_size()
    pid, terminal = pty.fork()
    if pid == 0:
        # The child's stdin is the new terminal: sized before the command runs.
        if size is not None:
            resize(0, size)
        os.execvp(sys.argv[1], sys.argv[1:])
    reading = [0, terminal]
    # Frames read while waiting for the size are handled before any new input.
    pending = handle(terminal, pending)
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
            pending = handle(terminal, pending + data)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    sys.exit(128 - code if code < 0 else code)


if __name__ == "__main__":
    main()
