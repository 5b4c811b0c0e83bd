"""The machines of the multi-host proof: network namespaces joined to this one by veths.

Each "host" is a network namespace with one veth pair to the root namespace, on a /30
of its own (10.231.B.4n+1 here, 10.231.B.4n+2 there). What every host reaches — the
sandbox and the PostgreSQL relay — listens on 10.231.B.1, an address on a veth whose
two ends stay here (this kernel has no dummy interfaces): a host routes to it through
its own link, so cutting that link cuts the host off from everything. Only addresses in
10.231.0.0/16 are ever made, B is one no interface uses yet, and every name carries this
process's id, so two runs side by side do not clash. A blackhole route for the block
keeps a cut host's packets here rather than on the machine's default route.

Everything made is undone on leaving, even after a failure; namespaces and links left
by a run that was itself SIGKILLed are removed by the next run (their pid is gone).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

PREFIX = "10.231"
LOCK = Path("/run/lock/campusconf-multihost.lock")  # the runs are root's


def ip(*args: str, check: bool = True) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def available() -> str | None:
    """Why this machine cannot run the proof, or None when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    try:
        ip("netns", "list")
    except (OSError, RuntimeError) as err:
        return f"`ip netns` does not work here: {err}"
    return None


class Network:
    def __init__(self, hosts: int) -> None:
        self.pid = os.getpid()
        self.tag = f"cc{self.pid}"
        self.count = hosts
        self.namespaces = [f"campusconf-{self.pid}-h{n}" for n in range(1, hosts + 1)]
        self.block = 0
        self.made: list[tuple[str, ...]] = []  # undo commands, in the order to run them

    @property
    def service_address(self) -> str:
        return f"{PREFIX}.{self.block}.1"

    def outside(self, n: int) -> str:
        """The root namespace's end of host n's link (1-based)."""
        return f"{PREFIX}.{self.block}.{4 * n + 1}"

    def address(self, n: int) -> str:
        """Host n's own address."""
        return f"{PREFIX}.{self.block}.{4 * n + 2}"

    def link(self, n: int) -> str:
        return f"{self.tag}h{n}"

    def __enter__(self) -> Network:
        remove_stale()
        try:
            with LOCK.open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # two runs must not take the same block
                self.block = free_block(self.pid)
                self._make()
        except BaseException:
            self.close()
            raise
        return self

    def _make(self) -> None:
        s0, s1 = f"{self.tag}s0", f"{self.tag}s1"
        ip("link", "add", s0, "type", "veth", "peer", "name", s1)
        self.made.append(("link", "del", s0))
        ip("addr", "add", f"{self.service_address}/32", "dev", s0)
        ip("link", "set", s0, "up")
        ip("link", "set", s1, "up")
        ip("route", "add", "blackhole", f"{PREFIX}.{self.block}.0/24")
        self.made.append(("route", "del", "blackhole", f"{PREFIX}.{self.block}.0/24"))
        for n, ns in enumerate(self.namespaces, start=1):
            ip("netns", "add", ns)
            self.made.insert(0, ("netns", "del", ns))
            inside = f"{self.tag}n{n}"
            ip("link", "add", self.link(n), "type", "veth", "peer", "name", inside, "netns", ns)
            self.made.append(("link", "del", self.link(n)))
            ip("addr", "add", f"{self.outside(n)}/30", "dev", self.link(n))
            ip("link", "set", self.link(n), "up")
            ip("-n", ns, "addr", "add", f"{self.address(n)}/30", "dev", inside)
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", inside, "up")
            self._route(n)

    def _route(self, n: int) -> None:
        ns = self.namespaces[n - 1]
        ip("-n", ns, "route", "replace", f"{self.service_address}/32", "via", self.outside(n))

    def cut(self, n: int) -> None:
        """Host n loses its network, as when its cable or switch port fails."""
        ip("link", "set", self.link(n), "down")

    def rejoin(self, n: int) -> None:
        ip("link", "set", self.link(n), "up")
        self._route(n)

    def run_in(
        self, n: int, hostname: str, argv: list[str], **popen: Any
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` on host n, with a hostname of its own (the engine names its
        workers after the host), in a process group of its own."""
        cmd = ["ip", "netns", "exec", self.namespaces[n - 1], "unshare", "--uts"]
        cmd += ["sh", "-c", 'hostname "$0" && exec "$@"', hostname, *argv]
        return subprocess.Popen(cmd, start_new_session=True, **popen)

    def close(self) -> None:
        for ns in self.namespaces:
            kill_everything_in(ns)
        for undo in self.made:
            ip(*undo, check=False)
        self.made.clear()

    def __exit__(self, *exc: object) -> None:
        self.close()


def kill_everything_in(ns: str) -> None:
    """SIGKILL whatever still runs in namespace ``ns`` (only this harness starts any)."""
    pids = ip("netns", "pids", ns, check=False).split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)


def free_block(start: int) -> int:
    used = {int(b) for b in re.findall(rf"inet {re.escape(PREFIX)}\.(\d+)\.", ip("-o", "addr"))}
    used |= {int(b) for b in re.findall(rf"{re.escape(PREFIX)}\.(\d+)\.0/24", ip("route"))}
    for i in range(250):
        block = 1 + (start + i) % 250
        if block not in used:
            return block
    raise RuntimeError(f"no free /24 left in {PREFIX}.0.0/16")


def remove_stale() -> None:
    """What a SIGKILLed run left: its namespaces, links and blackhole route."""
    for line in ip("netns", "list", check=False).splitlines():
        found = re.match(r"campusconf-(\d+)-h\d+", line)
        if found and not Path(f"/proc/{found.group(1)}").exists():
            kill_everything_in(found.group(0))
            ip("netns", "del", found.group(0), check=False)
    links = re.findall(r"^\d+: (cc(\d+)[hs]\d)[@:]", ip("-o", "link"), re.MULTILINE)
    for name, pid in links:
        if not Path(f"/proc/{pid}").exists():
            addrs = ip("-o", "-4", "addr", "show", "dev", name, check=False)
            for block in set(re.findall(rf"{re.escape(PREFIX)}\.(\d+)\.", addrs)):
                ip("route", "del", "blackhole", f"{PREFIX}.{block}.0/24", check=False)
            ip("link", "del", name, check=False)


if __name__ == "__main__":
    # A look at the layout: make it, print it, undo it.
    with Network(3) as net:
        print(ip("-o", "-4", "addr"), ip("route"), sep="\n")
        for ns in net.namespaces:
            print(ns, ip("-n", ns, "-o", "-4", "addr"), ip("-n", ns, "route"), file=sys.stdout)
