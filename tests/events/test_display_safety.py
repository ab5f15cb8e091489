import re

import pytest
from django.urls import reverse

from events.display import visible

HOSTILE = {
    "interface": "<script>alert(1)</script>",
    "rule": "javascript:alert(2)",
    "hostname": "fw\u202egnp.exe",
    "tcp_flags": "\u2066S\x1b",
    "protocol": "tcp\u202e<img src=x onerror=alert(3)>",
}
BIDI_AND_CONTROLS = ["\u202e", "\u2066", "\x1b"]


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "", "secret-pass-123")
    client.force_login(user)
    return client


@pytest.fixture
def hostile_event(make_event):
    return make_event(
        "198.51.100.7",
        dst_port=23,
        src_country="BR",
        extra={"reason": "<b>\u202ex</b>"},
        **HOSTILE,
    )


def assert_nothing_executable(body: str) -> None:
    assert "<script>alert(1)" not in body
    assert "<img src=x" not in body
    assert "<b>" not in body
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", body, re.I)
    for char in BIDI_AND_CONTROLS:
        assert char not in body


@pytest.mark.django_db
def test_changelist_shows_hostile_text_inert_and_visible(staff_client, hostile_event):
    body = staff_client.get(
        reverse("admin:events_event_changelist"), {"interface": HOSTILE["interface"]}
    ).content.decode()

    assert_nothing_executable(body)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "javascript:alert(2)" in body
    assert "tcp\\u202e&lt;img" in body


@pytest.mark.django_db
def test_detail_view_shows_hostile_text_inert_and_visible(staff_client, hostile_event):
    body = staff_client.get(
        reverse("admin:events_event_change", args=[hostile_event.pk])
    ).content.decode()

    assert_nothing_executable(body)
    assert "fw\\u202egnp.exe" in body
    assert "\\u2066S\\x1b" in body
    assert "&lt;b&gt;\\u202ex&lt;/b&gt;" in body


def test_visible_escapes_controls_and_bidi_but_keeps_plain_text():
    assert visible("igb0") == "igb0"
    assert visible("LAN 2") == "LAN 2"
    assert visible("日本") == "日本"
    assert visible("a\u202eb\x00c\u200bd") == "a\\u202eb\\x00c\\u200bd"
