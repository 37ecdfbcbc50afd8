"""ASGI entry point. Prefer WSGI (``cimaise serve``): it is several times faster here."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cimaise.config.settings")
application = get_asgi_application()
