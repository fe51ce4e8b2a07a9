"""The one error family of simdock.

Every failure a caller can act on is a subclass of :class:`SimdockError`
with a stable ``code`` (the seed-003 error codes). Each HTTP dialect maps
these classes to status codes in exactly one place.
"""

from __future__ import annotations


class SimdockError(Exception):
    """Base of every error simdock raises on purpose."""

    code = "InternalError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(SimdockError):
    """Input that can never succeed as given: a parameter, a filter, a page."""

    code = "InvalidParameterValue"


class InvalidParameters(ValidationError):
    """Simulation parameters that are not acceptable (shape, type or value)."""


class InvalidSweep(ValidationError):
    """A sweep specification that does not describe a usable set of variants."""


class UnknownSimulationType(ValidationError):
    """No handler or executor can run the requested simulation type."""


class UnknownReportType(ValidationError):
    """No report handler is registered for the requested report type."""


class LimitExceeded(ValidationError):
    """A request larger than a configured limit (sweep size, payload size)."""

    code = "ResourceLimitExceeded"


class TooLarge(LimitExceeded):
    """Content (an upload, an archive) larger than what is accepted."""


class NotFound(SimdockError):
    """A resource that does not exist or is not visible to the caller.

    Another user's resources are reported as not found, never as forbidden,
    so that their existence does not leak.
    """

    code = "ResourceNotFound"

    def __init__(self, kind: str, resource_id: object) -> None:
        super().__init__(f"{kind} '{resource_id}' not found")
        self.kind = kind
        self.resource_id = resource_id


class Conflict(SimdockError):
    """The resource is not in a state that allows the operation."""

    code = "Conflict"


class InvalidTransition(Conflict):
    """A state change the state machine forbids (e.g. cancelled -> succeeded)."""

    def __init__(self, kind: str, resource_id: str, current: str, target: str) -> None:
        super().__init__(f"{kind} '{resource_id}' cannot go from {current} to {target}")
        self.current = current
        self.target = target


class ConcurrencyConflict(Conflict):
    """Someone else changed the resource first; reload and decide again."""


class AuthenticationFailure(SimdockError):
    """Credentials are missing, wrong or expired."""

    code = "AuthenticationFailure"


class UnauthorizedOperation(SimdockError):
    """The caller is known but may not do this."""

    code = "UnauthorizedOperation"


class TooManyRequests(SimdockError):
    """Refused for now, not for good: the caller may try again after ``retry_after`` seconds
    (too many failed logins, too many live streams)."""

    code = "ResourceLimitExceeded"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(SimdockError):
    """A backing service (database, blob store, broker) cannot be reached.

    ``message`` is what any caller may be told. ``detail``, when given, says where
    the service is and what went wrong (host, path, driver message): it is for the
    operator, so it is what ``str()`` shows (logs, the command line, a notebook)
    and never part of an HTTP answer.
    """

    code = "ServiceUnavailable"

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail

    def __str__(self) -> str:
        return self.detail or self.message


class ExecutionError(SimdockError):
    """A run's execution ended without a result; the message is kept on the run."""

    code = "ExecutionError"


class HandlerFailed(ExecutionError):
    """The simulation handler raised; the message names the exception."""


class RunTimedOut(ExecutionError):
    """The run exceeded its time limit."""


class RunCancelled(ExecutionError):
    """The run was cancelled while executing; raised inside the handler."""


class ExecutorUnavailable(ExecutionError):
    """The executor needed for this simulation type is not configured here."""


class RunHandedBack(ExecutionError):
    """The run stopped without an outcome and goes back to the queue with no attempt
    counted: this process is shutting down, or the store could not be reached for what
    the run needed to go on. Another attempt executes it from the start."""
