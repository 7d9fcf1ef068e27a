"""COSEM definitions as data: units, capture objects, interface classes, IS 15959-2.

Sans-IO: nothing here talks to a meter; it says what the objects are, so codecs, clients,
simulators and head-ends agree on attribute indices, types and profile layouts.

On that data sit the two sides of the object model. The server side
(:class:`CosemObject` and one class per interface class, :class:`CosemObjectTree` with
:class:`AssociationRights` per client SAP, :func:`is15959_object_tree`) is what a
``ServerAssociation`` serves. The client side (:class:`Quantity`,
:class:`ProfileColumns`, :func:`by_time_range`, :func:`by_entries`,
:func:`decode_object_list`) turns what a ``ClientAssociation`` reads into typed values.
"""

from __future__ import annotations

from dlmskit.cosem._capture import CaptureObject, ScalerUnit, scalers_from_row
from dlmskit.cosem._classdefs import INTERFACE_CLASSES, interface_class
from dlmskit.cosem._classes import (
    AttributeAccess,
    AttributeDef,
    InterfaceClass,
    MethodDef,
    generic_interface_class,
)
from dlmskit.cosem._client import (
    CLOCK,
    Quantity,
    clock_datetime,
    clock_time_descriptor,
    clock_value,
    register_descriptors,
    register_quantity,
)
from dlmskit.cosem._client_profile import (
    ProfileColumn,
    ProfileColumns,
    ProfileRow,
    by_entries,
    by_time_range,
    range_bound,
)
from dlmskit.cosem._is15959 import ALERT_PUSH as IS15959_ALERT_PUSH
from dlmskit.cosem._is15959 import ASSOCIATIONS as IS15959_ASSOCIATIONS
from dlmskit.cosem._is15959 import BLOCK_LOAD_CAPTURE_PERIOD as IS15959_BLOCK_LOAD_CAPTURE_PERIOD
from dlmskit.cosem._is15959 import DAILY_LOAD_CAPTURE_PERIOD as IS15959_DAILY_LOAD_CAPTURE_PERIOD
from dlmskit.cosem._is15959 import (
    DEFAULT_ESWF_SINGLE_PHASE as IS15959_DEFAULT_ESWF_SINGLE_PHASE,
)
from dlmskit.cosem._is15959 import ESW as IS15959_ESW
from dlmskit.cosem._is15959 import ESW_BITS_SINGLE_PHASE as IS15959_ESW_BITS_SINGLE_PHASE
from dlmskit.cosem._is15959 import ESW_BITS_THREE_PHASE as IS15959_ESW_BITS_THREE_PHASE
from dlmskit.cosem._is15959 import ESWF as IS15959_ESWF
from dlmskit.cosem._is15959 import EVENT_CODES as IS15959_EVENT_CODES
from dlmskit.cosem._is15959 import PUSH_PORT as IS15959_PUSH_PORT
from dlmskit.cosem._is15959 import PUSH_RETRIES as IS15959_PUSH_RETRIES
from dlmskit.cosem._is15959 import SINGLE_PHASE as IS15959_SINGLE_PHASE
from dlmskit.cosem._is15959 import THREE_PHASE as IS15959_THREE_PHASE
from dlmskit.cosem._is15959 import (
    AssociationProfile,
    CompanionProfile,
    EventCode,
    EventLogDefinition,
    ProfileDefinition,
    ProfileKind,
    PushSetupDefinition,
    esw_bits,
    esw_from_bits,
)
from dlmskit.cosem._model_association import (
    AssociationLN,
    AssociationStatus,
    context_name,
    mechanism_name,
)
from dlmskit.cosem._model_base import CosemObject, local_context, method_failed
from dlmskit.cosem._model_clock import Clock, ClockBase
from dlmskit.cosem._model_control import (
    ActivityCalendar,
    ControlMode,
    ControlState,
    DisconnectControl,
    Limiter,
    RegisterMonitor,
    ScriptTable,
    SingleActionSchedule,
    SpecialDaysTable,
)
from dlmskit.cosem._model_image import ImageTransfer, ImageTransferStatus
from dlmskit.cosem._model_is15959 import is15959_object_tree, register_scaler_unit
from dlmskit.cosem._model_profile import (
    ComputedBuffer,
    ProfileBuffer,
    ProfileGeneric,
    SortMethod,
    StoredBuffer,
    filter_rows,
)
from dlmskit.cosem._model_push import PushSetup, SecuritySetup, TransportService
from dlmskit.cosem._model_registers import DataObject, DemandRegister, ExtendedRegister, Register
from dlmskit.cosem._model_setup import (
    GprsModemSetup,
    IecHdlcSetup,
    Ipv4Setup,
    Ipv6Setup,
    SapAssignment,
    TcpUdpSetup,
)
from dlmskit.cosem._model_tree import CURRENT_ASSOCIATION_LN, AssociationRights, CosemObjectTree
from dlmskit.cosem._numeric_rows import (
    NumericColumns,
    NumericRow,
    column_units,
    numeric_columns,
    numeric_rows,
)
from dlmskit.cosem._object_list import (
    AttributeAccessItem,
    MethodAccessItem,
    ObjectListEntry,
    decode_object_list,
    encode_object_list,
    object_list_entries,
)
from dlmskit.cosem._units import Unit, unit_symbol

