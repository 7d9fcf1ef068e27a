"""OBIS codes of the Indian companion specification IS 15959 (Parts 1-3) as data.

Each row is (code, interface class, name, description). The object list of IS 15959-2
(single-phase smart meter) and the three-phase register set come from implementation-level
sources (a reference IS 15959 meter firmware and a public Indian OBIS list); the standard's
own tables were not available. Codes in C = 94, D = 91 / 96 are country-specific (India).
"""

from __future__ import annotations

from typing import Final

__all__ = ["IS15959"]

Row = tuple[str, int | None, str, str]

_DATA: Final[tuple[Row, ...]] = (
    ("0.0.0.1.0.255", 1, "Cumulative billing count", "Billing period counter."),
    ("0.0.0.1.1.255", 1, "Available billing periods", "Number of stored billing periods."),
    ("0.0.96.1.0.255", 1, "Meter serial number", "Device ID 1 (manufacturing number)."),
    ("0.0.96.1.1.255", 1, "Manufacturer name", ""),
    ("0.0.96.1.2.255", 1, "Device ID", "Utility device identifier."),
    ("0.0.96.1.4.255", 1, "Year of manufacture", ""),
    ("0.0.96.2.0.255", 1, "Cumulative programming count", "Configuration program changes."),
    ("0.0.96.10.1.255", 1, "Meter health indicator", "Status register 1."),
    (
        "0.1.96.12.5.255",
        4,
        "Average signal strength",
        "Communication port parameters: GSM field strength, channel 1.",
    ),
    ("0.0.96.11.0.255", 1, "Event code, voltage related", "Last event code of the log."),
    ("0.0.96.11.1.255", 1, "Event code, current related", "Last event code of the log."),
    ("0.0.96.11.2.255", 1, "Event code, power related", "Last event code of the log."),
    ("0.0.96.11.3.255", 1, "Event code, transaction related", "Last event code of the log."),
    ("0.0.96.11.4.255", 1, "Event code, other events", "Last event code of the log."),
    ("0.0.96.11.5.255", 1, "Event code, non-roll-over events", "Last event code of the log."),
    ("0.0.96.11.6.255", 1, "Event code, control events", "Last event code of the log."),
    ("0.0.96.13.0.255", 1, "SMO message", "Message object (IS 15959-2 IHD services)."),
    (
        "0.0.96.13.1.255",
        1,
        "Consumer message",
        "Message from the in-home display (Blue Book: consumer message).",
    ),
    ("0.0.96.13.2.255", 1, "Utility message", "Message from the utility to the display."),
    ("0.0.96.15.0.255", 1, "Event log sequence number, voltage related", "Event counter 1."),
    ("0.0.96.15.1.255", 1, "Event log sequence number, current related", "Event counter 2."),
    ("0.0.96.15.2.255", 1, "Event log sequence number, power related", "Event counter 3."),
    ("0.0.96.15.3.255", 1, "Event log sequence number, transaction related", "Event counter 4."),
    ("0.0.96.15.4.255", 1, "Event log sequence number, other events", "Event counter 5."),
    ("0.0.96.15.5.255", 1, "Event log sequence number, non-roll-over events", "Event counter 6."),
    ("0.0.96.15.6.255", 1, "Event log sequence number, control events", "Event counter 7."),
    ("0.0.94.91.0.255", 1, "Cumulative tamper count", ""),
    ("0.0.94.91.9.255", 1, "Meter type", "e.g. 6 = single-phase a.c. static direct connected."),
    ("0.0.94.91.11.255", 1, "Meter category", "e.g. D1."),
    ("0.0.94.91.12.255", 1, "Current rating", "e.g. 5-60 A."),
    (
        "0.0.94.91.18.255",
        1,
        "Event status word (ESW)",
        "128-bit bit-string, bit i set = event i active (bit 0 = MSB of the first byte).",
    ),
    (
        "0.0.94.91.26.255",
        1,
        "Event status word filter (ESWF)",
        "128-bit mask of the ESW events that are supported and pushed.",
    ),
    ("0.0.94.96.19.255", 1, "Metering mode", "Import only, forwarded or import-export."),
    ("0.0.94.96.20.255", 1, "Payment mode", "Prepaid or postpaid."),
    ("0.0.94.96.21.255", 1, "Last token recharge amount", ""),
    ("0.0.94.96.22.255", 1, "Last token recharge time", ""),
    ("0.0.94.96.23.255", 1, "Total amount at last recharge", ""),
    ("0.0.94.96.24.255", 1, "Current balance amount", ""),
    ("0.0.94.96.25.255", 1, "Current balance time", ""),
    ("1.0.0.2.0.255", 1, "Firmware version", "Firmware version of the meter."),
    ("1.0.0.4.2.255", 1, "CT ratio", "Current transformer ratio (numerator)."),
    ("1.0.0.4.3.255", 1, "PT ratio", "Voltage transformer ratio (numerator)."),
    ("1.0.0.8.0.255", 1, "Demand integration period", "Seconds; MD averaging window."),
    (
        "1.0.0.8.4.255",
        1,
        "Profile capture period",
        "Block load profile capture period in seconds (900 or 1800).",
    ),
    ("1.0.0.8.5.255", 1, "Daily load capture period", "Daily load profile period (86400 s)."),
    ("1.0.96.128.25.255", 1, "Active relay time", "Manufacturer-specific (D = 128)."),
    ("1.0.96.128.30.255", 1, "Passive relay time", "Manufacturer-specific (D = 128)."),
    (
        "0.0.155.1.1.255",
        1,
        "GPRS APN (manufacturer specific)",
        "APN as some Indian head-ends and meters keep it besides 0.0.25.4.0 (C = 155).",
    ),
)

