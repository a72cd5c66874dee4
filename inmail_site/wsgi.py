"""
WSGI config for inmail_site project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

from inmail_site.heap import freeze_loaded_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inmail_site.settings")

application = get_wsgi_application()

# After loading, before the first request: the loaded site's objects out of the garbage
# collector's full passes (inmail_site/heap.py).
freeze_loaded_objects()
