"""Domain errors: raised by handlers, mapped to problem+json (HTTP) or to the DLQ (Kafka) in one place."""


class DomainError(Exception):
    status = 422
    title = "Unprocessable request"
    # A domain error will fail the same way on every retry, so a consumer sends it to the DLQ at once.
    retryable = False

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
