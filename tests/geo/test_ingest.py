"""Events written after a registry refresh carry their countries."""

import pytest

from events.models import Event
from geo import index
from tests.events.test_writer import make_writer, parsed_items
from tests.geo.test_commands import run

LINE = (
    "<134>Jul  3 19:10:30 filterlog[1]: 146,,,0,igb0,match,block,in,4,0x0,,"
    "63,1,0,DF,6,tcp,60,{src},200.7.84.1,4000,23,0,S,1,,64240,,"
)


def write(device, src: str) -> Event:
    make_writer().write(parsed_items([LINE.format(src=src).encode()], device.pk))
    return Event.objects.latest("id")


@pytest.mark.django_db
def test_the_writer_fills_countries_once_registry_data_is_loaded(device, rir_dir):
    before = write(device, "41.0.0.1")

    run("refresh_geo", "--source", str(rir_dir), "--countries")
    index.reload_if_changed(max_age_seconds=0)
    after = write(device, "41.0.0.1")
    unknown = write(device, "192.0.2.1")

    assert (before.src_country, before.dst_country) == ("", "")
    # AFRINIC's file gives 41.0.0.0/11 to South Africa, LACNIC's
    # 200.7.84.0/23 to Uruguay.
    assert after.src_country == "ZA"
    assert after.dst_country == "UY"
    assert unknown.src_country == ""
