"""REST API v1 (docs/api.md "Resources"), mounted at /api/v1/."""

from __future__ import annotations

from django.urls import path, re_path

from ledger.api import views
from ledger.api.views import webhooks as webhook_views  # R23

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("plans/", views.PlanList.as_view(), name="api-plans"),
    path("plans/<slug:code>/", views.PlanDetail.as_view(), name="api-plan"),
    path("users/", views.UserCreate.as_view(), name="api-users"),
    path("teams/", views.TeamListCreate.as_view(), name="api-teams"),
    path("teams/<int:pk>/members/", views.TeamMembers.as_view(), name="api-team-members"),
    path("teams/<int:pk>/pool/", views.TeamPool.as_view(), name="api-team-pool"),
    path(
        "teams/<int:pk>/pool/transfers/", views.PoolTransfers.as_view(), name="api-pool-transfers"
    ),
    path("seats/", views.SeatListCreate.as_view(), name="api-seats"),
    path("seats/<int:pk>/", views.SeatDetail.as_view(), name="api-seat"),
    path("seats/<int:pk>/cancel/", views.SeatCancel.as_view(), name="api-seat-cancel"),
    path(
        "seats/<int:pk>/change-plan/", views.SeatChangePlan.as_view(), name="api-seat-change-plan"
    ),
    path("seats/<int:pk>/balance/", views.SeatBalanceView.as_view(), name="api-seat-balance"),
    path("seats/<int:pk>/entries/", views.SeatEntries.as_view(), name="api-seat-entries"),
    path("seats/<int:pk>/purchases/", views.SeatPurchases.as_view(), name="api-seat-purchases"),
    path("seats/<int:pk>/bonus/", views.SeatBonus.as_view(), name="api-seat-bonus"),
    path(
        "seats/<int:pk>/adjustments/", views.SeatAdjustments.as_view(), name="api-seat-adjustments"
    ),
    # Issue 13: reassignment (R19) and reconciliations (R21).
    path("seats/<int:pk>/reassign/", views.SeatReassign.as_view(), name="api-seat-reassign"),
    path(
        "seats/<int:pk>/reconciliations/",
        views.SeatReconciliations.as_view(),
        name="api-seat-reconciliations",
    ),
    path("reconciliations/", views.ReconciliationList.as_view(), name="api-reconciliations"),
    path(
        "reconciliations/<int:pk>/resolve/",
        views.ReconciliationResolve.as_view(),
        name="api-reconciliation-resolve",
    ),
    path("inmails/", views.InMailListCreate.as_view(), name="api-inmails"),
    path("inmails/<int:pk>/", views.InMailDetail.as_view(), name="api-inmail"),
    path("inmails/<int:pk>/response/", views.InMailResponse.as_view(), name="api-inmail-response"),
    path("inmails/<int:pk>/withdraw/", views.InMailWithdraw.as_view(), name="api-inmail-withdraw"),
    path("analytics/response-rates/", views.ResponseRates.as_view(), name="api-response-rates"),
    path("analytics/credits/", views.CreditFlows.as_view(), name="api-credit-flows"),
    path("audit/", views.AuditList.as_view(), name="api-audit"),
    # --- Issue 14 item 2: webhooks (R23) ---
    path("webhooks/", webhook_views.WebhookListCreate.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>/", webhook_views.WebhookDetail.as_view(), name="api-webhook"),
    path(
        "webhooks/<int:pk>/deliveries/",
        webhook_views.WebhookDeliveries.as_view(),
        name="api-webhook-deliveries",
    ),
    path(
        "webhooks/deliveries/<int:pk>/redeliver/",
        webhook_views.WebhookRedeliver.as_view(),
        name="api-webhook-redeliver",
    ),
    # --- end webhooks ---
    # Last: any other path ending in a slash is a JSON 404 (without the slash, Django's
    # APPEND_SLASH redirect still applies).
    re_path(r"^(?:.*/)?$", views.not_found, name="api-not-found"),
]
