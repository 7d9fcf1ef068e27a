"""Short name referencing: Read/Write/UnconfirmedWrite/InformationReport APDUs."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu._results import DataAccessResult
from dlmskit.apdu._sn import (
    BlockNumberAccess,
    BlockNumberResult,
    DataBlockResult,
    InformationReportRequest,
    ParameterizedAccess,
    ReadDataBlockAccess,
    ReadRequest,
    ReadResponse,
    UnconfirmedWriteRequest,
    VariableName,
    WriteDataBlockAccess,
    WriteRequest,
    WriteResponse,
)
from dlmskit.axdr import (
    Array,
    Data,
    DateTime,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
    VisibleString,
)
from dlmskit.errors import DecodeError, LocalProtocolError

SnApdu = (
    ReadRequest
    | ReadResponse
    | WriteRequest
    | WriteResponse
    | UnconfirmedWriteRequest
    | InformationReportRequest
)
CLASSES: dict[int, type[SnApdu]] = {
    cls.TAG: cls
    for cls in (
        ReadRequest,
        ReadResponse,
        WriteRequest,
        WriteResponse,
        UnconfirmedWriteRequest,
        InformationReportRequest,
    )
}


# -- gurux-dlms as an oracle -----------------------------------------------------------------


def _sn_client() -> object:
    from gurux_dlms import GXDLMSClient
    from gurux_dlms.enums import Conformance, InterfaceType

    client = GXDLMSClient(False, 16, 1, interfaceType=InterfaceType.WRAPPER)
    client.settings.negotiatedConformance |= (
        Conformance.MULTIPLE_REFERENCES
        | Conformance.PARAMETERIZED_ACCESS
        | Conformance.SELECTIVE_ACCESS
    )
    return client


def _apdu(frames: list[bytes]) -> bytes:
    assert len(frames) == 1
    frame = bytes(frames[0])
    assert int.from_bytes(frame[6:8], "big") == len(frame) - 8
    return frame[8:]


def _parse(wire: bytes, cls: type[SnApdu]) -> SnApdu:
    value = cls.from_bytes(wire)
    assert value.to_bytes() == wire
    return value


def test_gurux_read_one_attribute() -> None:
    from gurux_dlms.objects import GXDLMSData

    client = _sn_client()
    data = GXDLMSData("0.0.96.1.0.255")
    data.shortName = 0x0100
    wire = _apdu(client.read(data, 2))  # type: ignore[attr-defined]
    # attribute 2 of the object with base name 0x0100 is variable name 0x0108
    assert _parse(wire, ReadRequest) == ReadRequest(variables=[VariableName(name=0x0108)])


def test_gurux_read_list() -> None:
    from gurux_dlms.objects import GXDLMSData, GXDLMSRegister

    client = _sn_client()
    data = GXDLMSData("0.0.96.1.0.255")
    data.shortName = 0x0100
    register = GXDLMSRegister("1.0.1.8.0.255")
    register.shortName = 0x0200
    frames = client.readList([(data, 2), (register, 2), (register, 3)])  # type: ignore[attr-defined]
    wire = _apdu(frames[0])
    assert _parse(wire, ReadRequest) == ReadRequest(
        variables=[VariableName(name=0x0108), VariableName(name=0x0208), VariableName(name=0x0210)]
    )


@pytest.mark.parametrize(
    ("gx_type", "gx_value", "expected"),
    [
        ("UINT32", 12345, DoubleLongUnsigned(12345)),
        ("STRING", "hello", VisibleString("hello")),
        ("UINT16", 0xBEEF, LongUnsigned(0xBEEF)),
        ("OCTET_STRING", b"\x01\x02\x03", OctetString(b"\x01\x02\x03")),
    ],
)
def test_gurux_write(gx_type: str, gx_value: object, expected: Data) -> None:
    from gurux_dlms.enums import DataType
    from gurux_dlms.objects import GXDLMSData

    client = _sn_client()
    data = GXDLMSData("0.0.96.1.0.255")
    data.shortName = 0x0100
    data.value = gx_value
    data.setDataType(2, DataType[gx_type])
    wire = _apdu(client.write(data, 2))  # type: ignore[attr-defined]
    assert _parse(wire, WriteRequest) == WriteRequest(
        variables=[VariableName(name=0x0108)], values=[expected]
    )


def test_gurux_method_through_write() -> None:
    from gurux_dlms.enums import DataType
    from gurux_dlms.objects import GXDLMSClock

    client = _sn_client()
    clock = GXDLMSClock()
    clock.shortName = 0x0400
    wire = _apdu(client.method(clock, 1, 5, DataType.INT8))  # type: ignore[attr-defined]
    request = _parse(wire, WriteRequest)
    assert request == WriteRequest(variables=[VariableName(name=0x0438)], values=[Integer(5)])


def test_gurux_parameterized_access_by_entry() -> None:
    from gurux_dlms.objects import GXDLMSProfileGeneric

    client = _sn_client()
    profile = GXDLMSProfileGeneric("1.0.99.1.0.255")
    profile.shortName = 0x0300
    wire = _apdu(client.readRowsByEntry(profile, 1, 10))  # type: ignore[attr-defined]
    assert _parse(wire, ReadRequest) == ReadRequest(
        variables=[
            ParameterizedAccess(
                variable_name=0x0308,
                selector=2,
                parameter=Structure(
                    [
                        DoubleLongUnsigned(1),
                        DoubleLongUnsigned(10),
                        LongUnsigned(1),
                        LongUnsigned(0),
                    ]
                ),
            )
        ]
    )


def test_gurux_parameterized_access_by_range() -> None:
    from gurux_dlms.objects import GXDLMSCaptureObject, GXDLMSClock, GXDLMSProfileGeneric

    client = _sn_client()
    profile = GXDLMSProfileGeneric("1.0.99.1.0.255")
    profile.shortName = 0x0300
    clock = GXDLMSClock()
    clock.shortName = 0x0400
    profile.captureObjects.append((clock, GXDLMSCaptureObject(2, 0)))
    frames = client.readRowsByRange(  # type: ignore[attr-defined]
        profile, datetime.datetime(2024, 1, 1), datetime.datetime(2024, 1, 2)
    )
    wire = _apdu(frames)
    request = _parse(wire, ReadRequest)
    (access,) = request.variables
    assert isinstance(access, ParameterizedAccess)
    assert access.variable_name == 0x0308
    assert access.selector == 1
    assert isinstance(access.parameter, Structure)
    restricting, start, end, columns = access.parameter
    assert restricting == Structure(
        [LongUnsigned(8), OctetString(bytes.fromhex("0000010000FF")), Integer(2), LongUnsigned(0)]
    )
    assert isinstance(start, OctetString) and start[:5] == bytes.fromhex("07E80101FF")
    assert isinstance(end, OctetString) and end[:5] == bytes.fromhex("07E80102FF")
    assert columns == Array([])


def _gurux_read_values(wire: bytes) -> object:
    from gurux_dlms import GXReplyData
    from gurux_dlms.GXByteBuffer import GXByteBuffer

    client = _sn_client()
    frame = bytes.fromhex("000100010010") + len(wire).to_bytes(2, "big") + wire
    reply = GXReplyData()
    assert client.getData(GXByteBuffer(frame), reply)  # type: ignore[attr-defined]
    return reply.value


def test_gurux_reads_our_read_response() -> None:
    wire = ReadResponse(results=[DoubleLongUnsigned(12345)]).to_bytes()
    assert wire == bytes.fromhex("0C01000600003039")
    assert _gurux_read_values(wire) == 12345
    text = ReadResponse(results=[VisibleString("meter-01")]).to_bytes()
    assert _gurux_read_values(text) == "meter-01"


def test_gurux_translator_reads_our_responses() -> None:
    from gurux_dlms.GXDLMSTranslator import GXDLMSTranslator

    translator = GXDLMSTranslator()
    read = ReadResponse(results=[LongUnsigned(5), DataAccessResult.OBJECT_UNDEFINED]).to_bytes()
    assert read == bytes.fromhex("0C02001200050104")
    xml = translator.pduToXml(read)
    assert '<UInt16 Value="0005" />' in xml
    assert '<DataAccessError Value="UndefinedObject" />' in xml
    write = WriteResponse(
        results=[DataAccessResult.SUCCESS, DataAccessResult.READ_WRITE_DENIED]
    ).to_bytes()
    assert write == bytes.fromhex("0D02000103")
    xml = translator.pduToXml(write)
    assert "<Success />" in xml
    assert '<DataAccessError Value="ReadWriteDenied" />' in xml
    report = InformationReportRequest(
        variables=[VariableName(name=0x0108)], values=[Unsigned(1)]
    ).to_bytes()
    assert report == bytes.fromhex("18 00 01 02 0108 01 11 01".replace(" ", ""))
    xml = translator.pduToXml(report)
    assert '<VariableName Value="0108" />' in xml
    assert '<UInt8 Value="01" />' in xml


# -- hand-checked vectors (xDLMS ASN.1 encodings) --------------------------------------------


def test_block_transfer_elements() -> None:
    request = ReadRequest(
        variables=[
            BlockNumberAccess(block_number=2),
            ReadDataBlockAccess(last_block=True, block_number=1, raw_data=b"ab"),
            WriteDataBlockAccess(last_block=False, block_number=0x0102),
        ]
    )
    wire = bytes.fromhex("05 03 05 0002 06 01 0001 02 6162 07 00 0102".replace(" ", ""))
    assert request.to_bytes() == wire
    assert ReadRequest.from_bytes(wire) == request
    response = ReadResponse(
        results=[
            DataBlockResult(last_block=False, block_number=1, raw_data=b"\x01\x02"),
            BlockNumberResult(block_number=3),
        ]
    )
    wire = bytes.fromhex("0C 02 02 00 0001 02 0102 03 0003".replace(" ", ""))
    assert response.to_bytes() == wire
    assert ReadResponse.from_bytes(wire) == response
    write = WriteResponse(results=[BlockNumberResult(block_number=2)])
    assert write.to_bytes() == bytes.fromhex("0D01020002")
    assert WriteResponse.from_bytes(write.to_bytes()) == write


def test_write_response_success_as_data_access_error_is_accepted() -> None:
    response = WriteResponse.from_bytes(bytes.fromhex("0D010100"))
    assert response.results == (DataAccessResult.SUCCESS,)
    assert response.to_bytes() == bytes.fromhex("0D0100")


def test_information_report_with_time() -> None:
    stamp = bytes.fromhex("07E80101FF000000000000FF")
    wire = bytes.fromhex("18 0C") + stamp + bytes.fromhex("01 02 0108 01 12 0005".replace(" ", ""))
    report = InformationReportRequest.from_bytes(wire)
    assert report.current_time == DateTime.from_bytes(stamp)
    assert report.values == (LongUnsigned(5),)
    assert report.to_bytes() == wire


def test_unconfirmed_write() -> None:
    wire = bytes.fromhex("16 01 02 0108 01 11 01".replace(" ", ""))
    request = UnconfirmedWriteRequest.from_bytes(wire)
    assert request == UnconfirmedWriteRequest(
        variables=[VariableName(name=0x0108)], values=[Unsigned(1)]
    )
    assert request.to_bytes() == wire


@pytest.mark.parametrize(
    "hexstring",
    [
        "05",
        "0501",
        "050103 0108",  # detailed-access [3] is not used in DLMS
        "0501020108 00",  # trailing
        "0584FFFFFFFF020108",  # count larger than the input
        "0C0104",  # unknown Read-Response choice
        "0C010163",  # unknown data-access-result
        "0D0103",
        "060102010801",  # values missing
        "180501020108",  # current-time of 5 octets
        "18",
        "0601",
    ],
)
def test_malformed_is_a_decode_error(hexstring: str) -> None:
    data = bytes.fromhex(hexstring.replace(" ", ""))
    with pytest.raises(DecodeError):
        CLASSES[data[0]].from_bytes(data)


def test_construction_is_validated() -> None:
    with pytest.raises(LocalProtocolError):
        VariableName(name=0x10000)
    with pytest.raises(LocalProtocolError):
        ReadRequest(variables=[LongUnsigned(5)])  # type: ignore[list-item]
    with pytest.raises(LocalProtocolError):
        WriteResponse(results=[LongUnsigned(5)])  # type: ignore[list-item]


# -- properties ------------------------------------------------------------------------------

_leaf: st.SearchStrategy[Data] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(0, 255).map(Unsigned),
    st.integers(0, 0xFFFF).map(LongUnsigned),
    st.integers(0, 2**32 - 1).map(DoubleLongUnsigned),
    st.integers(-128, 127).map(Integer),
    st.binary(max_size=20).map(OctetString),
    st.text(alphabet="abcXYZ019 -", max_size=12).map(VisibleString),
)
_data: st.SearchStrategy[Data] = st.recursive(
    _leaf,
    lambda inner: (
        st.lists(inner, max_size=4).map(Structure) | st.lists(inner, max_size=4).map(Array)
    ),
    max_leaves=8,
)
_u16 = st.integers(0, 0xFFFF)
_vas = st.one_of(
    st.builds(VariableName, name=_u16),
    st.builds(
        ParameterizedAccess, variable_name=_u16, selector=st.integers(0, 255), parameter=_data
    ),
    st.builds(BlockNumberAccess, block_number=_u16),
    st.builds(
        ReadDataBlockAccess,
        last_block=st.booleans(),
        block_number=_u16,
        raw_data=st.binary(max_size=200),
    ),
    st.builds(WriteDataBlockAccess, last_block=st.booleans(), block_number=_u16),
)
_vas_list = st.lists(_vas, max_size=4)
_data_list = st.lists(_data, max_size=4)
_read_result = st.one_of(
    _data,
    st.sampled_from(DataAccessResult),
    st.builds(
        DataBlockResult,
        last_block=st.booleans(),
        block_number=_u16,
        raw_data=st.binary(max_size=200),
    ),
    st.builds(BlockNumberResult, block_number=_u16),
)
_stamps = st.none() | st.datetimes(
    min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)
).map(
    lambda d: DateTime.from_bytes(
        d.year.to_bytes(2, "big")
        + bytes((d.month, d.day, 0xFF, d.hour, d.minute, d.second, 0))
        + b"\x80\x00\xff"
    )
)
apdus = st.one_of(
    st.builds(ReadRequest, variables=_vas_list),
    st.builds(ReadResponse, results=st.lists(_read_result, max_size=4)),
    st.builds(WriteRequest, variables=_vas_list, values=_data_list),
    st.builds(
        WriteResponse,
        results=st.lists(
            st.sampled_from(DataAccessResult) | st.builds(BlockNumberResult, block_number=_u16),
            max_size=4,
        ),
    ),
    st.builds(UnconfirmedWriteRequest, variables=_vas_list, values=_data_list),
    st.builds(
        InformationReportRequest, current_time=_stamps, variables=_vas_list, values=_data_list
    ),
)


@settings(max_examples=200)
@given(apdus)
def test_round_trip_and_truncation(apdu: SnApdu) -> None:
    wire = apdu.to_bytes()
    assert wire[0] == apdu.TAG
    decoded = type(apdu).from_bytes(wire)
    assert decoded == apdu
    assert decoded.to_bytes() == wire
    for cut in range(len(wire)):
        with pytest.raises(DecodeError):
            type(apdu).from_bytes(wire[:cut])


@settings(max_examples=200)
@given(st.sampled_from(sorted(CLASSES)), st.binary(max_size=60))
def test_garbage_gives_value_or_decode_error(tag: int, body: bytes) -> None:
    cls = CLASSES[tag]
    for data in (bytes((tag,)) + body, body):
        try:
            value = cls.from_bytes(data)
        except DecodeError:
            continue
        assert value.to_bytes()[0] == tag


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (
            '<ReadResponse Qty="02" ><Data><UInt16 Value="0005" /></Data>'
            '<DataAccessError Value="UndefinedObject" /></ReadResponse>',
            ReadResponse(results=[LongUnsigned(5), DataAccessResult.OBJECT_UNDEFINED]),
        ),
        (
            '<WriteResponse Qty="02" ><Success /><DataAccessError Value="ReadWriteDenied" />'
            "</WriteResponse>",
            WriteResponse(results=[DataAccessResult.SUCCESS, DataAccessResult.READ_WRITE_DENIED]),
        ),
        (
            '<InformationReportRequest><ListOfVariableAccessSpecification Qty="01" >'
            '<VariableName Value="0108" /></ListOfVariableAccessSpecification>'
            '<ListOfData Qty="01" ><UInt8 Value="01" /></ListOfData></InformationReportRequest>',
            InformationReportRequest(variables=[VariableName(name=0x0108)], values=[Unsigned(1)]),
        ),
    ],
)
def test_gurux_translator_encodings(xml: str, expected: SnApdu) -> None:
    from gurux_dlms.GXDLMSTranslator import GXDLMSTranslator

    wire = bytes(GXDLMSTranslator().xmlToPdu(xml).array())
    assert _parse(wire, type(expected)) == expected


def test_gurux_information_report() -> None:
    from gurux_dlms.enums import DataType, InterfaceType
    from gurux_dlms.GXDLMSNotify import GXDLMSNotify
    from gurux_dlms.GXDLMSTranslator import GXDLMSTranslator
    from gurux_dlms.objects import GXDLMSData

    notify = GXDLMSNotify(False, 16, 1, InterfaceType.WRAPPER)
    data = GXDLMSData("0.0.96.1.0.255")
    data.shortName = 0x0100
    data.value = 5
    data.setDataType(2, DataType.UINT16)
    wire = _apdu(notify.generateReport(None, [(data, 2)]))
    report = _parse(wire, InformationReportRequest)
    assert report == InformationReportRequest(
        variables=[VariableName(name=0x0108)], values=[LongUnsigned(5)]
    )
    # With a current-time, gurux reads the length octet and 12 octets, then the same lists.
    stamp = DateTime.from_bytes(bytes.fromhex("07E80101FF0C0000008000FF"))
    timed = InformationReportRequest(
        current_time=stamp, variables=report.variables, values=report.values
    ).to_bytes()
    assert timed[1] == 12
    xml = GXDLMSTranslator().pduToXml(timed)
    assert '<VariableName Value="0108" />' in xml
    assert '<UInt16 Value="0005" />' in xml
