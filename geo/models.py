"""Countries, registry address ranges and the provenance of every load.

Country names come from ISO 3166-1 (pycountry). Address ranges come from
the five Regional Internet Registries' delegated statistics files; each
loaded file is a Snapshot, and each registry points at its active one.
"""

from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from events.fields import IPAddressBinaryField


class Country(models.Model):
    """One country code that can appear on an event, with its names.

    ISO 3166-1 rows come from pycountry (refreshed monthly). Registries also
    use codes ISO does not assign (``EU``, ``AP``, ``ZZ``); those rows have
    ``is_iso`` false and are shown as such, never treated as errors.
    """

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    alpha3 = models.CharField(_("alpha-3 code"), max_length=3, blank=True)
    numeric = models.CharField(_("numeric code"), max_length=3, blank=True)
    name = models.CharField(_("name"), max_length=100)
    name_ja = models.CharField(_("Japanese name"), max_length=100, blank=True)
    is_iso = models.BooleanField(
        _("ISO 3166-1 code"),
        default=True,
        help_text=_(
            "False for codes the registries use that ISO 3166-1 does not "
            "assign, such as EU, AP or ZZ."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        """Return the name in the active language (Japanese or English)."""
        language = translation.get_language() or ""
        if language.startswith("ja") and self.name_ja:
            return self.name_ja
        return self.name


class CountryGroup(models.Model):
    """A named set of countries a user defines, e.g. "East Asia"."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    countries = models.ManyToManyField(
        Country, related_name="groups", blank=True, verbose_name=_("countries")
    )

    class Meta:
        verbose_name = _("country group")
        verbose_name_plural = _("country groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegistryCode(models.TextChoices):
    AFRINIC = "afrinic", "AFRINIC"
    APNIC = "apnic", "APNIC"
    ARIN = "arin", "ARIN"
    LACNIC = "lacnic", "LACNIC"
    RIPENCC = "ripencc", "RIPE NCC"


class Registry(models.Model):
    """The state of one Regional Internet Registry's data in this database.

    One row per registry, created on first use. ``active_snapshot`` is the
    pointer lookups follow; the lock fields make sure only one worker loads
    a registry at a time (an UPDATE with a condition, portable to SQLite and
    MySQL/MariaDB).
    """

    code = models.CharField(
        _("registry"), max_length=10, primary_key=True, choices=RegistryCode.choices
    )
    active_snapshot = models.OneToOneField(
        "Snapshot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("active snapshot"),
    )
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    lock_token = models.CharField(_("lock holder"), max_length=64, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("registry")
        verbose_name_plural = _("registries")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.get_code_display()


class Snapshot(models.Model):
    """One delegated file as loaded, with its provenance and counts.

    Rows are written by ``refresh_geo`` (or its scheduled task): created in
    state ``loading``, filled with ranges, then made active by moving the
    registry's pointer in one short transaction. Retired snapshots lose their
    ranges in batches and are then deleted.
    """

    class Status(models.TextChoices):
        LOADING = "loading", _("loading")
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")

    registry = models.CharField(
        _("registry"), max_length=10, choices=RegistryCode.choices
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.LOADING
    )
    version = models.CharField(_("format version"), max_length=10)
    serial = models.CharField(_("serial"), max_length=20)
    file_date = models.DateField(_("file date"))
    record_count = models.PositiveIntegerField(_("records"), default=0)
    asn_count = models.PositiveIntegerField(_("ASN records"), default=0)
    ipv4_count = models.PositiveIntegerField(_("IPv4 records"), default=0)
    ipv6_count = models.PositiveIntegerField(_("IPv6 records"), default=0)
    range_count = models.PositiveIntegerField(
        _("ranges with a country"),
        default=0,
        help_text=_("Allocated or assigned IPv4 and IPv6 records, as stored."),
    )
    checksum = models.CharField(_("MD5"), max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("loaded at"), default=timezone.now)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    load_seconds = models.FloatField(_("load time (s)"), default=0)

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        ordering = ["registry", "-file_date", "-created_at"]
        indexes = [models.Index(fields=["registry", "status"], name="snapshot_state")]

    def __str__(self) -> str:
        return f"{self.get_registry_display()} {self.serial}"


class IPRange(models.Model):
    """One allocated or assigned address range of a snapshot.

    IPv4 records give a host count that need not be a power of two, IPv6
    records a prefix length; both are stored as first and last address in
    the same 16-byte form as ``Event.src_ip``, so SQL can join events to
    ranges with ``BETWEEN``. Available and reserved records are not stored.
    """

    snapshot = models.ForeignKey(
        Snapshot,
        on_delete=models.CASCADE,
        related_name="ranges",
        verbose_name=_("snapshot"),
    )
    registry = models.CharField(
        _("registry"), max_length=10, choices=RegistryCode.choices
    )
    country_code = models.CharField(_("country"), max_length=2)
    ip_version = models.PositiveSmallIntegerField(_("IP version"))
    start_ip = IPAddressBinaryField(_("first address"))
    end_ip = IPAddressBinaryField(_("last address"))
    status = models.CharField(_("status"), max_length=10)
    allocated_on = models.DateField(_("record date"), null=True, blank=True)

    class Meta:
        verbose_name = _("address range")
        verbose_name_plural = _("address ranges")
        indexes = [
            models.Index(fields=["snapshot", "start_ip"], name="range_snapshot_start"),
            models.Index(fields=["country_code"], name="range_country"),
        ]

    def __str__(self) -> str:
        return f"{self.start_ip}-{self.end_ip} {self.country_code}"


class RefreshRun(models.Model):
    """One attempt to refresh a registry's ranges or the ISO country list."""

    ISO_SOURCE = "iso3166"

    class Outcome(models.TextChoices):
        LOADED = "loaded", _("loaded")
        UNCHANGED = "unchanged", _("unchanged")
        FAILED = "failed", _("failed")
        LOCKED = "locked", _("already running")

    source = models.CharField(_("source"), max_length=10)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, blank=True
    )
    serial = models.CharField(_("serial"), max_length=20, blank=True)
    location = models.CharField(_("read from"), max_length=500, blank=True)
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        verbose_name = _("refresh run")
        verbose_name_plural = _("refresh runs")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "started_at"], name="run_time")]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"
