"""Settings shared by every mode, read from the environment.

Modes: ``dev`` (make demo), ``test`` (make test) and ``production``. Each mode is a
small module that starts from this one; nothing secret ever has a default here.
"""

import os
from pathlib import Path

import django_stubs_ext
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from campusconf.core.cache import cache_settings
from campusconf.settings.environment import database_from_env, env_bool, env_list

# Lets admin classes carry type parameters (ModelAdmin[Member]) at run time too.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(os.environ.get("CAMPUSCONF_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("CAMPUSCONF_VAR_DIR", BASE_DIR / "var")).resolve()


DEBUG = env_bool("CAMPUSCONF_DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Django admin, for superusers only (campusconf.backoffice.admin_site).
    "campusconf.backoffice.apps.SuperuserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "campusconf.core",
    "campusconf.members",
    "campusconf.services",
    "campusconf.accounts",
    "campusconf.provisioning",
    "campusconf.directory",
    "campusconf.demo",
    "campusconf.audit",
    "campusconf.backoffice",
    "campusconf.signin",
    "campusconf.portal",
    "campusconf.rehearsal",
    "djangosaml2",
    # Break-glass password sign-in: second factor and lockout (docs/signin.md).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
]

MIDDLEWARE = [
    "campusconf.core.middleware.forwarded.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "campusconf.signin.sessions.SessionLimitsMiddleware",
    "campusconf.signin.middleware.MemberStatusMiddleware",
    "djangosaml2.middleware.SamlSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "campusconf.core.middleware.no_store.NoStoreMiddleware",
    "campusconf.core.middleware.body_size.RequestSizeLimitMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into its page
]

ROOT_URLCONF = "campusconf.urls"
WSGI_APPLICATION = "campusconf.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "campusconf.core.context_processors.site",
            ],
        },
    },
]


