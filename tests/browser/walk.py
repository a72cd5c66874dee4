"""Every page of the site, and an organisation that fills them, for the accessibility walk
(tests/browser/test_pages_a11y*.py, issue 12 items 5 and 9).

`PAGES` names each page once: its URL name, who may see it, how to reach it with the walk's
data and what to do on it before it is checked (upload a CSV for the preview). `test_pages_a11y`
holds the URL map against this list, so a page added to the site without being walked fails a
test that names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import time_machine
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect

from ledger.models import ImportJob, InMailStatus, Reconciliation
from ledger.notifications.alerts import alerts_raise
from ledger.selectors import seat_balance
from ledger.services import (
    Cause,
    adjustment_post,
    bonus_grant,
    inmail_record_response,
    inmail_send,
    inmail_withdraw,
    pool_transfer,
    purchase_record,
    reconciliation_record,
    seat_cancel,
)
from ledger.services.imports import import_job_create
from teams.models import Plan, Seat
from tests.browser.conftest import SCREENSHOTS, capture, expect_styled, settle, upload_csv
from tests.conftest import Org
from tests.factories import make_seat

RECRUITER, LEAD, ADMIN, NOBODY = "recruiter", "lead", "admin", "nobody"
ROLES = (RECRUITER, LEAD, ADMIN, NOBODY)
SIGNED_IN = frozenset(ROLES)
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}

# Recipient, subject, days ago, and what became of the InMail.
OUTREACH = [
    ("linkedin.com/in/ada-lovelace", "Lead engineer, analytics platform", 70, "accepted"),
    ("linkedin.com/in/grace-hopper", "Compiler team at Talent North", 64, "replied"),
    ("linkedin.com/in/alan-turing", "A quick question about your next move", 40, "declined"),
    ("linkedin.com/in/hedy-lamarr", "Frequency hopping, but for hiring pipelines", 35, None),
    ("linkedin.com/in/katherine-johnson", "Orbital mechanics, but for hiring", 3, None),
    ("linkedin.com/in/edsger-dijkstra", "Shortest path to a new role", 1, None),
    ("linkedin.com/in/barbara-liskov", "Staff engineer, platform", 0, "withdrawn"),
]
HISTORY_CSV = (
    "holder,recipient,subject,body,sent_at,status,responded_at\n"
    "{user},linkedin.com/in/one,Hello,First,{day},accepted,{day}\n"
    "{user},linkedin.com/in/two,Hello,Second,last tuesday,maybe,\n"
    "somebody-else,linkedin.com/in/three,Hello,Third,{day},pending,\n"
)


@dataclass
class WalkOrg:
    """The `org` of tests/conftest.py with seats, InMails, a pool, purchases and alerts."""

    org: Org
    seat: Seat  # the recruiter's Recruiter Lite seat, 85 days old
    pooled: Seat  # the teammate's Recruiter Corporate seat, drawing on the team pool
    lead_seat: Seat  # the lead's own Recruiter Corporate seat
    cancelled: Seat  # the outsider's cancelled seat in the other team
    reconciliation: Reconciliation  # the recruiter's, open: LinkedIn showed 3 credits more


def walk_org(org: Org) -> WalkOrg:
    now = timezone.now()
    today = timezone.localdate()
    by_admin = Cause(actor=org.admin, via="web")
    by_lead = Cause(actor=org.lead, via="web")
    by_recruiter = Cause(actor=org.recruiter, via="web")
    seat = make_seat(holder=org.recruiter, team=org.team, activated_on=today - timedelta(days=85))
    pooled = make_seat(
        plan_code="recruiter_corporate",
        holder=org.teammate,
        team=org.team,
        activated_on=today - timedelta(days=20),
    )
    lead_seat = make_seat(
        plan_code="recruiter_corporate",
        holder=org.lead,
        team=org.team,
        activated_on=today - timedelta(days=20),
    )
    cancelled = make_seat(holder=org.outsider, team=org.other_team)
    make_seat(plan_code="premium_business", holder=org.outsider, team=org.other_team)
    pool_transfer(team=org.team, seat=pooled, credits=25, cause=by_lead)
    purchase_record(seat=seat, credits=10, cause=by_admin)
    bonus_grant(seat=seat, credits=5, memo="Quarter's top sourcer", cause=by_admin)
    adjustment_post(seat=seat, credits=-2, reason="Reconciled with LinkedIn", cause=by_admin)
    for recipient, subject, days_ago, outcome in OUTREACH:
        _send(seat, recipient, subject, now - timedelta(days=days_ago), outcome, by_recruiter)
    _send(
        pooled,
        "linkedin.com/in/ada-lovelace",
        "Data team",
        now,
        None,
        Cause(actor=org.teammate, via="web"),
    )
    seat_cancel(seat=cancelled, cause=by_admin)
    reconciliation = reconciliation_record(
        seat=seat, linkedin_balance=seat_balance(seat).available + 3, cause=by_recruiter
    )
    alerts_raise()
    return WalkOrg(org, seat, pooled, lead_seat, cancelled, reconciliation)


def _send(
    seat: Seat, recipient: str, subject: str, at: datetime, outcome: str | None, cause: Cause
) -> None:
    with time_machine.travel(at, tick=False):
        inmail = inmail_send(
            seat=seat,
            recipient=recipient,
            subject=subject,
            body="Hello, I lead recruiting for a team you would like. " * 6,
            cause=cause,
        ).inmail
    if outcome == InMailStatus.WITHDRAWN:
        inmail_withdraw(inmail=inmail, cause=cause)
    elif outcome is not None:
        with time_machine.travel(at + timedelta(days=2), tick=False):
            inmail_record_response(inmail=inmail, outcome=outcome, cause=cause)


@dataclass(frozen=True)
class SitePage:
    """One page the walk visits: `url(data)` is where, `prepare` what to do there first."""

    name: str
    url_name: str
    roles: frozenset[str]
    url: Callable[[WalkOrg], str]
    prepare: Callable[[Page, WalkOrg], None] | None = None
    # The page answers with this status (the 404 page).
    status: int = 200


def _csv_preview(page: Page, data: WalkOrg) -> None:
    day = (timezone.localdate() - timedelta(days=7)).isoformat()
    upload_csv(page, "history.csv", HISTORY_CSV.format(user=page_user(page), day=day))
    expect(page.get_by_role("heading", name="Import preview")).to_be_visible()


# --- issue 14 item 3 (csvmap): the import's mapping step, reached with a file of other columns
MAPPED_CSV = (
    "Profile URL,Date sent,Title,Message,Outcome,Reply date,Recruiter\n"
    "linkedin.com/in/one,{day},Hello,First,Accepted,{day},{user}\n"
    "linkedin.com/in/two,{day},Hello,Second,No reply,,{user}\n"
)


def _csv_mapping(page: Page, data: WalkOrg) -> None:
    day = (timezone.localdate() - timedelta(days=7)).strftime("%m/%d/%Y")
    upload_csv(page, "crm.csv", MAPPED_CSV.format(user=page_user(page), day=day))
    expect(page.get_by_role("heading", name="Map the file's columns")).to_be_visible()


def _csv_import_job(page: Page, data: WalkOrg) -> None:
    """A large file's job, checked and waiting to be imported (no worker runs in the walk)."""
    shown = page_user(page)  # the person's name as the page shows it (`str(user)`)
    org = data.org
    user = next(person for person in (org.recruiter, org.lead, org.admin) if str(person) == shown)
    job = import_job_create(user=user, name="large.csv", text="", digest="walk")
    row = {
        "line": 2,
        "seat": f"{data.seat.holder} · {data.seat.team} (#{data.seat.pk})",
        "recipient": "linkedin.com/in/one",
        "subject": "Hello",
        "sent_at": timezone.now().isoformat(),
        "status": "accepted",
        "responded_at": timezone.now().isoformat(),
        "open_profile": False,
        "template": "intro",
        "tags": ["java"],
    }
    ImportJob.objects.filter(pk=job.pk).update(status="checked", rows_total=40_000, sample=[row])
    page.goto(reverse("csv:import_job", args=[job.pk]))
    expect(page.get_by_role("button", name="Import 40,000 InMails")).to_be_visible()


