"""The dashboard's pages."""

from __future__ import annotations

from django.urls import path

from ledger import views

urlpatterns = [
    path("", views.home, name="home"),
    path("inmails/", views.inmail_list, name="inmail_list"),
    path("inmails/send/", views.inmail_send_view, name="inmail_send"),
    path("inmails/<int:pk>/respond/", views.inmail_respond, name="inmail_respond"),
    path("inmails/<int:pk>/withdraw/", views.inmail_withdraw_view, name="inmail_withdraw"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/seats/<int:seat_pk>/move/", views.team_seat_move, name="team_seat_move"),
    path(
        "teams/<int:pk>/seats/<int:seat_pk>/settings/",
        views.team_seat_settings,
        name="team_seat_settings",
    ),
]
