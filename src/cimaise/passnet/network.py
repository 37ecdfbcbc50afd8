"""Partner sites and their API keys: one key per site at a time in normal use (``pnk_…``, shown
once, stored as a SHA-256 digest), scoped to that site, rotated by issuing a new one (the
previous keys stop working at once)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import NotFound, PermissionDenied
from cimaise.core.models import Institution
from cimaise.ledger.services import facts_append
from cimaise.passnet.decide import SiteRule
from cimaise.passnet.facts import PARTNER_KEY_ISSUED, operator_draft
from cimaise.passnet.models import PartnerKey, PartnerSite
from cimaise.passnet.roles import MANAGE_SITES, SCAN

KEY_PREFIX = "pnk"
KEY_MAX_CHARS = 100


@dataclass(frozen=True)
class IssuedKey:
    key: PartnerKey
    raw: str


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def site_rule(site: PartnerSite) -> SiteRule:
    """The site's rules as plain values (what the decision and the agents use)."""
    return SiteRule(
        site_id=site.pk,
        products=frozenset(site.products.values_list("id", flat=True)),
        entries_per_pass=site.entries_per_pass,
        excluded_areas=frozenset(site.excluded_areas or ()),
        opening_hours=dict(site.opening_hours or {}),
    )


def operator_of(actor: Actor) -> Institution:
    """The actor's institution, when it is a pass operator the actor may manage."""
    institution = own_institution(actor)
    if institution.kind != Institution.Kind.PASS_OPERATOR:
        raise PermissionDenied("your institution is not a pass operator")
    return institution


@transaction.atomic(durable=True)
def partner_key_issue(*, actor: Actor, site: str, label: str, now: dt.datetime | None = None) -> IssuedKey:
    """Issue a new API key for a site of the actor's network and revoke its previous keys."""
    require_permission(actor, MANAGE_SITES)
    operator = operator_of(actor)
    row = PartnerSite.objects.filter(operator=operator, code=site).first()
    if row is None:
        raise NotFound(f"site: no site {site!r}", field="site")
    return key_issue(row, label=label, who=actor.label, now=now or timezone.now())


def key_issue(site: PartnerSite, *, label: str, who: str, now: dt.datetime) -> IssuedKey:
    """Within the caller's transaction: a new key for ``site``, its previous keys revoked."""
    revoked = list(site.keys.filter(revoked_at__isnull=True).values_list("prefix", flat=True))
    site.keys.filter(revoked_at__isnull=True).update(revoked_at=now)
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = PartnerKey.objects.create(
        site=site, label=label.strip()[:200] or site.code, prefix=prefix, digest=_digest(raw), created_at=now
    )
    body = {"site": site.code, "prefix": prefix, "revoked": revoked}
    facts_append([operator_draft(site.operator, PARTNER_KEY_ISSUED.name, body, who, now)], now=now)
    return IssuedKey(key=key, raw=raw)


def partner_key_authenticate(raw: str, *, now: dt.datetime | None = None) -> PartnerKey | None:
    """The live key for a raw bearer string, or None."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(raw) > KEY_MAX_CHARS:
        return None
    key = (
        PartnerKey.objects.select_related("site__operator", "site__institution")
        .filter(prefix=parts[1])
        .first()
    )
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.digest, _digest(raw)):
        return None
    if not key.site.active:
        return None
    now = now or timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() >= 60:
        PartnerKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


class PartnerKeyAuth(HttpBearer):
    """``Authorization: Bearer pnk_…``: the request acts for one partner site."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if not token.startswith(f"{KEY_PREFIX}_"):
            return None
        key = partner_key_authenticate(token)
        if key is None:
            return None
        request.partner_key = key  # type: ignore[attr-defined]
        return key


@dataclass(frozen=True)
class Scanner:
    """Who scans: a partner key (its site only) or a person/device of an institution."""

    label: str
    key: PartnerKey | None = None
    actor: Actor | None = None


def scanner_of(request: HttpRequest) -> Scanner:
    key = getattr(request, "partner_key", None)
    if key is not None:
        return Scanner(label=f"key:{key.prefix}", key=key)
    actor = getattr(request, "actor", None)
    if actor is None:
        raise PermissionDenied("a partner key is required")
    return Scanner(label=actor.label, actor=actor)


def scan_site(scanner: Scanner, code: str) -> PartnerSite:
    """The site a scanner may scan at: a key's own site only (another site: 403); a person's or
    device's institution's sites (with the scan permission)."""
    if scanner.key is not None:
        own = scanner.key.site
        if own.code == code:
            return own
        if PartnerSite.objects.filter(operator_id=own.operator_id, code=code).exists():
            raise PermissionDenied(f"entrance: this key is for site {own.code}, not {code}")
        raise NotFound(f"entrance: no site {code!r}", field="entrance")
    if scanner.actor is None:
        raise PermissionDenied("a partner key is required")
    require_permission(scanner.actor, SCAN)
    institution = own_institution(scanner.actor)
    sites = PartnerSite.objects.select_related("operator", "institution").filter(code=code, active=True)
    if not sites:
        raise NotFound(f"entrance: no site {code!r}", field="entrance")
    mine = [s for s in sites if s.institution_id == institution.pk]
    if not mine:
        raise PermissionDenied(f"entrance: site {code} is not one of your institution's")
    return mine[0]
