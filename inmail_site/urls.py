"""The site's URLs: pages, sign-in, the REST API and its schema, the admin and the health check."""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from inmail_site.views import healthz

# Swagger UI under the site's Content-Security-Policy, widened for this page only. The split view
# serves its start-up script as a file of its own, so scripts stay 'self'; but drf-spectacular's
# page template carries an inline <style>, hence inline styles here.
api_docs = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    # The API first: an integration's request is matched against its own patterns without
    # first trying every page's (the pages' prefixes never start with "api/").
    path("api/v1/", include("ledger.api.urls")),
    path("", include("ledger.web.urls")),
    path("manage/", include("ledger.console.urls")),
    path("csv/", include("ledger.web.csv_urls")),
    path("notifications/", include("ledger.notifications.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

# JSON under /api/, pages elsewhere; a database outage is a 503 (inmail_site/errors.py).
handler400 = "inmail_site.errors.bad_request"
handler403 = "inmail_site.errors.permission_denied"
handler404 = "inmail_site.errors.page_not_found"
handler500 = "inmail_site.errors.server_error"
