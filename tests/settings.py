"""The test suite's settings: the analytics service's own, plus a host platform living beside it.

A host project installs the analytics app, the request middleware and the signal bridge in its own
settings; this module does the same for `tests/hostapp`, so the service's settings stay free of
test branches.
"""

from loopin_backend.settings import *  # noqa: F403
from loopin_backend.settings import INSTALLED_APPS, MIDDLEWARE
from tests.hostapp.bridge import SIGNAL_BRIDGE

INSTALLED_APPS = [*INSTALLED_APPS, "tests.hostapp"]

# The host tracks its requests: the analytics middleware goes first (outermost).
MIDDLEWARE = ["analytics.middleware.AnalyticsMiddleware", *MIDDLEWARE]

ANALYTICS_SIGNAL_BRIDGE = SIGNAL_BRIDGE

# Password hashing is deliberately slow (PBKDF2); the login tests post hundreds of passwords. A fast hasher
# here changes how long a check takes, not what it decides.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
