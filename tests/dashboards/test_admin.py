import pytest
from django.test import Client
from django.urls import reverse

from dashboards.models import Dashboard, SavedReport

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_report_changelist_stays_within_a_query_budget(
    analyst, gateway, django_assert_max_num_queries
):
    for number in range(20):
        report = SavedReport.objects.create(
            name=f"r{number}", owner=analyst, dimension_1="dst_port", chart="bar"
        )
        report.filter_devices.add(gateway)
    client = logged_in(analyst)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:dashboards_savedreport_changelist"))

    assert response.status_code == 200
    assert "Events, by destination port and protocol" in response.content.decode()


def test_dashboard_changelist_stays_within_a_query_budget(
    analyst, django_assert_max_num_queries
):
    for number in range(20):
        Dashboard.objects.create(name=f"d{number}", owner=analyst)
    client = logged_in(analyst)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:dashboards_dashboard_changelist"))

    assert response.status_code == 200


def test_analyst_lays_out_a_dashboard_with_ordered_panels_and_a_range(analyst):
    reports = SavedReport.objects.filter(owner=None).order_by("pk")[:2]
    data = {
        "name": "mine",
        "description": "",
        "range_kind": "last",
        "range_last": "24",
        "range_unit": "hours",
        "panels-TOTAL_FORMS": "2",
        "panels-INITIAL_FORMS": "0",
        "panels-MIN_NUM_FORMS": "0",
        "panels-MAX_NUM_FORMS": "1000",
        "panels-0-position": "2",
        "panels-0-report": str(reports[0].pk),
        "panels-0-width": "half",
        "panels-1-position": "1",
        "panels-1-report": str(reports[1].pk),
        "panels-1-width": "full",
        "_save": "Save",
    }
    client = logged_in(analyst)

    response = client.post(reverse("admin:dashboards_dashboard_add"), data)
    dashboard = Dashboard.objects.get(owner=analyst)
    page = client.get(dashboard.get_absolute_url())

    assert response.status_code == 302
    assert [p.report for p in dashboard.panels.all()] == [reports[1], reports[0]]
    assert [p["report"] for p in page.context["panels"]] == [reports[1], reports[0]]
    assert all(
        p["range_text"].startswith("Last 24 hours") for p in page.context["panels"]
    )


def test_viewer_sees_shared_and_own_reports_but_not_others_private(viewer, analyst):
    SavedReport.objects.create(name="secret", owner=analyst, is_shared=False)
    SavedReport.objects.create(name="open", owner=analyst, is_shared=True)

    response = logged_in(viewer).get(reverse("admin:dashboards_savedreport_changelist"))

    names = [report.name for report in response.context["cl"].result_list]
    assert "open" in names
    assert "secret" not in names
