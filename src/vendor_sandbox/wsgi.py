import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vendor_sandbox.settings")

from vendor_sandbox import fastpath

application = fastpath.wrap(get_wsgi_application())
