"""OBIS catalogue against its issue's text: every code named in dlms-facts.md sections 6
(IS 15959 / RDSS) and 7 (OBIS and interface classes) has a catalogue entry."""

from __future__ import annotations

import pytest

import obis

#: Every A.B.C.D.E.F code written out in dlms-facts.md sections 6 and 7.
FACTS_CODES = (
    "0.0.1.0.0.255",
    "0.0.10.0.1.255",
    "0.0.13.0.0.255",
    "0.0.15.0.0.255",
    "0.0.15.0.2.255",
    "0.0.15.0.4.255",
    "0.0.17.0.0.255",
    "0.0.22.0.0.255",
    "0.0.25.0.0.255",
    "0.0.25.1.0.255",
    "0.0.25.4.0.255",
    "0.0.25.6.0.255",
    "0.0.25.7.0.255",
    "0.0.25.9.0.255",
    "0.0.40.0.0.255",
    "0.0.40.0.1.255",
    "0.0.40.0.2.255",
    "0.0.40.0.3.255",
    "0.0.40.0.4.255",
    "0.0.40.0.5.255",
    "0.0.40.0.6.255",
    "0.0.41.0.0.255",
    "0.0.42.0.0.255",
    "0.0.43.0.2.255",
    "0.0.43.0.3.255",
    "0.0.44.0.0.255",
    "0.0.94.91.10.255",
    "0.0.94.91.18.255",
    "0.0.94.91.26.255",
    "0.0.96.3.10.255",
    "0.0.99.98.0.255",
    "0.0.99.98.1.255",
    "0.0.99.98.2.255",
    "0.0.99.98.3.255",
    "0.0.99.98.4.255",
    "0.0.99.98.5.255",
    "0.0.99.98.6.255",
    "0.0.155.1.1.255",
    "0.1.25.9.0.255",
    "0.2.25.9.0.255",
    "0.3.25.9.0.255",
    "0.4.25.9.0.255",
    "1.0.0.8.4.255",
    "1.0.94.91.0.255",
    "1.0.94.91.3.255",
    "1.0.94.91.4.255",
    "1.0.94.91.5.255",
    "1.0.94.91.6.255",
    "1.0.94.91.7.255",
    "1.0.98.1.0.255",
    "1.0.99.1.0.255",
    "1.0.99.2.0.255",
)


@pytest.mark.parametrize("code", FACTS_CODES)
def test_every_code_of_the_reference_sections_is_catalogued(code: str) -> None:
    entry = obis.lookup(code)
    assert entry is not None, code
    assert entry.name and obis.describe(code) == entry.name


def test_manufacturer_specific_apn_of_indian_head_ends() -> None:
    # the one code of section 6.3 the catalogue lacked
    entry = obis.lookup("0.0.155.1.1.255")
    assert entry is not None and entry.interface_class == 1
    assert entry.source is obis.Source.IS15959