_REGISTERS: Final[tuple[Row, ...]] = (
    ("0.0.0.1.2.255", 3, "Billing date", "Time stamp of the most recent billing period."),
    ("0.0.94.91.8.255", 3, "Cumulative power-failure duration", "Minutes."),
    ("0.0.94.91.13.255", 3, "Billing period power-on duration", "Minutes."),
    ("0.0.94.91.14.255", 3, "Cumulative power-on duration", "Minutes."),
    ("1.0.94.91.14.255", 3, "Current", "Current captured with events."),
    ("1.0.1.7.0.255", 3, "Active power import (+P), instantaneous value", "Active power, W."),
    ("1.0.9.7.0.255", 3, "Apparent power import (+S), instantaneous value", "Apparent power, VA."),
    ("1.0.11.7.0.255", 3, "Phase current", "Instantaneous current (any phase)."),
    ("1.0.12.7.0.255", 3, "Voltage", "Instantaneous voltage (any phase)."),
    ("1.0.13.7.0.255", 3, "Signed power factor", "Instantaneous power factor."),
    ("1.0.14.7.0.255", 3, "Frequency", "Supply frequency, Hz."),
    ("1.0.91.7.0.255", 3, "Neutral current", "Instantaneous neutral current."),
    ("1.0.11.27.0.255", 3, "Average current", "Current average 5: block load average."),
    ("1.0.12.27.0.255", 3, "Average voltage", "Current average 5: block load average."),
    ("1.0.13.0.0.255", 3, "Average power factor for billing period", ""),
    ("1.0.1.9.0.255", 3, "Active energy import (+A), time integral 2", ""),
    ("1.0.1.29.0.255", 3, "Block energy kWh import", "Active energy of the capture period."),
    ("1.0.2.29.0.255", 3, "Block energy kWh export", "Active energy of the capture period."),
    ("1.0.9.29.0.255", 3, "Block energy kVAh import", "Apparent energy of the capture period."),
    ("1.0.10.29.0.255", 3, "Block energy kVAh export", "Apparent energy of the capture period."),
    ("1.0.5.29.0.255", 3, "Block reactive energy QI", "Reactive energy of the capture period."),
    ("1.0.6.29.0.255", 3, "Block reactive energy QII", "Reactive energy of the capture period."),
    ("1.0.7.29.0.255", 3, "Block reactive energy QIII", "Reactive energy of the capture period."),
    ("1.0.8.29.0.255", 3, "Block reactive energy QIV", "Reactive energy of the capture period."),
)

