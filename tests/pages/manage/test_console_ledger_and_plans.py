"""The admin console: a seat's ledger at any instant, escaping, and the plan catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from ledger.models import Entry, EntryKind, Purchase
from ledger.services import adjustment_post, bonus_grant
from teams.models import Plan, Seat
from tests.factories import TeamFactory, UserFactory, make_seat, plan
from tests.fields import differences
from tests.pages.manage.conftest import Console
from tests.pages.manage.helpers import SYSTEM, html_of, ledger_snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


# --- the ledger: every entry, and the balance at any instant ----------------------------------


def history(console: Console) -> Seat:
    """A seat with entries at known instants: 30 on Jan 10, -5 on Jan 15, +10 bonus on Jan 20."""
    with time_machine.travel(datetime(2025, 1, 10, 9, tzinfo=UTC), tick=False):
        seat = make_seat(holder=console.org.teammate, team=console.org.team)
    with time_machine.travel(datetime(2025, 1, 15, 9, tzinfo=UTC), tick=False):
        adjustment_post(seat=seat, credits=-5, reason="Reconciled", cause=SYSTEM)
    with time_machine.travel(datetime(2025, 1, 20, 9, tzinfo=UTC), tick=False):
        bonus_grant(seat=seat, credits=10, memo="Sprint", cause=SYSTEM)
    return seat


def test_ledger_lists_every_entry_with_its_details(admin_client: Client, console: Console) -> None:
    seat = history(console)

    with time_machine.travel(datetime(2025, 1, 25, 9, tzinfo=UTC), tick=False):
        html = html_of(admin_client.get(reverse("manage:seat_ledger", args=[seat.pk])))

    assert "Balance now: <span data-balance-now>35</span>" in html
    bonus = Entry.objects.get(account__seat=seat, kind=EntryKind.BONUS)
    row = html[html.index(f'data-entry-id="{bonus.pk}"') :].split("</tr>")[0]
    assert "2025-01-20 09:00" in row
    assert "Bonus" in row
    assert '<td class="num">+10</td>' in row
    assert '<td class="num">35</td>' in row
    assert "expires 2025-02-19 09:00" in row
    assert "<td>system</td>" in row
    assert "<td>test</td>" in row
    assert "<td>Sprint</td>" in row
    adjustment = Entry.objects.get(account__seat=seat, kind=EntryKind.ADJUSTMENT)
    row = html[html.index(f'data-entry-id="{adjustment.pk}"') :].split("</tr>")[0]
    assert '<td class="num">-5</td>' in row


def test_as_of_shows_the_past_balance_and_lots_and_marks_later_entries(
    admin_client: Client, console: Console
) -> None:
    seat = history(console)

    with time_machine.travel(datetime(2025, 1, 25, 9, tzinfo=UTC), tick=False):
        response = admin_client.get(
            reverse("manage:seat_ledger", args=[seat.pk]), {"as_of": "2025-01-16T12:00"}
        )

    html = html_of(response)
    assert "As of 2025-01-16 12:00: <span data-balance-as-of>25</span> credits" in html
    assert response.context["past"].lots[0].remaining == 25
    bonus = Entry.objects.get(account__seat=seat, kind=EntryKind.BONUS)
    adjustment = Entry.objects.get(account__seat=seat, kind=EntryKind.ADJUSTMENT)
    assert f'data-entry-id="{bonus.pk}" class="after-as-of"' in html
    assert f'data-entry-id="{adjustment.pk}">' in html


def test_as_of_before_activation_shows_nothing_held(admin_client: Client, console: Console) -> None:
    seat = history(console)

    with time_machine.travel(datetime(2025, 1, 25, 9, tzinfo=UTC), tick=False):
        html = html_of(
            admin_client.get(
                reverse("manage:seat_ledger", args=[seat.pk]), {"as_of": "2025-01-09T23:59"}
            )
        )

    assert "<span data-balance-as-of>0</span>" in html
    assert "No credits were held then." in html


def test_ledger_filters_by_kind_and_date_range(admin_client: Client, console: Console) -> None:
    seat = history(console)
    url = reverse("manage:seat_ledger", args=[seat.pk])

    def kinds(**query: str) -> list[str]:
        with time_machine.travel(datetime(2025, 1, 25, 9, tzinfo=UTC), tick=False):
            response = admin_client.get(url, query)
        return [entry.kind for entry in response.context["page"].object_list]

    assert kinds() == ["bonus", "adjustment", "grant"]
    assert kinds(kind="adjustment") == ["adjustment"]
    assert kinds(since="2025-01-15", until="2025-01-15") == ["adjustment"]
    assert kinds(since="2025-01-11") == ["bonus", "adjustment"]
    assert kinds(until="2025-01-19") == ["adjustment", "grant"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"as_of": "2999-01-01T00:00"}, "A balance can&#x27;t be read in the future."),
        ({"as_of": "soon"}, "Enter a valid date/time."),
        ({"kind": "gift"}, "Select a valid choice."),
        ({"since": "2025-02-01", "until": "2025-01-01"}, "The end date is before the start date."),
        ({"page": "x"}, "Page 1 of 1"),
    ],
)
def test_bad_ledger_filters_are_form_errors_not_500s(
    admin_client: Client, console: Console, query: dict[str, str], message: str
) -> None:
    response = admin_client.get(reverse("manage:seat_ledger", args=[console.seat.pk]), query)

    assert response.status_code == 200
    assert message in html_of(response) or query == {"page": "x"}
    assert len(response.context["page"].object_list) == 1


def test_ledger_pages_long_histories_newest_first(admin_client: Client, console: Console) -> None:
    for _ in range(55):
        bonus_grant(seat=console.seat, credits=1, memo="", cause=SYSTEM)
    url = reverse("manage:seat_ledger", args=[console.seat.pk])

    first = admin_client.get(url, {"kind": ""})
    second = admin_client.get(url, {"kind": "", "page": "2"})

    assert len(first.context["page"].object_list) == 50
    assert [e.kind for e in second.context["page"].object_list][-1] == EntryKind.GRANT
    assert "page=2" in html_of(first)
    assert "kind=" in html_of(first)


# --- escaping ---------------------------------------------------------------------------------


SCRIPT = "<script>alert(1)</script>"


def test_user_supplied_text_is_escaped_on_every_seat_page(
    admin_client: Client, console: Console
) -> None:
    team = TeamFactory.create(name=f"{SCRIPT} Sourcing")
    holder = UserFactory.create(username="mallory", first_name=SCRIPT, last_name="X")
    seat = make_seat(holder=holder, team=team)
    bonus_grant(seat=seat, credits=1, memo=SCRIPT, cause=SYSTEM)
    adjustment_post(seat=seat, credits=1, reason=SCRIPT, cause=SYSTEM)

    for url in [
        reverse("manage:index"),
        reverse("manage:seat_detail", args=[seat.pk]),
        reverse("manage:seat_ledger", args=[seat.pk]),
        reverse("manage:seat_cancel", args=[seat.pk]),
        reverse("manage:teams"),
        reverse("manage:team_detail", args=[team.pk]),
        reverse("manage:users"),
    ]:
        html = html_of(admin_client.get(url))
        assert SCRIPT not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_typed_text_echoed_back_in_a_form_error_is_escaped(
    admin_client: Client, console: Console
) -> None:
    response = admin_client.post(
        reverse("manage:seat_adjust", args=[console.seat.pk]), {"credits": SCRIPT, "reason": SCRIPT}
    )

    html = html_of(response)
    assert response.status_code == 200
    assert SCRIPT not in html


# --- plans ------------------------------------------------------------------------------------


def plan_fields(plan_code: str, /, **changes: object) -> dict[str, object]:
    """The edit form's fields as the page would post them, with some changed."""
    row = Plan.objects.get(code=plan_code)
    fields: dict[str, object] = {
        "name": row.name,
        "family": row.family,
        "monthly_price": row.monthly_price,
        "monthly_credits": row.monthly_credits,
        "max_balance": row.max_balance,
        "refresh": row.refresh,
        "credit_lifetime_days": row.credit_lifetime_days or "",
        "purchase_price": row.purchase_price,
        "monthly_purchase_limit": row.monthly_purchase_limit or "",
        "monthly_send_limit": row.monthly_send_limit,
    }
    if row.pooled:
        fields["pooled"] = "on"
    if row.purchasable:
        fields["purchasable"] = "on"
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def test_plans_list_the_catalog(admin_client: Client, console: Console) -> None:
    html = html_of(admin_client.get(reverse("manage:plans")))

    for row in Plan.objects.all():
        assert f'data-plan-id="{row.pk}"' in html
    assert "Recruiter Corporate" in html
    assert '<td class="num">USD 1,080.00</td>' in html


