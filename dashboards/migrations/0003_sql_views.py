# Read-only SQL views for outside BI tools (Power BI, Grafana, Metabase).
# Their names and columns are public, like the event table's: the README
# lists them. Days are UTC dates, as stored. Views with GROUP BY cannot be
# written through, on SQLite or MySQL/MariaDB.

from django.db import migrations

VIEW_NAMES = [
    "fwsiem_events_daily",
    "fwsiem_sources_daily",
    "fwsiem_countries",
    "fwsiem_country_groups",
]


def view_queries(apps) -> dict[str, str]:
    """Return each view's SELECT, with table names taken from the models."""
    event = apps.get_model("events", "Event")._meta.db_table
    device = apps.get_model("events", "Device")._meta.db_table
    country_model = apps.get_model("geo", "Country")
    country = country_model._meta.db_table
    group_model = apps.get_model("geo", "CountryGroup")
    group = group_model._meta.db_table
    members = group_model._meta.get_field("countries").remote_field.through
    member = members._meta.db_table
    return {
        "fwsiem_events_daily": f"""
            SELECT DATE(e.occurred_at) AS day,
                   e.device_id AS device_id,
                   d.name AS device,
                   e.action AS action,
                   e.direction AS direction,
                   e.protocol AS protocol,
                   e.dst_port AS dst_port,
                   e.src_country AS src_country,
                   COUNT(*) AS events
            FROM {event} e
            JOIN {device} d ON d.id = e.device_id
            GROUP BY DATE(e.occurred_at), e.device_id, d.name, e.action,
                     e.direction, e.protocol, e.dst_port, e.src_country
        """,
        "fwsiem_sources_daily": f"""
            SELECT DATE(e.occurred_at) AS day,
                   e.protocol AS protocol,
                   e.dst_port AS dst_port,
                   COUNT(DISTINCT e.src_ip) AS sources,
                   COUNT(*) AS events
            FROM {event} e
            GROUP BY DATE(e.occurred_at), e.protocol, e.dst_port
        """,
        "fwsiem_countries": f"""
            SELECT c.code AS code,
                   c.name AS name,
                   c.name_ja AS name_ja,
                   c.is_iso AS is_iso
            FROM {country} c
        """,
        "fwsiem_country_groups": f"""
            SELECT g.name AS group_name,
                   m.country_id AS code
            FROM {group} g
            JOIN {member} m ON m.countrygroup_id = g.id
        """,
    }


def create_views(apps, schema_editor):
    connection = schema_editor.connection
    for name, query in view_queries(apps).items():
        if connection.vendor == "sqlite":
            schema_editor.execute(f"DROP VIEW IF EXISTS {name}")
            schema_editor.execute(f"CREATE VIEW {name} AS {query}")
        elif connection.vendor == "mysql":
            schema_editor.execute(f"CREATE OR REPLACE VIEW {name} AS {query}")
        else:
            raise NotImplementedError(
                f"SQL views are written for SQLite and MySQL/MariaDB, "
                f"not {connection.vendor}"
            )


def drop_views(apps, schema_editor):
    for name in VIEW_NAMES:
        schema_editor.execute(f"DROP VIEW IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE VIEW commits implicitly on MySQL/MariaDB; Django refuses DDL
    # inside a transaction there.
    atomic = False

    dependencies = [
        ("dashboards", "0002_default_dashboard"),
        ("events", "0001_initial"),
        ("geo", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_views, drop_views, atomic=False)]
