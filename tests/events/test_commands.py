from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from events.models import Device, Event, ImportedFile, UnparsedMessage


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
    assert "6 lines; stored 4 events and 2 unparsed messages" in out.getvalue()
    # A replayed file does not make the device look as if it were sending.
    assert Device.objects.get(name="opn").last_seen_at is None


@pytest.mark.django_db
def test_ingestfile_refuses_a_file_imported_before_unless_asked_again(data_dir):
    path = str(data_dir / "logs" / "opnsense-mixed.log")
    call_command("ingestfile", path, "--device", "opn", stdout=StringIO())
    imported = ImportedFile.objects.get()

    with pytest.raises(
        CommandError, match=r"was imported for device opn on .* UTC \(4 events\)"
    ):
        call_command("ingestfile", path, "--device", "opn", stdout=StringIO())
    assert Event.objects.count() == 4

    call_command("ingestfile", path, "--device", "opn", "--again", stdout=StringIO())
    assert Event.objects.count() == 8
    again = ImportedFile.objects.get()
    assert (again.sha256, again.lines, again.events, again.unparsed) == (
        imported.sha256,
        6,
        4,
        2,
    )
    assert (imported.imports, again.imports) == (1, 2)
    assert again.imported_at > imported.imported_at


@pytest.mark.django_db
def test_ingestfile_takes_the_same_file_for_another_device_or_once_changed(
    data_dir, tmp_path
):
    copy = tmp_path / "copy.log"
    copy.write_bytes((data_dir / "logs" / "opnsense-mixed.log").read_bytes())
    call_command("ingestfile", str(copy), "--device", "a", stdout=StringIO())

    err = StringIO()
    call_command(
        "ingestfile",
        str(copy),
        "--device",
        "b",
        "--time-zone",
        "Asia/Tokyo",
        stdout=StringIO(),
        stderr=err,
    )
    assert Device.objects.get(name="b").time_zone == "Asia/Tokyo"
    assert err.getvalue() == ""
    with copy.open("ab") as stream:
        stream.write(b"<134>not a filter line\n")
    call_command(
        "ingestfile",
        str(copy),
        "--device",
        "a",
        "--time-zone",
        "Asia/Tokyo",
        stdout=StringIO(),
        stderr=err,
    )

    assert "Device a keeps its time zone UTC" in err.getvalue()

    assert ImportedFile.objects.filter(device__name="a").count() == 2
    assert Event.objects.filter(device__name="b").count() == 4


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
    assert "Administrator admin exists" in second.getvalue()
    assert password not in second.getvalue()
    assert get_user_model().objects.count() == 1


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


@pytest.mark.django_db
def test_ingestfile_counts_a_refused_event_as_unparsed(tmp_path):
    log = tmp_path / "odd.log"
    log.write_bytes(
        b"<134>Jul  3 19:10:30 filterlog[1]: 5,,,0,igb0,match,block,in,4,0x0,,"
        b"64,1,0,none,17,udp,76,198.51.100.1,203.0.113.7,5000,53,56\n"
        b"<134>Jul  3 19:10:30 filterlog[1]: 5,,,0,igb0,match,block,in,4,0x0,,"
        b"64,1,0,none,17,udp,99999999999999,198.51.100.1,203.0.113.7,5000,53,56\n"
    )
    out = StringIO()

    call_command("ingestfile", str(log), "--device", "odd", stdout=out)

    assert "2 lines; stored 1 events and 1 unparsed messages" in out.getvalue()
    assert UnparsedMessage.objects.get().reason.startswith("length out of range")
