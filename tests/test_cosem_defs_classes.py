"""Interface class definitions: dlms-facts.md 7.2 names/indices and the Gurux object model."""

from __future__ import annotations

import pytest
from gurux_dlms._GXObjectFactory import _GXObjectFactory
from gurux_dlms.enums import ObjectType

from dlmskit.axdr import DataType, Enum, Unsigned, decode
from dlmskit.cosem import (
    INTERFACE_CLASSES,
    AttributeAccess,
    AttributeDef,
    InterfaceClass,
    MethodDef,
    generic_interface_class,
    interface_class,
)

REQUIRED = [1, 3, 4, 5, 7, 8, 9, 11, 15, 17, 18, 20, 21, 22, 23, 40, 41, 42, 45, 48, 64, 70, 71]
EXTRA = [19, 47]

# (class_id, version, attribute names from index 2) per dlms-facts.md 7.2.
FACTS_ATTRIBUTES: list[tuple[int, int, list[str]]] = [
    (1, 0, ["value"]),
    (3, 0, ["value", "scaler_unit"]),
    (4, 0, ["value", "scaler_unit", "status", "capture_time"]),
    (
        5,
        0,
        [
            "current_average_value",
            "last_average_value",
            "scaler_unit",
            "status",
            "capture_time",
            "start_time_current",
            "period",
            "number_of_periods",
        ],
    ),
    (
        7,
        1,
        [
            "buffer",
            "capture_objects",
            "capture_period",
            "sort_method",
            "sort_object",
            "entries_in_use",
            "profile_entries",
        ],
    ),
    (
        8,
        0,
        [
            "time",
            "time_zone",
            "status",
            "daylight_savings_begin",
            "daylight_savings_end",
            "daylight_savings_deviation",
            "daylight_savings_enabled",
            "clock_base",
        ],
    ),
    (9, 0, ["scripts"]),
    (
        15,
        2,
        [
            "object_list",
            "associated_partners_id",
            "application_context_name",
            "xDLMS_context_info",
            "authentication_mechanism_name",
            "secret",
            "association_status",
            "security_setup_reference",
            "user_list",
            "current_user",
        ],
    ),
    (17, 0, ["SAP_assignment_list"]),
    (
        18,
        0,
        [
            "image_block_size",
            "image_transferred_blocks_status",
            "image_first_not_transferred_block_number",
            "image_transfer_enabled",
            "image_transfer_status",
            "image_to_activate_info",
        ],
    ),
    (
        20,
        0,
        [
            "calendar_name_active",
            "season_profile_active",
            "week_profile_table_active",
            "day_profile_table_active",
            "calendar_name_passive",
            "season_profile_passive",
            "week_profile_table_passive",
            "day_profile_table_passive",
            "activate_passive_calendar_time",
        ],
    ),
    (22, 0, ["executed_script", "type", "execution_time"]),
    (
        23,
        1,
        [
            "comm_speed",
            "window_size_transmit",
            "window_size_receive",
            "max_info_field_length_transmit",
            "max_info_field_length_receive",
            "inter_octet_time_out",
            "inactivity_time_out",
            "device_address",
        ],
    ),
    (
        40,
        2,
        [
            "push_object_list",
            "send_destination_and_method",
            "communication_window",
            "randomisation_start_interval",
            "number_of_retries",
            "repetition_delay",
            "port_reference",
            "push_client_SAP",
            "push_protection_parameters",
            "push_operation_method",
            "confirmation_parameters",
            "last_confirmation_date_time",
        ],
    ),
    (
        41,
        0,
        ["TCP-UDP_port", "IP_reference", "MSS", "nb_of_sim_conn", "inactivity_time_out"],
    ),
    (
        64,
        1,
        [
            "security_policy",
            "security_suite",
            "client_system_title",
            "server_system_title",
            "certificates",
        ],
    ),
    (70, 1, ["output_state", "control_state", "control_mode"]),
    (
        71,
        0,
        [
            "monitored_value",
            "threshold_active",
            "threshold_normal",
            "threshold_emergency",
            "min_over_threshold_duration",
            "min_under_threshold_duration",
            "emergency_profile",
            "emergency_profile_group_id_list",
            "emergency_profile_active",
            "actions",
        ],
    ),
]

