import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_q.models import OrmQ

from geo.countries import refresh_countries
from geo.models import Country, CountryGroup
from geo.refresh import refresh_registries
from tests.geo.conftest import APNIC_RECORDS, RIPE_RECORDS, delegated, write_registry

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "", "secret-pass-123")
    client.force_login(user)
    return client


@pytest.fixture
def loaded(tmp_path):
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
    write_registry(tmp_path, "ripencc", delegated("ripencc", RIPE_RECORDS))
    refresh_registries(["apnic", "ripencc", "arin"], source=str(tmp_path))


@pytest.mark.parametrize(
    ("name", "budget", "text"),
    [
        ("country", 8, "日本"),
        ("countrygroup", 9, "East Asia"),
        ("registry", 8, "missing: no file"),
        ("snapshot", 9, "20240101"),
        ("refreshrun", 10, "ranges"),
    ],
)
def test_changelists_within_a_query_budget(
    staff_client, loaded, django_assert_max_num_queries, name, budget, text
):
    group = CountryGroup.objects.create(name="East Asia")
    group.countries.set(["JP", "KR", "CN"])

    with django_assert_max_num_queries(budget):
        response = staff_client.get(reverse(f"admin:geo_{name}_changelist"))

    assert response.status_code == 200
    assert text in response.content.decode()


def test_lookup_form_shows_country_registry_and_snapshot(staff_client, loaded):
    response = staff_client.get(reverse("admin:geo_lookup"), {"address": "1.0.16.1"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Japan" in page and "日本" in page
    assert "APNIC" in page and "1.0.16.0" in page and "2024-01-01" in page


def test_lookup_form_rejects_what_is_not_an_address(staff_client):
    response = staff_client.get(reverse("admin:geo_lookup"), {"address": "<b>x"})

    assert "Enter a valid IPv4 or IPv6 address." in response.content.decode()
    assert "<b>x" not in response.content.decode()


def test_lookup_form_needs_a_staff_login(client):
    response = client.get(reverse("admin:geo_lookup"), {"address": "1.0.16.1"})

    assert response.status_code == 302


def test_refresh_now_queues_a_task_on_post_only(staff_client, loaded):
    url = reverse("admin:geo_registry_changelist")
    payload = {"action": "refresh_now", "_selected_action": ["apnic", "arin"]}

    staff_client.get(url, payload)
    assert OrmQ.objects.count() == 0
    response = staff_client.post(url, payload, follow=True)

    assert response.status_code == 200
    assert OrmQ.objects.count() == 2
    assert "Refresh queued for apnic, arin" in response.content.decode()


def test_refresh_now_is_not_offered_to_a_viewer(client, django_user_model, loaded):
    viewer = django_user_model.objects.create_user("viewer", password="x-123456789")
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_registry"))
    client.force_login(viewer)
    url = reverse("admin:geo_registry_changelist")

    response = client.post(
        url, {"action": "refresh_now", "_selected_action": ["apnic"]}
    )

    assert OrmQ.objects.count() == 0
    assert response.status_code in (200, 302, 403)


def test_registry_rows_cannot_be_added_or_deleted(staff_client, loaded):
    assert staff_client.get(reverse("admin:geo_registry_add")).status_code == 403
    delete = reverse("admin:geo_registry_delete", args=["apnic"])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403


def test_country_groups_export_and_import_as_csv(staff_client):
    refresh_countries()
    group = CountryGroup.objects.create(name="East Asia", description="neighbours")
    group.countries.set(["JP", "KR"])

    export = staff_client.post(
        reverse("admin:geo_countrygroup_export"),
        {
            "format": "0",
            "resource": "0",
            "countrygroupresource_name": True,
            "countrygroupresource_description": True,
            "countrygroupresource_countries": True,
        },
    )
    csv_text = export.content.decode()
    assert export.status_code == 200, csv_text[:500]
    assert "East Asia,neighbours" in csv_text and "JP,KR" in csv_text

    upload = SimpleUploadedFile(
        "groups.csv",
        b'name,description,countries\n"EU core",founders,"DE,FR,IT"\n'
        b'East Asia,neighbours,"JP,KR,CN"\n',
    )
    confirm = staff_client.post(
        reverse("admin:geo_countrygroup_import"),
        {"import_file": upload, "format": "0", "resource": "0"},
    )
    assert confirm.status_code == 200
    form = confirm.context["confirm_form"]
    staff_client.post(
        reverse("admin:geo_countrygroup_process_import"),
        {**form.initial, "resource": "0"},
    )

    assert set(
        CountryGroup.objects.get(name="EU core").countries.values_list(
            "code", flat=True
        )
    ) == {"DE", "FR", "IT"}
    assert CountryGroup.objects.get(name="East Asia").countries.count() == 3


def test_country_display_name_follows_the_active_language():
    refresh_countries()
    japan = Country.objects.get(code="JP")
    from django.utils import translation

    with translation.override("ja"):
        assert str(japan) == "JP 日本"
    with translation.override("en"):
        assert str(japan) == "JP Japan"
