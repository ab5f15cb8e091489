"""ISO 3166-1 country names (English and Japanese) from pycountry.

pycountry carries the ISO 3166-1 list and the Debian iso-codes
translations. The registries also use codes ISO does not assign; those
are kept beside the ISO rows with ``is_iso`` false.
"""

import gettext
import logging
from dataclasses import dataclass

import pycountry
from django.db import connection, transaction
from django.utils import timezone

from geo.models import Country

logger = logging.getLogger(__name__)

# Codes the registries use that ISO 3166-1 does not assign as countries.
REGISTRY_CODES = {
    "EU": ("European Union", "欧州連合"),
    "AP": ("Asia/Pacific Region", "アジア太平洋地域"),
    "ZZ": ("Unknown or unspecified", "不明"),
}
# A list outside this band, or without these codes, is not used.
PLAUSIBLE_COUNT = range(240, 261)
REQUIRED_CODES = ("JP", "US", "DE", "BR", "ZA", "CN", "GB", "FR", "AU")
UPDATED_FIELDS = ["alpha3", "numeric", "name", "name_ja", "is_iso", "updated_at"]


class CountryListError(ValueError):
    """The ISO list read from pycountry fails a plausibility check."""


@dataclass(frozen=True, slots=True)
class CountryResult:
    created: int
    updated: int
    total: int


def iso_countries() -> list[Country]:
    """Return unsaved Country rows for every ISO 3166-1 entry, checked.

    Raises CountryListError when the list is implausible (count, duplicate
    or missing codes): the rows in the database are then kept as they are.
    """
    try:
        japanese = gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=["ja"]
        )
    except OSError:
        logger.warning("no Japanese ISO 3166 names in pycountry, English kept")
        japanese = gettext.NullTranslations()

    now = timezone.now()
    rows = [
        Country(
            code=entry.alpha_2,
            alpha3=entry.alpha_3,
            numeric=entry.numeric,
            name=getattr(entry, "common_name", None) or entry.name,
            name_ja=japanese.gettext(entry.name),
            is_iso=True,
            updated_at=now,
        )
        for entry in pycountry.countries
    ]

    _check_plausible(rows)
    return rows


def _check_plausible(rows: list[Country]) -> None:
    codes = [row.code for row in rows]
    if len(codes) not in PLAUSIBLE_COUNT:
        raise CountryListError(f"{len(codes)} ISO 3166-1 entries, expected about 249")
    if len(set(codes)) != len(codes):
        raise CountryListError("duplicate alpha-2 codes in the ISO 3166-1 list")
    missing = [code for code in REQUIRED_CODES if code not in set(codes)]
    if missing:
        raise CountryListError(f"ISO 3166-1 list lacks {', '.join(missing)}")


def registry_countries() -> list[Country]:
    """Return rows for the registries' non-ISO codes (EU, AP, ZZ)."""
    now = timezone.now()
    return [
        Country(code=code, name=name, name_ja=name_ja, is_iso=False, updated_at=now)
        for code, (name, name_ja) in REGISTRY_CODES.items()
    ]


def refresh_countries() -> CountryResult:
    """Insert or update every country row in one transaction.

    Codes no longer in ISO 3166-1 stay (events may carry them) but are
    marked as not ISO. Raises CountryListError before writing anything when
    the list is implausible.
    """
    rows = iso_countries() + registry_countries()
    codes = {row.code for row in rows}

    with transaction.atomic():
        existing = set(Country.objects.values_list("code", flat=True))
        # MySQL/MariaDB upsert on any unique key and refuse to be told which.
        target = (
            ["code"]
            if connection.features.supports_update_conflicts_with_target
            else None
        )
        Country.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=target,
            update_fields=UPDATED_FIELDS,
        )
        Country.objects.exclude(code__in=codes).update(is_iso=False)

    created = len(codes - existing)
    return CountryResult(created=created, updated=len(rows) - created, total=len(rows))


def add_unknown_codes(codes: set[str]) -> int:
    """Create placeholder rows for codes no Country row has yet.

    A registry may use a code that neither ISO nor REGISTRY_CODES lists;
    it is shown as the bare code, marked not ISO. Returns how many rows
    were added.
    """
    missing = codes - set(
        Country.objects.filter(code__in=codes).values_list("code", flat=True)
    )
    Country.objects.bulk_create(
        [Country(code=code, name=code, is_iso=False) for code in sorted(missing)],
        ignore_conflicts=True,
    )
    if missing:
        logger.warning("registry codes without a country name codes=%s", missing)
    return len(missing)
