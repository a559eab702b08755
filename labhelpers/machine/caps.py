"""Which Linux capabilities this host can give a container.

``docker run --privileged`` asks for every capability. On a host whose
*bounding set* lacks one (a VM or a container host that dropped, say,
``CAP_SYS_RESOURCE``), the runtime fails with "unable to apply caps". The
docker machines then fall back to ``--cap-add=ALL --cap-drop=<the missing
ones>``: this module finds the missing ones.

>>> missing_from(0x1fffeffffff, last_cap=40)
['SYS_RESOURCE']
>>> missing_from((1 << 41) - 1, last_cap=40)
[]

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

#: Linux capability names by number (linux/capability.h), without ``CAP_``.
NAMES = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
]


def missing_from(bounding: int, last_cap: int | None = None) -> list[str]:
    """The capabilities absent from a bounding set (an integer bit mask).

    Args:
        bounding: the mask, as ``CapBnd`` in ``/proc/PID/status`` shows it (hex).
        last_cap: the kernel's highest capability number
            (``/proc/sys/kernel/cap_last_cap``); default: every name known here.

    Returns:
        The names (without ``CAP_``) whose bit is not set, in kernel order.

    >>> missing_from(0, last_cap=1)
    ['CHOWN', 'DAC_OVERRIDE']
    """
    last = len(NAMES) - 1 if last_cap is None else min(last_cap, len(NAMES) - 1)
    return [NAMES[i] for i in range(last + 1) if not bounding >> i & 1]


def missing_here(pid: str = "self") -> list[str]:
    """The capabilities missing from this host's bounding set (Linux; else ``[]``).

    The engine runs on this host when the kit talks to it over a local socket,
    so its containers can get at most this set.

    Args:
        pid: the process whose ``/proc/PID/status`` is read.

    Returns:
        The names missing; ``[]`` where there is no ``/proc``.

    >>> isinstance(missing_here(), list)
    True
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            line = next(x for x in f if x.startswith("CapBnd:"))
        bounding = int(line.split()[1], 16)
    except (OSError, StopIteration, ValueError):
        return []
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except (OSError, ValueError):
        last = None
    return missing_from(bounding, last)
