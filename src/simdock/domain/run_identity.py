"""A run's identity: what makes two runs the same computation, so one may reuse the other.

Two runs are the same when they run the same code on the same input: the identity is
the SHA-256 of the canonical JSON of

- the simulation type,
- the version its handler declares (for a container image, the image's digest, never
  its tag, which may move),
- its canonical parameters (keys sorted, numbers normalised: an integral float is
  written as the integer, so ``1.0`` and ``1`` are one value; ``-0.0`` is ``0``; every
  other float in its shortest round-trip form), among them its seed,
- the digest of each of its input files, by name, where it has any (a job's uploaded
  ``inputs.zip``: the SHA-256 of what it holds, each file's name and content, so the
  same files zipped again are the same inputs): the same request on other inputs is
  another computation.

There is no identity (the run is never reused) when the handler declares no version
or declares itself not reusable, or when its handler takes a seed and the run has none
(it draws one of its own, so no two such runs are the same).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simdock.domain.payload import Payload

#: The length of an identity: a SHA-256 in hexadecimal.
IDENTITY_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Declared:
    """What a simulation type's handler declares about its runs."""

    #: The parameter in which a run takes its random seed; None when it declares none.
    seed_parameter: str | None = None
    #: The version of its code that names its runs for reuse (an image's digest); None
    #: when its runs are never reused (it declares no version, or not reusable).
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Reusable:
    """A user's succeeded run that a new run of its identity may reuse: what reusing it
    takes (the store reads no more of it)."""

    id: str
    identity: str
    result: Payload | None
    attempts: int
    #: The run it reuses in turn, when it executed nothing itself.
    reused_from: str | None = None

    @property
    def executed_by(self) -> str:
        """The run that executed what it holds: itself, or the run it reuses."""
        return self.reused_from or self.id


def canonical(value: Any) -> Any:
    """``value`` with its numbers normalised (see the module), for :func:`canonical_json`."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {key: canonical(item) for key, item in value.items()}
    return [canonical(item) for item in value]


def canonical_json(value: Any) -> str:
    """The one text of a JSON value: keys sorted, no spaces, numbers normalised."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)


def run_identity(simulation_type: str, declared: Declared, parameters: Mapping[str, Any],
                 inputs: Mapping[str, str] | None = None) -> str | None:
    """The identity of a run of ``simulation_type`` with ``parameters`` and the input files
    whose digests are ``inputs`` (by name); None when it has none (see the module)."""
    if declared.version is None:
        return None
    if declared.seed_parameter is not None and parameters.get(declared.seed_parameter) is None:
        return None
    identified: dict[str, Any] = {"type": simulation_type, "version": declared.version,
                                  "parameters": parameters}
    if inputs:  # left out when none, so that runs without inputs keep their identity
        identified["inputs"] = dict(inputs)
    document = canonical_json(identified)
    return hashlib.sha256(document.encode()).hexdigest()
