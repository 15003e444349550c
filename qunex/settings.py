"""Qunex settings: one file, every value from the environment with a safe development default.

A bad value (a non-integer port, an unknown boolean) stops start-up with a message that
names the variable. `.env.example` lists every variable.
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false, 1/0, yes/no), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name} must be a finite number, got {raw!r}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

# --- Core -----------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
if render_host := env_str("RENDER_EXTERNAL_HOSTNAME"):
    ALLOWED_HOSTS.append(render_host)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "qunex",
    "accounts",
    "markets",
    "portfolios",
    "backtests",
    "insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "qunex.middleware.QueryStringGuardMiddleware",
    "qunex.middleware.ControlCharacterGuardMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "qunex.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "qunex.urls"
WSGI_APPLICATION = "qunex.wsgi.application"

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
                "qunex.context_processors.site",
            ],
        },
    },
]

# --- Data -----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A hung or unreachable database must not hang every worker: connecting gives up after
# DB_CONNECT_TIMEOUT seconds, and a statement after DB_STATEMENT_TIMEOUT_MS (web requests)
# or DB_JOB_STATEMENT_TIMEOUT_MS (management commands: jobs, migrations; 0 = no limit).
# The web's pages then answer a 503 page (qunex.middleware) and /health a 503 within 10 s.
_COMMAND = sys.argv[1] if len(sys.argv) > 1 and Path(sys.argv[0]).name == "manage.py" else ""
IS_JOB_PROCESS = bool(_COMMAND) and _COMMAND != "runserver"
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 3)
DB_STATEMENT_TIMEOUT_MS = env_int(
    "DB_JOB_STATEMENT_TIMEOUT_MS" if IS_JOB_PROCESS else "DB_STATEMENT_TIMEOUT_MS",
    0 if IS_JOB_PROCESS else 5000,
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
    if DB_STATEMENT_TIMEOUT_MS > 0:
        _db_options["options"] = (
            _db_options.get("options", "") + f" -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
        ).strip()
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The laptop database: write-ahead logging (readers never wait for the writer, e.g. a
    # page while `process_backtests` stores a result) and a commit that does not wait for
    # the disk twice (synchronous=NORMAL: safe in WAL mode; a power cut can lose the last
    # commits, never corrupt the file). Writers queue for up to 20 s instead of failing
    # with "database is locked".
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
    _db_options.setdefault("timeout", 20)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A request line (method, address, query) longer than this is a 414 from Django (JSON on /api/);
# gunicorn's own limit (gunicorn.conf.py limit_request_line, 8190) stays above it.
REQUEST_LINE_LIMIT = env_int("REQUEST_LINE_LIMIT", 8000)

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # Redis down or out of commands must not take the site down: qunex.cache falls back to
    # per-process caching, limits and locks, warns once per interval and returns to Redis
    # by itself.
    CACHES = {
        "default": {
            "BACKEND": "qunex.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "qunex"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": env_int("REDIS_SOCKET_TIMEOUT", 1),
                "SOCKET_TIMEOUT": env_int("REDIS_SOCKET_TIMEOUT", 1),
                "FALLBACK_SECONDS": env_int("REDIS_FALLBACK_SECONDS", 30),
                "WARN_SECONDS": env_int("REDIS_WARN_SECONDS", 300),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "qunex",
        }
    }

# --- Auth (django-allauth) --------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# Confirming the email in the browser that signed up signs the user in and goes on to where
# they were going; a link opened elsewhere leads to the login page.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Qunex] "
ACCOUNT_EMAIL_NOTIFICATIONS = True  # tell users when their password, email or 2FA changes
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# allauth keeps its rate-limit counters in the default cache (Redis in production).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("RATE_LIMIT_LOGIN_FAILED", "5/5m/ip,5/5m/key"),
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
# Sensitive changes (2FA, e-mail) ask for the password again unless the user signed in or
# re-authenticated within this many seconds; a fresh login counts (accounts/adapter.py).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("ACCOUNT_REAUTHENTICATION_TIMEOUT", 300)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Qunex"

# --- Mail -----------------------------------------------------------------------------------
MAIL_HOST = env_str("MAIL_HOST")
EMAIL_HOST = MAIL_HOST
EMAIL_PORT = env_int("MAIL_PORT", 587)
EMAIL_HOST_USER = env_str("MAIL_USERNAME")
EMAIL_HOST_PASSWORD = env_str("MAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("MAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Qunex <no-reply@qunex.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if MAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

# --- I18N / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_ROOT = BASE_DIR / "static" / "root"  # served at the site's root: /favicon.ico
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and not TESTING
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated API client gets 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # A junk or empty `page` is a 400 naming it (qunex/filters.py), not silently page 1.
    "DEFAULT_PAGINATION_CLASS": "qunex.filters.StrictPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "qunex.filters.BoundedSearchFilter",  # bounded: 1,500 words were a 5xx
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
        "user": env_str("API_THROTTLE_USER", "1200/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Proxies in front of the app (1 on Render), so throttles key on the real client IP and
    # a client cannot dodge them with a forged X-Forwarded-For.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Qunex API",
    "DESCRIPTION": "The data behind [Qunex](/), for integrators, in eleven areas:\n\n"
    "- **Markets**: tickers, latest quotes and the market-data feed the pages poll\n"
    "- **Portfolios** and their **transactions**: holdings, P&L and performance\n"
    "- **Watchlists** and their items\n"
    "- **Alerts**: price alerts that fire once\n"
    "- **Notifications**: what fired, read and unread\n"
    "- **Backtests**: queue a strategy or a parameter sweep, read its result\n"
    "- **News**: articles with their sentiment analysis\n"
    "- **Insider trades**: SEC Form 4 filings\n"
    "- **Economic calendar**: scheduled releases and their figures\n"
    "- **AI scores** and the **AI models** behind them\n"
    "- **Account**: who you are signed in as (`/api/me/`)\n\n"
    "Authenticate with a session or with `Authorization: Token <key>` "
    "(create a token on [your account page](/accounts/profile/)). "
    "[Back to Qunex](/)",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "qunex.schema.guard_parameters",  # control characters -> 400, on every operation
    ],
}

# --- Vendors --------------------------------------------------------------------------------
POLYGON_API_KEY = env_str("POLYGON_API_KEY")
FINNHUB_API_KEY = env_str("FINNHUB_API_KEY")
ALPHA_VANTAGE_API_KEY = env_str("ALPHA_VANTAGE_API_KEY")
NEWSAPI_KEY = env_str("NEWSAPI_KEY")
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY")
SEC_USER_AGENT = env_str("SEC_USER_AGENT", "Qunex admin@qunex.local")
MARKET_DATA_PROVIDERS = env_list("MARKET_DATA_PROVIDERS", ["polygon", "finnhub", "alphavantage"])
HTTP_TIMEOUT = env_int("HTTP_TIMEOUT", 10)
# Every outbound body is capped (bytes) and every call has an overall deadline (seconds),
# whatever the per-read HTTP_TIMEOUT: a 20 MB feed or a server trickling bytes fails that source.
HTTP_MAX_BYTES = env_int("HTTP_MAX_BYTES", 5_000_000)
HTTP_DEADLINE = env_int("HTTP_DEADLINE", 30)
# Vendor endpoints: settings so a test (or a proxy) can point the real adapters elsewhere.
POLYGON_BASE_URL = env_str("POLYGON_BASE_URL", "https://api.polygon.io")
FINNHUB_BASE_URL = env_str("FINNHUB_BASE_URL", "https://finnhub.io/api/v1")
ALPHA_VANTAGE_BASE_URL = env_str("ALPHA_VANTAGE_BASE_URL", "https://www.alphavantage.co/query")
# One rate budget per vendor and key (markets.budget), shared by every job and the web feed
# through the cache: calls per minute and per day, 0 = no limit. Free-tier defaults.
POLYGON_CALLS_PER_MINUTE = env_int("POLYGON_CALLS_PER_MINUTE", 5)
POLYGON_CALLS_PER_DAY = env_int("POLYGON_CALLS_PER_DAY", 0)
FINNHUB_CALLS_PER_MINUTE = env_int("FINNHUB_CALLS_PER_MINUTE", 60)
FINNHUB_CALLS_PER_DAY = env_int("FINNHUB_CALLS_PER_DAY", 0)
ALPHA_VANTAGE_CALLS_PER_MINUTE = env_int("ALPHA_VANTAGE_CALLS_PER_MINUTE", 5)
ALPHA_VANTAGE_CALLS_PER_DAY = env_int("ALPHA_VANTAGE_CALLS_PER_DAY", 25)
# Alpha Vantage's day split by purpose ("purpose:calls"): the web feed, bar backfills and the
# job's quote step each keep their reserve; the unreserved rest goes to whoever asks first.
ALPHA_VANTAGE_DAY_RESERVES = env_list(
    "ALPHA_VANTAGE_DAY_RESERVES", ["feed:10", "bars:8", "quotes:2"]
)
NEWSAPI_CALLS_PER_MINUTE = env_int("NEWSAPI_CALLS_PER_MINUTE", 0)
NEWSAPI_CALLS_PER_DAY = env_int("NEWSAPI_CALLS_PER_DAY", 100)
# refresh_market_data exits non-zero (the workflow turns red) when a vendor was rate-limited
# out of the run, or when more than this share of tickers failed with every vendor.
REFRESH_FAIL_ON_RATE_LIMIT = env_bool("REFRESH_FAIL_ON_RATE_LIMIT", True)
REFRESH_MAX_FAILED_PERCENT = env_int("REFRESH_MAX_FAILED_PERCENT", 10)
# A market-data run waits for its vendors' budgets up to this many seconds, then defers the
# rest to the next run (backfills are paced across runs; a page never waits).
REFRESH_TIME_BUDGET_SECONDS = env_int("REFRESH_TIME_BUDGET_SECONDS", 240)
# Of which the quote step (market hours only) waits at most this long for quote calls.
REFRESH_QUOTE_SECONDS = env_int("REFRESH_QUOTE_SECONDS", 30)
# Sessions the grouped daily call (one call = the whole market's bars) fills in per run.
REFRESH_GROUPED_SESSIONS = env_int("REFRESH_GROUPED_SESSIONS", 30)
# A ticker no vendor has bars for is skipped this many days before it is asked again.
REFRESH_UNAVAILABLE_RETRY_DAYS = env_int("REFRESH_UNAVAILABLE_RETRY_DAYS", 30)
# Unadjusted bars (Alpha Vantage) are converted only with splits synced this recently.
REFRESH_SPLITS_MAX_AGE_DAYS = env_int("REFRESH_SPLITS_MAX_AGE_DAYS", 7)
# sync_tickers' first bulk run fetches the market's dividends this many days back.
SYNC_DIVIDENDS_LOOKBACK_DAYS = env_int("SYNC_DIVIDENDS_LOOKBACK_DAYS", 365)

# --- Insights: news and its AI analysis (issue 9) -------------------------------------------
# Claude analysis of news (insights/news/analysis). Prices are USD per million tokens of the
# configured model; cost = tokens x price, summed per article and capped per run.


def _usd(name: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be a decimal amount in USD, got {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(f"{name} must be a non-negative amount in USD, got {raw!r}")
    return value


NEWS_ANALYSIS_MODEL = env_str("NEWS_ANALYSIS_MODEL", "claude-sonnet-4-6")
NEWS_ANALYSIS_BATCH_SIZE = env_int("NEWS_ANALYSIS_BATCH_SIZE", 20)
NEWS_ANALYSIS_MAX_COST_USD = _usd(
    "NEWS_ANALYSIS_MAX_COST_USD", env_str("NEWS_ANALYSIS_MAX_COST_USD", "1.00")
)
NEWS_ANALYSIS_MAX_TOKENS = env_int("NEWS_ANALYSIS_MAX_TOKENS", 1024)
NEWS_ANALYSIS_MAX_CHARS = env_int("NEWS_ANALYSIS_MAX_CHARS", 12000)
NEWS_ANALYSIS_PRICE_INPUT = _usd(
    "NEWS_ANALYSIS_PRICE_INPUT", env_str("NEWS_ANALYSIS_PRICE_INPUT", "3.00")
)
NEWS_ANALYSIS_PRICE_OUTPUT = _usd(
    "NEWS_ANALYSIS_PRICE_OUTPUT", env_str("NEWS_ANALYSIS_PRICE_OUTPUT", "15.00")
)
NEWS_ANALYSIS_PRICE_CACHE_READ = _usd(
    "NEWS_ANALYSIS_PRICE_CACHE_READ", env_str("NEWS_ANALYSIS_PRICE_CACHE_READ", "0.30")
)
NEWS_ANALYSIS_PRICE_CACHE_WRITE = _usd(
    "NEWS_ANALYSIS_PRICE_CACHE_WRITE", env_str("NEWS_ANALYSIS_PRICE_CACHE_WRITE", "3.75")
)
ANTHROPIC_BASE_URL = env_str("ANTHROPIC_BASE_URL")
ANTHROPIC_TIMEOUT = env_int("ANTHROPIC_TIMEOUT", 60)
ANTHROPIC_MAX_RETRIES = env_int("ANTHROPIC_MAX_RETRIES", 2)
# Time bounds of analyze_news: one article (both attempts, every request and retry wait), and
# the whole run (it stops starting articles after this; data-refresh.yml allows 30 minutes
# for prices, news, this and the calendar together).
NEWS_ANALYSIS_ARTICLE_SECONDS = env_int("NEWS_ANALYSIS_ARTICLE_SECONDS", 90)
NEWS_ANALYSIS_RUN_SECONDS = env_int("NEWS_ANALYSIS_RUN_SECONDS", 600)

# Keyless feeds, "key|url|publisher" separated by commas: official releases that move markets
# (FOMC statements, SEC actions, BLS jobs/CPI releases).
NEWS_RSS_FEEDS = env_list(
    "NEWS_RSS_FEEDS",
    [
        "fed|https://www.federalreserve.gov/feeds/press_all.xml|Federal Reserve",
        "sec|https://www.sec.gov/news/pressreleases.rss|SEC",
        "bls|https://www.bls.gov/feed/bls_latest.rss|Bureau of Labor Statistics",
    ],
)
NEWSAPI_BASE_URL = env_str("NEWSAPI_BASE_URL", "https://newsapi.org")
# Tickers asked for per run by the per-symbol sources when --tickers is not given.
NEWS_MAX_SYMBOLS = env_int("NEWS_MAX_SYMBOLS", 30)
# Default look-back of refresh_news when --since is not given.
NEWS_LOOKBACK_HOURS = env_int("NEWS_LOOKBACK_HOURS", 48)
# refresh_news waits for the vendor budgets (shared with the bars job and the feed) this long,
# then defers the rest of its vendor calls to the next run.
NEWS_TIME_BUDGET_SECONDS = env_int("NEWS_TIME_BUDGET_SECONDS", 120)


# --- Insights: insider trades (issue 10) ----------------------------------------------------
SEC_TICKER_MAP_URL = env_str("SEC_TICKER_MAP_URL", "https://www.sec.gov/files/company_tickers.json")
SEC_DATA_BASE_URL = env_str("SEC_DATA_BASE_URL", "https://data.sec.gov")
SEC_ARCHIVES_BASE_URL = env_str("SEC_ARCHIVES_BASE_URL", "https://www.sec.gov")
SEC_MAX_REQUESTS_PER_SECOND = env_int("SEC_MAX_REQUESTS_PER_SECOND", 10)
INSIDER_CLUSTER_MIN_INSIDERS = env_int("INSIDER_CLUSTER_MIN_INSIDERS", 3)
INSIDER_CLUSTER_DAYS = env_int("INSIDER_CLUSTER_DAYS", 10)
INSIDER_LARGE_BUY_PCT = env_int("INSIDER_LARGE_BUY_PCT", 10)
# refresh_insider_trades waits for Finnhub's shared budget (its second source) this long in all.
INSIDER_FINNHUB_SECONDS = env_int("INSIDER_FINNHUB_SECONDS", 600)


# --- Insights: AI score (issue 19) ------------------------------------------------------------
def _env_ic(name: str, default: str) -> float:
    raw = env_str(name, default).strip() or default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


# A candidate is promoted only when it beats the momentum baseline and the incumbent by this
# much mean rank IC, with a paired t-stat of at least this, on the same test days.
AI_SCORE_PROMOTION_MARGIN = _env_ic("AI_SCORE_PROMOTION_MARGIN", "0.005")
AI_SCORE_PROMOTION_MIN_TSTAT = _env_ic("AI_SCORE_PROMOTION_MIN_TSTAT", "2.0")
# A day's score counts in the track record only when stored within this many minutes after
# that session's close (the evening run; the default ends before the next open).
AI_SCORE_PUBLISH_GRACE_MINUTES = env_int("AI_SCORE_PUBLISH_GRACE_MINUTES", 720)


# --- Insights: economic calendar (issue 10) -------------------------------------------------
CALENDAR_SOURCES = env_list("CALENDAR_SOURCES", ["bls", "fomc", "finnhub"])
# refresh_calendar waits this long for a Finnhub call (shared budget), then defers it.
CALENDAR_TIME_BUDGET_SECONDS = env_int("CALENDAR_TIME_BUDGET_SECONDS", 60)
CALENDAR_BLS_ICS_URL = env_str(
    "CALENDAR_BLS_ICS_URL", "https://www.bls.gov/schedule/news_release/bls.ics"
)
CALENDAR_FOMC_URL = env_str(
    "CALENDAR_FOMC_URL", "https://www.federalreserve.gov/monetarypolicy/fomccalendars.htm"
)


# --- Insights: AI score (issue 11) ----------------------------------------------------------


# --- Backtests (issue 12) -------------------------------------------------------------------
# A submitted backtest whose estimated run time is at most this many seconds runs inside the
# request (same bookkeeping as the processor); bigger sweeps and walk-forward runs are queued.
# 0 queues everything.
try:
    BACKTEST_INLINE_BUDGET_SECONDS = float(env_str("BACKTEST_INLINE_BUDGET_SECONDS", "1") or 0)
except ValueError:
    raise ImproperlyConfigured(
        "BACKTEST_INLINE_BUDGET_SECONDS must be a number of seconds"
    ) from None

# --- The 15-second quote feed ---------------------------------------------------------------
MARKET_FEED_POLL_SECONDS = env_int("MARKET_FEED_POLL_SECONDS", 15)
MARKET_FEED_CLOSED_POLL_SECONDS = env_int("MARKET_FEED_CLOSED_POLL_SECONDS", 60)
MARKET_FEED_CACHE_SECONDS = env_int("MARKET_FEED_CACHE_SECONDS", 60)
MARKET_QUOTE_STALE_SECONDS = env_int("MARKET_QUOTE_STALE_SECONDS", 60)
MARKET_FEED_CHECK_SECONDS = env_int("MARKET_FEED_CHECK_SECONDS", 60)
MARKET_FEED_CLOSED_CHECK_SECONDS = env_int("MARKET_FEED_CLOSED_CHECK_SECONDS", 300)
MARKET_FEED_PROVIDERS = env_list("MARKET_FEED_PROVIDERS", ["polygon", "finnhub"])
MARKET_FEED_CALLS_PER_MINUTE = env_int("MARKET_FEED_CALLS_PER_MINUTE", 2)
# The share (0..1) of a vendor's minute limit the feed refresher takes (the jobs keep the rest).
MARKET_FEED_BUDGET_SHARE = env_float("MARKET_FEED_BUDGET_SHARE", 0.5)
if not 0 <= MARKET_FEED_BUDGET_SHARE <= 1:
    raise ImproperlyConfigured(
        f"MARKET_FEED_BUDGET_SHARE must be between 0 and 1, got {MARKET_FEED_BUDGET_SHARE}"
    )
MARKET_FEED_IDLE_SECONDS = env_int("MARKET_FEED_IDLE_SECONDS", 300)
MARKET_FEED_REFRESHER = env_bool("MARKET_FEED_REFRESHER", True)
# Web processes sharing the throttles (gunicorn.conf.py exports its worker count).
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 1)
HEALTH_CACHE_SECONDS = env_int("HEALTH_CACHE_SECONDS", 300)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Every configured key and password is masked before a record is written (qunex.redaction).
    "filters": {"redact": {"()": "qunex.redaction.RedactingFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # "django" is named so that Django's own console handler (DEBUG only, no timestamp) is
    # dropped: its records reach the root handler once ("django.server" keeps its own).
    # urllib3 logs each retry of a failed request; the adapter reports the failure once.
    "loggers": {
        "django": {"level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "ERROR"},
    },
}