# --- end issue 14 item 3


# --- issue 14 item 2: webhooks (R23) ---
HOOK_URL = "https://93.184.215.14/hook"  # public, by IP: nothing to resolve


def _webhook(data: WalkOrg) -> int:
    """An endpoint with one pending delivery (no worker runs in the walk)."""
    from ledger.models import WebhookEndpoint
    from ledger.webhooks.endpoints import webhook_endpoint_create
    from ledger.webhooks.outbox import record_event

    endpoint = WebhookEndpoint.objects.filter(url=HOOK_URL).first()
    if endpoint is None:
        endpoint = webhook_endpoint_create(url=HOOK_URL, events=["seat.changed"], actor=None)
        record_event("seat.changed", {"id": data.seat.pk}, seat_id=data.seat.pk)
    return endpoint.pk


def _webhook_created(page: Page, data: WalkOrg) -> None:
    page.get_by_label("URL").fill(HOOK_URL + "/new")
    page.get_by_label("alert.raised").check()
    page.get_by_role("button", name="Create endpoint").click()
    expect(page.get_by_role("heading", name="Webhook created")).to_be_visible()


# --- end issue 14 item 2


def page_user(page: Page) -> str:
    return page.get_by_label("Signed in as").inner_text().strip()


def _plan_pk(code: str) -> int:
    return Plan.objects.get(code=code).pk


