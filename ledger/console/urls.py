"""The admin console (`/manage/`): admins only, except a seat's ledger (`ledger.console.views`)."""

from __future__ import annotations

from django.urls import path

from ledger.console import views
from ledger.console.views import webhooks as webhook_views  # R23

app_name = "manage"

urlpatterns = [
    path("", views.index, name="index"),
    path("seats/new/", views.seat_create, name="seat_create"),
    path("seats/<int:seat_id>/", views.seat_detail, name="seat_detail"),
    path("seats/<int:seat_id>/cancel/", views.seat_cancel_confirm, name="seat_cancel"),
    path("seats/<int:seat_id>/plan/", views.seat_change_plan_confirm, name="seat_change_plan"),
    path("seats/<int:seat_id>/purchase/", views.seat_purchase, name="seat_purchase"),
    path("seats/<int:seat_id>/bonus/", views.seat_bonus, name="seat_bonus"),
    path("seats/<int:seat_id>/adjustment/", views.seat_adjust, name="seat_adjust"),
    path("seats/<int:seat_id>/settings/", views.seat_settings, name="seat_settings"),
    path("seats/<int:seat_id>/ledger/", views.seat_ledger, name="seat_ledger"),
    # Issue 13: reassignment (R19) and usage limit (R20).
    path("seats/<int:seat_id>/reassign/", views.seat_reassign_view, name="seat_reassign"),
    path("seats/<int:seat_id>/usage-limit/", views.seat_usage_limit_view, name="seat_usage_limit"),
    path("plans/", views.plans, name="plans"),
    path("plans/<int:plan_id>/", views.plan_edit, name="plan_edit"),
    path("teams/", views.teams, name="teams"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:team_id>/", views.team_detail, name="team_detail"),
    path("teams/<int:team_id>/members/", views.member_add, name="member_add"),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/role/",
        views.member_role,
        name="member_role",
    ),
    path(
        "teams/<int:team_id>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("users/", views.users, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("audit/", views.audit, name="audit"),
    # --- Issue 14 item 2: webhooks (R23) ---
    path("webhooks/", webhook_views.webhooks, name="webhooks"),
    path("webhooks/new/", webhook_views.webhook_create, name="webhook_create"),
    path("webhooks/<int:webhook_id>/", webhook_views.webhook_edit, name="webhook_edit"),
    path("webhooks/<int:webhook_id>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path("webhooks/<int:webhook_id>/log/", webhook_views.webhook_log, name="webhook_log"),
    path(
        "webhooks/deliveries/<int:delivery_id>/redeliver/",
        webhook_views.webhook_redeliver,
        name="webhook_redeliver",
    ),
    # --- end webhooks ---
]
