"""Every write to people, teams, memberships and the plan catalog, and the audit trail.

One function per operation, `<entity>_<verb>(*, actor, ...)`, each in one transaction: it locks
the row it changes, checks the rules (each written here once, so the API, the console and the
Django admin refuse the same change with the same reason), writes, and records an `AuditEvent`
in the same transaction, so a change and its audit row are kept or rolled back together.

A refusal is Django's `ValidationError` keyed by field name: forms show it on the field, the
API answers 400 `{field: [message]}`. Nothing is written before the rules have passed. The
ledger's seat settings record their audit rows through `audit_record` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from rest_framework.authtoken.models import Token

from teams.models import (
    PLAN_EDITABLE_FIELDS,
    AuditEvent,
    Membership,
    Plan,
    Role,
    Seat,
    SeatStatus,
    Team,
    User,
)

# Fields of a person that admins edit; the password has services of its own.
USER_EDITABLE_FIELDS = ("username", "email", "first_name", "last_name", "is_active", "is_staff")
TEAM_EDITABLE_FIELDS = ("name", "share_usage")

# What the audit shows instead of a password.
HIDDEN = "(hidden)"


# --------------------------------------------------------------------------------------------
# The audit trail
# --------------------------------------------------------------------------------------------


def _as_json(value: Any) -> Any:
    """A value as the audit keeps it: money as its decimal string, days as ISO text, ids."""
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    changes: Mapping[str, tuple[Any, Any] | list[Any]],
    team: Team | None = None,
    seat: Seat | None = None,
) -> AuditEvent:
    """Record who changed what; call it inside the transaction of the change itself."""
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.model_name or type(obj).__name__.lower(),
        object_id=obj.pk,
        changes={field: [_as_json(old), _as_json(new)] for field, (old, new) in changes.items()},
        team=team,
        seat=seat,
    )


def _apply(obj: models.Model, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set the values on `obj`; answer `{field: (old, new)}` for those that really changed."""
    changed: dict[str, tuple[Any, Any]] = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changed[field] = (old, new)
            setattr(obj, field, new)
    return changed


