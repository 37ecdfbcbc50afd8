"""Ed25519 signing keys: public halves in the database, private halves in files under KEY_DIR."""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils import timezone

from cimaise.core.models import Institution, SigningKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_path(kid: str) -> Path:
    return Path(settings.KEY_DIR) / f"{kid}.pem"


def signing_key_create(
    *, institution: Institution, purpose: str, now: dt.datetime | None = None
) -> SigningKey:
    """Make a new key pair: the private key goes to a 0600 file, the public key to the table."""
    now = now or timezone.now()
    kid = f"{institution.code}-{purpose}-{now:%Y%m%d}-{secrets.token_hex(3)}"
    private = Ed25519PrivateKey.generate()
    path = _key_path(kid)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey.objects.create(
        institution=institution, kid=kid, purpose=purpose, public_key=b64url(public), created_at=now
    )


def signing_key_current(*, institution: Institution, purpose: str) -> SigningKey:
    """The institution's active key for a purpose, made on first use; one whose private file is
    missing on this machine is skipped (it can still verify, not sign)."""
    keys = SigningKey.objects.filter(institution=institution, purpose=purpose, retired_at__isnull=True)
    for key in keys:
        if _key_path(key.kid).exists():
            return key
    return signing_key_create(institution=institution, purpose=purpose)


def private_key(key: SigningKey) -> Ed25519PrivateKey:
    loaded = serialization.load_pem_private_key(_key_path(key.kid).read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise TypeError(f"key file of {key.kid} is not an Ed25519 key")
    return loaded


def public_key(key: SigningKey) -> Ed25519PublicKey:
    """The public key, from the private key file when this machine has it (so a database
    edit cannot swap it), else from the table."""
    path = _key_path(key.kid)
    if path.exists():
        return private_key(key).public_key()
    return Ed25519PublicKey.from_public_bytes(b64url_decode(key.public_key))


def sign(key: SigningKey, message: bytes) -> str:
    return b64url(private_key(key).sign(message))


def verify(key: SigningKey, message: bytes, signature: str) -> bool:
    try:
        public_key(key).verify(b64url_decode(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
