from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from qunex import views

# Staff sign in through the same allauth login as everyone (rate limits, 2FA).
admin.autodiscover()
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Qunex staff panel"
admin.site.site_title = "Qunex staff"

api_patterns = [
    path("", views.api_root, name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("markets.api.urls")),
    path("", include("portfolios.api.urls")),
    path("", include("backtests.api.urls")),
    path("", include("accounts.api.urls")),
]

urlpatterns = [
    path("health", views.health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/", include(api_patterns)),
    path("", include("markets.urls")),
    path("", include("portfolios.urls")),
    path("", include("backtests.urls")),
    path("", include("insights.urls")),
]
