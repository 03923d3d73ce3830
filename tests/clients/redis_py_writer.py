"""An application's writer with redis-py and its default settings.

SET <prefix>:<n> to n, one at a time about every 2 ms, against the address
given (a Service name). Prints "ok <n> <ms>" per acknowledged write and
"err <n> <ms> <message>" per failed one, until SIGTERM; the same protocol as
the ioredis and go-redis writers.

    python3 tests/clients/redis_py_writer.py HOST PORT PREFIX [sentinel=NAME]

With sentinel=NAME, HOST:PORT is a Sentinel and NAME the master name, used as
redis-py's documentation shows: Sentinel([(HOST, PORT)], socket_timeout=0.1)
and master_for(NAME, socket_timeout=0.1). With retry-on-readonly, the one
setting the README suggests: retry_on_error=[ReadOnlyError], which makes
redis-py's default Retry reconnect and resend on READONLY.
"""
import signal
import sys
import time

import redis

from redis.sentinel import Sentinel

host, port, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
setting = sys.argv[4] if len(sys.argv) > 4 else ""
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
if setting.startswith("sentinel="):
    sentinel = Sentinel([(host, port)], socket_timeout=0.1)
    client = sentinel.master_for(setting[len("sentinel="):], socket_timeout=0.1)
elif setting == "retry-on-readonly":
    client = redis.Redis(host=host, port=port, retry_on_error=[redis.exceptions.ReadOnlyError])
else:
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
