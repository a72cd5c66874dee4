"""The 400, 403, 404, 405 and 500 pages: styled, with the navigation where it can be had, JSON
under /api/, and never failing in turn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError, connection
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import reverse

from inmail_site.errors import bad_request, permission_denied, server_error
from teams.models import User
from tests.conftest import Org

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]

NAV = '<nav class="container" aria-label="Main">'


def _nav(html: str) -> str:
    return html[html.index(NAV) : html.index("</nav>")]


def _refuse_queries(*args: Any) -> None:
    raise AssertionError("the page queried the database")


def _request(path: str, user: User) -> HttpRequest:
    request = RequestFactory().get(path)
    request.user = user
    return request


def test_another_teams_page_is_the_styled_404_with_the_navigation(client: Client, org: Org) -> None:
    client.force_login(org.recruiter)

    answer = client.get(reverse("team_detail", args=[org.other_team.pk]))

    html = answer.content.decode()
    assert answer.status_code == 404
    assert "<h1>Page not found</h1>" in html
    assert "belongs to a team" in html
    assert f'<a href="{reverse("home")}">Back to the home page</a>' in html
    assert "pico.min.css" in html
    assert f'href="{reverse("team_list")}"' in _nav(html)
    assert str(org.recruiter) in _nav(html)
    assert org.other_team.name not in html


def test_an_anonymous_404_is_styled_without_the_navigation(client: Client, org: Org) -> None:
    answer = client.get("/no-such-page/")

    html = answer.content.decode()
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in html
    assert f'href="{reverse("team_list")}"' not in _nav(html)


def test_a_404_under_the_api_stays_json(client: Client, org: Org) -> None:
    client.force_login(org.recruiter)

    answer = client.get("/api/v1/no-such-endpoint/")

    assert answer.status_code == 404
    assert answer.json() == {"detail": "Not found."}


def test_a_page_405_is_the_styled_page_with_the_navigation_and_allow(
    client: Client, org: Org
) -> None:
    client.force_login(org.recruiter)

    answer = client.get(reverse("csv:import"))

    html = answer.content.decode()
    assert answer.status_code == 405
    assert answer["Allow"] == "POST"
    assert "<h1>Not available this way</h1>" in html
    assert "changes nothing" in html
    assert "pico.min.css" in html
    assert str(org.recruiter) in _nav(html)


def test_an_api_405_stays_drfs_json(client: Client, org: Org) -> None:
    client.force_login(org.recruiter)

    answer = client.delete("/api/v1/inmails/")

    assert answer.status_code == 405
    assert answer.json() == {"detail": 'Method "DELETE" not allowed.'}


def test_the_403_page_keeps_the_navigation(org: Org) -> None:
    answer = permission_denied(_request("/teams/", org.recruiter), PermissionDenied())

    html = answer.content.decode()
    assert answer.status_code == 403
    assert "<h1>Not allowed</h1>" in html
    assert f'href="{reverse("team_list")}"' in _nav(html)


def test_the_400_page_keeps_the_navigation(org: Org) -> None:
    answer = bad_request(_request("/teams/", org.recruiter), SuspiciousOperation())

    html = answer.content.decode()
    assert answer.status_code == 400
    assert "<h1>Bad request</h1>" in html
    assert f'href="{reverse("team_list")}"' in _nav(html)


@pytest.mark.parametrize(
    ("handler", "status", "body"),
    [
        (permission_denied, 403, {"detail": "You do not have permission to do this."}),
        (bad_request, 400, {"detail": "Bad request."}),
    ],
)
def test_400_and_403_under_the_api_stay_json(
    org: Org, handler: Any, status: int, body: dict[str, str]
) -> None:
    answer = handler(_request("/api/v1/seats/", org.recruiter), Exception())

    assert answer.status_code == status
    assert answer["Content-Type"] == "application/json"
    assert json.loads(answer.content) == body


def test_the_500_page_renders_without_the_database_or_the_request() -> None:
    with connection.execute_wrapper(_refuse_queries):
        answer = server_error(RequestFactory().get("/teams/"))

    html = answer.content.decode()
    assert answer.status_code == 500
    assert "<h1>Something went wrong</h1>" in html
    assert "pico.min.css" in html
    assert 'href="/">Back to the home page</a>' in html


def test_a_404_while_the_database_is_away_is_the_503_page(client: Client, org: Org) -> None:
    client.force_login(org.recruiter)

    def away(*args: Any) -> None:
        raise OperationalError("connection refused")

    with connection.execute_wrapper(away):
        answer = client.get("/no-such-page/")

    assert answer.status_code == 503
    assert "Briefly unavailable" in answer.content.decode()


def test_error_pages_that_can_not_render_answer_plain_ones(
    client: Client, org: Org, settings: Any, tmp_path: Path
) -> None:
    # Static files never collected: every {% static %} fails.
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    client.force_login(org.recruiter)

    not_found = client.get("/no-such-page/")
    broken = server_error(RequestFactory().get("/teams/"))

    assert not_found.status_code == 404
    assert "<h1>Page not found</h1>" in not_found.content.decode()
    assert "pico.min.css" not in not_found.content.decode()
    assert broken.status_code == 500
    assert "<h1>Something went wrong</h1>" in broken.content.decode()
    assert "pico.min.css" not in broken.content.decode()