FACTS_METHODS: list[tuple[int, int, list[str]]] = [
    (3, 0, ["reset"]),
    (4, 0, ["reset"]),
    (5, 0, ["reset", "next_period"]),
    (7, 1, ["reset", "capture"]),
    (
        8,
        0,
        [
            "adjust_to_quarter",
            "adjust_to_measuring_period",
            "adjust_to_minute",
            "adjust_to_preset_time",
            "preset_adjusting_time",
            "shift_time",
        ],
    ),
    (9, 0, ["execute"]),
    (
        15,
        2,
        [
            "reply_to_HLS_authentication",
            "change_HLS_secret",
            "add_object",
            "remove_object",
            "add_user",
            "remove_user",
        ],
    ),
    (17, 0, ["connect_logical_device"]),
    (
        18,
        0,
        ["image_transfer_initiate", "image_block_transfer", "image_verify", "image_activate"],
    ),
    (20, 0, ["activate_passive_calendar"]),
    (22, 0, []),
    (23, 1, []),
    (40, 0, ["push"]),
    (40, 2, ["push", "reset"]),
    (41, 0, []),
    (64, 0, ["security_activate", "global_key_transfer"]),
    (
        64,
        1,
        [
            "security_activate",
            "key_transfer",
            "key_agreement",
            "generate_key_pair",
            "generate_certificate_request",
            "import_certificate",
            "export_certificate",
            "remove_certificate",
        ],
    ),
    (70, 1, ["remote_disconnect", "remote_reconnect"]),
    (71, 0, []),
]


@pytest.mark.parametrize("class_id", REQUIRED)
def test_required_classes_are_defined(class_id: int) -> None:
    definition = interface_class(class_id)
    assert definition.known
    assert definition.class_id == class_id
    first = definition.attribute(1)
    assert first is not None
    assert (first.name, first.type, first.static) == ("logical_name", DataType.OCTET_STRING, True)


@pytest.mark.parametrize(("class_id", "version", "names"), FACTS_ATTRIBUTES)
def test_attribute_names_and_indices(class_id: int, version: int, names: list[str]) -> None:
    definition = interface_class(class_id, version)
    assert definition.version == version
    assert [a.name for a in definition.attributes[1:]] == names
    for index, name in enumerate(names, start=2):
        by_index = definition.attribute(index)
        assert by_index is not None
        assert by_index.name == name
        assert definition.attribute(name) is by_index


@pytest.mark.parametrize(("class_id", "version", "names"), FACTS_METHODS)
def test_method_names_and_indices(class_id: int, version: int, names: list[str]) -> None:
    definition = interface_class(class_id, version)
    assert [m.name for m in definition.methods] == names
    for index, name in enumerate(names, start=1):
        method = definition.method(index)
        assert method is not None
        assert definition.method(name) is method
        assert method.index == index


@pytest.mark.parametrize(
    ("class_id", "version", "attribute", "data_type"),
    [
        (5, 0, "period", DataType.DOUBLE_LONG_UNSIGNED),
        (5, 0, "number_of_periods", DataType.LONG_UNSIGNED),
        (7, 1, "capture_period", DataType.DOUBLE_LONG_UNSIGNED),
        (8, 0, "time_zone", DataType.LONG),
        (8, 0, "status", DataType.UNSIGNED),
        (8, 0, "daylight_savings_deviation", DataType.INTEGER),
        (8, 0, "daylight_savings_enabled", DataType.BOOLEAN),
        (18, 0, "image_block_size", DataType.DOUBLE_LONG_UNSIGNED),
        (18, 0, "image_transferred_blocks_status", DataType.BIT_STRING),
        (18, 0, "image_transfer_enabled", DataType.BOOLEAN),
        (23, 1, "window_size_transmit", DataType.UNSIGNED),
        (23, 1, "max_info_field_length_receive", DataType.LONG_UNSIGNED),
        (40, 0, "randomisation_start_interval", DataType.LONG_UNSIGNED),
        (40, 0, "number_of_retries", DataType.UNSIGNED),
        (40, 0, "repetition_delay", DataType.LONG_UNSIGNED),
        (40, 2, "repetition_delay", DataType.STRUCTURE),
        (40, 1, "push_client_SAP", DataType.INTEGER),
        (70, 1, "output_state", DataType.BOOLEAN),
        (70, 1, "control_state", DataType.ENUM),
        (71, 0, "min_over_threshold_duration", DataType.DOUBLE_LONG_UNSIGNED),
        (71, 0, "emergency_profile_active", DataType.BOOLEAN),
        (15, 0, "secret", DataType.OCTET_STRING),
        (15, 0, "association_status", DataType.ENUM),
    ],
)
def test_facts_types(class_id: int, version: int, attribute: str, data_type: DataType) -> None:
    found = interface_class(class_id, version).attribute(attribute)
    assert found is not None
    assert found.type is data_type


