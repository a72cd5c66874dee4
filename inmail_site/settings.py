"""Settings for the InMail credit ledger, read from the environment.

Every setting has an embedded default so that `make run` works on a fresh machine with no
services: SQLite under `var/`, and a Celery broker on the local filesystem. Setting
`DATABASE_URL` and `REDIS_URL` moves the same code onto PostgreSQL and Redis.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

# Lets the code subscript Django's generic classes (ModelAdmin[Seat], QuerySet[Lot]) at run
# time, as the type stubs do.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The default key is only good for a local demo; production must set SECRET_KEY.
SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-demo-key-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_celery_beat",
    "teams",
    "ledger",
]

MIDDLEWARE = [
    # First: a load balancer probes by IP or `localhost`, which ALLOWED_HOSTS rightly refuses
    # everywhere else, and over plain http; /healthz is answered before anything checks either.
    "inmail_site.middleware.HealthCheckMiddleware",
    # Django's SecurityMiddleware, serving plain http on loopback instead of redirecting it.
    "inmail_site.middleware.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "inmail_site.middleware.CSPMiddleware",  # django-csp's, the header built once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A page's bare 405 (require_POST) becomes the 405 page.
    "inmail_site.errors.MethodNotAllowedPageMiddleware",
    # Last, as django-axes asks: it turns a lockout into its 429 answer.
    "axes.middleware.AxesMiddleware",
    # Only a process_exception hook (which runs whatever the position): a page view's
    # database outage becomes the 503 page. It passes every response through untouched, so
    # django-axes still sees them last.
    "inmail_site.errors.DatabaseUnavailableMiddleware",
]
# What a 503 (the database away) tells clients to wait before retrying.
UNAVAILABLE_RETRY_AFTER_SECONDS = env.int("UNAVAILABLE_RETRY_AFTER_SECONDS", default=30)

# Django's deploy check looks for its own SecurityMiddleware by name; ours subclasses it
# (inmail_site/middleware.py) and tests/site/test_healthz.py proves the redirect still happens.
# models.W040: SQLite ignores an index's INCLUDE columns, which only let PostgreSQL answer from
# the index alone (ledger/models.py); every `migrate` on SQLite, `make run`'s included, said so.
SILENCED_SYSTEM_CHECKS = ["security.W001", "models.W040"]

ROOT_URLCONF = "inmail_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ledger.notifications.views.unread_notifications",
            ],
        },
    },
]

WSGI_APPLICATION = "inmail_site.wsgi.application"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # The embedded default: wait for the writer instead of failing with "database is locked",
    # and take the write lock at BEGIN so a read never has to be upgraded mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        # Bound by the server and kept prepared on the connection from their third run
        # (psycopg counts two first), so PostgreSQL plans them once per connection, not on
        # every call: the few reads the ledger compiles once (ledger/services/prepared.py: a
        # send's read of its seat took 0.66 ms of planning per send; bench/RESULTS.md, "Send
        # throughput"), a send's five writes (`run_bound`: 0.33 ms of planning a send) and the
        # batched account UPDATE (`update_rows`: its arrays go to the server as psycopg dumps
        # them, not quoted into the text). Every other statement is bound by Django as usual
        # and never prepared. Off (DATABASE_PREPARED_STATEMENTS=0) behind a pooler in
        # transaction mode, where a connection's prepared statements are not its own.
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "teams.User"
# Admins (`is_staff`) may do everything (docs/rules.md), including in Django's admin site.
# django-axes comes first so that a locked-out username never reaches the password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "teams.backends.AdminsMayDoEverythingBackend",
]

# Login lockout (django-axes): after AXES_FAILURE_LIMIT failed sign-ins for one username from
# one address, both the sign-in page and the token endpoint refuse it for the cool-off time.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "inmail_site.views.lockout"
AXES_CLIENT_IP_CALLABLE = "inmail_site.views.client_ip"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# The organisation's time zone (R3): refreshes happen at 00:00 here, and day counts
# (credit lifetimes, response windows) are calendar days here.
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
# The currency of every amount (plan prices, purchases, costs): pages show its code before
# each one; the API gives plain decimals.
CURRENCY = env.str("CURRENCY", default="USD")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="InMail Ledger <ledger@localhost>")
# Seconds to wait for the SMTP server: well under the minute an alert mail's claim lasts.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# HTTPS. Outside DEBUG everything is on by default, so a deployment that sets only DEBUG=0,
# SECRET_KEY and ALLOWED_HOSTS passes `manage.py check --deploy`; each can be turned off by its
# variable. `make run` sets DEBUG=1 and so stays plain http; tests turn the redirect off
# (tests/conftest.py) because the test client and the live server speak plain http.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# A load balancer's probe gets its answer over plain http (HealthCheckMiddleware answers it
# before SecurityMiddleware anyway; this keeps the two in agreement).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# One year, this host and its subdomains, with `preload`: the header alone enrols nothing; the
# host joins browsers' preload lists only if someone submits it (hstspreload.org).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# Behind a TLS-terminating proxy Django sees plain http; the proxy's header says the client used
# https. Off unless set, because trusting it when no proxy strips a client's own copy would let
# anyone claim https. E.g. SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https
_proxy_ssl_header = env.tuple("SECURE_PROXY_SSL_HEADER", default=())
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER is a header and its value: NAME,https")
SECURE_PROXY_SSL_HEADER = (
    (str(_proxy_ssl_header[0]), str(_proxy_ssl_header[1])) if _proxy_ssl_header else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): our own files only, no inline script or style. The pages
# keep their behaviour in static/js/ and their looks in stylesheets; htmx's indicator styles are
# off (base.html), and Chart.js sizes its canvas through the CSSOM, which style-src does not
# govern. Images may be `data:` URIs because Pico CSS draws its icons (chevrons, checkmarks) as
# inline SVG; an image can't run script. /api/docs/ widens this for itself (inmail_site/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Permissions-Policy (django-permissions-policy): nothing here needs a device or a payment.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

REST_FRAMEWORK = {
    # Token first: DRF takes the `WWW-Authenticate` header from the first class, and only with
    # one can an anonymous request be answered 401 (docs/api.md) rather than 403. Session auth still
    # applies (CSRF enforced) to requests that carry no token.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ledger.api.auth.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ledger.api.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "ledger.api.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "ledger.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["ledger.api.throttles.WriteThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        # Per client address: guessing passwords through the token endpoint.
        "auth_token": env.str("THROTTLE_AUTH_TOKEN", default="10/min"),
        # Per user: every POST, PATCH and DELETE.
        "writes": env.str("THROTTLE_WRITES", default="120/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=None),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "InMail Ledger API",
    "DESCRIPTION": (
        "The book of record of a recruiting team's LinkedIn InMail credits: seats, pools, "
        "InMails, the ledger and analytics. See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Entries and their operations both have a `kind`, with different choices.
    "ENUM_NAME_OVERRIDES": {
        "EntryKindEnum": "ledger.models.EntryKind",
        "OperationKindEnum": "ledger.models.OperationKind",
        "ReconciliationStatusEnum": "ledger.models.ReconciliationStatus",
        "SeatStatusEnum": "teams.models.SeatStatus",
        # Webhooks (R23)
        "WebhookKindEnum": "ledger.models.WebhookKind",
        "WebhookDeliveryStatusEnum": "ledger.models.WebhookDeliveryStatus",
    },
}

# Celery. With REDIS_URL set the broker is Redis; without it the broker is a folder under
# var/, which needs no server and still carries tasks between the web process, a worker and
# beat on one machine.
REDIS_URL = env.str("REDIS_URL", default="")
# The cache holds the API's throttle counters; with Redis they are shared by every
# web process, without it each process counts on its own. Redis away must never fail a
# request: the cache fails open (inmail_site/cache.py) and gives up on a call quickly.
CACHES = {
    "default": (
        {
            "BACKEND": "inmail_site.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=0.25),
                "socket_timeout": env.float("REDIS_TIMEOUT", default=0.5),
            },
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# A task past its soft limit gets SoftTimeLimitExceeded (the tick stops between groups, each
# already committed); past the hard limit its worker process is killed and replaced. The tick
# over many seats may take minutes, so the limits are generous.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=15 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=20 * 60)
# The broker's options whenever it is Redis (the tests that point the app at a Redis of their
# own take these too). Publishing from a web request must fail fast when Redis is down, never
# hang the request: without max_retries=0 kombu tries to connect again and again, for ever.
REDIS_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 0,
    # Tasks acknowledge late, so Redis hands a message to another worker when it is not
    # acknowledged within this time: it must outlast the longest run the hard limit allows.
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 10 * 60,
}
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object]
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = dict(REDIS_BROKER_TRANSPORT_OPTIONS)
else:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "celery-broker"
    # kombu's filesystem transport expects its folders to exist; web, worker and beat all
    # read these settings, so whichever starts first makes them.
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Services publish follow-up tasks (a seat's alert check after a send); tests turn this off.
LEDGER_PUBLISH_TASKS = env.bool("LEDGER_PUBLISH_TASKS", default=True)
# A job that is already waiting in the queue (the alert pass of a seat) is not published again
# by the next write: a claim in the cache says so, and the cache must be the one the workers
# see (Redis), so only with REDIS_URL (ledger/queue.py).
LEDGER_COALESCE_TASKS = env.bool("LEDGER_COALESCE_TASKS", default=bool(REDIS_URL))
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Tasks outside the apps' `tasks.py`: large CSV imports are the pages' work (issue 14).
CELERY_IMPORTS = ["ledger.web.csv_io.jobs"]
# Tasks keep no results, so beat has none to clean up (no `celery.backend_cleanup` job).
CELERY_RESULT_EXPIRES = None
# The periodic jobs. Beat copies them into django-celery-beat's tables when it starts, by name
# (the names the old data migrations gave the rows, so those rows are updated, not doubled), so
# a crontab runs in the TIME_ZONE of that start. The admin may pause a job; its schedule comes
# from here.
CELERY_BEAT_SCHEDULE = {
    # Refreshes land at 00:00 within a minute; a late or missed run is harmless (R17).
    "Ledger tick: refreshes, expiries, reminders, closures": {
        "task": "ledger.tasks.tick",
        "schedule": timedelta(minutes=1),
    },
    # Also sends the alert mails whose retry is due.
    "Ledger alerts": {"task": "ledger.tasks.send_alerts", "schedule": timedelta(minutes=15)},
    "Ledger check": {
        "task": "ledger.tasks.check_ledger",
        "schedule": crontab(minute="30", hour="3"),
    },
    # docs/api.md keeps idempotency keys at least 24 hours; the task forgets them after 48.
    "Forget old idempotency keys": {
        "task": "ledger.tasks.purge_idempotency_keys",
        "schedule": timedelta(hours=1),
    },
    # R21: Monday morning, each holder is asked to compare their seats with LinkedIn.
    "Reconciliation reminders": {
        "task": "ledger.tasks.remind_reconcile",
        "schedule": crontab(minute="0", hour="9", day_of_week="1"),
    },
    # --- Webhooks (R23): retries and anything a lost publish left behind. ---
    "Webhook deliveries": {
        "task": "ledger.tasks.deliver_webhooks",
        "schedule": timedelta(minutes=1),
    },
}
# --- Webhooks (R23): receivers on private, loopback or link-local addresses (on-premises,
# tests) are refused unless this is on. ---
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=False)
# django-celery-beat's scheduler, made to outlive a database outage (ledger/beat.py).
CELERY_BEAT_SCHEDULER = "ledger.beat:ResilientDatabaseScheduler"

# One console handler, on the root logger. Django's own defaults give the `django` logger a
# console handler of its own (printing under DEBUG) and let it propagate to the root too, which
# printed every `django.*` line twice; emptying its handlers leaves the root's, once. Its level
# goes back to NOTSET so LOG_LEVEL governs it as it does everything else. (`django.server`, the
# runserver access log, keeps Django's own handler and does not propagate: once as well.)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django": {"handlers": [], "level": "NOTSET", "propagate": True}},
}