def test_amounts_show_the_currency_setting(
    admin_client: Client, console: Console, settings: Any
) -> None:
    settings.CURRENCY = "EUR"

    plans = html_of(admin_client.get(reverse("manage:plans")))
    preview = html_of(
        admin_client.get(reverse("manage:seat_purchase", args=[console.seat.pk]), {"credits": "7"})
    )

    assert '<td class="num">EUR 1,080.00</td>' in plans
    assert "USD" not in plans
    assert "<strong data-total>EUR 70.00</strong>" in preview


def test_editing_a_plan_changes_what_comes_next_and_never_the_ledger(
    admin_client: Client, console: Console
) -> None:
    admin_client.post(reverse("manage:seat_purchase", args=[console.seat.pk]), {"credits": "2"})
    before = ledger_snapshot()
    lite = plan("recruiter_lite")

    response = admin_client.post(
        reverse("manage:plan_edit", args=[lite.pk]),
        plan_fields("recruiter_lite", purchase_price="12.50", monthly_credits="40"),
    )

    assert response.status_code == 302
    lite.refresh_from_db()
    assert not differences(
        lite, purchase_price=Decimal("12.50"), monthly_credits=40, code="recruiter_lite"
    )
    assert ledger_snapshot() == before
    assert Purchase.objects.get().unit_price == Decimal("10.00")
    admin_client.post(reverse("manage:seat_purchase", args=[console.seat.pk]), {"credits": "2"})
    assert Purchase.objects.order_by("pk").last().total == Decimal("25.00")  # type: ignore[union-attr]


