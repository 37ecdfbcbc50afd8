"""The sandbox gateway's identity: its own key pairs (Alipay's, WeChat Pay's platform certificate),
the merchant ids it knows, and our public keys, under its state directory.

Our keys are the shop's: when the settings already point at key files (or variables), the
command hands their contents in and the gateway only derives the public halves, as the real
gateways hold only what the merchant uploaded. Otherwise it makes a merchant key pair in the
state directory for the shop to use, and says so in ``settings.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.x509.oid import NameOID

from cimaise.payments.protocols import (
    KeyFormatError,
    certificate_serial,
    private_key_load,
    private_pem,
    public_key_load,
    public_pem,
)

DEFAULT_ALIPAY_APP_ID = "2021000000000001"
DEFAULT_ALIPAY_SELLER_ID = "2088000000000001"
DEFAULT_WECHAT_MCHID = "1900000109"
DEFAULT_WECHAT_APPID = "wx8888888888888888"


@dataclass(frozen=True)
class Given:
    """What the shop's settings already say (empty: the gateway makes it)."""

    alipay_app_id: str = ""
    alipay_key: bytes = b""  # our private or public key, PEM or base64 DER
    wechat_mchid: str = ""
    wechat_appid: str = ""
    wechat_serial: str = ""
    wechat_key: bytes = b""
    wechat_api_v3_key: bytes = b""


@dataclass(frozen=True)
class GatewayState:
    directory: Path
    alipay_app_id: str
    alipay_seller_id: str
    alipay_private_key: RSAPrivateKey  # Alipay's own, signing answers and notifications
    alipay_merchant_key: RSAPublicKey  # ours, verifying our requests
    wechat_mchid: str
    wechat_appid: str
    wechat_platform_key: RSAPrivateKey
    wechat_platform_serial: str
    wechat_merchant_key: RSAPublicKey
    wechat_merchant_serial: str
    wechat_api_v3_key: bytes
    files: dict[str, str] = field(default_factory=dict)


def state_prepare(directory: Path, given: Given) -> GatewayState:
    """Load or make everything under ``directory`` (kept between runs)."""
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    alipay_own = _key_pair(directory / "alipay-platform-private.pem", directory / "alipay-public.pem")
    files["alipay_public_key_file"] = str(directory / "alipay-public.pem")
    alipay_ours = _merchant_key(directory, "alipay", given.alipay_key, files)
    platform, platform_serial = _platform(directory)
    files["platform_certificate_file"] = str(directory / "wechatpay-platform-certificate.pem")
    wechat_ours = _merchant_key(directory, "wechatpay", given.wechat_key, files)
    return GatewayState(
        directory=directory,
        alipay_app_id=given.alipay_app_id or DEFAULT_ALIPAY_APP_ID,
        alipay_seller_id=DEFAULT_ALIPAY_SELLER_ID,
        alipay_private_key=alipay_own,
        alipay_merchant_key=alipay_ours,
        wechat_mchid=given.wechat_mchid or DEFAULT_WECHAT_MCHID,
        wechat_appid=given.wechat_appid or DEFAULT_WECHAT_APPID,
        wechat_platform_key=platform,
        wechat_platform_serial=platform_serial,
        wechat_merchant_key=wechat_ours,
        wechat_merchant_serial=given.wechat_serial or _remembered(directory / "merchant-serial.txt", 20),
        wechat_api_v3_key=_api_v3_key(directory, given.wechat_api_v3_key, files),
        files=files,
    )


def shop_settings(state: GatewayState, base_url: str) -> dict[str, dict[str, Any]]:
    """``CIMAISE_PAYMENTS`` for a shop talking to this gateway (add each ``institution``)."""
    files = state.files
    alipay: dict[str, Any] = {
        "enabled": True,
        "gateway": f"{base_url}/alipay/gateway.do",
        "app_id": state.alipay_app_id,
        "seller_id": state.alipay_seller_id,
        "alipay_public_key_file": files["alipay_public_key_file"],
    }
    wechat: dict[str, Any] = {
        "enabled": True,
        "base_url": base_url,
        "mchid": state.wechat_mchid,
        "appid": state.wechat_appid,
        "merchant_serial": state.wechat_merchant_serial,
        "platform_certificate_file": files["platform_certificate_file"],
    }
    for name, target in (("alipay_private_key_file", alipay), ("wechatpay_private_key_file", wechat)):
        if name in files:
            target["private_key_file"] = files[name]
    if "api_v3_key_file" in files:
        wechat["api_v3_key_file"] = files["api_v3_key_file"]
    return {"alipay": alipay, "wechatpay": wechat}


def settings_write(state: GatewayState, base_url: str) -> Path:
    path = state.directory / "settings.json"
    payload = {"base_url": base_url, "CIMAISE_PAYMENTS": shop_settings(state, base_url)}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, indent=2))
    temporary.replace(path)  # readers never see half a file
    return path


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key_pair(private_path: Path, public_path: Path) -> RSAPrivateKey:
    if private_path.exists():
        key = private_key_load(private_path.read_bytes())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_secret(private_path, private_pem(key))
    public_path.write_bytes(public_pem(key.public_key()))
    return key


def _merchant_key(directory: Path, provider: str, given: bytes, files: dict[str, str]) -> RSAPublicKey:
    if given:
        try:
            return private_key_load(given).public_key()
        except KeyFormatError:
            return public_key_load(given)
    path = directory / f"merchant-{provider}-private.pem"
    key = _key_pair(path, directory / f"merchant-{provider}-public.pem")
    files[f"{provider}_private_key_file"] = str(path)
    return key.public_key()


def _platform(directory: Path) -> tuple[RSAPrivateKey, str]:
    """WeChat Pay's platform key and a self-signed certificate for it (its serial is the
    ``Wechatpay-Serial`` of every answer and notification)."""
    key = _key_pair(directory / "wechatpay-platform-private.pem", directory / "wechatpay-platform-public.pem")
    path = directory / "wechatpay-platform-certificate.pem"
    if not path.exists():
        path.write_bytes(_certificate(key))
    serial = certificate_serial(path.read_bytes())
    if serial is None:
        raise ValueError(f"{path} is not a certificate")
    return key, serial


def _certificate(key: RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cimaise sandbox WeChat Pay platform")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def _remembered(path: Path, size: int) -> str:
    if not path.exists():
        path.write_text(secrets.token_hex(size).upper())
    return path.read_text().strip()


def _api_v3_key(directory: Path, given: bytes, files: dict[str, str]) -> bytes:
    if given.strip():
        return given.strip()
    path = directory / "wechatpay-api-v3-key.txt"
    if not path.exists():
        _write_secret(path, secrets.token_hex(16).encode())  # 32 characters, as WeChat Pay's
    files["api_v3_key_file"] = str(path)
    return path.read_bytes().strip()
