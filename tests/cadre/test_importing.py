from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cadre import importing, rules
from cadre.importing import Known, LoginTie, OnRecord, file_problem, parse_date, read_cadre_csv

HEADER = "callsign,full_name,mobile,roles,force,passed_on,valid_until,username\n"
AMIRA = OnRecord(
    pk=7,
    full_name="Amira Khan",
    mobile="+447700900001",
    roles=frozenset({"negotiator"}),
    username="amira",
    accreditations=frozenset({("initial", date(2025, 1, 1), date(2027, 12, 31))}),
)
KNOWN = Known(
    force_codes=frozenset({"WSX", "AVM"}),
    people={("WSX", "ALPHA-01"): AMIRA},
    mobiles={"+447700900001": "ALPHA-01 (WSX)"},
    logins={
        "taken": LoginTie(has_record=True, forces=frozenset({"WSX"})),
        "amira": LoginTie(has_record=True, forces=frozenset({"WSX"})),
    },
)


def problems(text, known=KNOWN):
    return [(p.row, p.message) for p in read_cadre_csv(text, known).problems]


def test_it_reads_good_rows():
    result = read_cadre_csv(
        HEADER
        + "bravo-02,Ben Blake,07700 900002,negotiator; Coordinator,wsx,2025-01-01,31/12/2027,ben\n"
        + "ALPHA-01,Amira Khan,07700900003,adviser,AVM,2025-01-01,2027-12-31,\n",
        KNOWN,
    )
    assert result.ok
    first, second = result.rows
    assert (first.callsign, first.mobile, first.roles) == (
        "BRAVO-02",
        "+447700900002",
        ["negotiator", "coordinator"],
    )
    assert first.valid_until == date(2027, 12, 31)
    assert first.username == "ben"
    assert second.force_code == "AVM"  # the same callsign in another force is fine


def test_it_reports_every_problem_with_its_spreadsheet_row():
    text = (
        HEADER
        + "BRAVO-02,Ben Blake,12345,negotiator,WSX,2025-01-01,2027-12-31,\n"  # row 2: phone
        + "ALPHA-01,Amira Khan,07700900004,negotiator,WSX,2025-01-01,2027-12-31,bob\n"  # 3: login
        + "CHARLIE-03,Cat Carver,07700900001,negotiator,WSX,2025-01-01,2027-12-31,\n"  # 4
        + "DELTA-04,Dev D,07700900005,pilot,WSX,2025-01-01,2027-12-31,\n"  # 5: role
        + "ECHO-05,Eli E,07700900006,negotiator,XXX,2025-01-01,2027-12-31,\n"  # 6: force
        + "FOXTROT-06,Fa F,07700900007,negotiator,WSX,yesterday,2024-01-01,\n"  # 7: dates
        + "GOLF-07,Gi G,07700900008,negotiator,WSX,2025-01-01,2024-01-01,taken\n"  # 8
        + "GOLF-07,Ha H,07700900008,negotiator,WSX,2025-01-01,2027-12-31,\n"  # 9: dups in file
    )
    found = problems(text)
    rows = {row for row, _ in found}
    assert rows == {2, 3, 4, 5, 6, 7, 8, 9}
    messages = " | ".join(f"{row}: {msg}" for row, msg in found)
    assert "2: Mobile: “12345” is not a valid phone number." in messages
    assert "3: ALPHA-01 already has the login “amira”: change it on their page." in messages
    assert "4: Mobile +447700900001 already belongs to ALPHA-01 (WSX)." in messages
    assert "5: Unknown role “pilot”" in messages
    assert "6: Unknown force code “XXX”." in messages
    assert "7: passed_on “yesterday” is not a date" in messages
    assert "8: valid_until is before passed_on." in messages
    assert "8: Login “taken” already belongs to someone" in messages
    assert "9: Callsign GOLF-07 is also on row 8." in messages
    assert "9: Mobile +447700900008 is also on row 8." in messages
    assert not read_cadre_csv(text, KNOWN).ok


