"""`{% if user|csv_available %}`: whether the navigation offers the CSV page to this person.

Someone with no seat to import into or export from (not in a team, or holding no seat) isn't
offered a page that could only refuse them; `ledger.web.csv_views.csv_unavailable_reason` holds
the rule and the sentence the page shows instead.
"""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AnonymousUser

from ledger.web.csv_views import csv_unavailable_reason
from teams.models import User

register = template.Library()


@register.filter
def csv_available(user: User | AnonymousUser) -> bool:
    return isinstance(user, User) and not csv_unavailable_reason(user)