_THREE_PHASE: Final[tuple[Row, ...]] = (
    ("1.0.31.7.0.255", 3, "L1 current", "Instantaneous current, phase R."),
    ("1.0.51.7.0.255", 3, "L2 current", "Instantaneous current, phase Y."),
    ("1.0.71.7.0.255", 3, "L3 current", "Instantaneous current, phase B."),
    ("1.0.32.7.0.255", 3, "L1 voltage", "Instantaneous voltage, phase R."),
    ("1.0.52.7.0.255", 3, "L2 voltage", "Instantaneous voltage, phase Y."),
    ("1.0.72.7.0.255", 3, "L3 voltage", "Instantaneous voltage, phase B."),
    ("1.0.33.7.0.255", 3, "L1 power factor", "Signed power factor, phase R."),
    ("1.0.53.7.0.255", 3, "L2 power factor", "Signed power factor, phase Y."),
    ("1.0.73.7.0.255", 3, "L3 power factor", "Signed power factor, phase B."),
    ("1.0.31.27.0.255", 3, "L1 average current", "Block load average, phase R."),
    ("1.0.51.27.0.255", 3, "L2 average current", "Block load average, phase Y."),
    ("1.0.71.27.0.255", 3, "L3 average current", "Block load average, phase B."),
    ("1.0.32.27.0.255", 3, "L1 average voltage", "Block load average, phase R."),
    ("1.0.52.27.0.255", 3, "L2 average voltage", "Block load average, phase Y."),
    ("1.0.72.27.0.255", 3, "L3 average voltage", "Block load average, phase B."),
    ("1.0.3.7.0.255", 3, "Signed reactive power", "Instantaneous reactive power, var."),
    ("1.0.81.7.1.255", 3, "Angle of U(L2) - U(L1)", "Phase angle between R and Y voltages."),
    ("1.0.81.7.2.255", 3, "Angle of U(L3) - U(L1)", "Phase angle between R and B voltages."),
    ("1.0.81.7.12.255", 3, "Angle of U(L3) - U(L2)", "Phase angle between Y and B voltages."),
)

_PROFILES: Final[tuple[Row, ...]] = (
    ("1.0.94.91.0.255", 7, "Instantaneous profile", "Snapshot of instantaneous parameters."),
    ("1.0.94.91.3.255", 7, "Instantaneous scaler profile", "Scaler-units of the above."),
    ("1.0.99.1.0.255", 7, "Block load profile", "Per capture period (15/30 min) energies."),
    ("1.0.94.91.4.255", 7, "Block load scaler profile", "Scaler-units of the block load."),
    ("1.0.99.2.0.255", 7, "Daily load profile", "Midnight snapshot of cumulative energies."),
    ("1.0.94.91.5.255", 7, "Daily load scaler profile", "Scaler-units of the daily load."),
    ("1.0.98.1.0.255", 7, "Billing profile", "Billing period values (history)."),
    ("1.0.94.91.6.255", 7, "Billing scaler profile", "Scaler-units of the billing profile."),
    ("0.0.99.98.0.255", 7, "Voltage related events", "Event log."),
    ("0.0.99.98.1.255", 7, "Current related events", "Event log."),
    ("0.0.99.98.2.255", 7, "Power related events", "Event log (power failure)."),
    ("0.0.99.98.3.255", 7, "Transaction related events", "Event log (configuration changes)."),
    ("0.0.99.98.4.255", 7, "Other events", "Event log (tamper)."),
    ("0.0.99.98.5.255", 7, "Non-roll-over events", "Event log (cover open); one entry."),
    ("0.0.99.98.6.255", 7, "Control events", "Event log (load switch)."),
    ("1.0.94.91.7.255", 7, "Event scaler profile", "Scaler-units of the event logs."),
    ("0.0.94.91.10.255", 7, "Name plate details", "Name plate profile: identity objects."),
    ("1.0.94.91.10.255", 7, "Name plate details (A = 1)", "Name plate profile, A = 1 variant."),
)

