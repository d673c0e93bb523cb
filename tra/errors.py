"""The application's one error type and its kinds.

Services and selectors raise these; the API maps them to HTTP once
(tra/api.py), the admin to messages. `extra` carries machine-readable details
such as the current version on a conflict or the field that failed.
"""

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class Conflict(ApplicationError):
    """A versioned write lost a race; `extra["current_version"]` says what won."""

    status_code = 409
    code = "conflict"


class InvalidState(ApplicationError):
    status_code = 409
    code = "invalid_state"


class ValidationFailed(ApplicationError):
    status_code = 422
    code = "validation_failed"


class InvalidCursor(ApplicationError):
    status_code = 400
    code = "invalid_cursor"


class RetryLater(ApplicationError):
    """An error the client may retry after `retry_after` seconds (the API sends Retry-After)."""

    def __init__(self, message: str, *, retry_after: int = 1, extra: dict[str, Any] | None = None):
        super().__init__(message, extra=extra)
        self.retry_after = retry_after


class ServiceUnavailable(RetryLater):
    """A dependency (DynamoDB, storage, Bedrock) failed after its retries."""

    status_code = 503
    code = "service_unavailable"


class RateLimited(RetryLater):
    """The caller spent their budget for a costly operation (LLM calls)."""

    status_code = 429
    code = "rate_limited"


class Unauthorized(ApplicationError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ApplicationError):
    """The caller is known but their role does not allow this (a reviewer acting on their own work)."""

    status_code = 403
    code = "forbidden"


class PayloadTooLarge(ApplicationError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApplicationError):
    status_code = 415
    code = "unsupported_media_type"
