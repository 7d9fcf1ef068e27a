"""The interface classes a DLMS/COSEM meter (and an IS 15959-2 smart meter) uses.

Attribute and method indices, names and types follow the Blue Book (DLMS UA 1000-1)
class descriptions. Date-time attributes are octet-strings (12 octets) as the Blue Book
specifies. Access is the usual default for a meter: configuration attributes writable,
measured values read-only.
"""

from __future__ import annotations

from typing import Final

from dlmskit.axdr import DataType
from dlmskit.cosem._classes import (
    LOGICAL_NAME,
    AttributeAccess,
    AttributeDef,
    InterfaceClass,
    MethodDef,
    generic_interface_class,
)

__all__ = ["INTERFACE_CLASSES", "interface_class"]

T = DataType
RO = AttributeAccess.READ_ONLY
RW = AttributeAccess.READ_AND_WRITE
WO = AttributeAccess.WRITE_ONLY

_Attr = tuple[str, DataType | None, bool, AttributeAccess]

# Octet-string attributes that hold a date-time (Blue Book: octet-string formatted as
# date-time, 12 octets).
_DATE_TIMES: Final = frozenset(
    {
        "time",
        "capture_time",
        "start_time_current",
        "daylight_savings_begin",
        "daylight_savings_end",
        "activate_passive_calendar_time",
        "last_confirmation_date_time",
    }
)
_Meth = tuple[str, DataType | None]


def _cls(
    class_id: int, name: str, version: int, attrs: list[_Attr], methods: list[_Meth]
) -> InterfaceClass:
    return InterfaceClass(
        class_id=class_id,
        name=name,
        version=version,
        attributes=(
            LOGICAL_NAME,
            *(
                AttributeDef(
                    index=i, name=n, type=t, static=s, access=a, date_time=n in _DATE_TIMES
                )
                for i, (n, t, s, a) in enumerate(attrs, start=2)
            ),
        ),
        methods=tuple(
            MethodDef(index=i, name=n, parameter=p) for i, (n, p) in enumerate(methods, start=1)
        ),
    )


S, D = True, False  # static / dynamic

_RESET: Final[list[_Meth]] = [("reset", T.INTEGER)]

_REGISTER: Final[list[_Attr]] = [
    ("value", None, D, RO),
    ("scaler_unit", T.STRUCTURE, S, RO),
]

_ASSOCIATION_V0: Final[list[_Attr]] = [
    ("object_list", T.ARRAY, S, RO),
    ("associated_partners_id", T.STRUCTURE, S, RO),
    ("application_context_name", None, S, RO),
    ("xDLMS_context_info", T.STRUCTURE, S, RO),
    ("authentication_mechanism_name", None, S, RO),
    ("secret", T.OCTET_STRING, S, WO),
    ("association_status", T.ENUM, D, RO),
]
_ASSOCIATION_METHODS: Final[list[_Meth]] = [
    ("reply_to_HLS_authentication", T.OCTET_STRING),
    ("change_HLS_secret", T.OCTET_STRING),
    ("add_object", T.STRUCTURE),
    ("remove_object", T.STRUCTURE),
]

_PUSH_V0: Final[list[_Attr]] = [
    ("push_object_list", T.ARRAY, S, RW),
    ("send_destination_and_method", T.STRUCTURE, S, RW),
    ("communication_window", T.ARRAY, S, RW),
    ("randomisation_start_interval", T.LONG_UNSIGNED, S, RW),
    ("number_of_retries", T.UNSIGNED, S, RW),
    ("repetition_delay", T.LONG_UNSIGNED, S, RW),
]
_PUSH_V1_EXTRA: Final[list[_Attr]] = [
    ("port_reference", T.OCTET_STRING, S, RW),
    ("push_client_SAP", T.INTEGER, S, RW),
    ("push_protection_parameters", T.ARRAY, S, RW),
]

_SECURITY_V0: Final[list[_Attr]] = [
    ("security_policy", T.ENUM, S, RW),
    ("security_suite", T.ENUM, S, RO),
    ("client_system_title", T.OCTET_STRING, S, RO),
    ("server_system_title", T.OCTET_STRING, S, RO),
]

_DISCONNECT: Final[list[_Attr]] = [
    ("output_state", T.BOOLEAN, D, RO),
    ("control_state", T.ENUM, D, RO),
    ("control_mode", T.ENUM, S, RW),
]
_DISCONNECT_METHODS: Final[list[_Meth]] = [
    ("remote_disconnect", T.INTEGER),
    ("remote_reconnect", T.INTEGER),
]

