"""RFC 9457 problem+json responses, built in one place for every error the API can give."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from dunning_platform.auth import Forbidden, RateLimited, Unauthorized
from dunning_platform.errors import DomainError

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_path(location: tuple | list) -> str:
    # Drop the leading 'body'/'query'/'path' so the field reads as the client wrote it.
    parts = [str(p) for p in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_errors(errors: list[dict]) -> list[dict]:
    return [{"field": field_path(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in errors]


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = validation_errors(exc.errors())
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "Invalid request", detail, errors=errors)


async def _on_domain_error(request: Request, exc: DomainError) -> JSONResponse:
    extra = {"errors": [{"field": exc.field, "message": exc.detail}]} if exc.field else {}
    return problem(exc.status, exc.title, exc.detail, **extra)


async def _on_unauthorized(request: Request, exc: Unauthorized) -> JSONResponse:
    return problem(401, "Unauthorized", str(exc))


async def _on_forbidden(request: Request, exc: Forbidden) -> JSONResponse:
    return problem(403, "Forbidden", str(exc))


async def _on_rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
    response = problem(429, "Too many requests", str(exc))
    response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return response


async def _on_http_error(request: Request, exc: HTTPException) -> JSONResponse:
    title = "Request too large" if exc.status_code == 413 else "HTTP error"
    return problem(exc.status_code, title, str(exc.detail))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    return problem(500, "Internal error", "the request could not be completed; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(Unauthorized, _on_unauthorized)
    app.add_exception_handler(Forbidden, _on_forbidden)
    app.add_exception_handler(RateLimited, _on_rate_limited)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


class Problem(BaseModel):
    """The body of every error answer (RFC 9457); `errors` names each invalid field."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = Field(default=None, description='[{"field": ..., "message": ...}]')


# What any route may answer before its own code runs: the size limit (middleware) and request validation.
REQUEST_PROBLEMS = {413: "the request body is too large", 422: "the request is invalid; `errors` names each field"}
# What FastAPI answers for a JSON body it cannot decode (not UTF-8, say) before validating it.
BODY_PROBLEMS = {400: "the body cannot be read as JSON"}
# What require_scope adds to a route that takes a bearer token.
BEARER_PROBLEMS = {
    401: "no valid bearer token",
    403: "the token lacks the scope this route needs",
    429: "too many requests for this token; Retry-After says when to try again",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}},
}


def problem_responses(
    described: dict[int, str] | None = None, *, bearer: bool = True, body: bool = False
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route or router for its OpenAPI document: a problem+json answer for each
    status the route can give (413 and 422 always; 401, 403 and 429 with `bearer`; 400 with a JSON
    `body`, for bytes that cannot be read), plus `described` ({status: when it happens}), whose
    descriptions win over the common ones."""
    statuses = REQUEST_PROBLEMS | (BEARER_PROBLEMS if bearer else {}) | (BODY_PROBLEMS if body else {})
    statuses |= described or {}
    return {status: _problem_response(status, text) for status, text in sorted(statuses.items())}


def _problem_response(status: int, description: str) -> dict[str, Any]:
    # The schema is inlined, not a model reference, so it cannot clash with a service's own `Problem`.
    content = {PROBLEM_JSON: {"schema": Problem.model_json_schema()}}
    response: dict[str, Any] = {"description": description, "content": content}
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response
