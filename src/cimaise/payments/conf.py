"""Which payment providers exist and are enabled, and their options.

Defaults are here; ``settings.CIMAISE_PAYMENTS`` overrides them per provider, e.g.::

    CIMAISE_PAYMENTS = {
        "sandbox": {"enabled": False},
        "alipay": {"class": "cimaise.payments.providers.alipay.AlipayProvider", "enabled": True, ...},
    }

A provider is one class (``class``, a dotted path) plus its options; the class receives the merged
options. The sandbox card provider accepts fake cards, so by default it is enabled only where no
real money moves: with ``DEBUG``, in the test suite, or in a demo database (``cimaise demo``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cimaise.core.conf import setting

DEFAULTS: dict[str, dict[str, Any]] = {
    "desk": {
        "class": "cimaise.payments.providers.desk.DeskProvider",
        "enabled": True,
    },
    "sandbox": {
        "class": "cimaise.payments.providers.sandbox.SandboxProvider",
        "enabled": None,  # None: only in development, tests and demo databases (see above)
        # Prefixed to the sandbox page's path in redirect URLs ("" keeps them relative).
        "base_url": "",
    },
}


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def wallet_defaults() -> dict[str, dict[str, Any]]:
    """Alipay's and WeChat Pay's defaults, read from the environment when asked (so a deployment
    configures them without editing settings). Each is disabled until its account id is set.
    Keys never live in the database: each is read from a file (``*_file``) or else from the
    environment variable named by ``*_env``."""
    alipay_app_id = _env("CIMAISE_ALIPAY_APP_ID")
    wechat_mchid = _env("CIMAISE_WECHATPAY_MCHID")
    return {
        "alipay": {
            "class": "cimaise.payments.providers.alipay.AlipayProvider",
            "enabled": bool(alipay_app_id),
            # globalopenapi.alipay.com for an overseas merchant; the sandbox gateway's URL in tests.
            "gateway": _env("CIMAISE_ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do"),
            "app_id": alipay_app_id,
            "institution": _env("CIMAISE_ALIPAY_INSTITUTION"),  # code of the app id's owner
            "seller_id": _env("CIMAISE_ALIPAY_SELLER_ID"),
            "private_key_file": _env("CIMAISE_ALIPAY_PRIVATE_KEY_FILE"),
            "private_key_env": "CIMAISE_ALIPAY_PRIVATE_KEY",
            "alipay_public_key_file": _env("CIMAISE_ALIPAY_PUBLIC_KEY_FILE"),
            "alipay_public_key_env": "CIMAISE_ALIPAY_PUBLIC_KEY",
            # Cross-border: the currency Alipay settles to us in ("" = the payment's currency).
            "settle_currency": _env("CIMAISE_ALIPAY_SETTLE_CURRENCY"),
            "notify_url": _env("CIMAISE_ALIPAY_NOTIFY_URL"),  # "" = PUBLIC_URL + the notify route
            "timeout_seconds": 10,
        },
        "wechatpay": {
            "class": "cimaise.payments.providers.wechatpay.WechatPayProvider",
            "enabled": bool(wechat_mchid),
            "api": _env("CIMAISE_WECHATPAY_API", "global"),  # "global" (cross-border) or "domestic"
            "base_url": _env("CIMAISE_WECHATPAY_BASE_URL", "https://apihk.mch.weixin.qq.com"),
            "mchid": wechat_mchid,
            "appid": _env("CIMAISE_WECHATPAY_APPID"),
            "institution": _env("CIMAISE_WECHATPAY_INSTITUTION"),
            "merchant_serial": _env("CIMAISE_WECHATPAY_MERCHANT_SERIAL"),
            "private_key_file": _env("CIMAISE_WECHATPAY_PRIVATE_KEY_FILE"),
            "private_key_env": "CIMAISE_WECHATPAY_PRIVATE_KEY",
            # WeChat Pay's platform certificate (or public key) and its serial ("" = the
            # certificate's own serial number).
            "platform_certificate_file": _env("CIMAISE_WECHATPAY_PLATFORM_CERTIFICATE_FILE"),
            "platform_certificate_env": "CIMAISE_WECHATPAY_PLATFORM_CERTIFICATE",
            "platform_serial": _env("CIMAISE_WECHATPAY_PLATFORM_SERIAL"),
            "api_v3_key_file": _env("CIMAISE_WECHATPAY_API_V3_KEY_FILE"),
            "api_v3_key_env": "CIMAISE_WECHATPAY_API_V3_KEY",
            # Cross-border: ISO 18245 merchant category (7991: tourist attractions and exhibits).
            "merchant_category_code": _env("CIMAISE_WECHATPAY_MCC", "7991"),
            "notify_url": _env("CIMAISE_WECHATPAY_NOTIFY_URL"),
            "max_skew_seconds": 300,
            "timeout_seconds": 10,
        },
    }


def providers_config() -> dict[str, dict[str, Any]]:
    """Every known provider's options: the defaults, updated by ``settings.CIMAISE_PAYMENTS``."""
    overrides: dict[str, dict[str, Any]] = getattr(settings, "CIMAISE_PAYMENTS", {})
    defaults = DEFAULTS | wallet_defaults()
    names = defaults.keys() | overrides.keys()
    return {name: {**defaults.get(name, {}), **overrides.get(name, {})} for name in sorted(names)}


def provider_config(name: str) -> dict[str, Any] | None:
    """One provider's options, or None if no provider has that name."""
    return providers_config().get(name)


def enabled(options: dict[str, Any]) -> bool:
    flag = options.get("enabled")
    return _not_production() if flag is None else bool(flag)


def _not_production() -> bool:
    if settings.DEBUG or getattr(settings, "TESTING", False):
        return True
    from cimaise.core.models import Installation

    return Installation.objects.filter(is_demo=True).exists()


def secret_read(options: dict[str, Any], name: str, *, provider: str) -> bytes:
    """A key or secret named ``name``: the file ``options[name + "_file"]`` if set, else the
    environment variable named by ``options[name + "_env"]``; ``ImproperlyConfigured`` if neither."""
    path = options.get(f"{name}_file") or ""
    if path:
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"payments {provider}: cannot read {name}_file {path}: {exc}"
            ) from None
    variable = options.get(f"{name}_env") or ""
    value = os.environ.get(variable, "") if variable else ""
    if not value:
        raise ImproperlyConfigured(f"payments {provider}: set {name}_file or the variable {variable or name}")
    return value.encode()


def notify_url(options: dict[str, Any], provider: str) -> str:
    """Where the provider sends its notifications: ``notify_url`` if set, else the public URL of
    ``POST /api/v1/payments/<provider>/notify``."""
    if options.get("notify_url"):
        return str(options["notify_url"])
    public = str(setting("PUBLIC_URL")).rstrip("/")
    return f"{public}/api/v1/payments/{provider}/notify"
