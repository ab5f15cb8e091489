"""The role matrix: every registered admin page, for every role.

The expectations are written out here, not derived from events/roles.py,
so that a change of policy (or a new admin page) fails until this table
is updated on purpose.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from events.models import UnparsedMessage
from events.roles import sync_roles

VIEWER, ANALYST, ADMIN, SUPER, NOBODY = "viewer", "analyst", "admin", "super", "nobody"
EVERYONE = {VIEWER, ANALYST, ADMIN, SUPER}
MANAGERS = {ADMIN, SUPER}
ROLES = [VIEWER, ANALYST, ADMIN, SUPER, NOBODY]

# model -> page -> roles allowed. "view": changelist and change page GET;
# "add": add page GET; "change": change page POST; "delete": delete page
# GET.
EXPECTED = {
    "events.event": {"view": EVERYONE, "add": set(), "change": set(), "delete": set()},
    "events.unparsedmessage": {
        "view": EVERYONE,
        "add": set(),
        "change": set(),
        "delete": set(),
    },
    "events.device": {
        "view": EVERYONE,
        "add": MANAGERS,
        "change": MANAGERS,
        "delete": MANAGERS,
    },
    "auth.user": {
        "view": {SUPER},
        "add": {SUPER},
        "change": {SUPER},
        "delete": {SUPER},
    },
    "auth.group": {
        "view": {SUPER},
        "add": {SUPER},
        "change": {SUPER},
        "delete": {SUPER},
    },
    "geo.country": {
        "view": EVERYONE,
        "add": MANAGERS,
        "change": MANAGERS,
        "delete": MANAGERS,
    },
    "geo.countrygroup": {
        "view": EVERYONE,
        "add": MANAGERS,
        "change": MANAGERS,
        "delete": MANAGERS,
    },
    "geo.registry": {"view": EVERYONE, "add": set(), "change": set(), "delete": set()},
    "geo.snapshot": {"view": EVERYONE, "add": set(), "change": set(), "delete": set()},
    "geo.refreshrun": {
        "view": EVERYONE,
        "add": set(),
        "change": set(),
        "delete": set(),
    },
    "django_q.schedule": {
        "view": MANAGERS,
        "add": MANAGERS,
        "change": MANAGERS,
        "delete": MANAGERS,
    },
    "django_q.success": {
        "view": MANAGERS,
        "add": set(),
        "change": MANAGERS,
        "delete": MANAGERS,
    },
    "django_q.failure": {
        "view": MANAGERS,
        "add": set(),
        "change": MANAGERS,
        "delete": MANAGERS,
    },
    "django_q.ormq": {
        "view": MANAGERS,
        "add": set(),
        "change": MANAGERS,
        "delete": MANAGERS,
    },
    # The first row of each is one that came with fwsiem (no owner), which
    # analysts may change; deleting is left to admins.
    "dashboards.savedreport": {
        "view": EVERYONE,
        "add": {ANALYST, ADMIN, SUPER},
        "change": {ANALYST, ADMIN, SUPER},
        "delete": MANAGERS,
    },
    "dashboards.dashboard": {
        "view": EVERYONE,
        "add": {ANALYST, ADMIN, SUPER},
        "change": {ANALYST, ADMIN, SUPER},
        "delete": MANAGERS,
    },
}
# Extra admin views: url name -> roles allowed (GET).
EXTRA_PAGES = {
    "admin:events_event_export": {ANALYST, ADMIN, SUPER},
    "admin:index": EVERYONE | {NOBODY},
}


@pytest.fixture
def users(db, django_user_model):
    sync_roles()
    accounts = {}
    for role in ROLES:
        user = django_user_model.objects.create_user(
            role, password="pass-word-123", is_staff=True, is_superuser=role == SUPER
        )
        if role in (VIEWER, ANALYST, ADMIN):
            user.groups.add(Group.objects.get(name=role))
        accounts[role] = user
    return accounts


@pytest.fixture
def objects(users, make_event, device):
    """One object of every registered model, so change pages exist."""
    from django_q.models import OrmQ, Schedule, Success

    from geo.models import Country, CountryGroup

    country = Country.objects.create(code="BR", name="Brazil")
    group = CountryGroup.objects.create(name="South America")
    group.countries.add(country)
    UnparsedMessage.objects.create(
        received_at=device.created_at, raw=b"x", reason="test", device=device
    )
    make_event("198.51.100.1")
    Schedule.objects.create(func="math.floor", args="1")
    Success.objects.create(
        id="a" * 32,
        name="t",
        func="math.floor",
        started=device.created_at,
        stopped=device.created_at,
        success=True,
    )
    OrmQ.objects.create(key="fwsiem", payload="x", lock=device.created_at)
    return True


def registered() -> list:
    return sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower
    )


def test_every_registered_admin_page_has_expectations():
    labels = {model._meta.label_lower for model, _admin in registered()}
    assert labels == set(EXPECTED)


@pytest.mark.django_db
def test_role_matrix_over_every_admin_page(client, users, objects):
    outcomes = []
    for model, _model_admin in registered():
        opts = model._meta
        label = opts.label_lower
        instance = model._default_manager.order_by("pk").first()
        base = f"admin:{opts.app_label}_{opts.model_name}"
        pages = [
            ("view", "get", reverse(f"{base}_changelist")),
            ("add", "get", reverse(f"{base}_add")),
        ]
        if instance is not None:
            pages += [
                ("view", "get", reverse(f"{base}_change", args=[instance.pk])),
                ("view", "get", reverse(f"{base}_history", args=[instance.pk])),
                ("change", "post", reverse(f"{base}_change", args=[instance.pk])),
                ("delete", "get", reverse(f"{base}_delete", args=[instance.pk])),
            ]
        for role in ROLES:
            client.force_login(users[role])
            for page, method, url in pages:
                response = getattr(client, method)(url)
                allowed = response.status_code in (200, 302)
                expected = role in EXPECTED[label][page]
                outcomes.append((label, page, method, role, allowed, expected))

    wrong = [outcome for outcome in outcomes if outcome[4] != outcome[5]]
    assert wrong == []
    assert len(outcomes) > 300


@pytest.mark.django_db
def test_role_matrix_over_extra_views(client, users, objects):
    for name, allowed_roles in EXTRA_PAGES.items():
        for role in ROLES:
            client.force_login(users[role])
            response = client.get(reverse(name))
            assert (response.status_code == 200) is (role in allowed_roles), (
                name,
                role,
            )


@pytest.mark.django_db
def test_analyst_may_export_events_but_not_change_devices(users):
    analyst, viewer = users[ANALYST], users[VIEWER]

    assert analyst.has_perm("events.export_event")
    assert not viewer.has_perm("events.export_event")
    assert not analyst.has_perm("events.change_device")
    assert not users[ADMIN].has_perm("auth.change_user")
    assert users[ADMIN].has_perm("events.change_device")


@pytest.mark.django_db
def test_setuproles_repairs_a_changed_group(users):
    from io import StringIO

    viewer = Group.objects.get(name=VIEWER)
    viewer.permissions.clear()
    out = StringIO()

    call_command("setuproles", stdout=out)

    assert viewer.permissions.filter(codename="view_event").exists()
    assert not viewer.permissions.filter(codename="export_event").exists()
    assert "viewer:" in out.getvalue() and "analyst:" in out.getvalue()
