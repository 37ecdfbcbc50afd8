"""HTML template → PDF bytes with WeasyPrint, in one language.

The templates are ordinary Django templates (they can be served as pages too); print layout is
CSS ``@page``. Nothing is fetched while rendering: every document is self-contained (inline SVG,
inline CSS, system fonts), so a stray URL in data can neither leak nor slow a print.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.urls import URLFetcher

_PLACEHOLDERS = re.compile(r"(%\(n\)s|%\(total\)s)")
_COUNTERS = {"%(n)s": "counter(page)", "%(total)s": "counter(pages)"}


@contextlib.contextmanager
def language(code: str | None) -> Iterator[None]:
    """Render in ``code``; ``None`` keeps the active language (the request's, in a view)."""
    if code is None:
        yield
        return
    with translation.override(code):
        yield


def _css_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("<", "\\3c ")
    return f'"{escaped}"'


def page_counter_css() -> SafeString:
    """CSS ``content`` for "page X of Y" in the active language, from a translated sentence."""
    sentence = _("Page %(n)s of %(total)s")
    parts = [_COUNTERS.get(piece) or _css_string(piece) for piece in _PLACEHOLDERS.split(sentence) if piece]
    return mark_safe(" ".join(parts))  # noqa: S308 - escaped CSS strings and counters only


def render_html(template: str, context: Mapping[str, Any]) -> str:
    """The document as HTML, in the active language (what the PDF is made from)."""
    return render_to_string(template, {**context, "page_counter": page_counter_css()})


def render_pdf(template: str, context: Mapping[str, Any]) -> bytes:
    """The document as PDF bytes, in the active language."""
    document = HTML(
        string=render_html(template, context),
        url_fetcher=URLFetcher(allowed_protocols=()),
        media_type="print",
    )
    pdf: bytes = document.write_pdf()
    return pdf
