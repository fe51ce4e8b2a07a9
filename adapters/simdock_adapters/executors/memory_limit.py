"""How much memory a run's own process may take, and how a run that wanted more fails.

Container runs and handler containers are limited by the engine (their cgroup).
A handler's child process limits each run itself with ``RLIMIT_DATA``, the data
a process may map privately (its heap, anonymous mappings, the stacks of the
threads it starts), which the programs it starts inherit. ``RLIMIT_AS`` would
count address space that numeric libraries reserve without using (BLAS
threads' stacks and buffers, malloc's per-thread arenas), so a child on a host
with many cores would fail before its handler did anything.

A run may allocate its allowance beyond what its child holds as the handler
starts: the interpreter, the handlers' modules, numpy's BLAS buffers (one per
core, taken before the first run), which depend on the host and not on the run,
and what the allocator kept of earlier runs to hand out again. A child whose run
ran out of memory, or that keeps more than one allowance between runs, is
replaced, so that children do not grow without bound. Only the soft limit is
set: it stops runaway allocations (a model reading ``/dev/zero``, a grid too
large), not code set on getting around it, which only a container confines.
"""

from __future__ import annotations

import contextlib
import resource
import sys

MIB = 1024 * 1024


def out_of_memory(limit_mb: float | None) -> str:
    """The error of a run that needed more memory than its limit, wherever it executed."""
    return f"out of memory (limit {limit_mb:g} MiB)" if limit_mb else "out of memory"


def was_out_of_memory(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from or while handling, is a
    MemoryError (numpy's "Unable to allocate" is one)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, MemoryError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class RunMemory:
    """The memory each run of this process may allocate: ``allowance_mb`` beyond what the
    process holds as the run's handler starts (noted with :meth:`note`)."""

    def __init__(self, allowance_mb: int, ready: int) -> None:
        self.allowance_mb = allowance_mb
        self.ready = self.held = ready

    @classmethod
    def for_this_process(cls, allowance_mb: int) -> RunMemory | None:
        """Limits for the runs of this process, once it is ready for them; None where its
        memory cannot be read (not Linux)."""
        _take_blas_buffers()
        ready = data_bytes()
        return None if ready is None else cls(allowance_mb, ready)

    def note(self) -> None:
        """Take note of what this process holds now (a run ended, a handler was loaded)."""
        self.held = data_bytes() or self.held

    def limit(self) -> None:
        """Limit what this process (and what it starts) may allocate from now on to the
        allowance beyond what it held when last noted."""
        limit = self.held + self.allowance_mb * MIB
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))

    @property
    def exhausted(self) -> str:
        """The error of a run that wanted more."""
        return out_of_memory(self.allowance_mb)

    def grown(self) -> bool:
        """Whether this process keeps more than one allowance beyond what it held once
        ready (what its runs left, or its allocator kept of them)."""
        return self.held - self.ready > self.allowance_mb * MIB


def data_bytes() -> int | None:
    """About the data this process maps privately now (its data and stack, from
    ``/proc/self/statm``), or None where unknown (not Linux)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            fields = statm.read().split()
    except OSError:
        return None
    return int(fields[5]) * resource.getpagesize() if len(fields) > 5 else None


def _take_blas_buffers() -> None:
    """numpy's BLAS takes a buffer per thread at its first product of some size and keeps
    it: take them now, so that they count as the process's, not as its first run's (BLAS
    ends the process when it cannot allocate one)."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        with contextlib.suppress(Exception):
            square = numpy.ones((256, 256))
            square @ square
