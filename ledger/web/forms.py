"""The dashboard's forms. They check the shape of input; the ledger services check the rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.urls import reverse_lazy

from ledger.forms import BODY_MAX_LENGTH, RECIPIENT_MAX_LENGTH, SUBJECT_MAX_LENGTH
from ledger.models import RESPONSE_STATUSES, InMail, InMailStatus, InMailTag
from ledger.rules import TAG_MAX, TAGS_MAX, TEMPLATE_MAX
from teams.models import Seat

# R22 outreach tags: room for 10 tags of 50 characters and their separators; how many of the
# team's templates and tags the send form suggests.
TAGS_TEXT_MAX = TAGS_MAX * (TAG_MAX + 2)
SUGGESTIONS_MAX = 50

# Dates and instants are typed and shown as ISO 8601 everywhere (YYYY-MM-DD, and a local
# YYYY-MM-DDTHH:MM for an instant), as the browser's date pickers send them, as the CSV files and
# the API write them: an ambiguous 03/04/2026 is a form error, not a guess.
ISO_DATE = "%Y-%m-%d"
ISO_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class IsoDateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=ISO_DATE)


class IsoDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=ISO_DATETIME_LOCAL)


class IsoDateField(forms.DateField):
    """A date picker that reads only YYYY-MM-DD."""

    widget = IsoDateInput
    input_formats = [ISO_DATE]
    default_error_messages = {"invalid": "Enter a valid date. Write it YYYY-MM-DD: 2026-03-01."}


class IsoDateTimeField(forms.DateTimeField):
    """A date-and-time picker (organisation time) that reads only ISO 8601."""

    widget = IsoDateTimeInput
    input_formats = [ISO_DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
    default_error_messages = {
        "invalid": "Enter a valid date and time. Write it YYYY-MM-DDTHH:MM: 2026-03-01T14:30."
    }


class SeatChoiceField(forms.ModelChoiceField[Seat]):
    def label_from_instance(self, obj: Seat) -> str:
        return f"{obj.plan.name} · {obj.team.name}"


class InMailSendForm(forms.Form):
    seat = SeatChoiceField(queryset=Seat.objects.none(), empty_label=None)
    recipient = forms.CharField(
        max_length=RECIPIENT_MAX_LENGTH,
        label="Recipient",
        help_text="Their LinkedIn profile URL or member id.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                # As it is typed, the page says why it can't be sent to, or that a teammate
                # wrote to this person recently (R8), before anything is sent (issue 12, item 4).
                "hx-get": reverse_lazy("inmail_recipient_check"),
                "hx-trigger": "input changed delay:400ms",
                "hx-include": "#send-form [name=seat]",
                "hx-target": "#recipient-check",
                "hx-swap": "innerHTML",
                # A check still under way when the form is sent holds the send back until it
                # answers (the send then replaces the form, the check's answer with it): an
                # aborted request would put an htmx error in the console instead.
                "hx-sync": "closest form:drop",
                "aria-describedby": "id_recipient_helptext recipient-check",
            }
        ),
    )
    # data-count-max drives the live "used/max" count of static/js/app.js.
    subject = forms.CharField(
        max_length=SUBJECT_MAX_LENGTH,
        label="Subject",
        widget=forms.TextInput(
            attrs={
                "data-count-max": SUBJECT_MAX_LENGTH,
                "data-counter": "subject-count",
                "aria-describedby": "subject-count",
            }
        ),
    )
    body = forms.CharField(
        max_length=BODY_MAX_LENGTH,
        label="Message",
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "data-count-max": BODY_MAX_LENGTH,
                "data-counter": "body-count",
                "aria-describedby": "body-count",
            }
        ),
    )
    open_profile = forms.BooleanField(
        required=False,
        label="Open Profile member (free, still tracked)",
    )
    # --- R22 outreach tags: suggested from the team's own (datalists in _send_form.html) ---
    template = forms.CharField(
        required=False,
        max_length=TEMPLATE_MAX,
        label="Template",
        help_text="Optional: the template this InMail was written from.",
        widget=forms.TextInput(attrs={"list": "template-suggestions", "autocomplete": "off"}),
    )
    tags = forms.CharField(
        required=False,
        max_length=TAGS_TEXT_MAX,
        label="Tags",
        help_text="Optional: up to 10, separated by commas.",
        widget=forms.TextInput(attrs={"list": "tag-suggestions", "autocomplete": "off"}),
    )
    # --- end R22 ---

    def __init__(self, *args: Any, seats: QuerySet[Seat], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        seat_field = self.fields["seat"]
        assert isinstance(seat_field, SeatChoiceField)
        seat_field.queryset = seats
        # R22: what the teams of these seats already use, for the datalists.
        self.template_suggestions, self.tag_suggestions = outreach_suggestions(seats)
        # The recruiter's usual case, one seat, needs no choice.
        if len(seats) == 1:
            seat_field.widget = forms.HiddenInput()
            seat_field.initial = seats[0].pk


# --- R22 outreach tags ---
def outreach_suggestions(seats: QuerySet[Seat]) -> tuple[list[str], list[str]]:
    """The templates and tags already used in the teams of `seats`, alphabetically (at most
    SUGGESTIONS_MAX of each).

    Read as a skip scan (issue 15): each next value is the first one after the last that an
    InMail of these teams uses, found along the index on that value, so the few distinct
    templates and tags cost a few index probes each, not a pass over every InMail of the teams.
    """
    try:
        teams_sql, teams_params = seats.order_by().values("team").query.sql_with_params()
    except EmptyResultSet:  # `seats` can match nothing (`none()`, `pk__in=[]`)
        return [], []
    inmail, tag, seat = InMail._meta.db_table, InMailTag._meta.db_table, Seat._meta.db_table
    of_teams = f"s.team_id IN ({teams_sql})"
    templates = _skip_scan(
        seats.db,
        f"SELECT i.template FROM {inmail} i JOIN {seat} s ON s.id = i.seat_id "  # noqa: S608 (names from the models)
        f"WHERE i.template <> '' AND {{after}} AND {of_teams} ORDER BY i.template LIMIT 1",
        "i.template",
        list(teams_params),
    )
    tags = _skip_scan(
        seats.db,
        f"SELECT t.tag FROM {tag} t WHERE {{after}} AND EXISTS (SELECT 1 FROM {inmail} i "  # noqa: S608
        f"JOIN {seat} s ON s.id = i.seat_id WHERE i.id = t.inmail_id AND {of_teams}) "
        "ORDER BY t.tag LIMIT 1",
        "t.tag",
        list(teams_params),
    )
    return templates, tags


def _skip_scan(using: str, first_after: str, column: str, params: list[Any]) -> list[str]:
    """The distinct values `first_after` finds, in its order, at most SUGGESTIONS_MAX: a
    recursive query that asks it for the first value, then the first after each one found.
    `first_after` has an `{after}` where the condition on `column` goes."""
    query = (
        "WITH RECURSIVE found(value) AS ("  # noqa: S608 (no value in the text: all are params)
        f"SELECT ({first_after.format(after='1 = 1')}) "
        "UNION ALL "
        f"SELECT ({first_after.format(after=f'{column} > found.value')}) "
        "FROM found WHERE found.value IS NOT NULL"
        ") SELECT value FROM found WHERE value IS NOT NULL LIMIT %s"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(query, [*params, *params, SUGGESTIONS_MAX])
        return [row[0] for row in cursor.fetchall()]


class InMailTagsForm(forms.Form):
    """An InMail's template and tags, edited on its row (R22)."""

    template = forms.CharField(required=False, max_length=TEMPLATE_MAX, label="Template")
    tags = forms.CharField(
        required=False,
        max_length=TAGS_TEXT_MAX,
        label="Tags",
        help_text="Separated by commas.",
    )


