from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cadre import twofactor_views
from cadre.auth_views import ThrottledLoginView, ThrottledPasswordChangeView
from config import views

urlpatterns = [
    # First: the SMS webhook is the busiest path, and patterns are tried in order.
    path("twilio/", include("callouts.web.webhook_urls")),
    path("", views.dashboard, name="dashboard"),
    path("healthz/", views.healthz, name="healthz"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Two-factor login (cadre.middleware sends a login owing its code to the first two).
    path("two-factor/code/", twofactor_views.code, name="two_factor_code"),
    path("two-factor/setup/", twofactor_views.setup, name="two_factor_setup"),
    path(
        "two-factor/recovery-codes/",
        twofactor_views.recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path("two-factor/off/", twofactor_views.turn_off, name="two_factor_off"),
    path("password/", ThrottledPasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("cadre/", include("cadre.urls")),
    path("rota/", include("roster.urls")),
    path("", include("callouts.urls")),
    path("reports/", include("reports.urls")),
    # The admin's own login page is not throttled: send strangers to ours (keeping ?next=);
    # anyone signed in who is not a superuser is refused with a 403 page.
    path("admin/login/", views.admin_login),
    path("admin/", admin.site.urls),
]

# Under /api/ an error is JSON like every other answer there; elsewhere, the pages.
handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
