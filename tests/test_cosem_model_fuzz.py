"""Random requests against an IS 15959-2 object tree: every GET, SET and ACTION answers
with a value or a result code, never an exception."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import (
    ActionResult,
    ApplicationContextName,
    Conformance,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    MechanismName,
    SelectiveAccess,
)
from dlmskit.association import RequestContext
from dlmskit.axdr import (
    Array,
    BitString,
    Data,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Integer,
    Long,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
    encode,
)
from dlmskit.axdr import (
    DateTime as AxdrDateTime,
)
from dlmskit.cosem import CosemObjectTree, is15959_object_tree
from obis import ObisCode

NOW = dt.datetime(2024, 1, 2, 0, 7, 30, tzinfo=dt.UTC)


def _row(moment: dt.datetime) -> tuple[Data, ...]:
    return (OctetString(bytes(12)), LongUnsigned(1), DoubleLongUnsigned(2)) * 2 + (DoubleLong(3),)


TREE: CosemObjectTree = is15959_object_tree(now=lambda: NOW, block_load_rows=_row)
NAMES = sorted({(obj.class_id, obj.logical_name) for obj in TREE}, key=str)

_leaves: st.SearchStrategy[Data] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-128, 127).map(Integer),
    st.integers(-(2**15), 2**15 - 1).map(Long),
    st.integers(0, 255).map(Unsigned),
    st.integers(0, 255).map(Enum),
    st.integers(0, 0xFFFF).map(LongUnsigned),
    st.integers(0, 2**32 - 1).map(DoubleLongUnsigned),
    st.binary(max_size=16).map(OctetString),
    st.binary(min_size=12, max_size=12).map(OctetString),
    st.binary(min_size=1, max_size=2).map(lambda b: BitString(value=b, length=len(b) * 8)),
    st.just(AxdrDateTime(year=2024, month=1, day=1, hour=0, minute=0)),
)
_data: st.SearchStrategy[Data] = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5).map(Array), st.lists(inner, max_size=5).map(Structure)
    ),
    max_leaves=20,
)
_access = st.none() | st.builds(SelectiveAccess, selector=st.integers(0, 4), parameters=_data)
#: Mostly ids that exist, sometimes any.
_index = st.integers(1, 12) | st.integers(-128, 127)
_sap = st.sampled_from([0x10, 0x20, 0x30, 0x40, 0x50, 0x99])


def _ctx(sap: int) -> RequestContext:
    return RequestContext(
        client_sap=sap,
        application_context=ApplicationContextName.LN,
        mechanism=MechanismName.LOWEST,
        conformance=Conformance(0xFFFFFF),
    )


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(NAMES), _index, _sap, _access, _data)
def test_get_and_set_always_answer(
    name: tuple[int, ObisCode], index: int, sap: int, access: SelectiveAccess | None, value: Data
) -> None:
    class_id, logical_name = name
    descriptor = CosemAttributeDescriptor(
        class_id=class_id, instance_id=logical_name, attribute_id=index
    )
    ctx = _ctx(sap)
    TREE.attribute_access(ctx, descriptor)
    got = TREE.get(ctx, descriptor, access)
    if not isinstance(got, DataAccessResult):
        encode(got)  # whatever is served can be sent
    assert isinstance(TREE.set(ctx, descriptor, access, value), DataAccessResult)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(NAMES), _index, _sap, st.none() | _data)
def test_actions_always_answer(
    name: tuple[int, ObisCode], index: int, sap: int, parameters: Data | None
) -> None:
    class_id, logical_name = name
    descriptor = CosemMethodDescriptor(class_id=class_id, instance_id=logical_name, method_id=index)
    ctx = _ctx(sap)
    TREE.method_access(ctx, descriptor)
    result, answer = TREE.action(ctx, descriptor, parameters)
    assert isinstance(result, ActionResult)
    if answer is not None:
        encode(answer)
