"""The store's schema: readings kept by meter and channel id behind the ``readings``
view, the schema version in ``PRAGMA user_version``, and files of another version
refused rather than misread."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from hes import Reading, ReadingRow, ReadingSource, Store, reading_row
from hes._store import SCHEMA_VERSION, StoreVersionError

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
Q = dt.timedelta(minutes=15)

_VERSION_1 = """
CREATE TABLE readings (
    meter TEXT NOT NULL, channel TEXT NOT NULL, start INTEGER NOT NULL, value REAL,
    unit TEXT NOT NULL, quality TEXT NOT NULL, captured INTEGER, received INTEGER,
    source INTEGER NOT NULL, PRIMARY KEY (meter, channel, start)
) WITHOUT ROWID;
INSERT INTO readings VALUES ('M1', '1.0.1.29.0.255', 1764547200, 1.5, 'Wh', '1.0.0',
    NULL, NULL, 1);
"""


def reading(meter: str, channel: str, n: int, value: float = 1.0) -> Reading:
    return Reading(meter=meter, channel=channel, start=T0 + n * Q, value=value, unit="Wh")


def test_a_version_1_file_is_refused_naming_its_version(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(_VERSION_1)
    with pytest.raises(StoreVersionError, match=r"schema version 1;.* version 3"):
        Store(path)
    with sqlite3.connect(path) as db:  # left as it was
        assert db.execute("SELECT count(*) FROM readings").fetchone() == (1,)
        assert db.execute("PRAGMA user_version").fetchone() == (0,)


def test_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 9")
    with pytest.raises(sqlite3.DatabaseError, match="schema version 9"):
        Store(path)


def test_a_new_file_gets_the_version_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as store:
        store.put_readings([reading("M1", "1.0.1.29.0.255", 0, 2.0)])
        assert store.query("SELECT * FROM pragma_user_version") == [(SCHEMA_VERSION,)]
    with Store(path) as store:
        assert [r.value for r in store.readings()] == [2.0]


def test_a_file_shared_with_other_tables_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE inbound_queue (id INTEGER PRIMARY KEY)")
    with Store(path) as store:
        store.put_readings([reading("M1", "1.0.1.29.0.255", 0)])
        assert store.count_readings() == 1


def test_the_view_gives_names_in_key_order_whatever_the_ids(tmp_path: Path) -> None:
    """Ids follow first arrival; the view and readings() still order by name."""
    meters = ["M9", "M1", "M5"]
    channels = ["1.0.2.29.0.255", "1.0.1.29.0.255"]
    given = [reading(m, c, n, float(n)) for n in (3, 1, 2) for m in meters for c in channels]
    with Store(tmp_path / "s.db") as store:
        store.put_reading_rows([reading_row(r) for r in given])
        ids = store.query("SELECT name, id FROM meters ORDER BY id")
        assert [name for name, _ in ids] == meters
        key = sorted(given, key=lambda r: r.key)
        assert list(store.readings()) == key
        rows = store.query(
            "SELECT meter, channel, start, value FROM readings ORDER BY meter, channel, start"
        )
        assert rows == [(r.meter, r.channel, r.key[2], r.value) for r in key]
        assert list(store.readings(channel="1.0.1.29.0.255", meter="M5")) == [
            r for r in key if r.meter == "M5" and r.channel == "1.0.1.29.0.255"
        ]
        assert store.count_readings() == len(given)
        assert store.count_readings(meter="M1") == len(given) // 3
        assert store.count_readings(meter="M0") == 0
        assert list(store.readings(meter="M0")) == []


def test_two_connections_share_the_names(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as one, Store(path) as two:
        one.put_readings([reading("A", "1.0.1.29.0.255", 0)])
        two.put_readings([reading("B", "1.0.1.29.0.255", 0), reading("A", "1.0.2.29.0.255", 0)])
        one.put_readings([reading("B", "1.0.2.29.0.255", 1), reading("A", "1.0.1.29.0.255", 0)])
        got = [(r.meter, r.channel, r.key[2]) for r in one.readings()]
        assert got == [(r.meter, r.channel, r.key[2]) for r in two.readings()]
        assert len(got) == 4
        assert one.query("SELECT count(*) FROM meters") == [(2,)]


def test_a_failed_write_leaves_no_names_behind(tmp_path: Path) -> None:
    """A transaction rolled back after adding names: the names go with it, and the next
    write of the same meter stores it under a name that exists."""
    with Store(tmp_path / "s.db") as store:
        good = reading_row(reading("M7", "1.0.1.29.0.255", 0))
        bad = (*good[:3], object(), *good[4:])
        with pytest.raises(sqlite3.ProgrammingError):
            store.put_reading_rows([good, bad])  # type: ignore[list-item]
        assert store.query("SELECT count(*) FROM meters") == [(0,)]
        assert store.count_readings() == 0
        store.put_reading_rows([good])
        (back,) = store.readings()
        assert (back.meter, back.channel, back.value) == ("M7", "1.0.1.29.0.255", 1.0)
        assert back.source is ReadingSource.PULL


_VERSION_2 = """
CREATE TABLE meters (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE channels (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE reading_values (
    meter INTEGER NOT NULL, channel INTEGER NOT NULL, start INTEGER NOT NULL, value REAL,
    unit TEXT NOT NULL, quality TEXT NOT NULL, captured INTEGER, received INTEGER,
    source INTEGER NOT NULL, PRIMARY KEY (meter, channel, start)
) WITHOUT ROWID;
INSERT INTO meters VALUES (1, 'M1');
INSERT INTO channels VALUES (1, '1.0.1.29.0.255');
INSERT INTO reading_values VALUES (1, 1, 1764547200, 1.5, 'Wh', '1.0.0', NULL, NULL, 1);
PRAGMA user_version = 2;
"""


def test_a_version_2_file_is_refused_naming_its_version(tmp_path: Path) -> None:
    """Version 2 kept the unit and quality texts in every row."""
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as db:
        db.executescript(_VERSION_2)
    with pytest.raises(StoreVersionError, match=r"schema version 2;.* version 3"):
        Store(path)
    with sqlite3.connect(path) as db:  # left as it was
        assert db.execute("SELECT unit, quality FROM reading_values").fetchall() == [
            ("Wh", "1.0.0")
        ]


def row(meter: str, n: int, value: float, unit: str, quality: str) -> ReadingRow:
    start = int((T0 + n * Q).timestamp())
    return (meter, "1.0.1.29.0.255", start, value, unit, quality, None, start, 1)


@pytest.mark.parametrize(
    ("quality", "flagged"),
    [
        ("1.0.0", "2.4.11"),
        ("2.5.3", "2.5.3 2.4.11"),
        ("2.5.3 1.4.5", "2.5.3 1.4.5 2.4.11"),  # kept as given, flag appended
        ("2.4.11", "2.4.11"),
        ("1.4.5 2.4.11 2.5.3", "1.4.5 2.4.11 2.5.3"),
    ],
)
def test_units_and_qualities_are_kept_once_and_read_back_as_given(
    tmp_path: Path, quality: str, flagged: str
) -> None:
    """Rows keep unit and quality ids; the view gives the texts back as they were
    written, and a duplicate adds the flag to the text as given, once."""
    with Store(tmp_path / "s.db") as store:
        written = [row(m, 0, 1.0, "Wh", quality) for m in ("M1", "M2")]
        store.put_reading_rows([*written, row("M1", 1, 1.0, "varh", "1.0.0")])
        store.put_reading_rows([row("M1", 0, 2.0, "kWh", "1.0.0")])  # another value
        store.put_reading_rows([row("M1", 0, 3.0, "kWh", "1.0.0")])  # and another
        got = store.query("SELECT meter, start, value, unit, quality FROM readings")
        first = int(T0.timestamp())
        assert got == [
            ("M1", first, 1.0, "Wh", flagged),
            ("M1", first + 900, 1.0, "varh", "1.0.0"),
            ("M2", first, 1.0, "Wh", quality),
        ]
        assert store.query("SELECT count(*) FROM units") == [(3,)]
        texts = {text for (text,) in store.query("SELECT text FROM qualities")}
        assert texts == {quality, flagged, "1.0.0", "2.4.11"}
        assert store.query(
            "SELECT count(*) FROM reading_values WHERE typeof(quality) != 'integer'"
        )[0] == (0,)


def test_a_quality_added_by_another_connection_flags_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as one, Store(path) as two:
        one.put_reading_rows([row("M1", 0, 1.0, "Wh", "2.5.3")])
        two.put_reading_rows([row("M1", 0, 2.0, "Wh", "2.5.3")])
        one.put_reading_rows([row("M1", 0, 3.0, "Wh", "1.0.0")])
        assert two.query("SELECT value, quality FROM readings") == [(1.0, "2.5.3 2.4.11")]
        # each text with the one it takes as a duplicate: 2.5.3, 1.0.0 and their flagged
        assert one.query("SELECT count(*) FROM qualities") == [(4,)]


def test_a_failed_write_leaves_no_units_or_qualities_behind(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        good = row("M1", 0, 1.0, "Wh", "2.5.3")
        bad = (*good[:3], object(), *good[4:])
        with pytest.raises(sqlite3.ProgrammingError):
            store.put_reading_rows([good, bad])  # type: ignore[list-item]
        assert store.query("SELECT count(*) FROM units") == [(0,)]
        assert store.query("SELECT count(*) FROM qualities") == [(0,)]
        store.put_reading_rows([good])
        assert store.query("SELECT unit, quality FROM readings") == [("Wh", "2.5.3")]


def test_new_names_of_a_batch_added_at_once_beside_another_connections(tmp_path: Path) -> None:
    """A batch's new names go in together (some already added by another connection,
    some repeated); every row lands under its own name either way."""
    path = tmp_path / "s.db"
    with Store(path) as one, Store(path) as two:
        one.put_reading_rows([row(f"M{n}", 0, 1.0, "Wh", "1.0.0") for n in (1, 2, 3)])
        given = [row(f"M{n}", k, float(n), "Wh", "1.0.0") for k in (1, 2) for n in range(6)]
        given.append(row("M5", 3, 5.0, "varh", "2.5.3"))
        two.put_reading_rows(given)
        assert one.query("SELECT count(*), count(DISTINCT id) FROM meters") == [(6, 6)]
        back = one.query("SELECT meter, start, value, unit, quality FROM readings")
        first = int(T0.timestamp())
        want: list[tuple[str, int, float | None, str, str]]
        want = [(f"M{n}", first, 1.0, "Wh", "1.0.0") for n in (1, 2, 3)]
        want += [(r[0], r[2], r[3], r[4], r[5]) for r in given]
        assert sorted(back) == sorted(want)
