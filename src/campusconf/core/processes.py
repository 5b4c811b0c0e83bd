"""Run a handful of child processes as one: Ctrl-C or SIGTERM stops them all.

Used by ``campusconf demo`` and ``campusconf worker``. Each child gets its own
process group, so a child's own children (gunicorn's workers, npm's node) stop too.
"""

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None


class Supervisor:
    def __init__(self, children: Sequence[Child], grace_seconds: float = 10.0) -> None:
        self.children = list(children)
        self.grace_seconds = grace_seconds
        self._stopping = False

    def start(self) -> None:
        for child in self.children:
            env = {**os.environ, **(child.env or {})}
            child.process = subprocess.Popen(child.argv, env=env, start_new_session=True)
            logger.info(
                "started %s (pid %s): %s", child.name, child.process.pid, " ".join(child.argv)
            )

    def _signal_all(self, signum: int) -> None:
        for child in self.children:
            if child.process and child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
                    os.killpg(child.process.pid, signum)

    def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        while time.monotonic() < deadline and any(
            c.process and c.process.poll() is None for c in self.children
        ):
            time.sleep(0.1)
        self._signal_all(signal.SIGKILL)
        for child in self.children:
            if child.process:
                child.process.wait()

    def run(self) -> int:
        """Start everything; return when a signal arrives or any child exits."""

        def on_signal(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        exit_code = 0
        try:
            self.start()
            while True:
                for child in self.children:
                    assert child.process is not None
                    code = child.process.poll()
                    if code is not None:
                        logger.error(
                            "%s exited with status %s; stopping the rest", child.name, code
                        )
                        return code or 1
                time.sleep(0.3)
        except KeyboardInterrupt:
            logger.info("stopping %d processes", len(self.children))
        finally:
            # A second Ctrl-C must not cut the shutdown short and orphan the children.
            for signum in previous:
                signal.signal(signum, signal.SIG_IGN)
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return exit_code
