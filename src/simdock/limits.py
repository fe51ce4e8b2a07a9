"""The limits and intervals the core enforces, read from settings by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from simdock.domain.archives import ArchiveLimits
from simdock.domain.login_throttle import LoginLimits
from simdock.domain.resources import Resources
from simdock.payloads import DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Limits:
    """Limits and intervals the core enforces; read from settings by the composition root."""

    max_sweep_variants: int = 100_000
    default_timeout_seconds: float | None = 3600.0
    payload_threshold: int = DEFAULT_THRESHOLD
    progress_interval_seconds: float = 0.25
    log_buffer_lines: int = 200
    #: How failed logins slow further attempts down (:mod:`simdock.usecases.login_guard`).
    login: LoginLimits = field(default_factory=LoginLimits)
    #: How long a claimed run is held without its worker renewing the lease.
    lease_seconds: float = 10.0
    #: Attempts at a run before losing its worker once more fails it.
    max_attempts: int = 3
    #: The container image a submission naming neither a simulation type nor an image runs.
    default_image: str = "sim:local"
    #: What a container run gets unless its job asks otherwise, and the most it may ask.
    default_resources: Resources = field(
        default_factory=lambda: Resources(memory_mb=256, cpus=1.0, pids=128))
    max_resources: Resources = field(
        default_factory=lambda: Resources(memory_mb=4096, cpus=2.0, pids=4096))
    #: How large a job's input archives may be.
    archives: ArchiveLimits = field(default_factory=ArchiveLimits)
