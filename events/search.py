"""The event changelist's search box: a small query language over indexes.

Each whitespace-separated term becomes one condition and all must hold:

* ``198.51.100.7`` or ``2001:db8::1``: that address as source or destination;
* ``185.220.0.0/16`` or ``2a01:4f8::/32``: a block, as a range over the
  16-byte address columns (see ``events.fields``);
* ``src:…`` or ``dst:…`` before an address or block: that side only;
* ``23/tcp``: destination port and protocol;
* ``445``: destination port;
* ``CN`` (two letters): source country code; a country's full name, in
  English or Japanese, also works when the country table is loaded.

Every condition is an equality or a range on an indexed column, so no
search turns into ``LIKE '%…%'`` over the event table.
"""

import logging
import re

from django.apps import apps
from django.db.models import Q
from django.utils.translation import gettext as _

from events.fields import network_bounds

logger = logging.getLogger(__name__)

PORT_PROTOCOL = re.compile(r"^(\d{1,5})/([a-z][a-z0-9-]{0,31})$", re.IGNORECASE)
PORT = re.compile(r"^\d{1,5}$")
COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
ADDRESS_SIDES = {"src": ("src_ip",), "dst": ("dst_ip",)}


class SearchError(ValueError):
    """A term the search box does not understand; the message says why."""


def parse_search(text: str) -> Q:
    """Return one Q object for every term in ``text``, combined with AND.

    Raises SearchError naming the first term that is not understood. May
    query the country table (once per term that looks like a name).
    """
    condition = Q()
    for term in text.split():
        try:
            condition &= parse_term(term)
        except SearchError:
            # A country name of several words ("United States") is one term.
            code = country_code_for_name(" ".join(text.split()))
            if code:
                return Q(src_country=code)
            raise
    return condition


def parse_term(term: str) -> Q:
    """Return the condition for one search term (see the module doc)."""
    side, _colon, rest = term.partition(":")
    if side.lower() in ADDRESS_SIDES and rest:
        return address_condition(rest, ADDRESS_SIDES[side.lower()], term)

    match = PORT_PROTOCOL.match(term)
    if match:
        return Q(dst_port=port_number(match[1], term), protocol=match[2].lower())

    if PORT.match(term):
        return Q(dst_port=port_number(term, term))

    if looks_like_address(term):
        return address_condition(term, ("src_ip", "dst_ip"), term)

    if COUNTRY_CODE.match(term):
        return Q(src_country=term.upper())

    code = country_code_for_name(term)
    if code:
        return Q(src_country=code)

    raise SearchError(
        _(
            "Cannot search for %(term)s: enter an address, a block such as "
            "185.220.0.0/16, a port such as 23/tcp or 445, or a country code."
        )
        % {"term": term[:80]}
    )


def looks_like_address(term: str) -> bool:
    """Tell whether ``term`` is meant as an address or block.

    Digits with dots, or anything with a colon, is taken for an address,
    so that a mistyped one is reported as such instead of as a country.
    """
    return ":" in term or (term[:1].isdigit() and "." in term)


def address_condition(value: str, fields: tuple[str, ...], term: str) -> Q:
    """Return a range condition on each of ``fields``, joined by OR."""
    try:
        first, last = network_bounds(value)
    except ValueError:
        raise SearchError(
            _("%(term)s is not an IPv4 or IPv6 address or block.") % {"term": term[:80]}
        ) from None

    condition = Q()
    for field in fields:
        if first == last:
            condition |= Q(**{field: first})
        else:
            condition |= Q(**{f"{field}__range": (first, last)})
    return condition


def port_number(digits: str, term: str) -> int:
    """Return ``digits`` as a port, or raise SearchError if out of range."""
    port = int(digits)
    if port > 65535:
        raise SearchError(_("%(term)s: a port is at most 65535.") % {"term": term})
    return port


def country_code_for_name(name: str) -> str | None:
    """Return the code of the country called ``name``, or None.

    Compares with the English and Japanese names in the country table,
    ignoring case; one query. None when the table does not exist yet.
    """
    try:
        country_model = apps.get_model("geo", "Country")
    except LookupError:
        return None

    match = (
        country_model.objects.filter(Q(name__iexact=name) | Q(name_ja=name))
        .values_list("code", flat=True)
        .first()
    )
    return match