def test_it_says_which_rows_are_new_changed_or_unchanged_and_what_changes():
    same = "ALPHA-01,Amira Khan,07700 900001,negotiator,WSX,2025-01-01,2027-12-31,amira\n"
    result = read_cadre_csv(HEADER + same, KNOWN)
    assert [(r.status, r.on_record) for r in result.rows] == [("unchanged", AMIRA)]
    renewed = "alpha-01,Amira Khan-Lee,07700 900001,adviser,wsx,2025-01-01,2028-12-31,\n"
    newcomer = "ALPHA-01,Ali Ahmed,07700 900002,negotiator,AVM,2025-01-01,2027-12-31,\n"
    result = read_cadre_csv(HEADER + renewed + newcomer, KNOWN)
    assert result.ok
    assert [(r.status, r.changes) for r in result.rows] == [
        ("changed", ("name", "roles", "accreditation")),
        ("new", ()),
    ]
    assert [len(result.having(s)) for s in ("new", "changed", "unchanged")] == [1, 1, 0]


def test_it_links_a_login_to_someone_without_one_as_a_change():
    without = OnRecord(7, "Amira Khan", "+447700900001", frozenset({"negotiator"}))
    known = Known(force_codes=KNOWN.force_codes, people={("WSX", "ALPHA-01"): without})
    line = "ALPHA-01,Amira Khan,07700 900001,negotiator,WSX,2025-01-01,2027-12-31,amira\n"
    (row,) = read_cadre_csv(HEADER + line, known).rows
    assert row.changes == ("accreditation", "login")


def test_its_fingerprint_changes_when_what_saving_would_do_changes():
    line = "ALPHA-01,Amira Khan,07700 900001,negotiator,WSX,2025-01-01,2027-12-31,\n"
    before = read_cadre_csv(HEADER + line, Known(force_codes=KNOWN.force_codes))
    after = read_cadre_csv(HEADER + line, KNOWN)
    again = read_cadre_csv(HEADER + line, KNOWN)
    assert before.digest() != after.digest() == again.digest()


def test_it_refuses_a_whole_file_with_a_nul_or_too_many_rows(monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    three = HEADER + "a\r\nb\rc\n"
    assert file_problem(three) is None
    assert "more than 3 rows" in file_problem(three + "d\n")
    assert "NUL" in file_problem(HEADER + "a\x00\n")
    assert file_problem(HEADER + "x" * 200_000 + "\n") is None  # the checker says why


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2025-01-31", date(2025, 1, 31)),
        ("2025-1-3", date(2025, 1, 3)),
        ("31/01/2025", date(2025, 1, 31)),
        ("3/1/2025", date(2025, 1, 3)),
        ("31/02/2025", None),
        ("２０２５-01-31", None),
        ("2025-01-31x", None),
        ("20250131", None),
    ],
)
def test_it_reads_dates_as_a_spreadsheet_writes_them(text, day):
    assert parse_date(text) == day


def test_it_refuses_a_file_with_missing_columns_or_no_rows():
    assert problems("callsign,mobile\nA,07700900001\n") == [
        (0, "Missing column(s): full_name, roles, force, passed_on, valid_until.")
    ]
    assert problems("") == [(0, "The file is empty.")]
    assert problems(HEADER) == [(0, "The file has a header but no rows.")]


def test_it_skips_blank_rows_but_keeps_row_numbers():
    text = HEADER + ",,,,,,,\n" + "BRAVO-02,Ben,bad,negotiator,WSX,2025-01-01,2027-12-31,\n"
    assert [row for row, _ in problems(text)] == [3]


def test_it_accepts_a_spreadsheet_bom_and_column_case():
    text = "\ufeffCallsign,Full_Name,Mobile,Roles,Force,Passed_On,Valid_Until\n"
    text += "BRAVO-02,Ben,07700900002,negotiator,WSX,2025-01-01,2027-12-31\n"
    assert read_cadre_csv(text, KNOWN).ok


def test_it_reports_a_row_with_too_many_values():
    text = HEADER + "BRAVO-02,Ben,07700900002,negotiator,WSX,2025-01-01,2027-12-31,,extra\n"
    assert problems(text) == [(2, "More values than columns.")]


def test_it_accepts_the_example_file_offered_on_the_import_page():
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "static" / "cadre" / "example-cadre.csv"
    assert read_cadre_csv(example.read_text(), KNOWN).ok


