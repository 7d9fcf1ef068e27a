"""Unsolicited APDUs: EVENT-NOTIFICATION-Request (0xC2) and DataNotification (0x0F).

Both carry their date-time as an OCTET STRING; dlmskit keeps it as a
:class:`dlmskit.axdr.DateTime` (or ``None`` when not sent).
"""

from __future__ import annotations

from typing import Final

import attrs

from dlmskit.apdu._descriptors import (
    ApduReader,
    CosemAttributeDescriptor,
    LongInvokeIdAndPriority,
    TaggedApdu,
    read_date_time,
    write_date_time,
)
from dlmskit.axdr import Data, DateTime, encode_into
from dlmskit.errors import DecodeError

__all__ = ["DataNotification", "EventNotificationRequest"]

_DEFAULT_LONG_IIP: Final = LongInvokeIdAndPriority()
#: Long-invoke-id-and-priority and date-time values already read, by their octets: a
#: fleet's pushes repeat both (the same interval end, the same push invocation), and both
#: values are immutable. Each map starts over when it reaches _MAX_SEEN entries.
_IIP_SEEN: dict[bytes, LongInvokeIdAndPriority] = {}
_TIME_SEEN: dict[bytes, DateTime] = {}
_MAX_SEEN: Final = 4096


@attrs.frozen(kw_only=True)
class EventNotificationRequest(TaggedApdu):
    """EVENT-NOTIFICATION-Request: a server reports an attribute value on its own.

    ``time`` is OPTIONAL; when present it is sent as a 12-byte octet string with its
    length (``0C``). The older ASN.1 (Cosem-Date-Time, a fixed-size OCTET STRING) sends
    the 12 bytes without a length; that form is read too, and re-encoded with it.
    """

    TAG = 0xC2

    time: DateTime | None = None
    attribute_descriptor: CosemAttributeDescriptor
    value: Data

    def _write_body(self, out: bytearray) -> None:
        if self.time is None:
            out.append(0)
        else:
            out.append(1)
            write_date_time(out, self.time)
        self.attribute_descriptor._write(out)
        encode_into(out, self.value)

    @classmethod
    def _read_body(cls, r: ApduReader) -> EventNotificationRequest:
        time: DateTime | None = None
        if r.flag("time usage flag"):
            pos = r.pos
            if r.pos < r.end and r.buf[r.pos] != 12:
                # Fixed-size form: a date-time never starts with 0x0C (year 3072 and on).
                time = DateTime.from_bytes(r.raw(12, "time"), pos)
            else:
                time = read_date_time(r, "time")
            if time is None:
                raise DecodeError("empty time octet string", offset=pos, expected="12 bytes")
        descriptor = CosemAttributeDescriptor._read(r)
        return cls(time=time, attribute_descriptor=descriptor, value=r.data())


@attrs.frozen(kw_only=True)
class DataNotification(TaggedApdu):
    """Data-Notification: push data (IEC 62056-5-3), e.g. from a Push setup object.

    ``date_time`` is sent as an octet string of length 0 (``None``) or 12.
    """

    TAG = 0x0F

    long_invoke_id_and_priority: LongInvokeIdAndPriority = _DEFAULT_LONG_IIP
    date_time: DateTime | None = None
    notification_body: Data

    def _write_body(self, out: bytearray) -> None:
        self.long_invoke_id_and_priority._write(out)
        write_date_time(out, self.date_time)
        encode_into(out, self.notification_body)

    @classmethod
    def _read_body(cls, r: ApduReader) -> DataNotification:
        buf, pos = r.buf, r.pos
        key = buf[pos : pos + 4]
        long_iip = _IIP_SEEN.get(key)
        if long_iip is None:
            long_iip = LongInvokeIdAndPriority._read(r)
            if len(_IIP_SEEN) >= _MAX_SEEN:
                _IIP_SEEN.clear()
            _IIP_SEEN[key] = long_iip
        else:
            r.pos = pos + 4
        pos = r.pos
        date_time: DateTime | None = None
        if pos < r.end and buf[pos] == 12:
            key = buf[pos + 1 : pos + 13]
            date_time = _TIME_SEEN.get(key)
        if date_time is None:
            date_time = read_date_time(r, "date-time")
            if date_time is not None and r.pos == pos + 13:
                if len(_TIME_SEEN) >= _MAX_SEEN:
                    _TIME_SEEN.clear()
                _TIME_SEEN[buf[pos + 1 : pos + 13]] = date_time
        else:
            r.pos = pos + 13
        return cls(
            long_invoke_id_and_priority=long_iip,
            date_time=date_time,
            notification_body=r.data(),
        )
