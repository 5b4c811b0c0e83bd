import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vendor_sandbox.settings")

from vendor_sandbox import counters
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.fast import router

application = router.wrap(get_wsgi_application())
if CONFIG.count_clients:
    application = counters.by_client(application)
