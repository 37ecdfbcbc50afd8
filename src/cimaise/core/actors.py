"""Who is acting: a user (through a session or a token), their institution and roles."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

from cimaise.core.models import Institution, Person
from cimaise.core.roles import Role, granted


@dataclass(frozen=True)
class Actor:
    """The caller of a service. ``label`` is what the ledger records as the actor."""

    user: User
    person: Person | None
    institution: Institution | None
    roles: frozenset[str]
    token_prefix: str | None = None

    @property
    def label(self) -> str:
        base = f"user:{self.user.get_username()}"
        return f"{base} token:{self.token_prefix}" if self.token_prefix else base

    def has_role(self, *roles: Role | str) -> bool:
        return any(str(role) in self.roles for role in roles)

    def can(self, permission: str) -> bool:
        """Whether the actor holds ``permission``: through a role's grants (the groups match them,
        see ``core.roles``; no query), else through Django's permissions (granted to the user
        directly in the admin)."""
        if any(permission in granted(role) for role in self.roles):
            return True
        return bool(self.user.has_perm(permission))


def actor_for(user: AbstractBaseUser | AnonymousUser, *, token_prefix: str | None = None) -> Actor | None:
    """The actor for an authenticated user, or None."""
    if not isinstance(user, User) or not user.is_active:
        return None
    person = Person.objects.select_related("institution").filter(user=user).first()
    roles = frozenset(user.groups.values_list("name", flat=True))
    return Actor(
        user=user,
        person=person,
        institution=person.institution if person else None,
        roles=roles,
        token_prefix=token_prefix,
    )
