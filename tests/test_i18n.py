"""The Japanese catalogue is complete, and pages and commands speak it."""

import io
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polib
import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from events.models import Device, IngestMinute
from geo import index
from geo.models import Country
from tests.events import conftest as events_fixtures

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")
# The same command as `make messages` runs.
MAKEMESSAGES = ["makemessages", "-l", "ja", "--ignore=.venv", "--ignore=var"]
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")
MARKUP = re.compile(r"</?\w+>")
CHANGELIST = reverse("admin:events_event_changelist")

# The event fixtures, shared with the events tests.
device = events_fixtures.device
make_event = events_fixtures.make_event


@pytest.fixture(autouse=True)
def english_afterwards():
    """A request or override must not leave Japanese active for later tests."""
    cache.clear()
    yield
    translation.deactivate()
    cache.clear()


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "", "secret-pass-123")
    client.force_login(user)
    return client


@pytest.fixture
def japan(db) -> Country:
    return Country.objects.create(code="JP", name="Japan", name_ja="日本")


def entries(path: Path) -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(path)) if not entry.obsolete]


def key(entry: polib.POEntry) -> tuple[str | None, str, str]:
    return (entry.msgctxt or None, entry.msgid, entry.msgid_plural)


def translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[key] for key in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def test_catalogue_translates_every_msgid_with_nothing_fuzzy():
    found = entries(CATALOGUE)

    untranslated = [entry.msgid for entry in found if not all(translations(entry))]
    fuzzy = [entry.msgid for entry in found if "fuzzy" in entry.flags]
    assert len(found) > 300
    assert untranslated == []
    assert fuzzy == []
    assert polib.pofile(str(CATALOGUE)).metadata["Language"] == "ja"


def test_catalogue_keeps_every_placeholder_and_tag():
    wrong = []
    for entry in entries(CATALOGUE):
        for text in translations(entry):
            for pattern in (PLACEHOLDER, MARKUP):
                wanted = Counter(pattern.findall(entry.msgid))
                if Counter(pattern.findall(text)) != wanted:
                    wrong.append((entry.msgid, text))
    assert wrong == []


def test_compiled_catalogue_matches_the_po_file():
    compiled = {
        key(entry): translations(entry)
        for entry in polib.mofile(str(COMPILED))
        if entry.msgid
    }
    source = {key(entry): translations(entry) for entry in entries(CATALOGUE)}
    assert compiled == source, "run `make messages` to compile the catalogue"


@pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgmerge") is None,
    reason="gettext tools are not installed (CI installs them)",
)
def test_makemessages_finds_no_string_the_catalogue_lacks(tmp_path):
    copy = tmp_path / "fwsiem"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "var", "__pycache__", ".pytest_cache", ".hypothesis"
        ),
    )
    env = {
        **os.environ,
        "FWSIEM_VAR_DIR": str(tmp_path / "var"),
        "FWSIEM_DATABASE_URL": "",
    }

    subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )

    regenerated = entries(copy / CATALOGUE.relative_to(ROOT))
    new = [entry.msgid for entry in regenerated if not all(translations(entry))]
    changed = [entry.msgid for entry in regenerated if "fuzzy" in entry.flags]
    assert new == [], "run `make messages` and translate the new strings"
    assert changed == [], "run `make messages` and review the changed strings"
    assert {key(entry) for entry in regenerated} == {
        key(entry) for entry in entries(CATALOGUE)
    }


