"""Core writes: roles, people, API tokens, places. Each records its fact in the ledger."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cimaise.core import facts
from cimaise.core.actors import Actor
from cimaise.core.conf import setting
from cimaise.core.errors import Conflict, InvalidInput, PermissionDenied, invalid_from_validation
from cimaise.core.models import ApiToken, Institution, Person, Place, Site
from cimaise.core.roles import Role, granted
from cimaise.ledger.services import FactDraft, fact_append, facts_append

TOKEN_PREFIX = "cim"  # noqa: S105  (the visible scheme of tokens, not a secret)


def roles_sync() -> None:
    """Make one group per role hold exactly the permissions granted to it."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = granted(role)
        perms = [
            p
            for p in Permission.objects.select_related("content_type")
            if f"{p.content_type.app_label}.{p.codename}" in wanted
        ]
        group.permissions.set(perms)


def roles_sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    """After the last app's post_migrate, when every app's permissions exist."""
    from django.apps import apps

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender is with_models[-1]:
        roles_sync()


@transaction.atomic(durable=True)
def person_enroll(
    *,
    username: str,
    institution: Institution,
    roles: list[Role],
    password: str | None,
    password_hash: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    job_title: str = "",
    home_site: Site | None = None,
    actor: str = "system",
) -> Person:
    """Create a login with its person record and role groups."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise Conflict(f"user {username!r} exists already", field="username")
    user: User = user_model.objects.create_user(
        username=username, email=email, password=password, first_name=first_name, last_name=last_name
    )
    user.is_staff = Role.ADMIN in roles
    user.is_superuser = Role.ADMIN in roles
    if password_hash is not None:
        user.password = password_hash  # a hash made once for many users (demo loads)
    user.save(update_fields=["is_staff", "is_superuser", "password"])
    user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
    person = Person.objects.create(
        user=user, institution=institution, job_title=job_title, home_site=home_site
    )
    fact_append(
        type=facts.PERSON_ENROLLED.name,
        stream=f"core.person:{institution.code}:{username}",
        body={"username": username, "roles": sorted(r.value for r in roles)},
        actor=actor,
        institution_id=institution.pk,
    )
    return person


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``raw`` is shown once and never stored."""

    token: ApiToken
    raw: str


@transaction.atomic(durable=True)
def token_create(
    *,
    user: User,
    label: str,
    actor: str,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> IssuedToken:
    """Issue a bearer token for ``user``; the secret is returned once, only its digest kept."""
    label = label.strip()
    if not label:
        raise InvalidInput("a token needs a label", field="label")
    now = now or timezone.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("the expiry must be in the future", field="expires_at")
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        label=label[:200],
        prefix=prefix,
        digest=_digest(raw),
        created_at=now,
        expires_at=expires_at,
    )
    person = Person.objects.filter(user=user).first()
    fact_append(
        type=facts.TOKEN_CREATED.name,
        stream=f"core.token:{prefix}",
        body={"user": user.get_username(), "label": token.label, "prefix": prefix},
        actor=actor,
        institution_id=person.institution_id if person else None,
        now=now,
    )
    return IssuedToken(token=token, raw=raw)


@transaction.atomic(durable=True)
def token_revoke(*, actor: Actor, token: ApiToken, now: dt.datetime | None = None) -> ApiToken:
    """Revoke a token; it stops working at once. Revoking twice is refused."""
    if token.revoked_at is not None:
        raise Conflict("this token is already revoked", code="already_revoked")
    token.revoked_at = now or timezone.now()
    token.save(update_fields=["revoked_at"])
    fact_append(
        type=facts.TOKEN_REVOKED.name,
        stream=f"core.token:{token.prefix}",
        body={"prefix": token.prefix, "user": token.user.get_username()},
        actor=actor.label,
        institution_id=actor.institution.pk if actor.institution else None,
        now=token.revoked_at,
    )
    return token


