"""What every console page shares: admins only (a 404 for anyone else), who acts."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, cast

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from ledger.services import (
    Cause,
)
from teams.models import User
from teams.selectors import user_is_admin

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]

SEATS_PER_PAGE = 50
ENTRIES_PER_PAGE = 50
AUDIT_EVENTS_PER_PAGE = 50


def admin_only(view: View[P]) -> View[P]:
    """Sign-in first; then admins only, and a 404 for everyone else (never reveal a 403)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_is_admin(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    # functools.wraps types its result as a wrapper of its own; it is the same view.
    return cast(View[P], wrapped)


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # `admin_only` let only a signed-in admin through
    return user


def _cause(request: HttpRequest) -> Cause:
    return Cause(actor=_actor(request), via="web")
