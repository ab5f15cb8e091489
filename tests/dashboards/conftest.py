from datetime import UTC, datetime

import pytest
from django.utils import translation

from events.models import Device
from tests.factories import insert_events

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def default_language():
    """Undo the language a request's LocaleMiddleware left active."""
    yield
    translation.deactivate()


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def gateway(db) -> Device:
    return Device.objects.create(name="gw")


@pytest.fixture
def add_events(gateway):
    """Insert ``count`` copies of one event, by default a telnet scan."""

    def add(count: int = 1, **fields) -> None:
        fields.setdefault("occurred_at", datetime(2026, 12, 2, 10, 30, tzinfo=UTC))
        fields.setdefault("received_at", NOW)
        fields.setdefault("device", gateway)
        insert_events(count, **fields)

    return add


@pytest.fixture
def countries(db):
    from geo.models import Country

    rows = [
        ("CN", "China", "中国"),
        ("RU", "Russian Federation", "ロシア連邦"),
        ("US", "United States", "アメリカ合衆国"),
        ("NL", "Netherlands", "オランダ"),
    ]
    for code, name, name_ja in rows:
        Country.objects.create(code=code, name=name, name_ja=name_ja)


@pytest.fixture
def make_user(db, django_user_model):
    """Create a staff user in a role group (viewer, analyst or admin)."""
    from django.contrib.auth.models import Group

    from events.roles import sync_roles

    def make(username: str, role: str):
        sync_roles()
        user = django_user_model.objects.create_user(
            username, password="secret-pass-123", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def viewer(make_user):
    return make_user("vera", "viewer")


@pytest.fixture
def analyst(make_user):
    return make_user("anna", "analyst")