def token_authenticate(raw: str, *, now: dt.datetime | None = None) -> ApiToken | None:
    """The live token for a raw bearer string, or None (malformed, unknown, revoked, expired,
    inactive user). Records when it was last used, at most once a minute."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(raw) > 100:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(raw)):
        return None
    now = now or timezone.now()
    if token.revoked_at or (token.expires_at and token.expires_at <= now) or not token.user.is_active:
        return None
    resolution = int(setting("TOKEN_LAST_USED_RESOLUTION_SECONDS"))
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= resolution:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


@dataclass(frozen=True)
class PlaceSpec:
    """What it takes to create a place."""

    code: str
    name: str
    kind: str
    site: Site
    parent: Place | None = None
    barcode: str | None = None
    inner_width_cm: Decimal | None = None
    inner_depth_cm: Decimal | None = None
    inner_height_cm: Decimal | None = None
    load_limit_kg: Decimal | None = None


def _validate_place(spec: PlaceSpec, institution: Institution, *, taken: bool = True) -> None:
    """Kind, site and nesting; with ``taken``, also that code and barcode are free (one query
    each; bulk loaders leave that to the unique constraints)."""
    if spec.kind not in Place.DEPTH:
        raise InvalidInput(f"unknown place kind {spec.kind!r}", field="kind")
    if spec.site.institution_id != institution.pk:
        raise InvalidInput("the site belongs to another institution", field="site")
    if spec.parent is not None:
        if spec.parent.institution_id != institution.pk or spec.parent.site_id != spec.site.pk:
            raise InvalidInput("the parent is on another site", field="parent")
        if Place.DEPTH[spec.kind] <= Place.DEPTH[spec.parent.kind]:
            raise InvalidInput(f"a {spec.kind} cannot sit inside a {spec.parent.kind}", field="kind")
    if not taken:
        return
    if Place.objects.filter(institution=institution, code=spec.code).exists():
        raise Conflict(f"place code {spec.code!r} is taken", field="code")
    if spec.barcode and Place.objects.filter(institution=institution, barcode=spec.barcode).exists():
        raise Conflict(f"barcode {spec.barcode!r} is taken", field="barcode")


def _place_path(spec: PlaceSpec) -> str:
    return f"{spec.parent.path}/{spec.code}" if spec.parent else f"{spec.site.code}/{spec.code}"


def place_create(*, actor: Actor, spec: PlaceSpec) -> Place:
    """Add a place to the tree, checking its kind nests under its parent."""
    if actor.institution is None or not actor.can("core.add_place"):
        raise PermissionDenied("you may not add places")
    with transaction.atomic(durable=True):
        return place_create_unchecked(institution=actor.institution, spec=spec, actor=actor.label)


def place_create_unchecked(*, institution: Institution, spec: PlaceSpec, actor: str) -> Place:
    """Create a place inside the caller's transaction (loaders, imports); validates the data."""
    _validate_place(spec, institution)
    place = _place(spec, institution)
    place.save()
    facts_append([_place_fact(place, spec, actor)])
    return place


def places_create_unchecked(*, institution: Institution, specs: list[PlaceSpec], actor: str) -> list[Place]:
    """Create many places in one batch (loaders): each parent must exist already; a taken code
    or barcode fails the whole batch at the database's unique constraint."""
    places = []
    for spec in specs:
        _validate_place(spec, institution, taken=False)
        places.append(_place(spec, institution))
    Place.objects.bulk_create(places, batch_size=1000)
    facts_append([_place_fact(place, spec, actor) for place, spec in zip(places, specs, strict=True)])
    return places


def _place(spec: PlaceSpec, institution: Institution) -> Place:
    place = Place(
        institution=institution,
        site=spec.site,
        parent=spec.parent,
        kind=spec.kind,
        code=spec.code,
        name=spec.name,
        path=_place_path(spec),
        barcode=spec.barcode or None,
        inner_width_cm=spec.inner_width_cm,
        inner_depth_cm=spec.inner_depth_cm,
        inner_height_cm=spec.inner_height_cm,
        load_limit_kg=spec.load_limit_kg,
    )
    try:
        place.full_clean(exclude=["path"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise invalid_from_validation(exc) from exc
    return place


def _place_fact(place: Place, spec: PlaceSpec, actor: str) -> FactDraft:
    return FactDraft(
        type=facts.PLACE_CREATED.name,
        stream=f"core.place:{place.institution.code}:{place.code}",
        body={
            "code": place.code,
            "kind": place.kind,
            "site": spec.site.code,
            "parent": spec.parent.code if spec.parent else None,
            "barcode": place.barcode,
            "inner_cm": [spec.inner_width_cm, spec.inner_depth_cm, spec.inner_height_cm],
            "load_limit_kg": spec.load_limit_kg,
        },
        actor=actor,
        institution_id=place.institution_id,
    )
