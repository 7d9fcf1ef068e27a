"""A-XDR data types: the tag table and the typed Python values that keep their DLMS type.

Every value decoded from the wire keeps its DLMS type (IEC 62056-6-2, "Data" CHOICE), so
``encode(decode(b)) == b``: an ``unsigned`` 5 is ``Unsigned(5)``, not a bare ``int``.
"""

from __future__ import annotations

import enum
import itertools
import struct
from collections.abc import Iterable, Iterator
from typing import ClassVar, Final, Self, TypeAlias, cast

import attrs

from dlmskit.axdr._datetime import Date, DateTime, Time
from dlmskit.errors import LocalProtocolError

__all__ = [
    "DONT_CARE",
    "Array",
    "Bcd",
    "BitString",
    "CompactArray",
    "Data",
    "DataType",
    "DontCare",
    "DoubleLong",
    "DoubleLongUnsigned",
    "Encodable",
    "Enum",
    "Float32",
    "Float64",
    "Integer",
    "Long",
    "Long64",
    "Long64Unsigned",
    "LongUnsigned",
    "OctetString",
    "Structure",
    "TypeDescription",
    "Unsigned",
    "Utf8String",
    "VisibleString",
]


class DataType(enum.IntEnum):
    """The tag byte of each A-XDR ``Data`` alternative (IEC 62056-6-2, Blue Book 4.1.5)."""

    NULL_DATA = 0
    ARRAY = 1
    STRUCTURE = 2
    BOOLEAN = 3
    BIT_STRING = 4
    DOUBLE_LONG = 5
    DOUBLE_LONG_UNSIGNED = 6
    OCTET_STRING = 9
    VISIBLE_STRING = 10
    UTF8_STRING = 12
    BCD = 13
    INTEGER = 15
    LONG = 16
    UNSIGNED = 17
    LONG_UNSIGNED = 18
    COMPACT_ARRAY = 19
    LONG64 = 20
    LONG64_UNSIGNED = 21
    ENUM = 22
    FLOAT32 = 23
    FLOAT64 = 24
    DATE_TIME = 25
    DATE = 26
    TIME = 27
    DONT_CARE = 255


# The same tags as plain ints, for comparisons in the codec's loops (reading a member of
# an IntEnum class costs several times an int comparison).
T_NULL_DATA: Final = 0
T_ARRAY: Final = 1
T_STRUCTURE: Final = 2
T_BOOLEAN: Final = 3
T_BIT_STRING: Final = 4
T_OCTET_STRING: Final = 9
T_VISIBLE_STRING: Final = 10
T_UTF8_STRING: Final = 12
T_COMPACT_ARRAY: Final = 19
T_FLOAT32: Final = 23
T_FLOAT64: Final = 24
T_DATE_TIME: Final = 25
T_DATE: Final = 26
T_TIME: Final = 27
T_DONT_CARE: Final = 255


class DontCare(enum.Enum):
    """The ``dont-care`` alternative (tag 255, no body); ``DONT_CARE`` is its only value."""

    DONT_CARE = 255

    def __repr__(self) -> str:
        return "DONT_CARE"


DONT_CARE = DontCare.DONT_CARE


#: What a fixed-width integer refuses to be made from (``int()`` would accept them).
_NOT_INTEGERS = (float, str, bytes)


_PLAIN_INT: Final = {int}
#: Fixed-width integers below this are shared (see ``_FixedInt.small``).
SMALL_VALUES: Final = 4096
_SMALL: dict[type, tuple[int, ...]] = {}