# --- end R22 ---


class InMailResponseForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=[(status.value, status.label) for status in RESPONSE_STATUSES],
    )
    responded_at = IsoDateTimeField(
        required=False, label="Answered at", help_text="Leave empty for now."
    )


class InMailFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, label="Status", choices=[("", "Any status"), *InMailStatus.choices]
    )
    seat = SeatChoiceField(
        required=False, label="Seat", queryset=Seat.objects.none(), empty_label="Any seat"
    )
    sent_from = IsoDateField(required=False, label="Sent from")
    sent_to = IsoDateField(required=False, label="Sent until")

    def __init__(self, *args: Any, seats: QuerySet[Seat], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        seat_field = self.fields["seat"]
        assert isinstance(seat_field, SeatChoiceField)
        seat_field.queryset = seats

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start: date | None = cleaned.get("sent_from")
        end: date | None = cleaned.get("sent_to")
        if start and end and start > end:
            self.add_error("sent_to", "The end of the range comes before its start.")
        return cleaned


class PoolMoveForm(forms.Form):
    credits = forms.IntegerField(
        label="Credits to move",
        widget=forms.NumberInput(attrs={"step": 1}),
    )

    def clean_credits(self) -> int:
        credits: int = self.cleaned_data["credits"]
        if credits == 0:
            raise forms.ValidationError("Give a whole, non-zero number of credits.")
        return credits


class AnalyticsPeriodForm(forms.Form):
    months = forms.TypedChoiceField(
        label="Period",
        coerce=int,
        choices=[(3, "Last 3 months"), (6, "Last 6 months"), (12, "Last 12 months")],
        initial=6,
        required=False,
    )
