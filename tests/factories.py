"""Events written straight to the table, as tests need them."""

from events.models import Event


def insert_events(count: int = 1, **fields) -> None:
    """Insert ``count`` copies of one event, by default a telnet scan.

    ``fields`` must name the device. Written with ``bulk_create``, behind
    fwsiem's writers: nothing marks the hours for the hourly counts.
    """
    values = {
        "action": "block",
        "direction": "in",
        "interface": "igb0",
        "ip_version": 4,
        "protocol": "tcp",
        "src_ip": "198.51.100.7",
        "dst_ip": "203.0.113.1",
        "src_port": 40000,
        "dst_port": 23,
        "src_country": "CN",
        **fields,
    }
    if ":" in values["src_ip"]:
        values["ip_version"] = 6
    Event.objects.bulk_create([Event(**values) for _ in range(count)])
