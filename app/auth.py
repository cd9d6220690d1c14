"""API key for write endpoints (jobs, tropes), when one is configured."""

from __future__ import annotations

import hmac

from fastapi import Request

from core.errors import TropescopeError


class Unauthorized(TropescopeError):
    status = 401
    code = "unauthorized"


async def require_api_key(request: Request) -> None:
    expected = request.app.state.settings.api_key
    if not expected:
        return
    given = request.headers.get("x-api-key", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("this endpoint needs a valid X-API-Key header")
