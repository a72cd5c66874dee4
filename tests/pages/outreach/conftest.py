"""The outreach pages reuse the home page's set-up (a seat per `org` person, the clock)."""

from tests.pages.home.conftest import clock_start, seats

__all__ = ["clock_start", "seats"]
