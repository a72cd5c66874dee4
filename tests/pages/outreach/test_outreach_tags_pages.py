"""R22 outreach tags in the pages (issue 14 item 1): the send form takes a template and tags and
suggests the team's own; an InMail's row edits them (htmx), for whoever may act on it."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from ledger.models import InMail
from teams.models import AuditEvent
from tests.conftest import Org
from tests.pages.home.conftest import HomeSeats
from tests.pages.home.helpers import HTMX, post_send, send

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_storage")]


def options(html: str, datalist: str) -> list[str]:
    found = re.search(rf'<datalist id="{datalist}">(.*?)</datalist>', html, re.S)
    assert found, datalist
    return re.findall(r'<option value="([^"]*)">', found.group(1))


def test_the_send_form_suggests_the_teams_templates_and_tags_only(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    send(seats.teammate, "linkedin.com/in/a", template="Intro", tags=["java", "berlin"])
    send(seats.lead, "linkedin.com/in/b", template="Follow-up", tags=["java"])
    send(seats.outsider, "linkedin.com/in/c", template="Secret", tags=["elsewhere"])
    client.force_login(org.recruiter)

    html = client.get(reverse("home")).content.decode()

    assert options(html, "template-suggestions") == ["Follow-up", "Intro"]
    assert options(html, "tag-suggestions") == ["berlin", "java"]
    assert 'list="template-suggestions"' in html
    assert 'list="tag-suggestions"' in html


def test_a_send_from_the_form_keeps_template_and_tags(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)
    answer = post_send(client, seats.recruiter, template=" Intro ", tags="Java, remote;java")
    assert answer.status_code == 200
    inmail = InMail.objects.get()
    assert (inmail.template, inmail.tag_names) == ("Intro", ["java", "remote"])
    home = client.get(reverse("home")).content.decode()
    assert "Intro · java, remote" in home


def test_a_send_with_eleven_tags_shows_the_error_on_the_field_and_logs_nothing(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    client.force_login(org.recruiter)
    answer = post_send(client, seats.recruiter, tags=",".join(f"t{n}" for n in range(11)))
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'id="id_tags_error"' in html
    assert "At most 10 tags (these are 11 once duplicates go)." in html
    assert not InMail.objects.exists()


def test_the_row_edits_template_and_tags(client: Client, org: Org, seats: HomeSeats) -> None:
    inmail = send(seats.recruiter, template="Intro", tags=["java"])
    client.force_login(org.recruiter)
    url = reverse("inmail_retag", args=[inmail.pk])

    answer = client.post(url, {"template": "Intro v2", "tags": "Berlin, java"}, headers=HTMX)

    assert answer.status_code == 200
    html = answer.content.decode()
    assert f'id="inmail-{inmail.pk}"' in html
    assert "Template and tags saved." in html
    assert 'value="Intro v2"' in html
    assert 'value="berlin, java"' in html
    inmail.refresh_from_db()
    assert (inmail.template, inmail.tag_names) == ("Intro v2", ["berlin", "java"])
    assert AuditEvent.objects.get(action="inmail.update").actor == org.recruiter


def test_a_bad_edit_says_why_and_changes_nothing(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    inmail = send(seats.recruiter, template="Intro", tags=["java"])
    client.force_login(org.recruiter)
    answer = client.post(
        reverse("inmail_retag", args=[inmail.pk]), {"tags": "x" * 51}, headers=HTMX
    )
    assert answer.status_code == 400
    assert "A tag has at most 50 characters" in answer.content.decode()
    inmail.refresh_from_db()
    assert (inmail.template, inmail.tag_names) == ("Intro", ["java"])


def test_only_someone_who_may_act_on_the_inmail_may_edit_it(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    inmail = send(seats.recruiter, tags=["java"])
    url = reverse("inmail_retag", args=[inmail.pk])
    client.force_login(org.teammate)
    assert client.post(url, {"tags": "x"}, headers=HTMX).status_code == 404
    client.force_login(org.outsider)
    assert client.post(url, {"tags": "x"}, headers=HTMX).status_code == 404
    client.force_login(org.lead)
    assert client.post(url, {"tags": "lead-says"}, headers=HTMX).status_code == 200
    inmail.refresh_from_db()
    assert inmail.tag_names == ["lead-says"]


def test_the_team_page_has_rate_tables_by_template_and_by_tag(
    client: Client, org: Org, seats: HomeSeats
) -> None:
    send(seats.recruiter, "linkedin.com/in/a", template="Intro", tags=["java", "berlin"])
    send(seats.teammate, "linkedin.com/in/b", tags=["java"])
    send(seats.outsider, "linkedin.com/in/c", template="Elsewhere", tags=["other"])
    client.force_login(org.lead)

    response = client.get(reverse("team_detail", args=[org.team.pk]))

    assert response.status_code == 200
    sections = {section["key"]: section for section in response.context["rate_sections"]}
    by_template = [(row.key, row.label, row.sent) for row in sections["template"]["rows"]]
    assert by_template == [("Intro", "Intro", 1), (None, "No template", 1)]
    by_tag = [(row.key, row.sent) for row in sections["tag"]["rows"]]
    assert by_tag == [("berlin", 1), ("java", 2)]
    html = response.content.decode()
    assert "Response rate by template" in html
    assert "Response rate by tag" in html
