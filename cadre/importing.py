"""Reading a cadre from CSV: every row checked, every problem reported with its row number.

Pure: it takes the CSV text and what the register already holds (`Known`) and
returns parsed rows and problems. cadre.services.import_cadre loads `Known`
(cadre.queries.known_register) and saves only when there are no problems at all.

A row whose callsign the force already has updates that person: each row is new,
changed (saying what changes) or unchanged, so importing the same file twice changes
nothing the second time.

Row numbers are those a spreadsheet shows: the header is row 1.
"""

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date

from cadre import rules
from cadre.phones import InvalidMobile, normalise_mobile
from cadre.scope import link_problem

REQUIRED_COLUMNS = ("callsign", "full_name", "mobile", "roles", "force", "passed_on", "valid_until")
OPTIONAL_COLUMNS = ("username", "kind")
ROLES = ("negotiator", "coordinator", "adviser")
KINDS = ("initial", "refresher", "cpd")
ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
UK_MOBILE = re.compile(r"07[0-9]{9}")
USERNAME = re.compile(r"[\w.@+-]{1,150}")
MAX_ROWS = 20_000  # ten times the largest real register, with room to spare


@dataclass(frozen=True)
class LoginTie:
    """What an existing login is already tied to (cadre.scope.link_problem decides)."""

    staff: bool = False
    superuser: bool = False
    has_record: bool = False
    forces: frozenset[str] = frozenset()  # codes of the forces it has memberships in


@dataclass(frozen=True)
class OnRecord:
    """Someone the register holds, as an imported row with their callsign is compared with."""

    pk: int
    full_name: str
    mobile: str
    roles: frozenset[str]
    username: str = ""  # their login, if linked
    accreditations: frozenset[tuple[str, date, date]] = frozenset()  # (kind, passed, until)


@dataclass(frozen=True)
class Known:
    """What the register already holds, and what the importing login may add to."""

    force_codes: frozenset[str] = frozenset()
    allowed_force_codes: frozenset[str] | None = None  # None: every force in force_codes
    people: dict[tuple[str, str], OnRecord] = field(default_factory=dict)  # (code, callsign)
    mobiles: dict[str, str] = field(default_factory=dict)  # mobile -> who has it
    logins: dict[str, LoginTie] = field(default_factory=dict)  # existing logins with a tie

    def may_add_to(self, code: str) -> bool:
        allowed = self.force_codes if self.allowed_force_codes is None else self.allowed_force_codes
        return code in allowed

    def login_problem(self, username: str, force_code: str) -> str | None:
        tie = self.logins.get(username)
        if tie is None:
            return None
        return link_problem(
            username,
            exists=True,
            staff=tie.staff,
            superuser=tie.superuser,
            has_record=tie.has_record,
            other_forces=tie.forces - {force_code},
        )


@dataclass(frozen=True)
class Problem:
    row: int  # 0 for the file as a whole
    message: str


@dataclass
class CadreRow:
    row: int
    callsign: str
    full_name: str
    mobile: str
    roles: list[str]
    force_code: str
    passed_on: date
    valid_until: date
    kind: str = "initial"
    username: str = ""
    on_record: OnRecord | None = None  # the person this row updates
    changes: tuple[str, ...] = ()  # what it changes of them: name, mobile, roles, ...

    @property
    def status(self) -> str:
        if self.on_record is None:
            return "new"
        return "changed" if self.changes else "unchanged"


