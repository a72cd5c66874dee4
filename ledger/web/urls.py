"""The dashboard's pages."""

from __future__ import annotations

from django.urls import path

from ledger.web import candidates, home, outreach, overview, reconcile, team_usage, teams

urlpatterns = [
    path("", home.home, name="home"),
    path("inmails/", home.inmail_list, name="inmail_list"),
    path("inmails/send/", home.inmail_send_view, name="inmail_send"),
    path("inmails/<int:pk>/respond/", home.inmail_respond, name="inmail_respond"),
    path("inmails/<int:pk>/withdraw/", home.inmail_withdraw_view, name="inmail_withdraw"),
    # R22 outreach tags
    path("inmails/<int:pk>/tags/", outreach.inmail_retag, name="inmail_retag"),
    path("teams/<int:pk>/templates/", outreach.compare_templates_view, name="compare_templates"),
    path("teams/", teams.team_list, name="team_list"),
    path("teams/<int:pk>/", teams.team_detail, name="team_detail"),
    path("teams/<int:pk>/seats/<int:seat_pk>/move/", teams.team_seat_move, name="team_seat_move"),
    path(
        "teams/<int:pk>/seats/<int:seat_pk>/settings/",
        teams.team_seat_settings,
        name="team_seat_settings",
    ),
    # Issue 12, item 6: the organisation overview, for admins.
    path("overview/", overview.overview, name="overview"),
    # Issue 13: reconciling a seat with LinkedIn (R21) and a team's usage limits (R20).
    path("seats/<int:seat_pk>/reconcile/", reconcile.seat_reconcile, name="seat_reconcile"),
    path("reconciliations/", reconcile.reconciliation_list, name="reconciliation_list"),
    path(
        "reconciliations/<int:pk>/", reconcile.reconciliation_detail, name="reconciliation_detail"
    ),
    path(
        "reconciliations/<int:pk>/resolve/",
        reconcile.reconciliation_resolve_view,
        name="reconciliation_resolve",
    ),
    path("teams/<int:pk>/usage-limits/", team_usage.team_usage_limits, name="team_usage_limits"),
    # Issue 12, item 4: finding a candidate, and the send form's check as a recipient is typed.
    path("candidates/", candidates.candidates, name="candidates"),
    path("inmails/send/recipient/", candidates.recipient_check, name="inmail_recipient_check"),
]
