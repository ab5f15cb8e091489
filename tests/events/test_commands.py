from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from events.models import Device, Event, UnparsedMessage


@pytest.mark.django_db
def test_ingestfile_stores_events_and_keeps_non_filter_lines(data_dir):
    out, err = StringIO(), StringIO()

    call_command(
        "ingestfile",
        str(data_dir / "logs" / "opnsense-mixed.log"),
        "--device",
        "opn",
        "--format",
        "opnsense",
        "--time-zone",
        "Asia/Tokyo",
        stdout=out,
        stderr=err,
    )

    assert Event.objects.filter(device__name="opn").count() == 4
    assert UnparsedMessage.objects.filter(device__name="opn").count() == 2
    assert Device.objects.get(name="opn").time_zone == "Asia/Tokyo"
    assert "6 lines, 4 events, 2 unparsed, 6 stored" in out.getvalue()


@pytest.mark.django_db
def test_ingestfile_refuses_a_missing_file_and_a_bad_zone(data_dir, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("ingestfile", str(tmp_path / "nope.log"))
    with pytest.raises(CommandError, match="IANA"):
        call_command(
            "ingestfile",
            str(data_dir / "logs" / "pfsense-bsd.log"),
            "--time-zone",
            "Mars/Olympus",
        )


@pytest.mark.django_db
def test_createadmin_generates_a_password_once(monkeypatch):
    monkeypatch.delenv("FWSIEM_ADMIN_PASSWORD", raising=False)
    first, second = StringIO(), StringIO()

    call_command("createadmin", stdout=first)
    call_command("createadmin", stdout=second)

    password = first.getvalue().rsplit(": ", 1)[1].strip()
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(password)
    assert second.getvalue() == ""


@pytest.mark.django_db
def test_createadmin_takes_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("FWSIEM_ADMIN_PASSWORD", "from-the-env-42")
    out = StringIO()

    call_command("createadmin", stdout=out)

    assert (
        get_user_model().objects.get(username="admin").check_password("from-the-env-42")
    )
    assert "from-the-env-42" not in out.getvalue()


def test_runsyslog_rejects_a_malformed_endpoint():
    with pytest.raises(CommandError, match="ADDRESS:PORT"):
        call_command("runsyslog", "--udp", "localhost")
