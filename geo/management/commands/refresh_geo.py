"""Load the registries' delegated files, verified, into the geo tables.

Without options every configured registry is downloaded from its HTTPS URL
(settings ``GEO_REGISTRY_URLS``). ``--source`` reads the files under their
published names (``delegated-<registry>-extended-latest`` and ``.md5``)
from a directory or a URL prefix instead. A registry that fails keeps its
active data; the command fails only when every registry it tried failed.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from fwsiem.progress import progress_bar
from geo import index
from geo.countries import CountryListError, refresh_countries
from geo.delegated import REGISTRIES
from geo.models import RefreshRun
from geo.refresh import RegistryResult, refresh_registries


class Command(BaseCommand):
    help = _("Download, verify and load the registries' address ranges.")

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--registry",
            action="append",
            choices=REGISTRIES,
            help=_("Refresh only this registry (repeatable; default: all)."),
        )
        parser.add_argument(
            "--source",
            help=_(
                "Directory or URL prefix holding the files (default: each "
                "registry's own site)."
            ),
        )
        parser.add_argument(
            "--countries",
            action="store_true",
            help=_("Also refresh the ISO 3166 country names."),
        )

    def handle(self, *args, registry, source, countries, **options) -> str:
        verbosity = options["verbosity"]
        if countries:
            self._refresh_countries()

        bars: list[tqdm] = []

        def progress(name: str, total: int):
            bar = progress_bar(
                self.stderr,
                verbosity,
                total=total,
                desc=name,
                unit=_("ranges"),
                leave=False,
            )
            bars.append(bar)
            return bar.update

        try:
            results = refresh_registries(registry, source=source, progress=progress)
        finally:
            for bar in bars:
                bar.close()

        for result in results:
            self._report(result)
        return self._finish(results, verbosity)

    def _refresh_countries(self) -> None:
        try:
            result = refresh_countries()
        except CountryListError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            _("countries: %(total)d codes (%(created)d new)")
            % {"total": result.total, "created": result.created}
        )

    def _report(self, result: RegistryResult) -> None:
        outcome = RefreshRun.Outcome(result.outcome).label
        line = (
            f"{result.registry:<8} {outcome:<9} {result.message} "
            f"({result.seconds:.1f} s)"
        )
        if result.outcome == RefreshRun.Outcome.FAILED:
            self.stdout.write(self.style.ERROR(line))
        elif result.outcome == RefreshRun.Outcome.LOADED:
            self.stdout.write(self.style.SUCCESS(line))
        else:
            self.stdout.write(line)

    def _finish(self, results: list[RegistryResult], verbosity: int) -> str:
        failed = [r for r in results if r.outcome == RefreshRun.Outcome.FAILED]
        if failed and len(failed) == len(results):
            raise CommandError(_("every registry failed; the active data is kept"))

        index.forget()
        built = index.current_index()
        return _(
            "index: %(ranges)d ranges from %(snapshots)d snapshots, "
            "%(overlaps)d overlaps (%(cross)d between registries)"
        ) % {
            "ranges": built.range_count,
            "snapshots": len(built.key or ()),
            "overlaps": built.overlap_count,
            "cross": built.cross_registry_overlap_count,
        }
