import time

import pytest
from django.db import connection

from dashboards.timelimit import ReportTimeout, time_limit

pytestmark = pytest.mark.django_db

# Counts a billion joined rows: a minute or more of work on either database,
# so only the time limit can end it within the assertion's bound. (MariaDB
# stops a recursive CTE after 1000 iterations, hence the join.)
HEAVY_QUERY = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
    "WHERE n < 1000) SELECT COUNT(*) FROM c a, c b, c d"
)


def test_heavy_query_is_stopped_within_the_limit_and_the_connection_survives():
    began = time.monotonic()

    with pytest.raises(ReportTimeout, match="longer than 1 s"), time_limit(1):
        with connection.cursor() as cursor:
            cursor.execute(HEAVY_QUERY)
            cursor.fetchall()

    assert time.monotonic() - began < 1.5
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1


def test_quick_queries_run_normally_under_a_limit():
    with time_limit(5), connection.cursor() as cursor:
        cursor.execute("SELECT 40 + 2")
        assert cursor.fetchone()[0] == 42


def test_other_database_errors_are_not_taken_for_timeouts():
    from django.db import DatabaseError

    with pytest.raises(DatabaseError) as failure, time_limit(5):
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM no_such_table")

    assert not isinstance(failure.value, ReportTimeout)
