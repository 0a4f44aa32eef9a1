"""Domain errors. The server interceptor maps each to one gRPC status code.

The domain raises these and knows nothing of gRPC; the mapping lives in one
place (store_server.interceptor) so every RPC answers the same way.
"""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """Base of every error a caller can cause. Never an internal fault."""

    reason: str = "ERROR"

    def __init__(self, message: str, *, reason: str | None = None, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if reason is not None:
            self.reason = reason


class InvalidArgument(DomainError):
    """The request is malformed; `field` names the request field at fault."""

    reason = "INVALID_ARGUMENT"

    def __init__(self, field: str, message: str, *, reason: str | None = None) -> None:
        super().__init__(f"{field}: {message}", reason=reason, field=field)


class NotFound(DomainError):
    reason = "NOT_FOUND"


class FailedPrecondition(DomainError):
    """The request is well-formed but the state does not allow it."""

    reason = "FAILED_PRECONDITION"


class AlreadyExists(DomainError):
    reason = "ALREADY_EXISTS"


class Unauthenticated(DomainError):
    reason = "UNAUTHENTICATED"


class PermissionDenied(DomainError):
    reason = "PERMISSION_DENIED"


class ResourceExhausted(DomainError):
    """A lockout or a limit; `retry_after` says when trying again makes sense."""

    reason = "RESOURCE_EXHAUSTED"

    def __init__(
        self, message: str, *, reason: str | None = None, retry_after: datetime | None = None
    ) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """The server cannot do it now but will once the cause is fixed (a full or
    read-only disk); the caller retries with the same ids."""

    reason = "UNAVAILABLE"
