"""The signed-in person's notifications and notification preferences."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from ledger.notifications import views

app_name = "notifications"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("<int:pk>/read/", views.mark_read, name="mark_read"),
    path("read/", views.mark_all_read, name="mark_all_read"),
    path("preferences/", views.preferences, name="preferences"),
]
