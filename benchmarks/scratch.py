"""Scratch databases for the benchmark scripts, never the user's own.

A benchmark names its kind; its database sits beside the configured one:
``var/benchmark-<kind>.sqlite3`` for SQLite, ``<name>_bench_<kind>`` on the
same MySQL/MariaDB server otherwise.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def scratch_url(url: str, kind: str) -> str:
    """Return the URL of the ``kind`` benchmark's database beside ``url``."""
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{BASE_DIR / 'var' / f'benchmark-{kind}.sqlite3'}"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_bench_{kind}"))


def server_command(url: str, statement: str) -> None:
    """Run one statement on the MySQL/MariaDB server of ``url``."""
    import MySQLdb

    parts = urlsplit(url)
    server = MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
    )
    try:
        server.cursor().execute(statement)
    finally:
        server.close()


def drop_database(url: str) -> None:
    """Delete the scratch database (its files, for SQLite)."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    server_command(url, f"DROP DATABASE IF EXISTS `{urlsplit(url).path.lstrip('/')}`")


def create_database(url: str) -> None:
    """Create the scratch database empty, dropping an earlier one."""
    drop_database(url)
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return
    name = urlsplit(url).path.lstrip("/")
    server_command(url, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")


def setup_django(url: str, *, migrate: bool = True) -> None:
    """Point Django at ``url``, set it up, and migrate unless told not to."""
    os.environ["FWSIEM_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fwsiem.settings")
    os.environ.setdefault("FWSIEM_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
