"""Haven's one settings module: everything that varies comes from the environment.

HAVEN_ENV is "local" (the default: `make run`), "test" (set by the test plugin) or "production",
where the values that must not have defaults (SECRET_KEY, ALLOWED_HOSTS, HAVEN_LOOKUP_KEY,
DATABASE_URL) are required and Haven refuses to start without them. docs/deploy.md lists them all.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from haven.front.middleware import static_file_headers
from haven.lib.env import env_bool, env_int, env_list, env_required, env_str

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent

HAVEN_ENV = env_str("HAVEN_ENV", "local")
if HAVEN_ENV not in {"local", "test", "production"}:
    raise ImproperlyConfigured(f"HAVEN_ENV={HAVEN_ENV!r}: use local, test or production")
PRODUCTION = HAVEN_ENV == "production"
TESTING = HAVEN_ENV == "test"

DEBUG = env_bool("DEBUG", HAVEN_ENV == "local")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production: it shows data in error pages")

if PRODUCTION:
    SECRET_KEY = env_required("SECRET_KEY", why="it signs sessions and links")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's host names")
else:
    # Local and test only: never used when HAVEN_ENV=production.
    SECRET_KEY = env_str("SECRET_KEY") or "local-only-insecure-key-" + "x" * 40
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])

# Keyed hashes that find a value without storing it (a producer's tax ID, an e-mail on a
# suppression list). Changing it orphans existing hashes, so it is separate from SECRET_KEY.
LOOKUP_HASH_KEY = (
    env_required("HAVEN_LOOKUP_KEY", why="it keys the hashes of tax IDs and suppressed addresses")
    if PRODUCTION
    else env_str("HAVEN_LOOKUP_KEY") or "local-only-lookup-key"
)

# The address in links Haven sends (e-mail); in production the first host name over HTTPS.
SITE_URL = env_str("SITE_URL") or (
    f"https://{ALLOWED_HOSTS[0].lstrip('.')}" if PRODUCTION else "http://127.0.0.1:8000"
)
SITE_NAME = env_str("SITE_NAME", "Haven")
ORGANISATION_NAME = env_str("ORGANISATION_NAME", "Haven Health Plan")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "haven.front",
    "haven.plans",
    "haven.accounts",
    "haven.producers",
    "haven.caregivers",
    "haven.audit",
    "haven.records",
    "haven.support",
    "haven.messaging",
    "haven.mail",
    "haven.privacy",
    "haven.care",
    "haven.employers",
    "haven.library",
    "oauth2_provider",
    "haven.fhir",
    "haven.analytics",
    "haven.security",
    "haven.backups",
]

MIDDLEWARE = [
    "haven.front.middleware.client_address",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "haven.front.middleware.security_headers",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "haven.security.middleware.watch",
    "django_otp.middleware.OTPMiddleware",
    "haven.accounts.middleware.session_lifetime",
    "haven.accounts.middleware.staff_second_factor",
    "haven.accounts.middleware.user_language",
    "haven.caregivers.middleware.acting_for",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "haven.urls"
WSGI_APPLICATION = "haven.wsgi.application"

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
                "csp.context_processors.nonce",
                "haven.front.context_processors.haven",
                "haven.privacy.context_processors.privacy",
            ],
        },
    }
]

# Databases: SQLite embedded by default, PostgreSQL through DATABASE_URL. Production names its
# database: a forgotten setting must not quietly put members' data in a file inside the checkout.
DATABASE_URL = (
    env_required("DATABASE_URL", why="it names the database (postgres://user@host/haven)")
    if PRODUCTION
    else env_str("DATABASE_URL") or f"sqlite:///{PROJECT_DIR / 'var' / 'haven.sqlite3'}"
)
# Health checks: a kept connection that died while idle (a database restart) is replaced before
# the next request uses it, instead of failing that request (haven/faults/tests).
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
# A read replica (docs/scaling.md): only reads a view marks with haven.replica.reads_from_replica
# go there; everything else stays on default. Tests declare it a mirror of the test database and
# leave READ_REPLICA off; the replica's own tests turn it on.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL or TESTING:
    DATABASES["replica"] = (
        dj_database_url.parse(
            DATABASE_REPLICA_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
            conn_health_checks=True,
        )
        if DATABASE_REPLICA_URL
        else dict(DATABASES["default"])
    )
    if TESTING:
        DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
READ_REPLICA = "replica" if DATABASE_REPLICA_URL and not TESTING else ""
DATABASE_ROUTERS = ["haven.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "front:home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 at full cost makes a large suite slow; tests of ACC-4 assert the production hasher.
    PASSWORD_HASHERS = ["haven.accounts.hashers.FastArgon2PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions (ACC-5, ACC-6): server-side, the cookie holds only the key and dies with the browser.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = "haven_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
HAVEN_SESSION_IDLE_SECONDS = env_int("HAVEN_SESSION_IDLE_SECONDS", 20 * 60)
HAVEN_SESSION_WARNING_SECONDS = env_int("HAVEN_SESSION_WARNING_SECONDS", 2 * 60)
HAVEN_SESSION_ABSOLUTE_SECONDS = env_int("HAVEN_SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60)
HAVEN_REAUTH_SECONDS = env_int("HAVEN_REAUTH_SECONDS", 5 * 60)
SESSION_COOKIE_AGE = HAVEN_SESSION_ABSOLUTE_SECONDS
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "haven.front.views.csrf_failure"

# Failed sign-ins (ACC-13): slowed after a few, locked after more, for any username alike.
AXES_FAILURE_LIMIT = env_int("HAVEN_SIGNIN_LOCK_AFTER", 8)
HAVEN_SIGNIN_SLOW_AFTER = env_int("HAVEN_SIGNIN_SLOW_AFTER", 3)
HAVEN_SIGNIN_SLOW_SECONDS = env_int("HAVEN_SIGNIN_SLOW_SECONDS", 30)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("HAVEN_SIGNIN_LOCK_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = ["username"]
# Locking by username alone is deliberate: bursts from one address across many accounts are
# intrusion detection's job (SEC-2), which throttles the source without locking out a whole office.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "haven.accounts.views.signin_locked"
AXES_USERNAME_FORM_FIELD = "username"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False

OTP_TOTP_ISSUER = SITE_NAME

# Security headers (SEC-1).
HTTPS = env_bool("HAVEN_HTTPS", PRODUCTION)
if PRODUCTION and not HTTPS:
    raise ImproperlyConfigured("HAVEN_HTTPS cannot be off in production: every page is HTTPS-only")
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 63072000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_PROXY = env_bool("HAVEN_BEHIND_PROXY", PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# How many proxies in front of Haven append to X-Forwarded-For (front.middleware.client_address).
HAVEN_TRUSTED_PROXIES = env_int("HAVEN_TRUSTED_PROXIES", 1 if BEHIND_PROXY else 0)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# Languages (NOT-5): English, Spanish and Italian, the browser's choice by default.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("it", _("Italian"))]
LANGUAGE_COOKIE_NAME = "haven_language"
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = PROJECT_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
# Static files are only ever loaded by Haven's own pages: no cross-origin use, and a file opened
# on its own (an SVG, say) runs nothing.
WHITENOISE_ALLOW_ALL_ORIGINS = False
WHITENOISE_ADD_HEADERS_FUNCTION = static_file_headers

# Cache and rate limits: Redis when configured, so several app servers share them.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not TESTING:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Web log and intrusion detection (LOG-1, SEC-2): retention and thresholds per source and window.
HAVEN_WEBLOG_RETENTION_DAYS = env_int("HAVEN_WEBLOG_RETENTION_DAYS", 90)
HAVEN_SECURITY_WINDOW_SECONDS = env_int("HAVEN_SECURITY_WINDOW_SECONDS", 600)
HAVEN_STUFFING_ACCOUNTS = env_int("HAVEN_STUFFING_ACCOUNTS", 5)
HAVEN_SCANNING_NOT_FOUND = env_int("HAVEN_SCANNING_NOT_FOUND", 20)
HAVEN_INJECTION_ATTEMPTS = env_int("HAVEN_INJECTION_ATTEMPTS", 3)
HAVEN_MALWARE_UPLOADS = env_int("HAVEN_MALWARE_UPLOADS", 2)
HAVEN_THROTTLE_MINUTES = env_int("HAVEN_THROTTLE_MINUTES", 15)

# Background work: the database backend enqueues in the same transaction as the data (an outbox).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Production e-mail goes through the outbox's TLS-only backend (MAIL-1); locally it is printed.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "haven.mail.backends.TLSOnlyEmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Haven <no-reply@haven.example>")

# Integrations, each read from the environment (docs/deploy.md lists them).
# Envelope encryption (MSG-3): "id1:base64key,id2:base64key" and the id that wraps new keys.
_keks = env_str("HAVEN_KEKS") or ""
HAVEN_KEKS = dict(item.strip().split(":", 1) for item in _keks.split(",") if ":" in item) or None
HAVEN_KEK_CURRENT = env_str("HAVEN_KEK_CURRENT")
if PRODUCTION and not (HAVEN_KEKS and HAVEN_KEK_CURRENT in HAVEN_KEKS):
    raise ImproperlyConfigured(
        "HAVEN_KEKS and HAVEN_KEK_CURRENT must be set: they protect messages"
    )
# Backups (`haven backup`, docs/deploy.md): where they go, the key that encrypts them (32 bytes,
# base64; `haven backup` refuses to run without it) and how long `haven privacy backups` keeps them.
HAVEN_BACKUP_DIR = env_str("HAVEN_BACKUP_DIR", "")
HAVEN_BACKUP_KEY = env_str("HAVEN_BACKUP_KEY", "")
HAVEN_BACKUP_RETENTION_DAYS = env_int("HAVEN_BACKUP_RETENTION_DAYS", 35)
# A closed account is erased this long after closing (LOG-5): HIPAA's six-year period.
HAVEN_CLOSED_ACCOUNT_RETENTION_DAYS = env_int("HAVEN_CLOSED_ACCOUNT_RETENTION_DAYS", 6 * 365)
# Outgoing e-mail leaves only over TLS (MAIL-1): "starttls" or "implicit", never clear text.
HAVEN_SMTP_HOST = env_str("HAVEN_SMTP_HOST", "")
HAVEN_SMTP_TLS = env_str("HAVEN_SMTP_TLS", "starttls")
if HAVEN_SMTP_TLS not in {"starttls", "implicit"}:
    raise ImproperlyConfigured(
        "HAVEN_SMTP_TLS must be starttls or implicit: e-mail never goes in clear"
    )
HAVEN_SMTP_PORT = env_int("HAVEN_SMTP_PORT", 465 if HAVEN_SMTP_TLS == "implicit" else 587)
# The outbox's timers: a claim older than this is taken as a dead worker's and sent again
# (same Message-ID); the first retry's wait, doubled each time; the SMTP conversation's timeout.
HAVEN_MAIL_SENDING_TIMEOUT_SECONDS = env_int("HAVEN_MAIL_SENDING_TIMEOUT_SECONDS", 900)
HAVEN_MAIL_RETRY_SECONDS = env_int("HAVEN_MAIL_RETRY_SECONDS", 60)
HAVEN_SMTP_TIMEOUT = env_int("HAVEN_SMTP_TIMEOUT", 20)
HAVEN_SMTP_USER = env_str("HAVEN_SMTP_USER", "")
HAVEN_SMTP_PASSWORD = env_str("HAVEN_SMTP_PASSWORD", "")
HAVEN_SMTP_CA_FILE = env_str("HAVEN_SMTP_CA_FILE") or None
HAVEN_MAIL_DELIVERY = env_str("HAVEN_MAIL_DELIVERY", "relay")
HAVEN_MAIL_FROM_DOMAIN = env_str("HAVEN_MAIL_FROM_DOMAIN", "")
HAVEN_PORTAL_MESSAGE_DAYS = env_int("HAVEN_PORTAL_MESSAGE_DAYS", 30)
# Virus scanning of uploads and message text (MSG-6): clamd's "host:port"; unset, files wait.
HAVEN_CLAMD_ADDRESS = env_str("HAVEN_CLAMD_ADDRESS") or None
HAVEN_ATTACHMENT_MAX_BYTES = env_int("HAVEN_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# Text notifications (MSG-4) go to an SMS gateway over HTTPS; unset, texts are not sent.
HAVEN_SMS_GATEWAY_URL = env_str("HAVEN_SMS_GATEWAY_URL", "") or ""
if PRODUCTION and HAVEN_SMS_GATEWAY_URL and not HAVEN_SMS_GATEWAY_URL.startswith("https://"):
    raise ImproperlyConfigured("HAVEN_SMS_GATEWAY_URL must be https: texts never travel in clear")
HAVEN_SMS_GATEWAY_TOKEN = env_str("HAVEN_SMS_GATEWAY_TOKEN", "") or ""
HAVEN_SMS_SENDER = env_str("HAVEN_SMS_SENDER", "") or ""
# Push notifications (MSG-4): Web Push signed with the site's VAPID key (`haven push keys` makes
# one); unset, push is recorded but not sent. Haven posts only to the push services listed here:
# the browser gives the address, and nothing else may be reached from the server that way.
HAVEN_VAPID_PRIVATE_KEY = env_str("HAVEN_VAPID_PRIVATE_KEY", "") or ""
HAVEN_VAPID_SUBJECT = env_str("HAVEN_VAPID_SUBJECT", "") or "mailto:" + (
    DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">").strip()
)
HAVEN_PUSH_SERVICES = env_list(
    "HAVEN_PUSH_SERVICES",
    [
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        "*.notify.windows.com",
        "web.push.apple.com",
        "*.push.apple.com",
    ],
)
HAVEN_PUSH_TTL_SECONDS = env_int("HAVEN_PUSH_TTL_SECONDS", 24 * 3600)
# Audit checkpoints are signed and written where the database administrator cannot rewrite them.
HAVEN_AUDIT_CHECKPOINT_KEY = env_str("HAVEN_AUDIT_CHECKPOINT_KEY", "")
if env_str("HAVEN_AUDIT_CHECKPOINT_DIR"):
    HAVEN_AUDIT_CHECKPOINT_DIR = env_str("HAVEN_AUDIT_CHECKPOINT_DIR")
HAVEN_BREAK_GLASS_MINUTES = env_int("HAVEN_BREAK_GLASS_MINUTES", 60)
HAVEN_MESSAGE_RETENTION_DAYS = env_int("HAVEN_MESSAGE_RETENTION_DAYS", 6 * 366)
if env_str("HAVEN_GEOIP_PATH"):
    HAVEN_GEOIP_PATH = env_str("HAVEN_GEOIP_PATH")

# SMART on FHIR (DIS-8): django-oauth-toolkit hardened beyond its defaults. Authorization code with
# PKCE S256 only, exact https redirect URIs (plain http only on this machine, outside production),
# access tokens of an hour, refresh tokens (only with offline_access) that expire and rotate, and
# a reused refresh token revokes its whole family.
# django-oauth-toolkit's default models, named so that migrations resolve them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 - a model name  # nosec B105
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105 - a model name  # nosec B105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105 - a model name  # nosec B105
from haven.fhir.keys import checked_rsa_key, throwaway_rsa_key  # noqa: E402

OAUTH2_PROVIDER = {
    # OpenID Connect (`openid fhirUser`): id_tokens signed with an RSA key from HAVEN_OIDC_KEY
    # (PEM), required in production; local development and tests use a throwaway key.
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": (
        checked_rsa_key(env_required("HAVEN_OIDC_KEY", why="it signs OpenID Connect id_tokens"))
        if PRODUCTION
        else checked_rsa_key(env_str("HAVEN_OIDC_KEY") or throwaway_rsa_key())
    ),
    "ID_TOKEN_EXPIRE_SECONDS": 3600,  # nosec B105  # a lifetime, not a password
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # nosec B105  # a switch
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,  # nosec B105  # a switch
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # nosec B105  # a switch
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,  # nosec B105  # a switch
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["https", "http"],
    "ALLOW_URI_WILDCARDS": False,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,  # nosec B105  # a lifetime, not a password
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 90 * 24 * 3600,
    "ROTATE_REFRESH_TOKEN": True,  # nosec B105  # a switch
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # nosec B105  # a switch
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,  # nosec B105  # a lifetime, not a password
    "OAUTH2_VALIDATOR_CLASS": "haven.fhir.oauth.SmartValidator",
    "SCOPES_BACKEND_CLASS": "haven.fhir.oauth.SmartScopes",
    "REQUEST_APPROVAL_PROMPT": "force",
}

# Structured logs; health information never goes into them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_str("LOG_LEVEL", "WARNING" if TESTING else "INFO"),
    },
    "loggers": {"axes": {"level": "WARNING"}},
}