DATABASES = {"default": database_from_env(VAR_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The shared cache (sign-in limits, seen SAML assertions): the database by default, so
# every process on every machine counts together; CAMPUSCONF_CACHE_URL=redis://… moves
# it to Redis. The key prefix keeps two installations on one Redis apart.
CACHES = {
    "default": cache_settings(
        os.environ.get("CAMPUSCONF_CACHE_URL", ""),
        key_prefix=os.environ.get("CAMPUSCONF_CACHE_KEY_PREFIX", "campusconf"),
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "/admin/login/"

# Sign-in (docs/signin.md). Members and staff sign in through the university's SSO;
# a local password is only for a break-glass superuser, with a TOTP code, and django-axes
# locks an account out after repeated failures. Axes comes first: it refuses a locked-out
# account before any backend looks at the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "campusconf.signin.passwords.BreakGlassBackend",
    "campusconf.signin.backends.MemberOIDCBackend",
    "campusconf.signin.backends.MemberSaml2Backend",
    "campusconf.signin.backends.DevelopmentSessionBackend",
]
CAMPUSCONF_LOCKOUT_FAILURES = int(os.environ.get("CAMPUSCONF_LOCKOUT_FAILURES", "5"))
CAMPUSCONF_LOCKOUT_MINUTES = int(os.environ.get("CAMPUSCONF_LOCKOUT_MINUTES", "30"))
AXES_FAILURE_LIMIT = CAMPUSCONF_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = CAMPUSCONF_LOCKOUT_MINUTES / 60  # hours
# Per account: a password guessed from many addresses is still locked out. SSO sign-ins
# carry no user name, so axes neither counts nor blocks them.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_LOCKOUT_CALLABLE = "campusconf.signin.lockout.locked_out_response"
AXES_CLIENT_IP_CALLABLE = "campusconf.signin.ratelimit.client_address"
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in the audit log and the log
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token", "csrfmiddlewaretoken"]
AXES_VERBOSE = False
# axes.W006 wants the address among the lockout parameters; locking an address would
# also lock every SSO sign-in behind it (a campus NAT, the proxy). Addresses are
# throttled by CAMPUSCONF_SIGNIN_RATE_LIMIT instead.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
OTP_TOTP_ISSUER = os.environ.get("CAMPUSCONF_TOTP_ISSUER", "CampusConf")
# Idle limits (minutes) and the absolute one (hours) for signed-in sessions.
CAMPUSCONF_STAFF_IDLE_MINUTES = int(os.environ.get("CAMPUSCONF_STAFF_IDLE_MINUTES", "30"))
CAMPUSCONF_MEMBER_IDLE_MINUTES = int(os.environ.get("CAMPUSCONF_MEMBER_IDLE_MINUTES", "60"))
CAMPUSCONF_SESSION_MAX_HOURS = int(os.environ.get("CAMPUSCONF_SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = CAMPUSCONF_SESSION_MAX_HOURS * 3600
# The domains of the university's scoped identifiers (<common ID>@<scope>); an IdP's
# scoped identifier outside them is refused. Empty: SAML IdPs' metadata scopes decide.
CAMPUSCONF_SIGNIN_SCOPES = env_list("CAMPUSCONF_SIGNIN_SCOPES")
# (attempts, seconds) per client address for sign-in callbacks and forms.
CAMPUSCONF_SIGNIN_RATE_LIMIT = (
    int(os.environ.get("CAMPUSCONF_SIGNIN_RATE_LIMIT", "30")),
    int(os.environ.get("CAMPUSCONF_SIGNIN_RATE_WINDOW", "60")),
)
# OpenID Connect: on when OIDC_RP_CLIENT_ID and the provider's endpoints are set.
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email profile")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
# The only issuer whose ID tokens are taken (its discovery document's "issuer").
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", "")
OIDC_TIMEOUT = int(os.environ.get("OIDC_TIMEOUT", "10"))
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
LOGIN_REDIRECT_URL = "/my/"
CAMPUSCONF_OIDC_COMMON_ID_CLAIM = os.environ.get(
    "CAMPUSCONF_OIDC_COMMON_ID_CLAIM", "preferred_username"
)
# Staff rights from a claim (e.g. "groups") carrying one of these values.
CAMPUSCONF_OIDC_STAFF_CLAIM = os.environ.get("CAMPUSCONF_OIDC_STAFF_CLAIM", "")
CAMPUSCONF_OIDC_STAFF_VALUES = env_list("CAMPUSCONF_OIDC_STAFF_VALUES")
# SAML 2.0: on when the IdP's metadata is given as a file, a URL or an MDQ service.
CAMPUSCONF_SAML_IDP_METADATA_FILE = os.environ.get("CAMPUSCONF_SAML_IDP_METADATA_FILE", "")
CAMPUSCONF_SAML_IDP_METADATA_URL = os.environ.get("CAMPUSCONF_SAML_IDP_METADATA_URL", "")
CAMPUSCONF_SAML_IDP_METADATA_CERT = os.environ.get("CAMPUSCONF_SAML_IDP_METADATA_CERT", "")
CAMPUSCONF_SAML_MDQ_URL = os.environ.get("CAMPUSCONF_SAML_MDQ_URL", "")
CAMPUSCONF_SAML_MDQ_CERT = os.environ.get("CAMPUSCONF_SAML_MDQ_CERT", "")
# The IdPs whose assertions are taken, whatever else the metadata lists; requests go to
# the first. (CAMPUSCONF_SAML_IDP_ENTITY_ID, one ID, is read when this is not set.)
CAMPUSCONF_SAML_IDP_ENTITY_IDS = env_list(
    "CAMPUSCONF_SAML_IDP_ENTITY_IDS", os.environ.get("CAMPUSCONF_SAML_IDP_ENTITY_ID", "")
)
CAMPUSCONF_SAML_SP_ENTITY_ID = os.environ.get("CAMPUSCONF_SAML_SP_ENTITY_ID", "")
CAMPUSCONF_SAML_SP_KEY_FILE = os.environ.get("CAMPUSCONF_SAML_SP_KEY_FILE", "")
CAMPUSCONF_SAML_SP_CERT_FILE = os.environ.get("CAMPUSCONF_SAML_SP_CERT_FILE", "")
CAMPUSCONF_SAML_BASE_URL = os.environ.get("CAMPUSCONF_SAML_BASE_URL", "")
CAMPUSCONF_SAML_XMLSEC_BINARY = os.environ.get("CAMPUSCONF_SAML_XMLSEC_BINARY", "/usr/bin/xmlsec1")
CAMPUSCONF_SAML_COMMON_ID_ATTRIBUTE = os.environ.get(
    "CAMPUSCONF_SAML_COMMON_ID_ATTRIBUTE", "eduPersonPrincipalName"
)
# Staff rights from an attribute (e.g. eduPersonEntitlement) carrying one of these values.
CAMPUSCONF_SAML_STAFF_ATTRIBUTE = os.environ.get("CAMPUSCONF_SAML_STAFF_ATTRIBUTE", "")
CAMPUSCONF_SAML_STAFF_VALUES = env_list("CAMPUSCONF_SAML_STAFF_VALUES")
CAMPUSCONF_SAML_ENABLED = bool(
    CAMPUSCONF_SAML_IDP_METADATA_FILE or CAMPUSCONF_SAML_IDP_METADATA_URL or CAMPUSCONF_SAML_MDQ_URL
)
SAML_CONFIG_LOADER = "campusconf.signin.saml.config_loader"
SAML_ACS_FAILURE_RESPONSE_FUNCTION = "campusconf.signin.saml.acs_failure"
SAML_CREATE_UNKNOWN_USER = False
SAML_ATTRIBUTE_MAPPING: dict[str, tuple[str, ...]] = {}
SAML_SESSION_COOKIE_NAME = "campusconf_saml_session"
# The IdP's answer is a cross-site POST: over HTTPS (production) the SAML session cookie
# is SameSite=None; Secure. Browsers drop SameSite=None without Secure, so plain-HTTP
# development uses Lax, which works when the IdP is on the same site (127.0.0.1).
SAML_SESSION_COOKIE_SAMESITE = "Lax"
# The address members reach the portal at, for links in mail notices.
CAMPUSCONF_PUBLIC_URL = os.environ.get("CAMPUSCONF_PUBLIC_URL", "http://127.0.0.1:8000")
# Academic federations' IdPs take the request by redirect; POST is only for the answer.
SAML_DEFAULT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
# djangosaml2 widens form-action to https: on its views (through django-csp), for the
# form that posts a request to an IdP that takes no redirect.

# Staff back office (docs/backoffice.md): besides Django's is_staff and the
# backoffice.access permission, members of this Django group are staff. Every SSO
# sign-in sets the person's membership from the staff attribute or claim above.
CAMPUSCONF_STAFF_GROUP = os.environ.get("CAMPUSCONF_STAFF_GROUP", "campusconf-staff")

# Mail: the demo and the tests point this at a local SMTP server.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "1025"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CampusConf <campusconf@localhost>")

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}

# The university's own words for itself, shown on pages and in mails.
CAMPUSCONF_UNIVERSITY_NAME = os.environ.get("CAMPUSCONF_UNIVERSITY_NAME", "CampusConf University")
CAMPUSCONF_MAIL_DOMAIN = os.environ.get("CAMPUSCONF_MAIL_DOMAIN", "g.ecc.example.ac.jp")
CAMPUSCONF_HELPDESK_ADDRESS = os.environ.get(
    "CAMPUSCONF_HELPDESK_ADDRESS", "helpdesk@example.ac.jp"
)
# Where the engine tells the staff that a service is paused (a vendor refuses its
# credential): the operations team's address, by default the help desk's.
CAMPUSCONF_OPS_ADDRESS = os.environ.get("CAMPUSCONF_OPS_ADDRESS", CAMPUSCONF_HELPDESK_ADDRESS)

# The provisioning engine (docs/engine.md); every value can be overridden here.
CAMPUSCONF_ENGINE = {
    "LEASE_SECONDS": int(os.environ.get("CAMPUSCONF_ENGINE_LEASE_SECONDS", "120")),
    "MAX_ATTEMPTS": int(os.environ.get("CAMPUSCONF_ENGINE_MAX_ATTEMPTS", "8")),
    "RECONCILE_MINUTES": int(os.environ.get("CAMPUSCONF_ENGINE_RECONCILE_MINUTES", "30")),
    "LEAVER_GRACE_DAYS": int(os.environ.get("CAMPUSCONF_ENGINE_LEAVER_GRACE_DAYS", "30")),
    "RATE_LIMITS": env_bool("CAMPUSCONF_ENGINE_RATE_LIMITS", True),
}

# Directory feed (docs/directory.md): SCIM and roster import, members who leave.
# One import or SCIM client may not mark more members as left than
# min(PERCENT % of active members, MAX) without an explicit override.
CAMPUSCONF_MASS_CHANGE_PERCENT = int(os.environ.get("CAMPUSCONF_MASS_CHANGE_PERCENT", "5"))
CAMPUSCONF_MASS_CHANGE_MAX = int(os.environ.get("CAMPUSCONF_MASS_CHANGE_MAX", "100"))
# SCIM sends one user at a time: the same limit holds for its deactivations over this
# many hours; past it they wait for staff approval.
CAMPUSCONF_SCIM_MASS_CHANGE_HOURS = int(os.environ.get("CAMPUSCONF_SCIM_MASS_CHANGE_HOURS", "24"))
# Where SCIM finds the 10-digit common ID: userName | externalId | employeeNumber.
CAMPUSCONF_SCIM_COMMON_ID_FROM = os.environ.get("CAMPUSCONF_SCIM_COMMON_ID_FROM", "userName")
# Roles come from a SCIM attribute (the enterprise extension's employeeType words)
# or from the Groups a user belongs to: attribute | groups.
CAMPUSCONF_SCIM_ROLES_FROM = os.environ.get("CAMPUSCONF_SCIM_ROLES_FROM", "attribute")
CAMPUSCONF_SCIM_MAX_BODY_BYTES = int(os.environ.get("CAMPUSCONF_SCIM_MAX_BODY_BYTES", "1048576"))
# A leaver's accounts go CAMPUSCONF_ENGINE["LEAVER_GRACE_DAYS"] days after they
# left; they are told CAMPUSCONF_LEAVER_NOTICE_DAYS before that.
CAMPUSCONF_LEAVER_NOTICE_DAYS = int(os.environ.get("CAMPUSCONF_LEAVER_NOTICE_DAYS", "7"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # pysaml2's schema library says "already loaded" at INFO on every metadata read.
        "xmlschema": {"level": "WARNING"},
    },
}

# Proxies (docs/security.md): peers whose X-Forwarded-For and X-Forwarded-Proto are
# believed (addresses or CIDR networks, comma-separated); ``campusconf serve`` gives
# gunicorn the same list. The default trusts a proxy on the same machine only.
CAMPUSCONF_TRUSTED_PROXIES = env_list("CAMPUSCONF_TRUSTED_PROXIES", "127.0.0.1/32,::1/128")

# Request bodies are refused by their declared size before anything reads them; signed
# in, the upload pages (a roster, a cohort's list of common IDs) take the larger limit.
CAMPUSCONF_MAX_BODY_BYTES = int(os.environ.get("CAMPUSCONF_MAX_BODY_BYTES", str(1024 * 1024)))
CAMPUSCONF_MAX_UPLOAD_BYTES = int(
    os.environ.get("CAMPUSCONF_MAX_UPLOAD_BYTES", str(4 * 1024 * 1024))
)
CAMPUSCONF_UPLOAD_PATHS = ("/staff/directory/roster/", "/staff/campaigns/new/")

# Content-Security-Policy on every page: scripts, styles and images from this site
# only, no inline script or style attribute, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# /metrics tells anyone who can read it how big the queue is and how each vendor is
# answering: outside development it needs staff rights or this bearer token (a
# Prometheus scraper sends it as "Authorization: Bearer <token>").
CAMPUSCONF_METRICS_TOKEN = os.environ.get("CAMPUSCONF_METRICS_TOKEN", "")
CAMPUSCONF_METRICS_OPEN = env_bool("CAMPUSCONF_METRICS_OPEN", False)
