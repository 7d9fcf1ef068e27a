"""Fuzz targets for the value codecs: A-XDR, xDLMS APDUs, ACSE, OBIS, object_list.

Seeds are the hand vectors of dlms-facts.md (sections 1.5, 2, 3.4) and APDUs our own
encoder writes for the service shapes those sections list.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from dlmskit.apdu import (
    AARE,
    AARQ,
    RLRE,
    RLRQ,
    ConfirmedServiceError,
    InitiateRequest,
    InitiateResponse,
    decode_apdu,
    encode_apdu,
)
from dlmskit.association import AttributeAccessMode, MethodAccessMode
from dlmskit.axdr import Array, DeviationSign, Structure, decode, encode
from dlmskit.cosem import (
    AttributeAccessItem,
    CaptureObject,
    MethodAccessItem,
    ObjectListEntry,
    ProfileColumns,
    ScalerUnit,
    clock_datetime,
    decode_object_list,
    encode_object_list,
    register_quantity,
)
from dlmskit.errors import DecodeError
from fuzz._target import Target
from obis import ObisCode, ObisError, ObisPattern

__all__ = [
    "ACSE",
    "APDU",
    "APDU_VECTORS",
    "AXDR",
    "AXDR_VECTORS",
    "COSEM_VALUES",
    "OBIS",
    "OBJECT_LIST",
]

#: IST 2024-01-01 00:00:00, deviation -330, status 0 (dlms-facts.md 2.2).
_IST = "07E80101FF00000000FEB600"

#: One vector a data type and a length form (dlms-facts.md 2.1, 2.2).
AXDR_VECTORS: Mapping[str, str] = {
    "null": "00",
    "array": "01020600000001 0600000002",
    "structure": "0202 1100 120100",
    "boolean": "0301",
    "boolean-ff": "03FF",
    "bit-string": "040CABC0",
    "double-long": "05FFFFFFFE",
    "double-long-unsigned": "0600000064",
    "octet-string-obis": "09060100010800FF",
    "octet-string-datetime": "090C" + _IST,
    "visible-string": "0A03414243",
    "utf8-string": "0C02C3A9",
    "bcd": "0D12",
    "integer": "0FFF",
    "long": "10FF38",
    "unsigned": "1105",
    "long-unsigned": "120008",
    "compact-array": "131103010203",
    "compact-array-structure": "1302021112060100050200 06",
    "long64": "14FFFFFFFFFFFFFFFE",
    "long64-unsigned": "150000000000000001",
    "enum": "1600",
    "float32": "1740490FDB",
    "float64": "18400921FB54442D18",
    "date-time": "19" + _IST,
    "date": "1A07E80101FF",
    "time": "1B0A000000",
    "dont-care": "FF",
    "length-81": "0981" + "80" + "AB" * 0x80,
    "length-82": "0982" + "0100" + "CD" * 0x100,
    "length-84": "0984" + "00000004" + "01020304",
    "scaler-unit": "0202 0FFD 161E",
    "profile-rows": "0102"
    + ("0206 090C" + _IST + " 1100 0600000001 0600000002 0600000003 0600000004") * 2,
}

#: APDUs of every family: dlms-facts.md 1.5 and 3.4 vectors, plus our encoder's output
#: for the shapes of 1.2.
APDU_VECTORS: Mapping[str, str] = {
    "get-request-normal": "C001C100080000010000FF0200",
    "get-request-next": "C002C100000001",
    "get-request-with-list": "C003C1020003 0100010800FF 0200 0001 0000010000FF 0200",
    "get-request-selective": "C001C10007 0100630100FF 0201 01 0204 0204 120008 0906"
    " 0000010000FF 0F02 120000 090C" + _IST + " 090C07E80102FF00000000FEB600 0100",
    "get-response-normal": "C401C1000600003039",
    "get-response-error": "C401C10103",
    "get-response-datablock": "C402C101000000010003 0A0B0C",
    "get-response-datablock-error": "C402C10100000001010E",
    "get-response-with-list": "C403C1020003000104",
    "set-request-normal": "C101C100030100010800FF02000600000005",
    "set-request-first-datablock": "C102C100030100010800FF02000000000001020600",
    "set-request-datablock": "C103C1010000000203000005",
    "set-request-with-list": "C104C10200030100010800FF020000030100010800FF02000206"
    "000000010600000002",
    "set-response-normal": "C501C100",
    "set-response-datablock": "C502C100000001",
    "set-response-last-datablock": "C503C10000000002",
    "set-response-with-list": "C505C1020003",
    "action-request-normal": "C301C10046000060030AFF01010F00",
    "action-request-hls-pass-3": "C301C1000F0000280000FF0101091110000000011A52FE7DD3E72748973C1E28",
    "action-request-first-pblock": "C304C10046000060030AFF010000000001010F",
    "action-response-normal": "C701C10001000F05",
    "action-response-pblock": "C702C10100000001020F00",
    "action-response-with-list": "C703C10200000B01000300",
    "access-request": "D9C000000100010100030100010800FF020100",
    "data-notification": "0FC00000010C" + "07E80101FF0A000000FEB600" + "0300",
    "event-notification": "C2 0000 0F 000060030AFF 02 0600000001",
    "general-block-transfer": "E0850003000203C401C1",
    "general-block-transfer-ack": "E07F0001000000",
    "exception-response": "D80103",
    "confirmed-service-error": "0E010601",
    "read-request": "050102FA00",
    "read-response": "0C01000600000001",
    "write-request": "060102FA00011105",
    "glo-get-request-sc10": "C81E1001234567C0010000080000010000FF020006725D910F9221D263877516",
    "glo-get-request-sc20": "C8122001234567411312FF935A47566827C467BC",
    "glo-get-request-sc30": "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B",
    "general-glo-ciphering": "DB084D4D4D0000BC614E1E3001234567411312FF935A47566827C467BC"
    "7D825C3BE4A77C3FCC056B6B",
    "general-ded-ciphering-empty-title": "DC00122001234567411312FF935A47566827C467BC",
}

#: ACSE vectors of dlms-facts.md 1.5.
ACSE_VECTORS: Mapping[str, str] = {
    "aarq-ln-no-auth": "601DA109060760857405080101BE10040E01000000065F1F0400001E1DFFFF",
    "aare-accepted": "6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F"
    "0400001E1D04C80007",
    "aare-rejected": "611FA109060760857405080101A203020101A305A103020101BE0604040E010601",
    "aare-hls-gmac": "6142A109060760857405080101A203020100A305A10302010E880207808907608574"
    "05080205AA0A8008503677524A323146BE10040E0800065F1F040000501F01F40007",
    "aarq-ciphered-lls": "6066A109060760857405080103A60A04084D4D4D0000BC614E8A0207808B076085"
    "7405080201AC0A80083132333435363738BE34043221303001234567801302FF8A7874133D414CED25B4"
    "2534D28DB0047720606B175BD52211BE6841DB204D39EE6FDB8E356855",
    "rlrq-normal": "6203800100",
    "rlre-normal": "6303800100",
}


def _hex(vectors: Mapping[str, str]) -> dict[str, bytes]:
    return {name: bytes.fromhex(text.replace(" ", "")) for name, text in vectors.items()}


# ------------------------------------------------------------------------------ A-XDR


def _axdr(data: bytes) -> None:
    value = decode(data)
    canonical = encode(value)
    # the canonical encoding is a fixed point: lossless both ways (NaN floats included)
    assert encode(decode(canonical)) == canonical, (data.hex(), canonical.hex())


AXDR = Target(
    name="axdr",
    description="dlmskit.axdr.decode, then encode(decode(encode(v))) is stable",
    run=_axdr,
    allowed=(DecodeError,),
    seeds=lambda: _hex(AXDR_VECTORS),
)


# ------------------------------------------------------------------------------ APDUs


def _apdu(data: bytes) -> None:
    wire = encode_apdu(decode_apdu(data))
    # the canonical encoding is a fixed point (compared as bytes: NaN floats differ as
    # values)
    assert encode_apdu(decode_apdu(wire)) == wire, (data.hex(), wire.hex())


APDU = Target(
    name="apdu",
    description="dlmskit.apdu.decode_apdu over every APDU, then encode_apdu round trip",
    run=_apdu,
    allowed=(DecodeError,),
    seeds=lambda: {**_hex(APDU_VECTORS), **_hex(ACSE_VECTORS)},
)


# ------------------------------------------------------------------------------- ACSE

_ACSE_CLASSES: tuple[type[AARQ] | type[AARE] | type[RLRQ] | type[RLRE], ...] = (
    AARQ,
    AARE,
    RLRQ,
    RLRE,
)


def _acse(data: bytes) -> None:
    # every class sees every input: each must refuse the others' tags cleanly
    for cls in _ACSE_CLASSES:
        try:
            apdu = cls.from_bytes(data)
        except DecodeError:
            continue
        wire = apdu.to_bytes()
        assert cls.from_bytes(wire) == apdu, (data.hex(), wire.hex())
        inner: InitiateRequest | InitiateResponse | ConfirmedServiceError | None = None
        try:
            if isinstance(apdu, AARQ):
                inner = apdu.initiate_request()
            elif isinstance(apdu, AARE):
                inner = apdu.initiate_response()
        except DecodeError:
            continue
        if inner is not None:
            assert type(inner).from_bytes(inner.to_bytes()) == inner


ACSE = Target(
    name="acse",
    description="AARQ/AARE/RLRQ/RLRE.from_bytes and the InitiateRequest/Response inside",
    run=_acse,
    allowed=(DecodeError,),
    seeds=lambda: _hex(ACSE_VECTORS),
)


# ------------------------------------------------------------------------------- OBIS


def _obis(data: bytes) -> None:
    # the input is tried as six raw octets, as a code's text and as a pattern's text;
    # each refusal is an ObisError and the next reading is still tried
    if len(data) == 6:
        raw = ObisCode.from_bytes(data)
        assert raw.to_bytes() == data
    else:
        with contextlib.suppress(ObisError):
            ObisCode.from_bytes(data)
            raise AssertionError(f"{len(data)} octets accepted as an OBIS code")
    text = data.decode("latin-1")
    with contextlib.suppress(ObisError):
        code = ObisCode.parse(text)
        assert ObisCode.parse(str(code)) == code
        assert ObisCode.parse(code.to_iec()) == code
        assert ObisCode.from_bytes(code.to_bytes()) == code
    with contextlib.suppress(ObisError):
        pattern = ObisPattern.parse(text)
        assert ObisPattern.parse(str(pattern)) == pattern


OBIS = Target(
    name="obis",
    description="obis.ObisCode.parse/from_bytes and ObisPattern.parse, text round trips",
    run=_obis,
    allowed=(ObisError,),
    seeds=lambda: {
        "dotted": b"1.0.1.8.0.255",
        "dotted-five": b"1.0.99.1.0",
        "iec": b"1-0:1.8.0*255",
        "iec-no-f": b"1-0:1.8.0",
        "raw": bytes.fromhex("0100630100FF"),
        "pattern-range": b"1.0.1.8.1-8.255",
        "pattern-wildcard": b"1-0:*.8.0*255",
        "pattern-list": b"0.0.96.11.0-4.255",
    },
)


# -------------------------------------------------------------------------- object list


def _object_list(data: bytes) -> None:
    entries = decode_object_list(decode(data))
    assert decode_object_list(encode_object_list(entries)) == entries


def _object_list_seeds() -> dict[str, bytes]:
    entries = (
        ObjectListEntry(
            class_id=8,
            version=0,
            logical_name=ObisCode(0, 0, 1, 0, 0, 255),
            attribute_access=(
                AttributeAccessItem(attribute_id=1, access_mode=AttributeAccessMode.READ_ONLY),
                AttributeAccessItem(attribute_id=2, access_mode=AttributeAccessMode.READ_AND_WRITE),
            ),
            method_access=(MethodAccessItem(method_id=1, access_mode=MethodAccessMode.ACCESS),),
        ),
        ObjectListEntry(
            class_id=7,
            version=1,
            logical_name=ObisCode(1, 0, 99, 1, 0, 255),
            attribute_access=(
                AttributeAccessItem(
                    attribute_id=2,
                    access_mode=AttributeAccessMode.READ_ONLY,
                    access_selectors=(1, 2),
                ),
            ),
        ),
    )
    return {
        f"object-list-v{version}": encode(encode_object_list(entries, association_version=version))
        for version in (0, 1)
    }


OBJECT_LIST = Target(
    name="object_list",
    description="dlmskit.cosem.decode_object_list over decoded A-XDR, encode round trip",
    run=_object_list,
    allowed=(DecodeError,),
    seeds=_object_list_seeds,
)


# ------------------------------------------------------------------------ COSEM values


def _cosem_values(data: bytes) -> None:
    """Read a decoded value as each typed COSEM value a client reads off a meter."""
    value = decode(data)
    with contextlib.suppress(DecodeError):
        scaler_unit = ScalerUnit.from_data(value)
        assert ScalerUnit.from_data(scaler_unit.to_data()) == scaler_unit
    with contextlib.suppress(DecodeError):
        capture = CaptureObject.from_data(value)
        assert CaptureObject.from_data(capture.to_data()) == capture
    for sign in DeviationSign:
        with contextlib.suppress(DecodeError):
            clock_datetime(value, sign=sign)
    if isinstance(value, Structure) and len(value) == 2:
        with contextlib.suppress(DecodeError):
            register_quantity(value[0], value[1])
        # (capture_objects, buffer): the columns of a profile, then its rows
        with contextlib.suppress(DecodeError):
            columns = ProfileColumns.from_data(value[0])
            scalers = {c.logical_name: ScalerUnit(scaler=-1, unit=30) for c in columns}
            for sign in DeviationSign:
                rows = columns.rows(value[1], sign=sign, scalers=scalers)
                assert all(len(row.values) == len(columns) for row in rows)


def _cosem_seeds() -> dict[str, bytes]:
    clock = CaptureObject.of(8, "0.0.1.0.0.255", 2)
    energy = CaptureObject.of(3, "1.0.1.8.0.255", 2)
    columns = Array((clock.to_data(), energy.to_data()))
    rows = bytes.fromhex(AXDR_VECTORS["profile-rows"].replace(" ", ""))
    buffer = Array(
        Structure((decode(bytes.fromhex("090C" + _IST)), decode(bytes.fromhex("0600000064"))))
        for _ in range(2)
    )
    return {
        "scaler-unit": bytes.fromhex("02020FFD161E"),
        "capture-object": encode(energy.to_data()),
        "clock-octets": bytes.fromhex("090C" + _IST),
        "clock-date-time": bytes.fromhex("19" + _IST),
        "register-and-scaler": bytes.fromhex("0202 0600000064 02020FFD161E".replace(" ", "")),
        "profile-columns-and-rows": encode(Structure((columns, buffer))),
        "profile-rows-only": rows,
    }


COSEM_VALUES = Target(
    name="cosem_values",
    description="dlmskit.cosem client-side readers: ScalerUnit, CaptureObject, clock, "
    "register quantities, profile columns and rows",
    run=_cosem_values,
    allowed=(DecodeError,),
    seeds=_cosem_seeds,
)