def test_fwsiem_language_makes_japanese_the_default(tmp_path):
    env = {
        **os.environ,
        "FWSIEM_LANGUAGE": "ja",
        "FWSIEM_VAR_DIR": str(tmp_path),
        "FWSIEM_DATABASE_URL": "",
        "COLUMNS": "200",
    }
    code = "from django.conf import settings; print(settings.LANGUAGE_CODE)"

    setting = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "fwsiem.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    usage = subprocess.run(
        [sys.executable, "manage.py", "ingeststatus", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert setting.stdout.strip() == "ja"
    assert "すべての機器の受信状況を表形式で表示します。" in usage.stdout
    assert "無通信または受信量低下の機器があれば" in usage.stdout


@pytest.mark.django_db
def test_admin_index_follows_the_browsers_language(staff_client):
    japanese = staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5")
    english = staff_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")

    body = japanese.content.decode()
    assert '<html lang="ja"' in body
    for text in ["ファイアウォールイベント", "機器", "未解析メッセージ", "地理情報"]:
        assert text in body
    assert "国グループ" in body and "定期ジョブ" in body
    assert "Firewall events" in english.content.decode()
    assert "ファイアウォールイベント" not in english.content.decode()


@pytest.mark.django_db
def test_admin_falls_back_to_the_configured_language(staff_client, settings):
    settings.LANGUAGE_CODE = "ja"

    response = staff_client.get("/admin/")

    assert "ファイアウォールイベント" in response.content.decode()


@pytest.mark.django_db
def test_event_changelist_in_japanese(staff_client, make_event, japan):
    now = timezone.now()
    make_event("1.0.16.1", occurred_at=now, action="block", src_country="JP")

    response = staff_client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="ja")

    body = response.content.decode()
    for column in ["日時", "機器", "アクション", "送信元", "国", "宛先", "ルール"]:
        assert f">{column}<" in body or f">{column}</a>" in body, column
    assert ">ブロック</span>" in body
    assert 'title="日本"' in body
    assert "過去24時間" in body and "送信元の国" in body and "JP 日本" in body
    assert "1 件のイベント" in body
    assert "CIDRブロック（185.220.0.0/16" in body


@pytest.mark.django_db
def test_search_warning_and_export_refusal_in_japanese(
    staff_client, make_event, settings
):
    settings.FWSIEM_EXPORT_MAX_ROWS = 1
    make_event("198.51.100.1", action="block")
    make_event("198.51.100.2", action="block")

    searched = staff_client.get(
        CHANGELIST, {"q": "nonsense"}, HTTP_ACCEPT_LANGUAGE="ja"
    )
    exported = staff_client.post(
        reverse("admin:events_event_export"),
        {"format": "0"},
        HTTP_ACCEPT_LANGUAGE="ja",
        follow=True,
    )

    # The admin capitalises the first letter of messages.
    assert "Nonsense では検索できません。" in searched.content.decode()
    assert "1 件を超えるイベントを含みます" in exported.content.decode()


@pytest.mark.django_db
def test_device_health_pages_in_japanese(staff_client):
    now = datetime.now(UTC)
    device = Device.objects.create(name="rtx", last_seen_at=now - timedelta(hours=1))
    IngestMinute.objects.create(
        device=device,
        minute=(now - timedelta(hours=1)).replace(second=0, microsecond=0),
        received_count=40,
        parsed_count=30,
        unparsed_count=10,
    )

    page = staff_client.get(
        reverse("admin:events_device_health", args=[device.pk]),
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    overview = staff_client.get(
        reverse("admin:events_device_health_overview"), HTTP_ACCEPT_LANGUAGE="ja"
    )

    body = page.content.decode()
    assert "rtx の受信状況" in body
    assert '<span class="health-state health-silent">無通信</span>' in body
    assert "15分ごとの受信メッセージ数（過去24時間）" in body
    assert "<td>15 分</td>" in body and "(1時間前)" in body
    assert "未解析の割合（24時間）" in body and "25.0 %" in body
    assert "平常時の1時間" in overview.content.decode()


@pytest.mark.django_db
def test_geo_lookup_page_in_japanese(staff_client):
    index.forget()

    response = staff_client.get(
        reverse("admin:geo_lookup"), {"address": "192.0.2.1"}, HTTP_ACCEPT_LANGUAGE="ja"
    )

    body = response.content.decode()
    assert "アドレスの国" in body and "国コード" in body
    assert "このアドレスの国はどのレジストリにも登録されていません。" in body


@pytest.mark.django_db
def test_country_names_follow_the_active_language(japan):
    with translation.override("ja"):
        japanese = japan.display_name
    with translation.override("en"):
        english = japan.display_name

    assert (japanese, english) == ("日本", "Japan")


@pytest.mark.django_db
def test_commands_print_and_fail_in_japanese():
    Device.objects.create(name="gw")
    index.forget()
    out = io.StringIO()

    with translation.override("ja"):
        call_command("ingeststatus", stdout=out)
        call_command("geoip", "192.0.2.1", stdout=out)
        with pytest.raises(CommandError, match="ADDRESS:PORT の形式"):
            call_command("runsyslog", "--udp", "localhost")

    text = out.getvalue()
    assert text.splitlines()[0].split() == [
        "機器",
        "状態",
        "最終受信",
        "1時間",
        "24時間",
        "未解析",
        "破棄",
    ]
    assert "gw    未受信  なし" in text
    assert "リスナーからの報告はまだありません。" in text
    assert "192.0.2.1\t-\tどのレジストリにも国の登録がありません" in text
