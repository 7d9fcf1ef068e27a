import pytest

import dlmskit
from dlmskit.errors import (
    DecodeError,
    DlmsError,
    LocalProtocolError,
    RemoteProtocolError,
    SecurityError,
    ServiceError,
    TransportError,
)


@pytest.mark.parametrize(
    "cls",
    [LocalProtocolError, RemoteProtocolError, SecurityError, TransportError, ServiceError],
)
def test_every_error_is_a_dlms_error(cls: type[Exception]) -> None:
    assert issubclass(cls, DlmsError)


def test_decode_error_is_remote_and_carries_offset() -> None:
    err = DecodeError("length runs past the end", offset=7, expected="12 bytes of date-time")
    assert isinstance(err, RemoteProtocolError)
    assert err.offset == 7
    assert err.expected == "12 bytes of date-time"
    assert "offset 7" in str(err)


def test_root_reexports() -> None:
    assert dlmskit.DecodeError is DecodeError
    assert set(dlmskit.__all__) >= {"DlmsError", "DecodeError", "ServiceError"}