def test_an_empty_lifetime_means_credits_never_expire_by_age(
    admin_client: Client, console: Console
) -> None:
    lite = plan("recruiter_lite")

    admin_client.post(
        reverse("manage:plan_edit", args=[lite.pk]),
        plan_fields("recruiter_lite", credit_lifetime_days="", monthly_purchase_limit=""),
    )

    lite.refresh_from_db()
    assert lite.credit_lifetime_days is None
    assert lite.monthly_purchase_limit is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"monthly_price": "-1"}, "monthly_price"),
        ({"purchase_price": "-0.01"}, "purchase_price"),
        ({"credit_lifetime_days": "0"}, "credit_lifetime_days"),
        ({"monthly_credits": "-5"}, "monthly_credits"),
        ({"max_balance": "10"}, "max_balance"),
        ({"refresh": "weekly"}, "refresh"),
        ({"name": ""}, "name"),
        ({"monthly_send_limit": "lots"}, "monthly_send_limit"),
        ({"pooled": "on"}, "pooled"),
    ],
)
def test_bad_plan_values_are_form_errors_and_leave_the_plan_as_it_was(
    admin_client: Client, console: Console, changes: dict[str, str], field: str
) -> None:
    lite = plan("recruiter_lite")
    before = model_to_dict(lite)

    response = admin_client.post(
        reverse("manage:plan_edit", args=[lite.pk]), plan_fields("recruiter_lite", **changes)
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert model_to_dict(plan("recruiter_lite")) == before


def test_pooling_may_change_on_a_plan_without_active_seats(
    admin_client: Client, console: Console
) -> None:
    career = plan("premium_career")

    admin_client.post(
        reverse("manage:plan_edit", args=[career.pk]), plan_fields("premium_career", pooled="on")
    )

    career.refresh_from_db()
    assert career.pooled


def test_a_plan_code_can_not_be_edited(admin_client: Client, console: Console) -> None:
    lite = plan("recruiter_lite")

    admin_client.post(
        reverse("manage:plan_edit", args=[lite.pk]), plan_fields("recruiter_lite", code="x")
    )

    assert Plan.objects.filter(code="recruiter_lite").exists()
