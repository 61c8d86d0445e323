"""RFC 9457 problem+json responses, built in one place for every error the API can give."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
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
    return problem(exc.status_code, "HTTP error", str(exc.detail))


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
