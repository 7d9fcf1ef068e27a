"""Common OBIS codes of the DLMS UA Blue Book (IEC 62056-6-1 / 62056-6-2) as data.

Each row is (code, interface class, name, description). Only codes whose meaning and usual
interface class are well established are listed; where a standard allows several classes
(for example 1, 3 or 4 for a counter) the class most meters use is given.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BLUE_BOOK"]

Row = tuple[str, int | None, str, str]

_ABSTRACT: Final[tuple[Row, ...]] = (
    ("0.0.1.0.0.255", 8, "Clock", "Date-time, time zone, clock status and daylight saving."),
    ("0.0.10.0.0.255", 9, "Global meter reset script table", "Scripts resetting the meter."),
    (
        "0.0.10.0.1.255",
        9,
        "MDI reset / end of billing period script table",
        "Scripts run at the end of a billing period (MD reset).",
    ),
    ("0.0.10.0.100.255", 9, "Tariffication script table", "Scripts switching tariff rates."),
    ("0.0.10.0.101.255", 9, "Activate test mode script table", ""),
    ("0.0.10.0.102.255", 9, "Activate normal mode script table", ""),
    (
        "0.0.10.0.106.255",
        9,
        "Disconnect control script table",
        "Scripts invoking the disconnect control methods.",
    ),
    (
        "0.0.10.0.107.255",
        9,
        "Image activation script table",
        "Script activating a transferred firmware image.",
    ),
    ("0.0.10.0.108.255", 9, "Push script table", "Scripts invoking push setup objects."),
    ("0.0.11.0.0.255", 11, "Special days table", "Exceptions to the week profile."),
    ("0.0.13.0.0.255", 20, "Activity calendar", "Season, week and day profiles (tariffs)."),
    (
        "0.0.15.0.0.255",
        22,
        "Single action schedule, end of billing period",
        "Billing dates: runs the end-of-billing-period script.",
    ),
    ("0.0.15.0.2.255", 22, "Single action schedule, image activation", ""),
    ("0.0.15.0.4.255", 22, "Single action schedule, push", "Periodic trigger of a push setup."),
    ("0.0.17.0.0.255", 71, "Limiter", "Monitors a value against thresholds (load limit)."),
    ("0.0.20.0.0.255", 19, "IEC local port setup", "Optical port (IEC 62056-21) parameters."),
    ("0.0.22.0.0.255", 23, "IEC HDLC setup", "HDLC link parameters (IEC 62056-46)."),
    ("0.0.25.0.0.255", 41, "TCP-UDP setup", "Wrapper port (4059), MSS, inactivity time-out."),
    ("0.0.25.1.0.255", 42, "IPv4 setup", "IPv4 address, subnet mask, gateway, DNS."),
    ("0.0.25.4.0.255", 45, "GPRS modem setup", "APN, PIN code, quality of service."),
    ("0.0.25.6.0.255", 47, "GSM diagnostic", "Operator, status, signal quality, cell info."),
    ("0.0.25.7.0.255", 48, "IPv6 setup", "IPv6 addresses, gateway and DNS."),
    ("0.0.25.9.0.255", 40, "Push setup", "What to push, where, when and how."),
    (
        "0.0.40.0.0.255",
        15,
        "Current association",
        "Association LN object of the association in use.",
    ),
    ("0.0.41.0.0.255", 17, "SAP assignment", "Logical devices and their SAPs."),
    (
        "0.0.42.0.0.255",
        1,
        "COSEM logical device name",
        "Unique name of the logical device: 3-letter FLAG id + up to 13 characters.",
    ),
    ("0.0.44.0.0.255", 18, "Image transfer", "Firmware image transfer and activation."),
    ("0.0.96.3.10.255", 70, "Disconnect control", "Supply disconnector (relay) control."),
    ("0.0.96.7.0.255", 1, "Number of power failures", "Power failures in all phases."),
    ("0.0.96.9.0.255", 3, "Ambient temperature", ""),
    ("0.0.97.97.0.255", 1, "Error register", "Meter error flags."),
    ("0.0.97.98.0.255", 1, "Alarm register", "Meter alarm flags."),
)

_ELECTRICITY: Final[tuple[Row, ...]] = (
    ("1.0.0.0.0.255", 1, "Electricity ID 1", ""),
    ("1.0.0.2.0.255", 1, "Active firmware identifier", ""),
    ("1.0.0.9.1.255", 1, "Local time", ""),
    ("1.0.0.9.2.255", 1, "Local date", ""),
    ("1.0.3.7.0.255", 3, "Reactive power import (+Q), instantaneous value", ""),
    ("1.0.3.8.0.255", 3, "Reactive energy import (+R)", "Cumulative (time integral 1)."),
    ("1.0.4.8.0.255", 3, "Reactive energy export (-R)", "Cumulative (time integral 1)."),
    ("1.0.5.8.0.255", 3, "Reactive energy QI", "Cumulative kvarh, quadrant I (lag, import)."),
    ("1.0.6.8.0.255", 3, "Reactive energy QII", "Cumulative kvarh, quadrant II."),
    ("1.0.7.8.0.255", 3, "Reactive energy QIII", "Cumulative kvarh, quadrant III."),
    ("1.0.8.8.0.255", 3, "Reactive energy QIV", "Cumulative kvarh, quadrant IV (lead, import)."),
    ("1.0.2.7.0.255", 3, "Active power export (-P), instantaneous value", ""),
    ("1.0.10.7.0.255", 3, "Apparent power export (-S), instantaneous value", ""),
)

BLUE_BOOK: Final[tuple[Row, ...]] = _ABSTRACT + _ELECTRICITY
