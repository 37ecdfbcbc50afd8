"""The wallets' protocols as pure code (no Django): canonical strings, RSA signatures, AES-GCM,
request builders and response parsers, for both our side and the sandbox gateway's.

Shared here: loading RSA keys in the forms the providers hand them out (PEM, or bare base64 DER
as Alipay's key tool prints them; a PEM certificate for WeChat Pay's platform key), SHA256withRSA
(PKCS#1 v1.5, which is what "RSA2" and "WECHATPAY2-SHA256-RSA2048" both mean), and a small HTTP
client on ``http.client`` with a timeout.
"""

from __future__ import annotations

import base64
import binascii
import http.client
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey


class KeyFormatError(ValueError):
    """A key that cannot be read as an RSA key."""


def _text(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


def _bare_der(data: bytes) -> bytes:
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError("neither PEM nor base64 DER") from None


def private_key_load(data: bytes | str) -> RSAPrivateKey:
    """An RSA private key from PEM (PKCS#8 or PKCS#1) or bare base64 PKCS#8 DER."""
    raw = _text(data).strip()
    try:
        if raw.startswith(b"-----"):
            key = serialization.load_pem_private_key(raw, password=None)
        else:
            key = serialization.load_der_private_key(_bare_der(raw), password=None)
    except ValueError as exc:
        raise KeyFormatError(f"not a private key: {exc}") from None
    if not isinstance(key, RSAPrivateKey):
        raise KeyFormatError("not an RSA private key")
    return key


def public_key_load(data: bytes | str) -> RSAPublicKey:
    """An RSA public key from a PEM public key, a PEM certificate, or bare base64 DER."""
    raw = _text(data).strip()
    key: object
    try:
        if raw.startswith(b"-----BEGIN CERTIFICATE"):
            key = x509.load_pem_x509_certificate(raw).public_key()
        elif raw.startswith(b"-----"):
            key = serialization.load_pem_public_key(raw)
        else:
            key = serialization.load_der_public_key(_bare_der(raw))
    except ValueError as exc:
        raise KeyFormatError(f"not a public key: {exc}") from None
    if not isinstance(key, RSAPublicKey):
        raise KeyFormatError("not an RSA public key")
    return key


def certificate_serial(data: bytes | str) -> str | None:
    """The serial number of a PEM certificate, as WeChat Pay writes it (upper-case hex), or None
    when ``data`` is a bare public key."""
    raw = _text(data).strip()
    if not raw.startswith(b"-----BEGIN CERTIFICATE"):
        return None
    return f"{x509.load_pem_x509_certificate(raw).serial_number:X}"


def private_pem(key: RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: RSAPublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def rsa_sign(key: RSAPrivateKey, message: bytes) -> str:
    """Base64 SHA256withRSA (PKCS#1 v1.5) of ``message``."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(key: RSAPublicKey, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``key``'s SHA256withRSA over ``message``."""
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


@dataclass(frozen=True)
class HttpAnswer:
    """A response: status, headers with lower-case names, the exact body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes


class TransportError(OSError):
    """The other side could not be reached or did not answer in time."""


def http_send(
    method: str, url: str, *, body: bytes | None, headers: Mapping[str, str], timeout: float
) -> HttpAnswer:
    """One HTTP(S) request; any status is an answer, a network failure is ``TransportError``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError(f"not an http(s) URL: {url!r}")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    try:
        connection.request(method, target, body=body, headers=dict(headers))
        response = connection.getresponse()
        answer = HttpAnswer(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=response.read(),
        )
    except (OSError, http.client.HTTPException) as exc:
        raise TransportError(f"{method} {parts.scheme}://{parts.netloc}{parts.path}: {exc}") from exc
    finally:
        connection.close()
    return answer