def row(callsign="CHARLIE-03", name="Cara Cole", passed="2025-01-01", until="2027-12-31", user=""):
    return f"{callsign},{name},07700 900004,negotiator,WSX,{passed},{until},{user}\n"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (row(callsign='"<svg onload=alert(1)>"'), "Callsign: A callsign is letters and digits"),
        (row(callsign='"CHAR\nLIE"'), "Callsign: A callsign is letters and digits"),
        (row(callsign="C" * 31), "at most 30 characters"),
        (row(name="N" * 151), "full_name: A name has at most 150"),
        (row(passed="0001-01-01"), "passed_on: 0001-01-01 is not a date an accreditation"),
        (row(until="9999-12-31"), "valid_until: 9999-12-31 is not a date"),
        (row(user="u" * 151), "username: at most 150"),
        (row(user="bad name"), "username: at most 150"),
    ],
)
def test_it_refuses_values_the_register_could_not_hold(line, says):
    found = problems(HEADER + line)
    assert any(says in message for _, message in found), found


def test_it_reads_a_file_with_old_mac_line_endings():
    result = read_cadre_csv((HEADER + row()).replace("\n", "\r"), KNOWN)
    assert result.ok
    assert result.rows[0].callsign == "CHARLIE-03"


def test_a_value_over_the_csv_limit_is_a_problem_not_a_crash():
    result = read_cadre_csv(HEADER + row(name="x" * 200_000), KNOWN)
    assert not result.ok
    assert "cannot be read as CSV" in result.problems[0].message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_no_text_makes_the_checker_raise_and_only_clean_rows_come_back(text):
    result = read_cadre_csv(HEADER + text, KNOWN)
    if result.ok:
        for found in result.rows:
            assert not rules.callsign_problem(found.callsign)
            assert not rules.name_problem(found.full_name)
            assert found.mobile.startswith("+44")
            assert found.passed_on <= found.valid_until
            assert found.force_code in KNOWN.force_codes
    else:
        assert result.problems


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(max_size=40), min_size=0, max_size=9), max_size=6))
def test_no_cells_make_the_checker_raise(cells):
    body = "".join(
        ",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' for c in r) + "\n" for r in cells
    )
    result = read_cadre_csv(HEADER + body, KNOWN)
    assert result.ok or result.problems


def test_it_takes_a_registered_mobile_as_it_is_and_checks_any_other(monkeypatch):
    from cadre import phones

    checked = []
    normalise = phones.normalise_mobile

    def counting(raw):
        checked.append(raw)
        return normalise(raw)

    monkeypatch.setattr(importing, "normalise_mobile", counting)
    for raw in ("07700 900001", "+44 7700 900001", "07700900001"):
        line = f"ALPHA-01,Amira Khan,{raw},negotiator,WSX,2025-01-01,2027-12-31,\n"
        (row,) = read_cadre_csv(HEADER + line, KNOWN).rows
        assert row.mobile == "+447700900001"
    assert checked == []
    odd = "ALPHA-01,Amira Khan,(07700) 900001,negotiator,WSX,2025-01-01,2027-12-31,\n"
    assert read_cadre_csv(HEADER + odd, KNOWN).rows[0].mobile == "+447700900001"
    assert checked == ["(07700) 900001"]
    bad = "ALPHA-01,Amira Khan,07000 000001,negotiator,WSX,2025-01-01,2027-12-31,\n"
    assert "Mobile:" in read_cadre_csv(HEADER + bad, KNOWN).problems[0].message


def test_it_refuses_a_file_with_a_column_named_twice_naming_it():
    header = HEADER.rstrip("\n") + ",Callsign \n"
    row = "ALPHA-01,Ann,07700900001,negotiator,WSX,2025-01-01,2027-12-31,,BRAVO-02\n"
    assert problems(header + row) == [(0, "Column(s) named twice: callsign.")]


def test_it_takes_several_unnamed_columns_as_a_spreadsheet_leaves_them():
    text = (
        HEADER.rstrip("\n")
        + ",,\n"
        + "ALPHA-01,Ann,07700900001,negotiator,WSX,2025-01-01,2027-12-31,,,\n"
    )
    assert not [p for p in problems(text) if p[0] == 0]
