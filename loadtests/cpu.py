"""CPU seconds used by the machine's processes between two snapshots, grouped by name.

    before = cpu_snapshot()
    ...                                   # the work being measured
    used = cpu_used(before, cpu_snapshot())  # Counter: group -> CPU seconds

Ray names its workers after what they run (``ray::ServeReplica:lmwebui:Ingress``), so the
process name is the group; ``group`` can map a process to another name (e.g. vLLM's own
server's processes, which would otherwise share names with the platform's vLLM replica).
Processes that started in between count from zero; those that ended are not counted.
"""

from __future__ import annotations

from collections.abc import Callable

import psutil

Snapshot = dict[int, tuple[str, float]]
Grouper = Callable[[psutil.Process], str | None]


def process_name(proc: psutil.Process) -> str | None:
    return str(proc.name())


def cpu_snapshot(group: Grouper = process_name) -> Snapshot:
    out: Snapshot = {}
    for proc in psutil.process_iter():
        try:
            name = group(proc)
            times = proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if name is not None:
            out[proc.pid] = (name, times.user + times.system)
    return out


def cpu_used(before: Snapshot, after: Snapshot) -> dict[str, float]:
    used: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        start = before[pid][1] if pid in before and before[pid][0] == name else 0.0
        used[name] = used.get(name, 0.0) + seconds - start
    return used


def tree(root_pid: int) -> Grouper:
    """Only ``root_pid`` and its descendants at this moment, by name."""
    root = psutil.Process(root_pid)
    members = {root_pid, *(c.pid for c in root.children(recursive=True))}

    def group(proc: psutil.Process) -> str | None:
        return str(proc.name()) if proc.pid in members else None

    return group


def family(root_pid: int, label: str) -> Grouper:
    """Names ``root_pid`` and its descendants at this moment ``label: <name>``; others by
    name."""
    root = psutil.Process(root_pid)
    members = {root_pid, *(c.pid for c in root.children(recursive=True))}

    def group(proc: psutil.Process) -> str | None:
        name = str(proc.name())
        return f"{label}: {name}" if proc.pid in members else name

    return group
