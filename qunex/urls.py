import base64
import hashlib

from allauth.account.decorators import secure_admin_login
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.utils.html import conditional_escape
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.compat import pygments_css
from rest_framework.renderers import BrowsableAPIRenderer

from qunex import views

# Staff sign in through the same allauth login as everyone (rate limits, 2FA).
admin.autodiscover()
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Qunex staff panel"
admin.site.site_title = "Qunex staff"
handler500 = "qunex.views.server_error"  # a database outage answers 503, not 500
handler404 = "qunex.views.not_found"  # JSON under /api/

# Swagger UI injects one fixed <style> element; allow exactly that one by its hash (it is
# the bundled drf-spectacular-sidecar version's, so a version bump may change it).
SWAGGER_STYLE_HASH = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
swagger_ui = csp_update({"style-src": [SWAGGER_STYLE_HASH]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

api_patterns = [
    path("", views.api_root, name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", swagger_ui, name="api-docs"),
    path("", include("markets.api.urls")),
    path("", include("portfolios.api.urls")),
    path("", include("backtests.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("insights.api_urls")),
]


def _browsable_api_style_hash() -> str:
    """The browsable API's one <style> element is pygments' CSS, rendered escaped; hash exactly
    that text (computed from the installed pygments, so an upgrade cannot break it)."""
    css = str(conditional_escape(pygments_css(BrowsableAPIRenderer.code_style) or ""))
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


BROWSABLE_API_STYLE_HASH = _browsable_api_style_hash()
allow_browsable_style = csp_update({"style-src": [BROWSABLE_API_STYLE_HASH]})


def _with_browsable_style(patterns: list) -> list:
    """Every API view may answer with the browsable HTML page: allow its style by hash."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _with_browsable_style(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name != "api-docs":
            pattern.callback = allow_browsable_style(pattern.callback)
    return patterns


urlpatterns = [
    path("health", views.health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/", include(_with_browsable_style(api_patterns))),
    path("", include("markets.urls")),
    path("", include("portfolios.urls")),
    path("", include("backtests.urls")),
    path("", include("insights.urls")),
]
