"""Errors from provider APIs, split by what the caller does next.

ProviderError                  code: the connection error code the API shows
├── FinalError                 give up; the user must act
│   ├── InvalidCredentials     INVALID_CREDENTIALS: the provider does not know this secret
│   ├── AuthExpired            AUTH_EXPIRED: it did, but it was revoked or expired
│   ├── InsufficientPermissions  INSUFFICIENT_PERMISSIONS: valid, but scopes are missing
│   └── RequestRejected        PLATFORM_ERROR: the provider refuses the request itself (4xx)
└── TransientError             retry later
    ├── RateLimited            RATE_LIMITED: retry after `retry_after` seconds
    ├── NetworkError           NETWORK_ERROR: no answer (DNS, connect, timeout)
    └── PlatformError          PLATFORM_ERROR: the provider failed (5xx, nonsense)
"""

from __future__ import annotations

from typing import Any


class ProviderError(Exception):
    code = "PLATFORM_ERROR"

    def __init__(self, message: str, *, required_scopes: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.required_scopes = required_scopes

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.required_scopes:
            error["required_scopes"] = self.required_scopes
        return error


class FinalError(ProviderError):
    pass


class InvalidCredentials(FinalError):
    code = "INVALID_CREDENTIALS"


class AuthExpired(FinalError):
    code = "AUTH_EXPIRED"


class InsufficientPermissions(FinalError):
    code = "INSUFFICIENT_PERMISSIONS"


class RequestRejected(FinalError):
    """Sending the same request again would be refused again."""

    code = "PLATFORM_ERROR"


class TransientError(ProviderError):
    pass


class RateLimited(TransientError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NetworkError(TransientError):
    code = "NETWORK_ERROR"


class PlatformError(TransientError):
    code = "PLATFORM_ERROR"