@pytest.mark.parametrize(
    ("class_id", "version", "method", "parameter"),
    [
        (8, 0, "shift_time", DataType.LONG),
        (8, 0, "preset_adjusting_time", DataType.STRUCTURE),
        (9, 0, "execute", DataType.LONG_UNSIGNED),
        (15, 0, "reply_to_HLS_authentication", DataType.OCTET_STRING),
        (18, 0, "image_transfer_initiate", DataType.STRUCTURE),
        (18, 0, "image_verify", DataType.INTEGER),
        (70, 1, "remote_disconnect", DataType.INTEGER),
        (40, 0, "push", DataType.INTEGER),
    ],
)
def test_facts_method_parameters(
    class_id: int, version: int, method: str, parameter: DataType
) -> None:
    found = interface_class(class_id, version).method(method)
    assert found is not None
    assert found.parameter is parameter


def test_register_value_is_any_type() -> None:
    register = interface_class(3)
    assert register.attribute_type(2) is None
    assert register.attribute_type(3) is DataType.STRUCTURE
    assert register.attribute_type(9) is None
    assert interface_class(15).attribute("secret") is not None


def test_access_defaults() -> None:
    association = interface_class(15, 0)
    secret = association.attribute("secret")
    assert secret is not None and secret.access is AttributeAccess.WRITE_ONLY
    clock = interface_class(8)
    time = clock.attribute("time")
    assert time is not None and time.access is AttributeAccess.READ_AND_WRITE
    assert not time.static
    profile = interface_class(7)
    buffer = profile.attribute("buffer")
    assert buffer is not None and buffer.access is AttributeAccess.READ_ONLY


def test_versions() -> None:
    assert interface_class(15).version == 2
    assert interface_class(15, 0).version == 0
    assert len(interface_class(15, 0).attributes) == 8
    assert len(interface_class(15, 1).attributes) == 9
    assert len(interface_class(15, 2).attributes) == 11
    # Version 3 is not described: the version 2 definition answers, and says so.
    assert interface_class(15, 3).version == 2
    assert interface_class(40).version == 2
    assert len(interface_class(40, 0).attributes) == 7
    assert len(interface_class(40, 1).attributes) == 10
    assert len(interface_class(64, 0).methods) == 2
    # IEC HDLC setup is described at version 1 only; version 0 falls back to generic.
    assert not interface_class(23, 0).known
    assert interface_class(47, 0).attributes == interface_class(47, 1).attributes


def test_generic_fallback() -> None:
    unknown = interface_class(9999, 4)
    assert not unknown.known
    assert (unknown.class_id, unknown.version) == (9999, 4)
    assert [a.name for a in unknown.attributes] == ["logical_name"]
    assert unknown.attribute(2) is None
    assert unknown.attribute_type(5) is None
    assert unknown.methods == ()
    assert generic_interface_class(9999) == interface_class(9999, 0)
    with pytest.raises(ValueError):
        generic_interface_class(70000)


def test_definitions_are_consistent() -> None:
    seen = set()
    for definition in INTERFACE_CLASSES:
        key = (definition.class_id, definition.version)
        assert key not in seen
        seen.add(key)
        assert [a.index for a in definition] == list(range(1, len(definition.attributes) + 1))
        assert len({a.name for a in definition.attributes}) == len(definition.attributes)
        assert len({m.name for m in definition.methods}) == len(definition.methods)
    assert {c for c, _ in seen} == set(REQUIRED) | set(EXTRA)


