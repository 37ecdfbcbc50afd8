"""The iCal feed: a secret URL per person listing their missions."""

from __future__ import annotations

import pytest
from icalendar import Calendar

from cimaise.missions import orders
from cimaise.missions.tests.conftest import Crew, trip
from cimaise.missions.tests.helpers import validated

pytestmark = pytest.mark.django_db


def test_the_feed_lists_my_missions_behind_a_token(crew: Crew) -> None:
    done = validated(crew)
    pending = orders.order_file(
        actor=crew.agent.actor, request=trip([crew.agent.username], description="Prêt")
    )
    url = crew.agent.client().post("/api/v1/missions/calendar-token").json()["url"]
    path = url.removeprefix("http://testserver")
    answer = crew.cast.outsider.client().get(path)  # the token is the credential
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(answer.content).walk("VEVENT")
    assert sorted((str(e["uid"]), str(e["status"])) for e in events) == [
        (f"louvre-{done.code}@cimaise", "CONFIRMED"),
        (f"louvre-{pending.code}@cimaise", "TENTATIVE"),
    ]
    assert events[0].decoded("dtstart") == done.starts_at


def test_a_new_token_revokes_the_old_and_a_wrong_one_is_404(crew: Crew) -> None:
    client = crew.agent.client()
    old = client.post("/api/v1/missions/calendar-token").json()["url"].removeprefix("http://testserver")
    new = client.post("/api/v1/missions/calendar-token").json()["url"].removeprefix("http://testserver")
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.get("/missions/calendar/not-a-token.ics").status_code == 404
