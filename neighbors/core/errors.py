"""Domain errors raised by services; one handler maps each to a flash message or an HTTP status."""


class DomainError(Exception):
    """A rule of the domain refused the request. `code` is the API's snake_case error code."""

    status = 409
    code = "conflict"

    def __init__(self, message, *, code=None, fields=None):
        super().__init__(str(message))
        self.message = str(message)
        if code:
            self.code = code
        self.fields = fields or {}

    @classmethod
    def from_fields(cls, fields, **kwargs):
        """One error for several fields (name: message); the first field's message leads."""
        return cls(next(iter(fields.values())), fields=fields, **kwargs)


class Invalid(DomainError):
    """The input is malformed or breaks a rule about its values (422)."""

    status = 422
    code = "invalid"


class NotAuthenticated(DomainError):
    """No identity, or one that could not be proven (401)."""

    status = 401
    code = "unauthorized"


class NotAllowed(DomainError):
    """The actor's role does not permit this (403)."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """Missing, or outside the actor's scope: both look the same from outside (404)."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request conflicts with the current state (409)."""

    status = 409
    code = "conflict"


class TooManyAttempts(DomainError):
    """Locked for a while after repeated failures (429, with Retry-After in seconds)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message, *, retry_after, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