def _field_errors(obj: models.Model, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """The model's own field rules (blank, length, choices, validators) for these fields."""
    try:
        obj.clean_fields(exclude=[f.name for f in obj._meta.fields if f.name not in fields])
    except ValidationError as error:
        return {field: list(messages) for field, messages in error.message_dict.items()}
    return {}


def _refuse(errors: Mapping[str, list[str]]) -> None:
    if errors:
        raise ValidationError({field: list(messages) for field, messages in errors.items()})


def _unknown(values: Mapping[str, Any], editable: tuple[str, ...]) -> None:
    unknown = set(values) - set(editable)
    if unknown:
        raise TypeError(f"Not editable here: {', '.join(sorted(unknown))}")


# --------------------------------------------------------------------------------------------
# The plan catalog
# --------------------------------------------------------------------------------------------


def plan_validate(*, plan: Plan, values: Mapping[str, Any]) -> None:
    """Raise `ValidationError` naming each field whose new value a plan rule refuses.

    `plan` is the plan as stored (unsaved for a new one); `values` the fields to change. The
    rules: the model's own field rules (prices ≥ 0, a lifetime of 1–3,650 days or none, known
    families and refresh rules), the cap at least the monthly credits (R4), and pooling fixed
    while a seat is active on the plan.
    """
    candidate = Plan(**{f.attname: getattr(plan, f.attname) for f in Plan._meta.concrete_fields})
    for field, value in values.items():
        setattr(candidate, field, value)
    errors = _field_errors(candidate, ("code", *PLAN_EDITABLE_FIELDS))
    monthly, cap = candidate.monthly_credits, candidate.max_balance
    # R4: a cap below the monthly credits would hold back part of every grant.
    if not {"max_balance", "monthly_credits"} & set(errors) and cap < monthly:
        errors["max_balance"] = ["The cap can't be below the monthly credits."]
    if plan.pk is not None and candidate.pooled != plan.pooled:
        active = plan.seats.filter(status=SeatStatus.ACTIVE).count()
        if active:
            # A pooled seat's credits live in the team pool and a plain seat's in its own
            # account; flipping the plan under active seats would leave them in the wrong one.
            errors["pooled"] = [
                f"{active} active seat{'s are' if active != 1 else ' is'} on this plan; "
                "pooling can change only while no active seat uses the plan."
            ]
    _refuse(errors)


@transaction.atomic
def plan_create(*, actor: User | None, code: str, **values: Any) -> Plan:
    """A new plan of the catalog (the Django admin adds plans); its code is fixed from now on."""
    _unknown(values, PLAN_EDITABLE_FIELDS)
    plan = Plan(code=code, **values)
    plan_validate(plan=Plan(), values={"code": code, **values})
    if Plan.objects.filter(code=code).exists():
        raise ValidationError({"code": ["A plan with this code already exists."]})
    plan.save()
    fields = ("code", *PLAN_EDITABLE_FIELDS)
    audit_record(
        actor=actor,
        action="plan.create",
        obj=plan,
        changes={field: (None, getattr(plan, field)) for field in fields},
    )
    return plan


@transaction.atomic
def plan_update(*, actor: User | None, plan: Plan, **values: Any) -> Plan:
    """Change any numbers of a plan but its code (the name integrations use).

    Services read a plan's numbers when they write (a grant, a purchase's price), so the change
    applies to what happens next and never to an entry already in the ledger.
    """
    _unknown(values, PLAN_EDITABLE_FIELDS)
    # The row lock makes "no active seat" hold until this commits: a seat activated meanwhile
    # reads the plan after us.
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    plan_validate(plan=locked, values=values)
    changed = _apply(locked, values)
    if changed:
        locked.save(update_fields=list(changed))
        audit_record(actor=actor, action="plan.update", obj=locked, changes=changed)
    return locked


# --------------------------------------------------------------------------------------------
# Teams and members
# --------------------------------------------------------------------------------------------


def team_validate(*, team: Team, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a team would take, cleaned; `ValidationError` for any a rule refuses."""
    cleaned = dict(values)
    if isinstance(cleaned.get("name"), str):
        cleaned["name"] = cleaned["name"].strip()
    candidate = Team(pk=team.pk, name=team.name, share_usage=team.share_usage)
    for field, value in cleaned.items():
        setattr(candidate, field, value)
    errors = _field_errors(candidate, TEAM_EDITABLE_FIELDS)
    if "name" not in errors and "name" in cleaned:
        # Names differing only in case would read as one team in every list.
        taken = Team.objects.filter(name__iexact=cleaned["name"]).exclude(pk=team.pk)
        if taken.exists():
            errors["name"] = ["A team with this name already exists."]
    _refuse(errors)
    return cleaned


@transaction.atomic
def team_create(*, actor: User | None, name: str, share_usage: bool = True) -> Team:
    cleaned = team_validate(team=Team(), values={"name": name, "share_usage": share_usage})
    team = Team.objects.create(**cleaned)
    audit_record(
        actor=actor,
        action="team.create",
        obj=team,
        changes={field: (None, getattr(team, field)) for field in TEAM_EDITABLE_FIELDS},
        team=team,
    )
    return team


@transaction.atomic
def team_update(*, actor: User | None, team: Team, **values: Any) -> Team:
    """Rename a team, or change whether its recruiters see its totals."""
    _unknown(values, TEAM_EDITABLE_FIELDS)
    locked = Team.objects.select_for_update().get(pk=team.pk)
    changed = _apply(locked, team_validate(team=locked, values=values))
    if changed:
        locked.save(update_fields=list(changed))
        audit_record(actor=actor, action="team.update", obj=locked, changes=changed, team=locked)
    return locked


@transaction.atomic
def membership_set(
    *, actor: User | None, team: Team, user: User, role: str
) -> tuple[Membership, bool]:
    """Make `user` a member of `team` with `role`, or change their role; True when new."""
    if role not in Role.values:
        raise ValidationError({"role": [f"“{role}” is not a role: lead or recruiter."]})
    # The team's row is the lock: two first-time calls for one person wait for each other
    # instead of both inserting (a missing membership row has nothing to lock).
    Team.objects.select_for_update().filter(pk=team.pk).first()
    membership = Membership.objects.select_for_update().filter(team=team, user=user).first()
    if membership is None:
        if not user.is_active:
            raise ValidationError({"user": ["An inactive person can't join a team."]})
        membership = Membership.objects.create(team=team, user=user, role=role)
        changes: dict[str, tuple[Any, Any]] = {
            "user": (None, user.pk),
            "team": (None, team.pk),
            "role": (None, role),
        }
        created = True
    else:
        changes = _apply(membership, {"role": role})
        if changes:
            membership.save(update_fields=["role"])
        created = False
    if changes:
        audit_record(
            actor=actor, action="membership.set", obj=membership, changes=changes, team=team
        )
    return membership, created


@transaction.atomic
def membership_ensure(*, actor: User | None, team: Team, user: User) -> Membership:
    """`user` is a member of `team`: as they are if already, else a new recruiter (audited).

    A seat's holder is a member of its team; activating a seat for someone outside it makes
    them a recruiter there, through the same rules and audit row as adding them by hand.
    """
    existing = Membership.objects.filter(team=team, user=user).first()
    if existing is not None:
        return existing
    membership, _ = membership_set(actor=actor, team=team, user=user, role=Role.RECRUITER)
    return membership


def membership_validate_removal(*, membership: Membership) -> None:
    """A seat lives in its team: its holder stays a member while the seat is active."""
    holds = Seat.objects.filter(
        team_id=membership.team_id, holder_id=membership.user_id, status=SeatStatus.ACTIVE
    )
    if holds.exists():
        raise ValidationError(
            f"{membership.user} holds an active seat in {membership.team.name}; cancel the "
            "seat before removing them."
        )


@transaction.atomic
def membership_remove(*, actor: User | None, membership: Membership) -> None:
    locked = (
        Membership.objects.select_for_update().select_related("user", "team").get(pk=membership.pk)
    )
    membership_validate_removal(membership=locked)
    audit_record(
        actor=actor,
        action="membership.remove",
        obj=locked,
        changes={
            "user": (locked.user_id, None),
            "team": (locked.team_id, None),
            "role": (locked.role, None),
        },
        team=locked.team,
    )
    locked.delete()


# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------


def user_validate(*, user: User, values: Mapping[str, Any]) -> None:
    """The model's field rules, and a username no one else has in any case."""
    candidate = User(**{f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields})
    for field, value in values.items():
        setattr(candidate, field, value)
    errors = _field_errors(candidate, tuple(values))
    if "username" in values and "username" not in errors:
        taken = User.objects.filter(username__iexact=values["username"]).exclude(pk=user.pk)
        if taken.exists():
            errors["username"] = ["A user with that username already exists."]
    _refuse(errors)


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
) -> User:
    """A new person; `password=None` makes one who can't sign in with a password."""
    values = {
        "username": username,
        "email": User.objects.normalize_email(email),
        "first_name": first_name,
        "last_name": last_name,
        "is_staff": is_staff,
    }
    user_validate(user=User(), values=values)
    if password is not None:
        try:
            validate_password(password, user=User(**values))
        except ValidationError as error:
            raise ValidationError({"password": list(error.messages)}) from error
    user = User(**values)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    changes: dict[str, tuple[Any, Any]] = {field: (None, values[field]) for field in values}
    changes["password"] = (None, HIDDEN if password is not None else None)
    audit_record(actor=actor, action="user.create", obj=user, changes=changes)
    return user


@transaction.atomic
def user_update(*, actor: User | None, user: User, **values: Any) -> User:
    """Change a person's name, email, username, admin flag or whether they may sign in."""
    _unknown(values, USER_EDITABLE_FIELDS)
    locked = User.objects.select_for_update().get(pk=user.pk)
    user_validate(user=locked, values=values)
    changed = _apply(locked, values)
    if changed:
        locked.save(update_fields=list(changed))
        audit_record(actor=actor, action="user.update", obj=locked, changes=changed)
    return locked


@transaction.atomic
def user_password_changed(*, actor: User | None, user: User) -> None:
    """Record that a password was set or unset (Django's own forms change it; never shown)."""
    audit_record(
        actor=actor, action="user.password", obj=user, changes={"password": (HIDDEN, HIDDEN)}
    )


def api_token_issue(*, user: User) -> str:
    """The user's API token (`Authorization: Token …`), made on first sign-in, then the same."""
    token, _ = Token.objects.get_or_create(user=user)
    return str(token.key)
