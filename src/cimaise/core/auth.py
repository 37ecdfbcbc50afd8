"""API authentication: bearer tokens for machines, the session for people."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from cimaise.core.access import require_actor
from cimaise.core.actors import Actor, actor_for
from cimaise.core.services import token_authenticate


class BearerToken(HttpBearer):
    """``Authorization: Bearer cim_…``; a revoked, expired or unknown token is refused."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = token_authenticate(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.actor = actor_for(api_token.user, token_prefix=api_token.prefix)  # type: ignore[attr-defined]
        return request.actor  # type: ignore[attr-defined]


class Session(APIKeyCookie):
    """A signed-in person's session cookie; unsafe methods need the CSRF token."""

    param_name = "sessionid"

    def __init__(self) -> None:
        from django.conf import settings

        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        """No session cookie, nothing to check (so a visitor's request can reach the next
        authenticator); with one, the CSRF token is required as usual."""
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        actor = actor_for(request.user)
        if actor is None:
            return None
        request.actor = actor  # type: ignore[attr-defined]
        return actor


def request_actor(request: HttpRequest) -> Actor:
    """The authenticated actor of an API request (set by the auth classes above)."""
    return require_actor(getattr(request, "actor", None))


def page_actor(request: HttpRequest) -> Actor:
    """The actor of a staff page (a signed-in person; the session's user)."""
    return require_actor(getattr(request, "actor", None) or actor_for(request.user))


API_AUTH = [BearerToken(), Session()]
