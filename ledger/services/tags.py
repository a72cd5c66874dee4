"""R22 outreach tags: an InMail's template and tags, set when logged or imported and editable
later (issue 14 item 1). The rules (trimmed, lower-case tags, at most 10, 1–50 characters;
a template of at most 100 characters) live in `ledger.rules`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

from ledger.models import InMail, InMailTag
from ledger.rules import normalise_tags, normalise_template
from ledger.services.locking import Cause
from teams.services import audit_record


def _save_tags(inmails: Iterable[tuple[InMail, Sequence[str]]]) -> None:
    """Store already normalised tags of freshly created InMails (a send, an import)."""
    fresh = [
        (inmail, [InMailTag(inmail=inmail, tag=tag) for tag in tags]) for inmail, tags in inmails
    ]
    rows = [row for _, tag_rows in fresh for row in tag_rows]
    if rows:
        InMailTag.objects.bulk_create(rows, batch_size=1000)
    # A fresh InMail's tags are the rows just written: kept as its prefetched `tags` (as
    # `prefetch_related` would), so an answer that shows them reads nothing.
    for inmail, tag_rows in fresh:
        known = inmail.tags.all()
        known._result_cache = sorted(tag_rows, key=lambda row: row.tag)
        setattr(known, "_prefetch_done", True)  # noqa: B010 (Django's own flag, not typed)
        setattr(inmail, "_prefetched_objects_cache", {"tags": known})  # noqa: B010


def inmail_tags(inmail: InMail) -> list[str]:
    """The InMail's tags, alphabetically (uses a prefetched `tags` when there is one)."""
    return sorted(row.tag for row in inmail.tags.all())


def inmail_update_tags(
    *,
    inmail: InMail,
    cause: Cause,
    template: str | None = None,
    tags: Sequence[str] | None = None,
) -> InMail:
    """Change an InMail's template and/or tags (None leaves one as it is); audited when
    anything changed. Whether `cause.actor` may act on the InMail is the caller's check
    (the holder, the team's lead, an admin: the same people who may record its answer)."""
    new_template = None if template is None else normalise_template(template)
    new_tags = None if tags is None else sorted(normalise_tags(list(tags)))
    with transaction.atomic():
        inmail = InMail.objects.select_for_update().select_related("seat").get(pk=inmail.pk)
        changes: dict[str, tuple[object, object]] = {}
        if new_template is not None and new_template != inmail.template:
            changes["template"] = (inmail.template, new_template)
            inmail.template = new_template
            inmail.save(update_fields=["template"])
        if new_tags is not None:
            old_tags = sorted(inmail.tags.values_list("tag", flat=True))
            if old_tags != new_tags:
                changes["tags"] = (old_tags, new_tags)
                inmail.tags.exclude(tag__in=new_tags).delete()
                InMailTag.objects.bulk_create(
                    [InMailTag(inmail=inmail, tag=tag) for tag in new_tags if tag not in old_tags]
                )
        if changes:
            audit_record(
                actor=cause.actor,
                action="inmail.update",
                obj=inmail,
                changes=changes,
                team=inmail.seat.team,
                seat=inmail.seat,
            )
    return inmail
