"""Names stored in several languages (`{"en": …, "fr": …, "zh-hans": …}`)."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import translation

LANGUAGES = ("en", "fr", "zh-hans")


def localized(names: Mapping[str, str], language: str | None = None) -> str:
    """The name in ``language`` (default: the active one), else English, else any."""
    language = (language or translation.get_language() or "en").lower()
    for candidate in (language, language.split("-")[0], "en"):
        if names.get(candidate):
            return names[candidate]
    return next(iter(names.values()), "")