class _FixedInt(int):
    """Base of the fixed-width integer types: an ``int`` that knows its tag and range."""

    __slots__ = ()
    TAG: ClassVar[DataType]
    MIN: ClassVar[int]
    MAX: ClassVar[int]
    FORMAT: ClassVar[str]

    def __new__(cls, value: int = 0) -> Self:
        if isinstance(value, _NOT_INTEGERS):
            raise LocalProtocolError(f"{cls.__name__} takes an int, not {type(value).__name__}")
        if not cls.MIN <= value <= cls.MAX:
            raise LocalProtocolError(
                f"{cls.__name__} out of range: {value} not in {cls.MIN}..{cls.MAX}"
            )
        return int.__new__(cls, value)

    @classmethod
    def column(cls, values: Iterable[int]) -> list[Self]:
        """Many values of this type at once, as ``[cls(v) for v in values]`` (same checks,
        same errors): one type and range check over the whole column, each value then
        built in C. Profile buffers are columns of same-typed values."""
        items = list(values)
        if not items:
            return []
        if set(map(type, items)) != _PLAIN_INT:
            return [cls(v) for v in items]  # the constructor's checks, its first error
        low, high = min(items), max(items)
        if low < cls.MIN or high > cls.MAX:
            return [cls(v) for v in items]
        if low >= 0 and high < SMALL_VALUES:
            return list(map(cls.small().__getitem__, items))
        return list(map(int.__new__, itertools.repeat(cls), items))

    @classmethod
    def small(cls) -> tuple[Self, ...]:
        """The values ``0..SMALL_VALUES - 1`` of this type (those in range), built once:
        block energies and currents are mostly small, and a shared value costs no
        allocation."""
        table = _SMALL.get(cls)
        if table is None:
            table = _SMALL[cls] = tuple(
                int.__new__(cls, v) for v in range(max(0, min(SMALL_VALUES, cls.MAX + 1)))
            )
        return cast(tuple[Self, ...], table)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({int(self)})"

    __str__ = int.__repr__


class Integer(_FixedInt):
    """``integer``: signed 8-bit."""

    __slots__ = ()
    TAG = DataType.INTEGER
    MIN, MAX, FORMAT = -0x80, 0x7F, "b"


class Long(_FixedInt):
    """``long``: signed 16-bit."""

    __slots__ = ()
    TAG = DataType.LONG
    MIN, MAX, FORMAT = -0x8000, 0x7FFF, "h"


class DoubleLong(_FixedInt):
    """``double-long``: signed 32-bit."""

    __slots__ = ()
    TAG = DataType.DOUBLE_LONG
    MIN, MAX, FORMAT = -0x8000_0000, 0x7FFF_FFFF, "i"


class Long64(_FixedInt):
    """``long64``: signed 64-bit."""

    __slots__ = ()
    TAG = DataType.LONG64
    MIN, MAX, FORMAT = -0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, "q"


class Unsigned(_FixedInt):
    """``unsigned``: unsigned 8-bit."""

    __slots__ = ()
    TAG = DataType.UNSIGNED
    MIN, MAX, FORMAT = 0, 0xFF, "B"


class LongUnsigned(_FixedInt):
    """``long-unsigned``: unsigned 16-bit."""

    __slots__ = ()
    TAG = DataType.LONG_UNSIGNED
    MIN, MAX, FORMAT = 0, 0xFFFF, "H"


class DoubleLongUnsigned(_FixedInt):
    """``double-long-unsigned``: unsigned 32-bit."""

    __slots__ = ()
    TAG = DataType.DOUBLE_LONG_UNSIGNED
    MIN, MAX, FORMAT = 0, 0xFFFF_FFFF, "I"


class Long64Unsigned(_FixedInt):
    """``long64-unsigned``: unsigned 64-bit."""

    __slots__ = ()
    TAG = DataType.LONG64_UNSIGNED
    MIN, MAX, FORMAT = 0, 0xFFFF_FFFF_FFFF_FFFF, "Q"


class Enum(_FixedInt):
    """``enum``: one unsigned byte whose meaning the attribute's definition gives."""

    __slots__ = ()
    TAG = DataType.ENUM
    MIN, MAX, FORMAT = 0, 0xFF, "B"


class Bcd(_FixedInt):
    """``bcd``: one byte, kept as its raw value 0..255 (the nibbles are not interpreted)."""

    __slots__ = ()
    TAG = DataType.BCD
    MIN, MAX, FORMAT = 0, 0xFF, "B"


_F32 = struct.Struct(">f")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


def float32_from_bytes(raw: bytes) -> float:
    """The value of a big-endian IEEE-754 single, keeping the exact bits of a NaN.

    ``struct`` turns a signalling NaN into a quiet one on the way to ``float``; building the
    double by hand keeps the payload, so encoding gives back the same four bytes.
    """
    (bits,) = _U32.unpack(raw)
    if bits & 0x7F80_0000 == 0x7F80_0000 and bits & 0x007F_FFFF:
        wide = ((bits >> 31) << 63) | (0x7FF << 52) | ((bits & 0x007F_FFFF) << 29)
        value: float = struct.unpack(">d", _U64.pack(wide))[0]
        return value
    single: float = _F32.unpack(raw)[0]
    return single