def _console(name: str, url_name: str, url: Callable[[WalkOrg], str]) -> SitePage:
    return SitePage(name, f"manage:{url_name}", frozenset({ADMIN}), url)


PAGES: list[SitePage] = [
    SitePage("home", "home", SIGNED_IN, lambda d: reverse("home")),
    SitePage("teams", "team_list", SIGNED_IN, lambda d: reverse("team_list")),
    SitePage(
        "team",
        "team_detail",
        frozenset({RECRUITER, LEAD, ADMIN}),
        lambda d: reverse("team_detail", args=[d.org.team.pk]),
    ),
    SitePage(  # R22: Compare templates, for the team's leads and admins
        "compare-templates",
        "compare_templates",
        frozenset({LEAD, ADMIN}),
        lambda d: reverse("compare_templates", args=[d.org.team.pk]),
    ),
    SitePage("candidates", "candidates", SIGNED_IN, lambda d: reverse("candidates")),
    SitePage(
        "candidate",
        "candidates",
        SIGNED_IN,
        lambda d: reverse("candidates") + "?recipient=linkedin.com/in/ada-lovelace",
    ),
    SitePage(
        "reconcile",
        "seat_reconcile",
        frozenset({RECRUITER, LEAD, ADMIN}),
        lambda d: reverse("seat_reconcile", args=[d.seat.pk]),
    ),
    SitePage("reconciliations", "reconciliation_list", SIGNED_IN, lambda d: "/reconciliations/"),
    SitePage(
        "reconciliation",
        "reconciliation_detail",
        frozenset({RECRUITER, LEAD, ADMIN}),
        lambda d: reverse("reconciliation_detail", args=[d.reconciliation.pk]),
    ),
    SitePage("notifications", "notifications:index", SIGNED_IN, lambda d: "/notifications/"),
    SitePage(
        "preferences",
        "notifications:preferences",
        SIGNED_IN,
        lambda d: "/notifications/preferences/",
    ),
    SitePage("csv", "csv:index", SIGNED_IN, lambda d: reverse("csv:index")),
    # Someone with no seat has nothing to import: the CSV page says so and has no upload form.
    SitePage(
        "csv-preview",
        "csv:import_preview",
        frozenset({RECRUITER, LEAD, ADMIN}),
        lambda d: reverse("csv:index"),
        prepare=_csv_preview,
    ),
    SitePage(  # issue 14 item 3
        "csv-mapping",
        "csv:import_mapping",
        frozenset({RECRUITER, LEAD, ADMIN}),
        lambda d: reverse("csv:index"),
        prepare=_csv_mapping,
    ),
    SitePage(  # issue 14 item 3: a large file's import job
        "csv-import-job",
        "csv:import_job",
        frozenset({RECRUITER, LEAD, ADMIN}),
        lambda d: reverse("csv:index"),
        prepare=_csv_import_job,
    ),
    SitePage(
        "seat-ledger",
        "manage:seat_ledger",
        frozenset({RECRUITER, LEAD, ADMIN}),
        lambda d: reverse("manage:seat_ledger", args=[d.seat.pk]),
    ),
    SitePage("overview", "overview", frozenset({ADMIN}), lambda d: reverse("overview")),
    _console("console", "index", lambda d: reverse("manage:index")),
    _console("seat-create", "seat_create", lambda d: reverse("manage:seat_create")),
    _console("seat", "seat_detail", lambda d: reverse("manage:seat_detail", args=[d.seat.pk])),
    _console(
        "seat-cancelled",
        "seat_detail",
        lambda d: reverse("manage:seat_detail", args=[d.cancelled.pk]),
    ),
    _console(
        "seat-pooled", "seat_detail", lambda d: reverse("manage:seat_detail", args=[d.pooled.pk])
    ),
    _console(
        "seat-purchase",
        "seat_purchase",
        lambda d: reverse("manage:seat_purchase", args=[d.seat.pk]),
    ),
    _console(
        "seat-cancel", "seat_cancel", lambda d: reverse("manage:seat_cancel", args=[d.seat.pk])
    ),
    _console(
        "seat-change-plan",
        "seat_change_plan",
        lambda d: reverse("manage:seat_change_plan", args=[d.seat.pk]),
    ),
    _console("plans", "plans", lambda d: reverse("manage:plans")),
    _console(
        "plan-edit",
        "plan_edit",
        lambda d: reverse("manage:plan_edit", args=[_plan_pk("recruiter_corporate")]),
    ),
    _console("people-teams", "teams", lambda d: reverse("manage:teams")),
    _console("team-create", "team_create", lambda d: reverse("manage:team_create")),
    _console(
        "people-team", "team_detail", lambda d: reverse("manage:team_detail", args=[d.org.team.pk])
    ),
    _console("users", "users", lambda d: reverse("manage:users")),
    _console("user-create", "user_create", lambda d: reverse("manage:user_create")),
    _console("audit", "audit", lambda d: reverse("manage:audit")),
    # --- issue 14 item 2: webhooks (R23) ---
    _console("webhooks", "webhooks", lambda d: reverse("manage:webhooks") if _webhook(d) else ""),
    _console("webhook-create", "webhook_create", lambda d: reverse("manage:webhook_create")),
    SitePage(
        "webhook-created",
        "manage:webhook_create",
        frozenset({ADMIN}),
        lambda d: reverse("manage:webhook_create"),
        prepare=_webhook_created,
    ),
    _console(
        "webhook-edit", "webhook_edit", lambda d: reverse("manage:webhook_edit", args=[_webhook(d)])
    ),
    _console(
        "webhook-log", "webhook_log", lambda d: reverse("manage:webhook_log", args=[_webhook(d)])
    ),
    # --- end webhooks ---
    SitePage("not-found", "", SIGNED_IN, lambda d: "/no-such-page/", status=404),
]

