"""Association LN object_list: encode and decode both ways, against gurux-dlms too."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.association import AttributeAccessMode, MethodAccessMode
from dlmskit.axdr import (
    Array,
    Data,
    Enum,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
    decode,
    encode,
)
from dlmskit.cosem import (
    AssociationLN,
    AssociationRights,
    AttributeAccessItem,
    Clock,
    CosemObjectTree,
    DisconnectControl,
    MethodAccessItem,
    ObjectListEntry,
    ProfileGeneric,
    Register,
    ScalerUnit,
    Unit,
    decode_object_list,
    encode_object_list,
    object_list_entries,
)
from dlmskit.errors import DecodeError
from obis import ObisCode

gurux_dlms = pytest.importorskip("gurux_dlms")

from gurux_dlms import GXDLMSSettings, ValueEventArgs  # noqa: E402
from gurux_dlms.objects import (  # noqa: E402
    GXDLMSAssociationLogicalName,
    GXDLMSClock,
    GXDLMSDisconnectControl,
    GXDLMSProfileGeneric,
    GXDLMSRegister,
)


class _GuruxServer:
    """The two access callbacks a gurux server offers when it lists its objects."""

    def __init__(self) -> None:
        self.settings = GXDLMSSettings(True, None)

    def onGetAttributeAccess(self, e: Any) -> int:
        return 3 if e.index == 2 else 1

    def onGetMethodAccess(self, e: Any) -> int:
        return 1 if e.index == 1 else 0


def _gurux_object_list(version: int) -> bytes:
    association = GXDLMSAssociationLogicalName("0.0.40.0.0.255")
    association.version = version
    for obj in (
        GXDLMSClock("0.0.1.0.0.255"),
        GXDLMSRegister("1.0.1.8.0.255"),
        GXDLMSProfileGeneric("1.0.99.1.0.255"),
        GXDLMSDisconnectControl("0.0.96.3.10.255"),
    ):
        association.objectList.append(obj)
    server = _GuruxServer()
    event = ValueEventArgs(server, association, 2, 0, None)
    event.server = server
    event.isSkipMaxPduSize = True  # the gurux list writer reads this name
    return bytes(association.getValue(server.settings, event).array())


@pytest.mark.parametrize("version", [0, 1])
def test_decode_a_gurux_object_list_and_encode_it_back_identically(version: int) -> None:
    raw = _gurux_object_list(version)
    entries = decode_object_list(decode(raw))
    assert [(e.class_id, e.version, str(e.logical_name)) for e in entries] == [
        (8, 0, "0.0.1.0.0.255"),
        (3, 0, "1.0.1.8.0.255"),
        (7, 1, "1.0.99.1.0.255"),
        (70, 1, "0.0.96.3.10.255"),
    ]
    clock = entries[0]
    assert [a.attribute_id for a in clock.attribute_access] == list(range(1, 10))
    assert clock.attribute_mode(2) is AttributeAccessMode.READ_AND_WRITE
    assert clock.attribute_mode(3) is AttributeAccessMode.READ_ONLY
    assert clock.attribute_access[0].access_selectors is None
    assert clock.method_mode(1) is MethodAccessMode.ACCESS
    assert clock.method_mode(2) is MethodAccessMode.NO_ACCESS
    assert clock.method_mode(99) is MethodAccessMode.NO_ACCESS
    assert encode(encode_object_list(entries, association_version=version)) == raw


def test_version_0_method_access_is_boolean_and_plain_modes() -> None:
    entry = ObjectListEntry(
        class_id=1,
        version=0,
        logical_name=ObisCode.parse("0.0.96.1.0.255"),
        attribute_access=(
            AttributeAccessItem(
                attribute_id=2, access_mode=AttributeAccessMode.AUTHENTICATED_READ_AND_WRITE
            ),
        ),
        method_access=(
            MethodAccessItem(method_id=1, access_mode=MethodAccessMode.AUTHENTICATED_ACCESS),
            MethodAccessItem(method_id=2, access_mode=MethodAccessMode.NO_ACCESS),
        ),
    )
    v0 = encode_object_list([entry], association_version=0)
    rights = v0[0][3]  # type: ignore[index]
    assert rights[1] == Array(  # type: ignore[index]
        (Structure((Integer(1), True)), Structure((Integer(2), False)))
    )
    assert rights[0][0][1] == Enum(3)  # type: ignore[index]
    (back,) = decode_object_list(v0)
    assert back.method_mode(1) is MethodAccessMode.ACCESS
    assert back.attribute_mode(2) is AttributeAccessMode.READ_AND_WRITE
    v1 = encode_object_list([entry], association_version=1)
    assert decode_object_list(v1) == (entry,)


_items = st.builds(
    AttributeAccessItem,
    attribute_id=st.integers(-128, 127),
    access_mode=st.sampled_from(AttributeAccessMode),
    access_selectors=st.none() | st.lists(st.integers(-128, 127), max_size=3).map(tuple),
)
_methods = st.builds(
    MethodAccessItem,
    method_id=st.integers(-128, 127),
    access_mode=st.sampled_from(MethodAccessMode),
)
_entries = st.builds(
    ObjectListEntry,
    class_id=st.integers(0, 0xFFFF),
    version=st.integers(0, 255),
    logical_name=st.binary(min_size=6, max_size=6).map(ObisCode.from_bytes),
    attribute_access=st.lists(_items, max_size=4).map(tuple),
    method_access=st.lists(_methods, max_size=3).map(tuple),
)


@settings(max_examples=100)
@given(st.lists(_entries, max_size=5))
def test_round_trip_through_the_wire(entries: list[ObjectListEntry]) -> None:
    raw = encode(encode_object_list(entries, association_version=2))
    assert decode_object_list(decode(raw)) == tuple(entries)


_leaves: st.SearchStrategy[Data] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-128, 127).map(Integer),
    st.integers(0, 255).map(Unsigned),
    st.integers(0, 255).map(Enum),
    st.integers(0, 0xFFFF).map(LongUnsigned),
    st.binary(max_size=8).map(OctetString),
)
_data: st.SearchStrategy[Data] = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5).map(Array), st.lists(inner, max_size=5).map(Structure)
    ),
    max_leaves=30,
)


@settings(max_examples=200)
@given(_data)
def test_any_value_decodes_or_raises_decode_error(value: Data) -> None:
    try:
        result = decode_object_list(Array((value,)))
    except DecodeError:
        return
    assert len(result) == 1 and isinstance(result[0], ObjectListEntry)


def test_every_truncation_and_corruption_of_a_list_is_a_decode_error_or_a_value() -> None:
    raw = _gurux_object_list(1)
    for cut in range(len(raw)):
        with pytest.raises(DecodeError):
            decode_object_list(decode(raw[:cut]))
    for pos in range(len(raw)):
        for byte in (0x00, 0x02, 0x16, 0xFF):
            corrupted = raw[:pos] + bytes((byte,)) + raw[pos + 1 :]
            try:
                result = decode_object_list(decode(corrupted))
            except DecodeError:
                continue
            assert all(isinstance(entry, ObjectListEntry) for entry in result)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Structure(), "not an array"),
        (Array((Structure((LongUnsigned(1),)),)), "structure of 4"),
        (
            Array((Structure((LongUnsigned(1), Unsigned(0), OctetString(b"12345"), Structure())),)),
            "6 octets",
        ),
        (
            Array(
                (
                    Structure(
                        (
                            LongUnsigned(1),
                            Unsigned(0),
                            OctetString(bytes(6)),
                            Structure((Array((Structure((Integer(2), Enum(9), None)),)), Array())),
                        )
                    ),
                )
            ),
            "access_mode",
        ),
        (
            Array(
                (
                    Structure(
                        (
                            LongUnsigned(1),
                            Unsigned(0),
                            OctetString(bytes(6)),
                            Structure((Array(), Array((Structure((Integer(1), Enum(3))),)))),
                        )
                    ),
                )
            ),
            "method access_mode",
        ),
    ],
)
def test_malformed_lists_name_the_problem(value: Data, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_object_list(value)


def test_entries_from_a_tree_follow_the_association_rights() -> None:
    import datetime as dt

    tree = CosemObjectTree(
        [
            Clock(now=lambda: dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
            Register("1.0.1.8.0.255", LongUnsigned(0), ScalerUnit(scaler=0, unit=Unit.WATT_HOUR)),
            DisconnectControl(),
            ProfileGeneric("1.0.99.1.0.255", capture_objects=()),
            AssociationLN("0.0.40.0.1.255", client_sap=16),
            AssociationLN("0.0.40.0.3.255", client_sap=48),
        ],
        associations=[
            AssociationRights(
                client_sap=16,
                association="0.0.40.0.1.255",
                visible=["0.0.1.0.0.255", "1.0.1.8.0.255"],
                write=False,
                methods=False,
            ),
            AssociationRights(client_sap=48, association="0.0.40.0.3.255", authenticated=True),
        ],
    )
    public = object_list_entries(tree, 16)
    assert [str(e.logical_name) for e in public] == [
        "0.0.1.0.0.255",
        "1.0.1.8.0.255",
        "0.0.40.0.1.255",
    ]
    assert public[0].attribute_mode(2) is AttributeAccessMode.READ_ONLY
    assert public[1].method_mode(1) is MethodAccessMode.NO_ACCESS
    utility = object_list_entries(tree, 48)
    assert len(utility) == 6
    assert utility[0].attribute_mode(2) is AttributeAccessMode.AUTHENTICATED_READ_AND_WRITE
    assert utility[0].attribute_mode(4) is AttributeAccessMode.AUTHENTICATED_READ_ONLY
    assert utility[2].method_mode(1) is MethodAccessMode.AUTHENTICATED_ACCESS
    # Association LN method 1 (HLS pass 3) belongs to the association machine
    assert utility[5].method_mode(1) is MethodAccessMode.NO_ACCESS
    assert utility[5].attribute_mode(7) is AttributeAccessMode.AUTHENTICATED_WRITE_ONLY
    assert object_list_entries(tree, 99) == ()
    # version-1 association encodes what it sees; decoding gives the same entries back
    assert decode_object_list(encode_object_list(utility)) == utility
