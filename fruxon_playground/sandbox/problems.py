"""Errors as RFC 9457 problem+json (contract §8.1): raise `Problem` anywhere in a handler."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fruxon_playground.contract import validation

PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    422: "https://tools.ietf.org/html/rfc4918#section-11.2",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    503: "https://tools.ietf.org/html/rfc9110#section-15.6.4",
}
TITLES = {400: "One or more validation errors occurred.", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 422: "Unprocessable Entity", 429: "Too Many Requests",
          500: "Internal Server Error", 503: "Service Unavailable"}


class Problem(Exception):
    """Raised anywhere in a handler; answered as problem+json. Extensions become extra members."""

    def __init__(self, status: int, detail: str, *, errors: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions


def invalid(exc: validation.RequestInvalid) -> Problem:
    """The contract validator's findings, all of them, with the first as the detail."""
    return Problem(exc.status, exc.problems[0].message, errors=exc.errors())


def problem_response(request: Request, status: int, detail: str, *, errors: dict[str, list[str]] | None = None,
                     headers: dict[str, str] | None = None, **extensions: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_TYPES.get(status, "about:blank"), "title": TITLES.get(status, "Error"),
                            "status": status, "detail": detail, "instance": request.url.path}
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extensions.items() if v is not None})
    body["traceId"] = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def install_handlers(app: FastAPI) -> None:
    """Every error the app can produce, FastAPI's and Starlette's own included, becomes a problem."""

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc.status, exc.detail, errors=exc.errors, headers=exc.headers, **exc.extensions)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            errors.setdefault("$." + ".".join(str(p) for p in error.get("loc", ())[1:]), []).append(error.get("msg", "invalid"))
        return problem_response(request, 400, next(iter(errors.values()))[0] if errors else "Invalid request.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = "No such endpoint." if exc.status_code == 404 else str(exc.detail)
        return problem_response(request, exc.status_code, detail)