# URL names that are not pages of their own: form posts that redirect or answer a fragment
# the walk sees in place (htmx), downloads, and what is not this project's markup.
NOT_PAGES = {
    "inmail_list": "the home page's InMail list, swapped in by htmx",
    "inmail_send": "a form post; its answer is swapped into the home page",
    "inmail_respond": "a form post; its answer is swapped into the InMail's row",
    "inmail_withdraw": "a form post; its answer is swapped into the InMail's row",
    "inmail_retag": "a form post; its answer is swapped into the InMail's row",  # R22
    "inmail_recipient_check": "the send form's note on a typed recipient, swapped in by htmx",
    "team_seat_move": "a form post; its answer is swapped into the team page",
    "team_seat_settings": "a form post; its answer is swapped into the team page",
    "csv:export_inmails": "a CSV download",
    "csv:export_entries": "a CSV download",
    "csv:import": "a form post that redirects to the preview",
    "csv:import_commit": "a form post that redirects to the CSV page",
    "csv:import_discard": "a form post that redirects to the CSV page",
    "csv:import_job_status": "the import job page's status part, swapped in by htmx",
    "csv:import_job_commit": "a form post that redirects to the import job's page",
    "csv:import_job_discard": "a form post that redirects to the CSV page",
    "notifications:mark_read": "a form post; its answer is swapped into the list",
    "notifications:mark_all_read": "a form post that redirects to the list",
    "reconciliation_resolve": "a form post from the reconciliation's page",
    "team_usage_limits": "a form post from the team page",
    "manage:seat_reassign": "a form post from the seat page",
    "manage:seat_usage_limit": "a form post from the seat page",
    "manage:seat_bonus": "a form post from the seat page",
    "manage:seat_adjust": "a form post from the seat page",
    "manage:seat_settings": "a form post from the seat page",
    "manage:member_add": "a form post from the console's team page",
    "manage:member_role": "a form post from the console's team page",
    "manage:member_remove": "a form post from the console's team page",
    "manage:webhook_delete": "a form post from the webhook's page",  # R23
    "manage:webhook_redeliver": "a form post from the delivery log",  # R23
    "login": "walked signed out (test_the_login_page_is_accessible)",
    "logout": "a form post",
    "healthz": "JSON for the load balancer",
    "api-schema": "the OpenAPI schema (YAML)",
    "api-docs": "Swagger UI's own markup",
}


def site_url_names() -> set[str]:
    """The name of every URL the site routes, but the REST API's and Django admin's."""

    def walk(patterns: list[URLPattern | URLResolver], namespace: str) -> set[str]:
        names: set[str] = set()
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin" or str(pattern.pattern).startswith("api/v1/"):
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                names |= walk(pattern.url_patterns, inner)
            elif pattern.name:
                names.add(f"{namespace}{pattern.name}")
        return names

    return walk(get_resolver().url_patterns, "")


def picture(page: Page, name: str) -> None:
    """A full-page picture, test-output/screenshots/<name>.png, of a page that loaded its styles.

    The caret is left alone: to hide it Playwright gives each text field a style attribute,
    left empty afterwards, and htmx copies that attribute onto a swapped-in field with the same
    id, which the Content-Security-Policy refuses as an inline style. A flow photographed
    between its actions would fail on the picture, not on the page.
    """
    settle(page)
    expect_styled(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    capture(page, SCREENSHOTS / f"{name}.png")
