"""The dashboard's pages."""

from __future__ import annotations

from django.urls import path

from teams import views as team_views

urlpatterns = [
    path("", team_views.home, name="home"),
]