_OBJECTS: Final[tuple[Row, ...]] = (
    ("0.0.40.0.1.255", 15, "Association LN, public client (PC)", "Client SAP 16, no security."),
    ("0.0.40.0.2.255", 15, "Association LN, meter reader (MR)", "Client SAP 32, LLS."),
    ("0.0.40.0.3.255", 15, "Association LN, utility settings (US)", "Client SAP 48, HLS."),
    ("0.0.40.0.4.255", 15, "Association LN, push", "Client SAP 64, pre-established."),
    ("0.0.40.0.5.255", 15, "Association LN, firmware upgrade (FW)", "Client SAP 80, HLS."),
    ("0.0.40.0.6.255", 15, "Association LN, in-home display (IHD)", "Pre-established, LLS."),
    ("0.0.43.0.2.255", 64, "Security setup, meter reader (MR)", ""),
    ("0.0.43.0.3.255", 64, "Security setup, utility settings (US)", "Global key transfer."),
    ("0.0.43.0.4.255", 64, "Security setup, push", ""),
    ("0.0.43.0.5.255", 64, "Security setup, firmware upgrade (FW)", ""),
    ("0.0.43.1.1.255", 1, "Invocation counter, public client (PC)", ""),
    ("0.0.43.1.2.255", 1, "Invocation counter, meter reader (MR)", ""),
    ("0.0.43.1.3.255", 1, "Invocation counter, utility settings (US)", ""),
    ("0.0.43.1.4.255", 1, "Invocation counter, push", ""),
    ("0.0.43.1.5.255", 1, "Invocation counter, firmware upgrade (FW)", ""),
    ("0.0.43.1.6.255", 1, "Invocation counter, in-home display (IHD)", ""),
    ("0.0.10.0.1.255", 9, "MD reset script table", "End of billing period / MD reset."),
    ("0.0.15.0.0.255", 22, "Single action schedule, billing dates", ""),
    ("0.0.15.0.2.255", 22, "Single action schedule, image activation", ""),
    ("0.0.15.0.4.255", 22, "Single action schedule, push to HES", "Periodic push trigger."),
    ("0.3.15.0.4.255", 22, "Single action schedule, push to IHD", "Periodic push trigger."),
    ("0.0.25.9.0.255", 40, "Push setup, instantaneous (SM to HES)", "Periodic push."),
    ("0.1.25.9.0.255", 40, "Push setup, consumer message (IHD to HES)", ""),
    ("0.2.25.9.0.255", 40, "Push setup, utility message (HES to IHD)", ""),
    ("0.3.25.9.0.255", 40, "Push setup, periodic (SM to IHD)", ""),
    ("0.4.25.9.0.255", 40, "Push setup, alert (SM to HES)", "Pushes the ESW on events."),
    ("0.0.96.3.10.255", 70, "Load limit function status", "Disconnect control (relay)."),
    ("0.0.17.0.0.255", 71, "Load limit value", "Limiter; threshold in kW."),
)

_ENERGY_NAMES: Final = (
    (1, "kWh import"),
    (2, "kWh export"),
    (9, "kVAh import"),
    (10, "kVAh export"),
)


def _tariff_rows() -> tuple[Row, ...]:
    """Cumulative energies and MDs, total and per time zone (TZ1..TZ8)."""
    rows: list[Row] = []
    quantity = {1: "Active", 2: "Active", 9: "Apparent", 10: "Apparent"}
    direction = {1: "import (+A)", 2: "export (-A)", 9: "import", 10: "export"}
    power = {1: "kW import", 2: "kW export", 9: "kVA import", 10: "kVA export"}
    for c, label in _ENERGY_NAMES:
        for e in range(9):
            suffix = "" if e == 0 else f", rate {e}"
            tz = "" if e == 0 else f" TZ{e}"
            rows.append(
                (
                    f"1.0.{c}.8.{e}.255",
                    3,
                    f"{quantity[c]} energy {direction[c]}{suffix}",
                    f"Cumulative energy {label}{tz}.",
                )
            )
            rows.append(
                (
                    f"1.0.{c}.6.{e}.255",
                    4,
                    f"Maximum demand {power[c]}{suffix}",
                    f"MD {power[c]}{tz} with its date-time (capture_time).",
                )
            )
    return tuple(rows)


IS15959: Final[tuple[Row, ...]] = (
    _DATA + _REGISTERS + _THREE_PHASE + _PROFILES + _OBJECTS + _tariff_rows()
)
