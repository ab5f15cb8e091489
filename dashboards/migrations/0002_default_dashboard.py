# The "Port scans" dashboard and its six reports, shared and owned by no
# one, so that every installation starts with the questions fwsiem exists
# for. Names are written in the installation's default language
# (FWSIEM_LANGUAGE) and can be edited like any other report.

from django.conf import settings
from django.db import migrations
from django.utils.translation import gettext, override

BLOCKED = ["block", "reject"]


def reports() -> list[dict]:
    return [
        {
            "name": gettext("Top destination ports blocked inbound"),
            "description": gettext(
                "Which ports are scanned most: blocked or rejected inbound "
                "events per destination port, last 7 days."
            ),
            "range_last": 7,
            "dimension_1": "dst_port",
            "filter_actions": BLOCKED,
            "filter_directions": ["in"],
            "top_n": 20,
            "chart": "bar",
            "width": "half",
        },
        {
            "name": gettext("Top source countries"),
            "description": gettext(
                "Where the blocked inbound traffic comes from, last 7 days."
            ),
            "range_last": 7,
            "dimension_1": "src_country",
            "filter_actions": BLOCKED,
            "filter_directions": ["in"],
            "top_n": 20,
            "chart": "bar",
            "width": "half",
        },
        {
            "name": gettext("23/tcp per day by source country"),
            "description": gettext(
                "Telnet scans per day, stacked by source country, last 30 "
                "days: shows on which day a country stopped or came back."
            ),
            "range_last": 30,
            "bucket": "day",
            "dimension_1": "src_country",
            "filter_protocols": ["tcp"],
            "filter_ports": "23",
            "top_n": 10,
            "chart": "stacked",
            "width": "full",
        },
        {
            "name": gettext("Busiest UDP ports per hour"),
            "description": gettext(
                "Events per hour on the five busiest UDP destination ports, "
                "last 7 days: a sudden burst stands out."
            ),
            "range_last": 7,
            "bucket": "hour",
            "dimension_1": "dst_port",
            "filter_protocols": ["udp"],
            "top_n": 5,
            "chart": "line",
            "width": "full",
        },
        {
            "name": gettext("Distinct sources per destination port"),
            "description": gettext(
                "How many different addresses tried each port (blocked "
                "inbound), last 7 days: many sources mean a wide scan."
            ),
            "range_last": 7,
            "dimension_1": "dst_port",
            "metric": "distinct_sources",
            "filter_actions": BLOCKED,
            "filter_directions": ["in"],
            "top_n": 20,
            "chart": "bar",
            "width": "half",
        },
        {
            "name": gettext("Events per device per hour"),
            "description": gettext(
                "Collection health: a dip here means check the sender before "
                "trusting the other panels."
            ),
            "range_last": 7,
            "bucket": "hour",
            "dimension_1": "device",
            "top_n": 10,
            "chart": "line",
            "width": "half",
        },
    ]


def dashboard_name() -> str:
    return gettext("Port scans")


def create(apps, schema_editor):
    SavedReport = apps.get_model("dashboards", "SavedReport")
    Dashboard = apps.get_model("dashboards", "Dashboard")
    DashboardPanel = apps.get_model("dashboards", "DashboardPanel")
    db = schema_editor.connection.alias

    with override(settings.LANGUAGE_CODE):
        definitions = reports()
        dashboard = Dashboard.objects.using(db).create(
            name=dashboard_name(),
            description=gettext(
                "Who scans which ports, from where, and whether collection "
                "is healthy."
            ),
            is_shared=True,
            range_kind="panels",
        )
    for position, definition in enumerate(definitions, start=1):
        width = definition.pop("width")
        report = SavedReport.objects.using(db).create(
            is_shared=True, range_kind="last", range_unit="days", **definition
        )
        DashboardPanel.objects.using(db).create(
            dashboard=dashboard, report=report, position=position, width=width
        )


def remove(apps, schema_editor):
    SavedReport = apps.get_model("dashboards", "SavedReport")
    Dashboard = apps.get_model("dashboards", "Dashboard")
    db = schema_editor.connection.alias

    with override(settings.LANGUAGE_CODE):
        names = [definition["name"] for definition in reports()]
        Dashboard.objects.using(db).filter(
            owner=None, name=dashboard_name()
        ).delete()
    SavedReport.objects.using(db).filter(owner=None, name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