@dataclass
class ImportResult:
    rows: list[CadreRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows_read: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    def having(self, status: str) -> list[CadreRow]:
        return [row for row in self.rows if row.status == status]

    @property
    def problem_rows(self) -> int:
        """How many rows have a problem (a problem with the whole file is not a row's)."""
        return len({p.row for p in self.problems if p.row})

    def digest(self) -> str:
        """A fingerprint of what saving would do, row by row: the preview carries it, so that
        confirming saves only what the coordinator was shown."""
        plan = hashlib.sha256()
        for r in self.rows:
            who = r.on_record.pk if r.on_record else ""
            plan.update(
                f"{r.row}|{r.force_code}|{r.callsign}|{who}|{','.join(r.changes)}\n".encode()
            )
        return plan.hexdigest()


def file_problem(text: str) -> str | None:
    """What makes a whole file too much to check (the upload refuses it), else None."""
    if "\x00" in text:
        return "The file holds a NUL character: it is not a CSV text file."
    records = -1  # the header is not a row
    try:
        for _ in csv.reader(io.StringIO(_lines(text))):
            records += 1
            if records > MAX_ROWS:
                return f"The file has more than {MAX_ROWS:,} rows: split it into smaller files."
    except csv.Error:
        return None  # the checker says what is wrong with it, and where
    return None


def _lines(text: str) -> str:
    # Old Mac spreadsheets end lines with a lone CR; the csv module wants them as lines.
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def parse_date(text: str) -> date | None:
    """2026-03-31 or 31/03/2026 (ASCII digits only)."""
    if found := ISO_DATE.fullmatch(text):
        year, month, day = found.groups()
    elif found := UK_DATE.fullmatch(text):
        day, month, year = found.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def parse_roles(text: str) -> tuple[list[str], list[str]]:
    """(roles, unknown words) from 'negotiator; coordinator'."""
    words = [w.strip().lower() for w in text.split(";") if w.strip()]
    roles = [w for w in ROLES if w in words]
    unknown = [w for w in words if w not in ROLES]
    return roles, unknown


class _Seen:
    """Values met earlier in the file, to report duplicates within it."""

    def __init__(self):
        self.callsigns: dict[tuple[str, str], int] = {}
        self.mobiles: dict[str, int] = {}
        self.usernames: dict[str, int] = {}


def mobile_of(raw: str, known: Known) -> str:
    """The mobile in E.164 (InvalidMobile if it is not one). A number the register already
    holds, written plainly (07911 123456, +447911123456), is taken as it is: it was checked
    when it was saved, and checking it again is most of the time a register sent again
    takes."""
    plain = raw.replace(" ", "")
    if UK_MOBILE.fullmatch(plain):
        plain = "+44" + plain[1:]
    if plain in known.mobiles:
        return plain
    return normalise_mobile(raw)


def check_row(number: int, record: dict[str, str], known: Known, seen: _Seen):
    """Return (CadreRow or None, problems) for one CSV record."""
    problems = []

    def problem(message):
        problems.append(Problem(number, message))

    def duplicate(what, key, taken, earlier):
        """Report `what` if the register has it (`taken` says how) or an earlier row did."""
        if taken:
            problem(f"{what} {taken}.")
        elif key in earlier:
            problem(f"{what} is also on row {earlier[key]}.")
        else:
            earlier[key] = number

    value = {key: (record.get(key) or "").strip() for key in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    callsign = value["callsign"].upper()
    force_code = value["force"].upper()
    for column in ("callsign", "full_name", "force"):
        if not value[column]:
            problem(f"{column} is empty.")
    if callsign and (wrong := rules.callsign_problem(callsign)):
        problem(f"Callsign: {wrong}")
    if value["full_name"] and (wrong := rules.name_problem(value["full_name"])):
        problem(f"full_name: {wrong}")
    if force_code and force_code not in known.force_codes:
        problem(f"Unknown force code “{value['force']}”.")
    elif force_code and not known.may_add_to(force_code):
        problem(f"You are not a coordinator of {force_code}: you cannot add people to it.")

    on_record = None
    if callsign and force_code:
        key = (force_code, callsign)
        on_record = known.people.get(key)
        duplicate(f"Callsign {callsign}", key, None, seen.callsigns)

    mobile = ""
    try:
        mobile = mobile_of(value["mobile"], known)
    except InvalidMobile as error:
        problem(f"Mobile: {error}")
    if mobile:
        holder = known.mobiles.get(mobile)
        theirs = on_record is not None and on_record.mobile == mobile
        taken = f"already belongs to {holder}" if holder and not theirs else None
        duplicate(f"Mobile {mobile}", mobile, taken, seen.mobiles)

    roles, unknown = parse_roles(value["roles"])
    if unknown:
        problem(f"Unknown role {', '.join(f'“{w}”' for w in unknown)} (use {', '.join(ROLES)}).")
    elif not roles:
        problem("No role given.")

    kind = value["kind"].lower() or "initial"
    if kind not in KINDS:
        problem(f"Unknown accreditation kind “{value['kind']}” (use {', '.join(KINDS)}).")

    dates = {}
    for column in ("passed_on", "valid_until"):
        dates[column] = parse_date(value[column])
        if dates[column] is None:
            problem(f"{column} “{value[column][:40]}” is not a date (use YYYY-MM-DD).")
        elif wrong := rules.date_problem(dates[column]):
            problem(f"{column}: {wrong}")
            dates[column] = None
    if dates["passed_on"] and dates["valid_until"] and dates["valid_until"] < dates["passed_on"]:
        problem("valid_until is before passed_on.")

    username = value["username"]
    if username and not USERNAME.fullmatch(username):
        problem("username: at most 150 letters, digits and @ . + - _ characters.")
    elif username:
        refused = login_problem(username, callsign, force_code, on_record, known)
        if refused:
            problem(refused)
        else:
            duplicate(f"Login “{username}”", username, None, seen.usernames)

    if problems:
        return None, problems
    row = CadreRow(
        row=number,
        callsign=callsign,
        full_name=value["full_name"],
        mobile=mobile,
        roles=roles,
        force_code=force_code,
        passed_on=dates["passed_on"],
        valid_until=dates["valid_until"],
        kind=kind,
        username=username,
        on_record=on_record,
    )
    if on_record is not None:
        row.changes = changes(row, on_record)
    return row, []


def login_problem(username, callsign, force_code, on_record: OnRecord | None, known: Known):
    """Why the row's login may not be linked to its person, or None."""
    if on_record is not None and on_record.username == username:
        return None  # already theirs
    if on_record is not None and on_record.username:
        return f"{callsign} already has the login “{on_record.username}”: change it on their page."
    return known.login_problem(username, force_code)


def changes(row: CadreRow, on_record: OnRecord) -> tuple[str, ...]:
    """What importing `row` changes of the person it names; a blank username changes nothing."""
    differs = {
        "name": row.full_name != on_record.full_name,
        "mobile": row.mobile != on_record.mobile,
        "roles": frozenset(row.roles) != on_record.roles,
        "accreditation": (row.kind, row.passed_on, row.valid_until) not in on_record.accreditations,
        "login": bool(row.username) and not on_record.username,
    }
    return tuple(what for what, changed in differs.items() if changed)


def read_cadre_csv(text: str, known: Known) -> ImportResult:
    result = ImportResult()
    try:
        _read(text, known, result)
    except csv.Error as error:
        # A value over the csv module's field limit, a stray quote: say where, save nothing.
        result.rows = []
        result.problems.append(Problem(0, f"The file cannot be read as CSV: {error}."))
    return result


def _read(text: str, known: Known, result: ImportResult):
    reader = csv.DictReader(io.StringIO(_lines(text)))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if not header:
        result.problems.append(Problem(0, "The file is empty."))
        return
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:
        # Which of two "callsign" columns is meant? Refused rather than one silently used.
        result.problems.append(Problem(0, f"Column(s) named twice: {', '.join(twice)}."))
        return
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        result.problems.append(Problem(0, f"Missing column(s): {', '.join(missing)}."))
        return
    reader.fieldnames = header
    seen = _Seen()
    for record in reader:
        number = reader.line_num  # the spreadsheet row, for rows without line breaks in them
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue  # blank line
        result.rows_read += 1
        if None in record:
            result.problems.append(Problem(number, "More values than columns."))
            continue
        row, problems = check_row(number, record, known, seen)
        result.problems.extend(problems)
        if row is not None:
            result.rows.append(row)
    if result.rows_read == 0:
        result.problems.append(Problem(0, "The file has a header but no rows."))
