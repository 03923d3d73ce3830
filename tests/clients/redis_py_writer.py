"""An application's writer with redis-py and its default settings.

SET <prefix>:<n> to n, one at a time about every 2 ms, against the address
given (a Service name). Prints "ok <n> <ms>" per acknowledged write and
"err <n> <ms> <message>" per failed one, until SIGTERM; the same protocol as
the ioredis and go-redis writers.

    python3 tests/clients/redis_py_writer.py HOST PORT PREFIX
"""
import signal
import sys
import time

import redis

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
client = redis.Redis(host=host, port=port)
n = 0
while running:
    n += 1
    try:
        client.set(f"{prefix}:{n}", n)
        print(f"ok {n} {int(time.time() * 1000)}", flush=True)
    except Exception as error:  # every failure is reported, by its message
        message = str(error).replace("\n", " ")
        print(f"err {n} {int(time.time() * 1000)} {type(error).__name__}: {message}", flush=True)
    time.sleep(0.002)
