"""WSGI entry point, served by granian (``cimaise serve``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cimaise.config.settings")
application = get_wsgi_application()