__all__ = [
    "INTERFACE_CLASSES",
    "IS15959_ALERT_PUSH",
    "IS15959_ASSOCIATIONS",
    "IS15959_BLOCK_LOAD_CAPTURE_PERIOD",
    "IS15959_DAILY_LOAD_CAPTURE_PERIOD",
    "IS15959_DEFAULT_ESWF_SINGLE_PHASE",
    "IS15959_ESW",
    "IS15959_ESWF",
    "IS15959_ESW_BITS_SINGLE_PHASE",
    "IS15959_ESW_BITS_THREE_PHASE",
    "IS15959_EVENT_CODES",
    "IS15959_PUSH_PORT",
    "IS15959_PUSH_RETRIES",
    "IS15959_SINGLE_PHASE",
    "IS15959_THREE_PHASE",
    "AssociationProfile",
    "AttributeAccess",
    "AttributeDef",
    "CaptureObject",
    "CompanionProfile",
    "EventCode",
    "EventLogDefinition",
    "InterfaceClass",
    "MethodDef",
    "ProfileDefinition",
    "ProfileKind",
    "PushSetupDefinition",
    "ScalerUnit",
    "Unit",
    "esw_bits",
    "esw_from_bits",
    "generic_interface_class",
    "interface_class",
    "scalers_from_row",
    "unit_symbol",
    "AssociationLN",
    "AssociationStatus",
    "context_name",
    "mechanism_name",
    "CosemObject",
    "local_context",
    "method_failed",
    "Clock",
    "ClockBase",
    "ActivityCalendar",
    "ControlMode",
    "ControlState",
    "DisconnectControl",
    "Limiter",
    "RegisterMonitor",
    "ScriptTable",
    "SingleActionSchedule",
    "SpecialDaysTable",
    "ImageTransfer",
    "ImageTransferStatus",
    "is15959_object_tree",
    "register_scaler_unit",
    "ComputedBuffer",
    "ProfileBuffer",
    "ProfileGeneric",
    "SortMethod",
    "StoredBuffer",
    "filter_rows",
    "PushSetup",
    "SecuritySetup",
    "TransportService",
    "DataObject",
    "DemandRegister",
    "ExtendedRegister",
    "Register",
    "GprsModemSetup",
    "IecHdlcSetup",
    "Ipv4Setup",
    "Ipv6Setup",
    "SapAssignment",
    "TcpUdpSetup",
    "CURRENT_ASSOCIATION_LN",
    "AssociationRights",
    "CosemObjectTree",
    "AttributeAccessItem",
    "MethodAccessItem",
    "ObjectListEntry",
    "decode_object_list",
    "encode_object_list",
    "object_list_entries",
    "CLOCK",
    "Quantity",
    "clock_datetime",
    "clock_time_descriptor",
    "clock_value",
    "register_descriptors",
    "register_quantity",
    "ProfileColumn",
    "ProfileColumns",
    "ProfileRow",
    "NumericColumns",
    "NumericRow",
    "column_units",
    "numeric_columns",
    "numeric_rows",
    "by_entries",
    "by_time_range",
    "range_bound",
]
