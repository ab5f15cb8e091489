"""A time budget for the statements of one report run, enforced by the server.

MariaDB gets ``SET STATEMENT max_statement_time=<s> FOR <query>`` (seconds,
any statement); MySQL gets the ``MAX_EXECUTION_TIME(<ms>)`` optimizer hint
(SELECT only); SQLite has no server-side limit, so a progress handler on
the connection aborts the running statement once the deadline passes. In
every case the statement fails, ``ReportTimeout`` is raised and the
connection stays usable.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connections
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

MARIADB_INTERRUPTED = 1969  # ER_STATEMENT_TIMEOUT
MYSQL_INTERRUPTED = 3024  # ER_QUERY_TIMEOUT
# SQLite calls the handler every this many virtual machine instructions:
# often enough to stop within milliseconds, rare enough to cost nothing.
SQLITE_PROGRESS_STEPS = 10_000


class ReportTimeout(Exception):
    """A report query ran past its time budget and was stopped."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(
            _(
                "The report took longer than %(seconds)s s and was stopped. "
                "Narrow the time range or add filters."
            )
            % {"seconds": f"{seconds:.3g}"}
        )


@contextmanager
def time_limit(seconds: float, using: str = "default") -> Iterator[None]:
    """Run the enclosed queries on ``using`` within ``seconds`` in total.

    Each statement gets what is left of the budget. Raises ReportTimeout
    (from the database error) when the server or the progress handler
    stops a statement, or before a statement when nothing is left.
    """
    connection = connections[using]
    deadline = time.monotonic() + seconds

    def wrapper(execute, sql, params, many, context):
        left = deadline - time.monotonic()
        if left <= 0:
            raise ReportTimeout(seconds)
        if connection.vendor == "mysql":
            sql = _limited_mysql_sql(connection, sql, left)
        return execute(sql, params, many, context)

    try:
        with _sqlite_deadline(connection, deadline):
            with connection.execute_wrapper(wrapper):
                yield
    except OperationalError as error:
        # Rows are fetched after the wrapped execute returns (SQLite reads
        # them lazily), so the interruption is recognized out here.
        if _is_interruption(connection, error):
            logger.warning("report query stopped seconds=%s", seconds)
            raise ReportTimeout(seconds) from error
        raise


def _limited_mysql_sql(connection, sql: str, left: float) -> str:
    if connection.mysql_is_mariadb:
        # The number is formatted here, never taken from a request.
        return f"SET STATEMENT max_statement_time={left:.3f} FOR {sql}"
    stripped = sql.lstrip()
    if stripped[:6].upper() == "SELECT":
        milliseconds = max(1, int(left * 1000))
        return f"{stripped[:6]} /*+ MAX_EXECUTION_TIME({milliseconds}) */{stripped[6:]}"
    return sql


@contextmanager
def _sqlite_deadline(connection, deadline: float) -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return

    connection.ensure_connection()
    raw = connection.connection

    def handler() -> int:
        return 1 if time.monotonic() >= deadline else 0

    raw.set_progress_handler(handler, SQLITE_PROGRESS_STEPS)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


def _is_interruption(connection, error: OperationalError) -> bool:
    if connection.vendor == "mysql":
        code = error.args[0] if error.args else None
        return code in (MARIADB_INTERRUPTED, MYSQL_INTERRUPTED)
    if connection.vendor == "sqlite":
        return "interrupted" in str(error)
    return False
