"""Authorization gates: the only way a view or API handler obtains a protected object.

Each ``access_<thing>(actor, key)`` returns the object or raises ``NotFound`` (it does not exist
*for this actor*: other institutions' objects look absent) or ``PermissionDenied`` (visible, but
the role does not allow it).
"""

from __future__ import annotations

from cimaise.core.actors import Actor
from cimaise.core.errors import NotAuthenticated, NotFound, PermissionDenied
from cimaise.core.models import ApiToken, Institution, Place, Site


def require_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise NotAuthenticated("sign in or send a valid bearer token")
    return actor


def require_permission(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise PermissionDenied(f"your role does not allow this ({permission})")


def own_institution(actor: Actor) -> Institution:
    """The actor's institution; people without one see nothing institution-owned."""
    if actor.institution is None:
        raise PermissionDenied("your account is not attached to an institution")
    return actor.institution


def access_site(actor: Actor, code: str) -> Site:
    institution = own_institution(actor)
    site = Site.objects.filter(institution=institution, code=code).first()
    if site is None:
        raise NotFound(f"no site {code!r}", field="site")
    require_permission(actor, "core.view_site")
    return site


def access_place(actor: Actor, code: str, *, write: bool = False) -> Place:
    institution = own_institution(actor)
    place = (
        Place.objects.select_related("site", "parent", "institution")
        .filter(institution=institution, code=code)
        .first()
    )
    if place is None:
        raise NotFound(f"no place {code!r}", field="place")
    require_permission(actor, "core.change_place" if write else "core.view_place")
    return place


def access_token(actor: Actor, token_id: int) -> ApiToken:
    """A user manages their own tokens; an administrator also those of their institution."""
    token = ApiToken.objects.select_related("user__person").filter(pk=token_id).first()
    if token is None:
        raise NotFound("no such token", field="token")
    if token.user_id == actor.user.pk:
        return token
    same_institution = (
        actor.institution is not None
        and getattr(getattr(token.user, "person", None), "institution_id", None) == actor.institution.pk
    )
    if not same_institution:
        raise NotFound("no such token", field="token")
    require_permission(actor, "core.view_apitoken")
    return token
