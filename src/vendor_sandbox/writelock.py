"""One writer at a time across all threads and worker processes.

SQLite allows one writer; when several connections race for it, the losers sleep in
SQLite's busy handler with growing back-off (up to 100 ms), which wrecks throughput.
Queueing writers on a thread lock plus an ``flock`` on a file next to the DB hands the
write lock over as soon as it is free: the kernel wakes the next waiter at once.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from vendor_sandbox.conf import CONFIG

_thread_lock = threading.Lock()
_local = threading.local()  # re-entrant per thread: a handler's helpers may ask again
_fd: int | None = None
_pid: int | None = None


def _file() -> int:
    global _fd, _pid
    if _fd is None or _pid != os.getpid():  # a forked worker needs its own descriptor
        _fd = os.open(f"{CONFIG.db_path}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
        _pid = os.getpid()
    return _fd


@contextmanager
def held() -> Iterator[None]:
    if getattr(_local, "depth", 0):
        _local.depth += 1
        try:
            yield
        finally:
            _local.depth -= 1
        return
    with _thread_lock:
        _local.depth = 1
        fd = _file()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            _local.depth = 0
            fcntl.flock(fd, fcntl.LOCK_UN)