def float32_to_bytes(value: float) -> bytes:
    """Big-endian IEEE-754 single of ``value`` (NaN payload kept, see ``float32_from_bytes``)."""
    if value != value:
        (wide,) = _U64.unpack(struct.pack(">d", value))
        mantissa = (wide >> 29) & 0x007F_FFFF or 0x0040_0000
        return _U32.pack(((wide >> 63) << 31) | 0x7F80_0000 | mantissa)
    try:
        return _F32.pack(value)
    except OverflowError:
        raise LocalProtocolError(f"{value!r} does not fit in a float32") from None


class Float32(float):
    """``float32``: IEEE-754 single; the value is rounded to single precision on creation."""

    __slots__ = ()
    TAG: ClassVar[DataType] = DataType.FLOAT32

    def __new__(cls, value: float = 0.0) -> Self:
        return super().__new__(cls, float32_from_bytes(float32_to_bytes(float(value))))

    def __repr__(self) -> str:
        return f"Float32({float(self)!r})"


class Float64(float):
    """``float64``: IEEE-754 double."""

    __slots__ = ()
    TAG: ClassVar[DataType] = DataType.FLOAT64

    def __repr__(self) -> str:
        return f"Float64({float(self)!r})"


class OctetString(bytes):
    """``octet-string``: raw bytes (logical names, date-times sent as 12 octets, ...)."""

    __slots__ = ()
    TAG: ClassVar[DataType] = DataType.OCTET_STRING

    def __repr__(self) -> str:
        return f"OctetString(bytes.fromhex({self.hex()!r}))"

    def as_datetime(self) -> DateTime:
        """Read a 12-octet string as a ``DateTime`` (meters often send date-time this way)."""
        return DateTime.from_bytes(self)

    def as_date(self) -> Date:
        """Read a 5-octet string as a ``Date``."""
        return Date.from_bytes(self)

    def as_time(self) -> Time:
        """Read a 4-octet string as a ``Time``."""
        return Time.from_bytes(self)


class VisibleString(str):
    """``visible-string``: one octet a character.

    Characters U+0000..U+00FF map to the octet of the same value, so any octets a meter
    sends (printable ISO 646 or not) decode and encode back unchanged.
    """

    __slots__ = ()
    TAG: ClassVar[DataType] = DataType.VISIBLE_STRING

    def __new__(cls, value: str = "") -> Self:
        self = super().__new__(cls, value)
        if not self.isascii() and max(map(ord, self)) > 0xFF:
            raise LocalProtocolError("visible-string holds one octet a character (U+0000..U+00FF)")
        return self

    def __repr__(self) -> str:
        return f"VisibleString({str(self)!r})"


class Utf8String(str):
    """``utf8-string``: text encoded as UTF-8."""

    __slots__ = ()
    TAG: ClassVar[DataType] = DataType.UTF8_STRING

    def __repr__(self) -> str:
        return f"Utf8String({str(self)!r})"


def _check_bits(instance: BitString, attribute: attrs.Attribute[int], length: int) -> None:
    if length < 0:
        raise LocalProtocolError("bit-string length must not be negative")
    if len(instance.value) != (length + 7) // 8:
        raise LocalProtocolError(
            f"bit-string of {length} bits needs {(length + 7) // 8} octets, "
            f"got {len(instance.value)}"
        )


@attrs.frozen(kw_only=True)
class BitString:
    """``bit-string``: ``length`` bits, first bit in the most significant bit of ``value[0]``.

    The octets are kept as received (including unused trailing bits) so the encoding
    round-trips; iterate to get the bits as ``bool``.
    """

    value: bytes = attrs.field(converter=bytes)
    length: int = attrs.field(validator=_check_bits)

    TAG: ClassVar[DataType] = DataType.BIT_STRING

    @classmethod
    def from_text(cls, text: str) -> BitString:
        """From ``"0101..."``, first character = first bit."""
        if any(c not in "01" for c in text):
            raise LocalProtocolError(f"not a bit string: {text!r}")
        return cls.from_bits(c == "1" for c in text)

    @classmethod
    def from_bits(cls, bits: Iterable[bool]) -> BitString:
        """From an iterable of bits, first bit first."""
        out = bytearray()
        count = 0
        for bit in bits:
            if count % 8 == 0:
                out.append(0)
            if bit:
                out[-1] |= 0x80 >> (count % 8)
            count += 1
        return cls(value=bytes(out), length=count)

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bool]:
        value = self.value
        return (bool(value[i >> 3] & (0x80 >> (i & 7))) for i in range(self.length))

    def __getitem__(self, index: int) -> bool:
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError("bit index out of range")
        return bool(self.value[index >> 3] & (0x80 >> (index & 7)))

    def __str__(self) -> str:
        return "".join("1" if bit else "0" for bit in self)


