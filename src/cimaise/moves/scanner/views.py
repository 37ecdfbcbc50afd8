"""The handheld scanner page and its service worker. The page does its work in the browser
(static/moves/scanner.js): it records each scan in IndexedDB at once and uploads through
``POST /api/v1/epcis/capture``; this module only authorizes and hands it its settings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cimaise.core.access import own_institution, require_permission
from cimaise.core.auth import page_actor
from cimaise.moves.export import EPCIS_CONTEXT
from cimaise.moves.models import Anomaly
from cimaise.moves.vocab import OWN_CONTEXT

SCAN_PERMISSION = "moves.add_custodyevent"
SW_SOURCE = "moves/scanner-sw.js"
# Precached when the service worker installs; the page adds whatever else it loaded (htmx).
PRECACHED = ("cimaise/site.css", "moves/scanner.js")


def _api(path: str) -> str:
    return f"{get_script_prefix()}api/v1/{path}"


@login_required
@require_GET
def scanner(request: HttpRequest) -> HttpResponse:
    """The scanner: modes, the scan field, feedback, what waits to be sent."""
    actor = page_actor(request)
    institution = own_institution(actor)
    require_permission(actor, SCAN_PERMISSION)
    page = request.path  # wherever urls.py is included (and under whatever namespace)
    config = {
        "user": actor.user.get_username(),
        "institution": institution.code,
        "page": page,
        "serviceWorker": f"{page}sw.js",
        "login": f"{reverse('login')}?next={page}",
        "api": {
            "capture": _api("epcis/capture"),
            "manifest": _api("scanner/manifest"),
            "lookup": _api("scanner/lookup"),
        },
        "csrfCookie": settings.CSRF_COOKIE_NAME,
        "csrfToken": get_token(request),
        "epcisContext": [EPCIS_CONTEXT, OWN_CONTEXT],
        "strings": scanner_strings(),
    }
    return render(request, "moves/scanner/page.html", {"config": config})


def _source(name: str) -> Path:
    found = finders.find(name)
    if not found or isinstance(found, list):
        raise ImproperlyConfigured(f"the static file {name} is missing")
    return Path(found)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served under the page's path so that its scope covers the page. Its
    version hashes its own code and the files it precaches: changing one installs a new worker."""
    sources = [_source(name) for name in (SW_SOURCE, *PRECACHED)]
    version = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
    page = request.path.removesuffix("sw.js")
    assets = [static(name) for name in PRECACHED]
    head = {"version": version, "page": page, "assets": assets, "static": static("")}
    body = f"const SCANNER = {json.dumps(head)};\n{sources[0].read_text(encoding='utf-8')}"
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = page
    response["Cache-Control"] = "no-cache"
    return response


def scanner_strings() -> dict[str, str]:
    """What the page's script says, translated here ({0}, {1} are filled in by the script)."""
    return {
        "online": _("Online"),
        "offline": _("Offline: scans kept on this device"),
        "sending": _("Sending…"),
        "listLoading": _("Loading the offline code list… {0}"),
        "listReady": _("Offline code list: {0} codes, updated {1}"),
        "listMissing": _("No offline code list yet: connect once to load it."),
        "listFailed": _("The offline code list could not be loaded; it will be tried again."),
        "readyOffline": _("Ready to work offline"),
        "notReadyOffline": _("Not ready to work offline yet"),
        "placeSet": _("Place: {0}"),
        "crateSet": _("Crate {0}: scan its works"),
        "packingAt": _("Packing at {0}"),
        "stored": _("Shelved {0} on {1}"),
        "counted": _("Counted {0} at {1}"),
        "packed": _("Packed {0} into crate {1}"),
        "unknownItem": _(
            "Unknown barcode {0}: not in the offline code list. Recorded all the same; the registrar "
            "will see an anomaly."
        ),
        "unknownPlace": _(
            "{0} is not a place in the offline code list (a new label? connect to refresh it)."
        ),
        "unknownCrate": _(
            "{0} is not a crate in the offline code list (a new label? connect to refresh it)."
        ),
        "already": _("{0} was already scanned here: not recorded twice."),
        "needPlace": _("Scan a place label first."),
        "needCrate": _("Scan a crate label first."),
        "tooLong": _("This code is too long to be one of our labels."),
        "resolvedLater": _("{0} was found on the server: {1}"),
        "anomaly_other": _("Anomaly"),
        "anomalyText": _("{0}: {1} (scan at {2})"),
        "rejected": _("Refused by the server: {0}"),
        "signIn": _("Your session has ended: sign in again to send what is waiting."),
        "signInLink": _("Sign in"),
        "othersPending": _("{0} scans by {1} wait for them to sign in on this device."),
        "sent": _("sent"),
        "pending": _("waiting"),
        "cameraStart": _("Scan with the camera"),
        "cameraStop": _("Stop the camera"),
        "cameraFailed": _("The camera could not be opened."),
        **{f"anomaly_{kind}": str(label) for kind, label in Anomaly.Kind.choices},
    }