def test_validation() -> None:
    logical_name = AttributeDef(
        index=1, name="logical_name", type=DataType.OCTET_STRING, static=True
    )
    value = AttributeDef(index=2, name="value", type=None, static=False)
    with pytest.raises(ValueError):
        InterfaceClass(class_id=1, name="x", version=0, attributes=(value,), methods=())
    with pytest.raises(ValueError):
        InterfaceClass(
            class_id=1,
            name="x",
            version=0,
            attributes=(logical_name, value, value),
            methods=(),
        )
    with pytest.raises(ValueError):
        InterfaceClass(
            class_id=1,
            name="x",
            version=0,
            attributes=(logical_name,),
            methods=(MethodDef(index=2, name="m", parameter=None),),
        )
    with pytest.raises(ValueError):
        AttributeDef(index=0, name="x", type=None, static=True)


# Where the Gurux object model departs from the Blue Book type the definitions use
# (dlms-facts.md 2.3 / 7.2): scaler_unit, sort_object, executed_script, monitored values
# and QoS are structures; association context/mechanism names are a CHOICE here.
GURUX_TYPE_DEVIATIONS = {
    (4, 3),
    (5, 4),
    (7, 6),
    (15, 4),
    (15, 6),
    (21, 2),
    (21, 3),
    (22, 2),
    (40, 13),
    (45, 4),
    (47, 8),
}
# Gurux gives Extended register no methods; dlms-facts 7.2 lists M1 reset.
GURUX_METHOD_DEVIATIONS = {4}


@pytest.mark.parametrize("class_id", REQUIRED + EXTRA)
def test_agrees_with_gurux_object_model(class_id: int) -> None:
    gurux = _GXObjectFactory.createObject(ObjectType(class_id))
    ours = interface_class(class_id, gurux.version)
    assert ours.version == gurux.version
    assert len(ours.attributes) == gurux.getAttributeCount()
    if class_id not in GURUX_METHOD_DEVIATIONS:
        assert len(ours.methods) == gurux.getMethodCount()
    for attribute in ours.attributes:
        if (class_id, attribute.index) in GURUX_TYPE_DEVIATIONS:
            continue
        theirs = int(gurux.getDataType(attribute.index))
        assert (0 if attribute.type is None else int(attribute.type)) == theirs, attribute


def test_date_time_attributes() -> None:
    flagged = {(d.class_id, a.name) for d in INTERFACE_CLASSES for a in d.attributes if a.date_time}
    assert flagged == {
        (4, "capture_time"),
        (5, "capture_time"),
        (5, "start_time_current"),
        (8, "time"),
        (8, "daylight_savings_begin"),
        (8, "daylight_savings_end"),
        (20, "activate_passive_calendar_time"),
        (40, "last_confirmation_date_time"),
        (47, "capture_time"),
    }
    for d in INTERFACE_CLASSES:
        for a in d.attributes:
            if a.date_time:
                assert a.type is DataType.OCTET_STRING


def test_accepts_decoded_values() -> None:
    clock_time = interface_class(8).attribute("time")
    assert clock_time is not None
    stamp = bytes.fromhex("07E8010101000000 00FEB600")
    assert clock_time.accepts(decode(bytes([9, 12]) + stamp))
    assert clock_time.accepts(decode(bytes([25]) + stamp))
    assert not clock_time.accepts(decode(bytes.fromhex("0600000001")))
    assert not clock_time.accepts(5)  # a plain int has no A-XDR type
    scaler_unit = interface_class(3).attribute("scaler_unit")
    assert scaler_unit is not None
    assert scaler_unit.accepts(decode(bytes.fromhex("02020FFD161E")))
    assert not scaler_unit.accepts(decode(bytes.fromhex("01020FFD161E")))
    value = interface_class(3).attribute("value")
    assert value is not None
    assert value.accepts(decode(bytes.fromhex("0600000001")))
    assert value.accepts(None)
    status = interface_class(8).attribute("status")
    assert status is not None
    assert status.accepts(Unsigned(0))
    assert not status.accepts(Enum(0))


def test_catalogued_classes_are_described() -> None:
    """Every interface class the OBIS catalogue names has a definition here."""
    import obis

    classes = {e.interface_class for e in obis.entries() if e.interface_class is not None}
    assert {c for c in classes if not interface_class(c).known} == set()