class Array(tuple["Data", ...]):
    """``array``: a sequence of elements (of one type, by the standard; not enforced)."""

    __slots__ = ()
    TAG: ClassVar[DataType] = DataType.ARRAY

    def __repr__(self) -> str:
        return f"Array({tuple.__repr__(self)})"


class Structure(tuple["Data", ...]):
    """``structure``: a sequence of elements of any types."""

    __slots__ = ()
    TAG: ClassVar[DataType] = DataType.STRUCTURE

    def __repr__(self) -> str:
        return f"Structure({tuple.__repr__(self)})"


_SIMPLE_TYPES = frozenset(DataType) - {DataType.ARRAY, DataType.STRUCTURE, DataType.COMPACT_ARRAY}


def _check_description(
    instance: TypeDescription, attribute: attrs.Attribute[DataType], tag: DataType
) -> None:
    if tag is DataType.ARRAY:
        if instance.element is None or not 0 <= instance.count <= 0xFFFF or instance.elements:
            raise LocalProtocolError("array TypeDescription needs count 0..65535 and one element")
    elif tag is DataType.STRUCTURE:
        if instance.element is not None or instance.count:
            raise LocalProtocolError("structure TypeDescription takes only elements")
    elif tag is DataType.COMPACT_ARRAY:
        raise LocalProtocolError("compact-array cannot describe its own elements")
    elif instance.element is not None or instance.count or instance.elements:
        raise LocalProtocolError(f"{tag.name} TypeDescription takes no parameters")


def _descriptions(items: Iterable[TypeDescription]) -> tuple[TypeDescription, ...]:
    return tuple(items)


def _values(items: Iterable[Data]) -> tuple[Data, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class TypeDescription:
    """The ``contents-description`` of a compact-array (IEC 62056-6-2, TypeDescription).

    A simple type is just ``TypeDescription(type=DataType.UNSIGNED)``; an array gives the
    ``count`` (Unsigned16) and its ``element`` description; a structure its ``elements``.
    """

    type: DataType = attrs.field(converter=DataType, validator=_check_description)
    count: int = 0
    element: TypeDescription | None = None
    elements: tuple[TypeDescription, ...] = attrs.field(default=(), converter=_descriptions)

    @classmethod
    def array(cls, count: int, element: TypeDescription) -> TypeDescription:
        return cls(type=DataType.ARRAY, count=count, element=element)

    @classmethod
    def structure(cls, *elements: TypeDescription) -> TypeDescription:
        return cls(type=DataType.STRUCTURE, elements=elements)


@attrs.frozen(kw_only=True)
class CompactArray:
    """``compact-array``: elements of one described type, packed without per-element tags."""

    type_description: TypeDescription
    values: tuple[Data, ...] = attrs.field(converter=_values)

    TAG: ClassVar[DataType] = DataType.COMPACT_ARRAY


Data: TypeAlias = (
    bool
    | Integer
    | Long
    | DoubleLong
    | Long64
    | Unsigned
    | LongUnsigned
    | DoubleLongUnsigned
    | Long64Unsigned
    | Enum
    | Bcd
    | Float32
    | Float64
    | OctetString
    | VisibleString
    | Utf8String
    | BitString
    | Array
    | Structure
    | CompactArray
    | DateTime
    | Date
    | Time
    | DontCare
    | None
)
"""Any decoded A-XDR value."""

Encodable: TypeAlias = Data | bytes | str | float | list["Encodable"] | tuple["Encodable", ...]
"""What ``encode`` takes: a ``Data`` value, or plain bytes/str/float/list/tuple."""