_PROFILE: Final[list[_Attr]] = [
    ("buffer", T.ARRAY, D, RO),
    ("capture_objects", T.ARRAY, S, RO),
    ("capture_period", T.DOUBLE_LONG_UNSIGNED, S, RW),
    ("sort_method", T.ENUM, S, RO),
    ("sort_object", T.STRUCTURE, S, RO),
    ("entries_in_use", T.DOUBLE_LONG_UNSIGNED, D, RO),
    ("profile_entries", T.DOUBLE_LONG_UNSIGNED, S, RO),
]
_PROFILE_METHODS: Final[list[_Meth]] = [("reset", T.INTEGER), ("capture", T.INTEGER)]

# Version 1 changed the contents of cell_info, not the attribute list.
_GSM_DIAGNOSTIC: Final[list[_Attr]] = [
    ("operator", T.VISIBLE_STRING, D, RO),
    ("status", T.ENUM, D, RO),
    ("cs_attachment", T.ENUM, D, RO),
    ("ps_status", T.ENUM, D, RO),
    ("cell_info", T.STRUCTURE, D, RO),
    ("adjacent_cells", T.ARRAY, D, RO),
    ("capture_time", T.OCTET_STRING, D, RO),
]

INTERFACE_CLASSES: Final[tuple[InterfaceClass, ...]] = (
    _cls(1, "Data", 0, [("value", None, D, RW)], []),
    _cls(3, "Register", 0, _REGISTER, _RESET),
    _cls(
        4,
        "Extended register",
        0,
        [
            *_REGISTER,
            ("status", None, D, RO),
            ("capture_time", T.OCTET_STRING, D, RO),
        ],
        _RESET,
    ),
    _cls(
        5,
        "Demand register",
        0,
        [
            ("current_average_value", None, D, RO),
            ("last_average_value", None, D, RO),
            ("scaler_unit", T.STRUCTURE, S, RO),
            ("status", None, D, RO),
            ("capture_time", T.OCTET_STRING, D, RO),
            ("start_time_current", T.OCTET_STRING, D, RO),
            ("period", T.DOUBLE_LONG_UNSIGNED, S, RW),
            ("number_of_periods", T.LONG_UNSIGNED, S, RW),
        ],
        [("reset", T.INTEGER), ("next_period", T.INTEGER)],
    ),
    _cls(7, "Profile generic", 0, _PROFILE, _PROFILE_METHODS),
    _cls(7, "Profile generic", 1, _PROFILE, _PROFILE_METHODS),
    _cls(
        8,
        "Clock",
        0,
        [
            ("time", T.OCTET_STRING, D, RW),
            ("time_zone", T.LONG, S, RW),
            ("status", T.UNSIGNED, D, RO),
            ("daylight_savings_begin", T.OCTET_STRING, S, RW),
            ("daylight_savings_end", T.OCTET_STRING, S, RW),
            ("daylight_savings_deviation", T.INTEGER, S, RW),
            ("daylight_savings_enabled", T.BOOLEAN, S, RW),
            ("clock_base", T.ENUM, S, RO),
        ],
        [
            ("adjust_to_quarter", T.INTEGER),
            ("adjust_to_measuring_period", T.INTEGER),
            ("adjust_to_minute", T.INTEGER),
            ("adjust_to_preset_time", T.INTEGER),
            ("preset_adjusting_time", T.STRUCTURE),
            ("shift_time", T.LONG),
        ],
    ),
    _cls(9, "Script table", 0, [("scripts", T.ARRAY, S, RW)], [("execute", T.LONG_UNSIGNED)]),
    _cls(
        11,
        "Special days table",
        0,
        [("entries", T.ARRAY, S, RW)],
        [("insert", T.STRUCTURE), ("delete", T.LONG_UNSIGNED)],
    ),
    _cls(15, "Association LN", 0, _ASSOCIATION_V0, _ASSOCIATION_METHODS),
    _cls(
        15,
        "Association LN",
        1,
        [*_ASSOCIATION_V0, ("security_setup_reference", T.OCTET_STRING, S, RO)],
        _ASSOCIATION_METHODS,
    ),
    _cls(
        15,
        "Association LN",
        2,
        [
            *_ASSOCIATION_V0,
            ("security_setup_reference", T.OCTET_STRING, S, RO),
            ("user_list", T.ARRAY, S, RO),
            ("current_user", T.STRUCTURE, D, RO),
        ],
        [*_ASSOCIATION_METHODS, ("add_user", T.STRUCTURE), ("remove_user", T.STRUCTURE)],
    ),
    _cls(
        17,
        "SAP assignment",
        0,
        [("SAP_assignment_list", T.ARRAY, S, RO)],
        [("connect_logical_device", T.STRUCTURE)],
    ),
    _cls(
        18,
        "Image transfer",
        0,
        [
            ("image_block_size", T.DOUBLE_LONG_UNSIGNED, S, RO),
            ("image_transferred_blocks_status", T.BIT_STRING, D, RO),
            ("image_first_not_transferred_block_number", T.DOUBLE_LONG_UNSIGNED, D, RO),
            ("image_transfer_enabled", T.BOOLEAN, S, RW),
            ("image_transfer_status", T.ENUM, D, RO),
            ("image_to_activate_info", T.ARRAY, D, RO),
        ],
        [
            ("image_transfer_initiate", T.STRUCTURE),
            ("image_block_transfer", T.STRUCTURE),
            ("image_verify", T.INTEGER),
            ("image_activate", T.INTEGER),
        ],
    ),
    _cls(
        19,
        "IEC local port setup",
        1,
        [
            ("default_mode", T.ENUM, S, RW),
            ("default_baud", T.ENUM, S, RW),
            ("prop_baud", T.ENUM, S, RW),
            ("response_time", T.ENUM, S, RW),
            ("device_addr", T.OCTET_STRING, S, RW),
            ("pass_p1", T.OCTET_STRING, S, WO),
            ("pass_p2", T.OCTET_STRING, S, WO),
            ("pass_w5", T.OCTET_STRING, S, WO),
        ],
        [],
    ),
    _cls(
        20,
        "Activity calendar",
        0,
        [
            ("calendar_name_active", T.OCTET_STRING, S, RO),
            ("season_profile_active", T.ARRAY, S, RO),
            ("week_profile_table_active", T.ARRAY, S, RO),
            ("day_profile_table_active", T.ARRAY, S, RO),
            ("calendar_name_passive", T.OCTET_STRING, S, RW),
            ("season_profile_passive", T.ARRAY, S, RW),
            ("week_profile_table_passive", T.ARRAY, S, RW),
            ("day_profile_table_passive", T.ARRAY, S, RW),
            ("activate_passive_calendar_time", T.OCTET_STRING, S, RW),
        ],
        [("activate_passive_calendar", T.INTEGER)],
    ),
    _cls(
        21,
        "Register monitor",
        0,
        [
            ("thresholds", T.ARRAY, S, RW),
            ("monitored_value", T.STRUCTURE, S, RW),
            ("actions", T.ARRAY, S, RW),
        ],
        [],
    ),
    _cls(
        22,
        "Single action schedule",
        0,
        [
            ("executed_script", T.STRUCTURE, S, RW),
            ("type", T.ENUM, S, RW),
            ("execution_time", T.ARRAY, S, RW),
        ],
        [],
    ),
    _cls(
        23,
        "IEC HDLC setup",
        1,
        [
            ("comm_speed", T.ENUM, S, RW),
            ("window_size_transmit", T.UNSIGNED, S, RW),
            ("window_size_receive", T.UNSIGNED, S, RW),
            ("max_info_field_length_transmit", T.LONG_UNSIGNED, S, RW),
            ("max_info_field_length_receive", T.LONG_UNSIGNED, S, RW),
            ("inter_octet_time_out", T.LONG_UNSIGNED, S, RW),
            ("inactivity_time_out", T.LONG_UNSIGNED, S, RW),
            ("device_address", T.LONG_UNSIGNED, S, RW),
        ],
        [],
    ),
    _cls(40, "Push setup", 0, _PUSH_V0, [("push", T.INTEGER)]),
    _cls(40, "Push setup", 1, [*_PUSH_V0, *_PUSH_V1_EXTRA], [("push", T.INTEGER)]),
    _cls(
        40,
        "Push setup",
        2,
        [
            *_PUSH_V0[:5],
            ("repetition_delay", T.STRUCTURE, S, RW),
            *_PUSH_V1_EXTRA,
            ("push_operation_method", T.ENUM, S, RW),
            ("confirmation_parameters", T.STRUCTURE, S, RW),
            ("last_confirmation_date_time", T.OCTET_STRING, D, RO),
        ],
        [("push", T.INTEGER), ("reset", T.INTEGER)],
    ),
    _cls(
        41,
        "TCP-UDP setup",
        0,
        [
            ("TCP-UDP_port", T.LONG_UNSIGNED, S, RW),
            ("IP_reference", T.OCTET_STRING, S, RW),
            ("MSS", T.LONG_UNSIGNED, S, RW),
            ("nb_of_sim_conn", T.UNSIGNED, S, RW),
            ("inactivity_time_out", T.LONG_UNSIGNED, S, RW),
        ],
        [],
    ),
    _cls(
        42,
        "IPv4 setup",
        0,
        [
            ("DL_reference", T.OCTET_STRING, S, RW),
            ("IP_address", T.DOUBLE_LONG_UNSIGNED, D, RW),
            ("multicast_IP_address", T.ARRAY, S, RW),
            ("IP_options", T.ARRAY, S, RW),
            ("subnet_mask", T.DOUBLE_LONG_UNSIGNED, S, RW),
            ("gateway_IP_address", T.DOUBLE_LONG_UNSIGNED, S, RW),
            ("use_DHCP_flag", T.BOOLEAN, S, RW),
            ("primary_DNS_address", T.DOUBLE_LONG_UNSIGNED, S, RW),
            ("secondary_DNS_address", T.DOUBLE_LONG_UNSIGNED, S, RW),
        ],
        [
            ("add_mc_IP_address", T.DOUBLE_LONG_UNSIGNED),
            ("delete_mc_IP_address", T.DOUBLE_LONG_UNSIGNED),
            ("get_nbof_mc_IP_addresses", T.INTEGER),
        ],
    ),
    _cls(
        45,
        "GPRS modem setup",
        0,
        [
            ("APN", T.OCTET_STRING, S, RW),
            ("PIN_code", T.LONG_UNSIGNED, S, RW),
            ("quality_of_service", T.STRUCTURE, S, RW),
        ],
        [],
    ),
    *(_cls(47, "GSM diagnostic", version, _GSM_DIAGNOSTIC, []) for version in (0, 1)),
    _cls(
        48,
        "IPv6 setup",
        0,
        [
            ("DL_reference", T.OCTET_STRING, S, RW),
            ("address_config_mode", T.ENUM, S, RW),
            ("unicast_IPv6_addresses", T.ARRAY, D, RW),
            ("multicast_IPv6_addresses", T.ARRAY, S, RW),
            ("gateway_IPv6_addresses", T.ARRAY, S, RW),
            ("primary_DNS_address", T.OCTET_STRING, S, RW),
            ("secondary_DNS_address", T.OCTET_STRING, S, RW),
            ("traffic_class", T.UNSIGNED, S, RW),
            ("neighbor_discovery_setup", T.ARRAY, S, RW),
        ],
        [("add_IPv6_address", T.STRUCTURE), ("remove_IPv6_address", T.STRUCTURE)],
    ),
    _cls(
        64,
        "Security setup",
        0,
        _SECURITY_V0,
        [("security_activate", T.ENUM), ("global_key_transfer", T.ARRAY)],
    ),
    _cls(
        64,
        "Security setup",
        1,
        [*_SECURITY_V0, ("certificates", T.ARRAY, S, RO)],
        [
            ("security_activate", T.ENUM),
            ("key_transfer", T.ARRAY),
            ("key_agreement", T.ARRAY),
            ("generate_key_pair", T.ENUM),
            ("generate_certificate_request", T.ENUM),
            ("import_certificate", T.OCTET_STRING),
            ("export_certificate", T.STRUCTURE),
            ("remove_certificate", T.STRUCTURE),
        ],
    ),
    _cls(70, "Disconnect control", 0, _DISCONNECT, _DISCONNECT_METHODS),
    _cls(70, "Disconnect control", 1, _DISCONNECT, _DISCONNECT_METHODS),
    _cls(
        71,
        "Limiter",
        0,
        [
            ("monitored_value", T.STRUCTURE, S, RW),
            ("threshold_active", None, S, RW),
            ("threshold_normal", None, S, RW),
            ("threshold_emergency", None, S, RW),
            ("min_over_threshold_duration", T.DOUBLE_LONG_UNSIGNED, S, RW),
            ("min_under_threshold_duration", T.DOUBLE_LONG_UNSIGNED, S, RW),
            ("emergency_profile", T.STRUCTURE, S, RW),
            ("emergency_profile_group_id_list", T.ARRAY, S, RW),
            ("emergency_profile_active", T.BOOLEAN, D, RO),
            ("actions", T.STRUCTURE, S, RW),
        ],
        [],
    ),
)

_BY_ID: Final[dict[int, dict[int, InterfaceClass]]] = {}
for _definition in INTERFACE_CLASSES:
    _BY_ID.setdefault(_definition.class_id, {})[_definition.version] = _definition


def interface_class(class_id: int, version: int | None = None) -> InterfaceClass:
    """The definition of ``class_id``.

    ``version=None`` gives the highest version described here. A version above the highest
    described gives the highest described one below it (later versions mostly append
    attributes; check ``.version`` to see which definition answered). A version below every
    described one, or a class id not described here, gives
    :func:`generic_interface_class` (``known`` is ``False``).
    """
    versions = _BY_ID.get(class_id)
    if versions is None:
        return generic_interface_class(class_id, 0 if version is None else version)
    if version is None:
        return versions[max(versions)]
    if version in versions:
        return versions[version]
    lower = [v for v in versions if v < version]
    if lower:
        return versions[max(lower)]
    return generic_interface_class(class_id, version)
