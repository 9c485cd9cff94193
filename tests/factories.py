"""One way to make each thing the tests need.

Fixtures (in the conftest files) call these; tests import them from here and
nowhere else.

    make_force          a force
    make_user           a login (password "pw") with login roles in a force (a membership)
    make_membership     a login's roles in one more force
    make_two_factor     a login's authenticator set up, with its recovery codes
    app_code            the code an authenticator app shows (now, or a step ahead)
    make_negotiator     a cadre member with a current accreditation
    make_cadre          six members of one force: n1..n4, c1, c2
    put_on              a shift on the force's rota
    make_unavailability a spell when someone cannot be called
    raise_incident      an incident raised through the real service
    make_incident       an incident built directly, for tests that only read it
    make_callout        someone asked to an incident (with the SMS that asked them)
    make_message        a message row, to or from someone asked
    post_signed         a webhook POST signed as Twilio signs it
    post_sms            an inbound SMS as Twilio posts it
    MutualAid           a closed WSX incident that reached AVM's people by mutual aid
    login               a login through the real form, in the browser
"""

import itertools
import time
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.test import TestCase
from django.utils import timezone
from django_otp.oath import TOTP
from twilio.request_validator import RequestValidator

from cadre import services as cadre_services
from cadre.models import Accreditation, Force, Membership, Negotiator
from callouts import services
from callouts.models import Callout, Deployment, Incident, Message
from roster.models import Shift, Unavailability
from roster.queries import rota_for

# A Monday in winter (GMT): local and UTC agree, which keeps expectations readable.
MONDAY = datetime(2026, 1, 5, 8, tzinfo=UTC)

_seq = itertools.count(1)


def make_force(name=None, code=None):
    n = next(_seq)
    return Force.objects.create(name=name or f"Force {n}", code=code or f"F{n}")


def make_user(username=None, groups=(), password="pw", *, force=None, forces=()):
    """A login with the login roles `groups` (COORDINATOR, SUPERVISOR, NEGOTIATOR) in `force`
    (or in each of `forces`): roles always belong to a force, so one must be named."""
    user = User.objects.create_user(username or f"user{next(_seq)}", password=password)
    forces = [force] if force is not None else list(forces)
    if groups and not forces:
        raise TypeError("make_user: say which force the roles are in (force=… or forces=…)")
    for each in forces:
        make_membership(user, each, *groups)
    return user


def make_membership(user, force, *roles):
    """Add login `roles` to the user's membership in `force`."""
    membership = Membership.objects.filter(user=user, force=force).first()
    membership = membership or Membership(user=user, force=force)
    membership.roles = {*membership.roles, *(str(r).lower() for r in roles)}
    membership.save()
    return membership


def app_code(device, ahead=0) -> str:
    """The code the app shows now, or `ahead` steps of 30 s later (a code is taken once, and
    one step ahead is accepted: a test needing a second code need not wait)."""
    # A code taken just as the 30 s step turned is matched one step back and the device keeps
    # that drift; `device` may be a copy from before, so the stored drift is the one to use.
    stored = type(device).objects.filter(pk=device.pk).values_list("drift", flat=True).first()
    drift = device.drift if stored is None else stored
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, drift)
    totp.time = time.time() + ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def make_two_factor(user):
    """Two-factor login set up for `user` as the set-up page does it: (device, recovery codes)."""
    device = cadre_services.start_two_factor(user, by=user)
    made = cadre_services.confirm_two_factor(device, app_code(device), by=user)
    # Setting up took the code showing now; the test's first login may use it again.
    device.refresh_from_db()
    device.last_t = -1
    device.save(update_fields=["last_t"])
    return device, made


def make_negotiator(
    force=None,
    callsign=None,
    roles=("negotiator",),
    accredited=True,
    active=True,
    user=None,
    mobile=None,
    valid_until=None,
    pk=None,
):
    n = next(_seq)
    negotiator = Negotiator(
        pk=pk,
        force=force or Force.objects.first() or make_force(),
        callsign=callsign or f"CALL-{n:03d}",
        full_name=f"Person {n}",
        # Not +447700 9xxxxx: the numbers tests write out (a stranger's, the Twilio number).
        mobile=mobile or f"+447701{n:06d}",
        active=active,
        user=user,
    )
    negotiator.roles = roles
    negotiator.save()
    if accredited:
        Accreditation.objects.create(
            negotiator=negotiator,
            kind=Accreditation.Kind.INITIAL,
            passed_on=date(2020, 1, 1),
            valid_until=valid_until or date.today() + timedelta(days=365 * 3),
        )
    return negotiator


def make_cadre(force):
    """Four negotiators (n1..n4), a coordinator (c1) and one who is both (c2)."""
    return {
        "n1": make_negotiator(force=force, callsign="N-ONE"),
        "n2": make_negotiator(force=force, callsign="N-TWO"),
        "c1": make_negotiator(force=force, callsign="C-ONE", roles=("coordinator",)),
        "n3": make_negotiator(force=force, callsign="N-THREE"),
        "n4": make_negotiator(force=force, callsign="N-FOUR"),
        "c2": make_negotiator(force=force, callsign="C-TWO", roles=("negotiator", "coordinator")),
    }


def put_on(negotiator, role="negotiator", *, start=MONDAY, days=7, end=None, rota=None, **fields):
    """A shift on the rota of the negotiator's force, `days` long unless `end` is given."""
    return Shift.objects.create(
        rota=rota or rota_for(negotiator.force),
        negotiator=negotiator,
        role=role,
        start=start,
        end=end or start + timedelta(days=days),
        **fields,
    )


def make_unavailability(negotiator, *, start=MONDAY, days=1, end=None, **fields):
    return Unavailability.objects.create(
        negotiator=negotiator, start=start, end=end or start + timedelta(days=days), **fields
    )


def raise_incident(force, kind="barricade", location="Maidstone", by=None, **fields):
    """Raised through the real service (`by`: the login raising it; None, the system); run it
    under `run_tasks` to fire its first step."""
    return services.raise_incident(force=force, kind=kind, location=location, by=by, **fields)


def make_incident(force, **fields):
    """Built directly, with frozen steps and no callouts: for page and API tests that read."""
    n = next(_seq)
    fields.setdefault("reference", f"{force.code}-T{n:03d}")
    fields.setdefault("kind", "barricade")
    fields.setdefault("location", "Riverside")
    fields.setdefault("rendezvous", "Car park B")
    fields.setdefault("brief", "Male, 40s, upstairs flat")
    fields.setdefault("needs", {"negotiator": 2, "coordinator": 1})
    fields.setdefault("policy_name", "Standard")
    fields.setdefault(
        "steps",
        [
            {"audience": "on_call", "channel": "sms", "wait_minutes": 3, "named": []},
            {"audience": "force", "channel": "both", "wait_minutes": 5, "named": []},
        ],
    )
    return Incident.objects.create(force=force, **fields)


def make_callout(incident, negotiator, status=None, channel="sms", **fields):
    """Someone asked at step 0; with `status`, also the message that asked them, in that state."""
    fields.setdefault("asked_roles", negotiator.roles)
    fields.setdefault("first_step", 0)
    callout = Callout.objects.create(incident=incident, negotiator=negotiator, **fields)
    if status:
        make_message(
            callout,
            channel=channel,
            body=f"{incident.reference}: reply Y or N",
            status=status,
        )
    return callout


def make_deployed(incident, negotiator, status=None, channel="sms", **fields):
    """Someone who accepted a place and went: their accepted callout (as make_callout, with
    a `role`) and its deployment, the record that says who went."""
    fields.setdefault("state", Callout.State.ACCEPTED)
    fields.setdefault("answered_at", timezone.now())
    callout = make_callout(incident, negotiator, status, channel, **fields)
    Deployment.objects.create(
        incident=incident,
        callout=callout,
        negotiator=negotiator,
        role=callout.role,
        late=callout.late,
        accepted_at=callout.answered_at,
        eta_minutes=callout.eta_minutes,
    )
    return callout


def make_message(callout=None, *, channel="sms", purpose=Message.Purpose.CALLOUT, **fields):
    """A message row; given a callout, to that callout's person about its incident."""
    if callout is not None:
        fields.setdefault("incident", callout.incident)
        fields.setdefault("negotiator", callout.negotiator)
        fields.setdefault("to_number", callout.negotiator.mobile)
        fields.setdefault("step", 0)
    return Message.objects.create(channel=channel, purpose=purpose, callout=callout, **fields)


def bearer(token):
    """The API's Authorization header for an API token, as the test client takes it."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def sign(url, params):
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)


def post_signed(client, path, params):
    """POST as Twilio does: form-encoded, signed over PUBLIC_BASE_URL + path."""
    url = settings.PUBLIC_BASE_URL + path
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=sign(url, params))


def post_sms(client, person_or_number, body, sid="SM1"):
    """An inbound SMS from a negotiator (or any number), as Twilio posts it to the webhook."""
    number = getattr(person_or_number, "mobile", person_or_number)
    params = {"From": number, "To": "+447700900000", "Body": body, "MessageSid": sid}
    return post_signed(client, "/twilio/sms/", params)


def answer_all_replies(timeout=10.0):
    """Tick the clock until every SMS reply taken in is handled, and its answer recorded.

    Beside a live server the escalator thread (tests/e2e/conftest.py) ticks too and may
    take a reply first: this tick then finds nothing, and the reply is still being
    handled in that thread. Waiting for the replies themselves, not for one tick, keeps
    a fixture's later steps (a stand-down) after them.
    """
    from callouts.engine import clock

    deadline = time.monotonic() + timeout
    waiting = Message.objects.filter(direction=Message.Direction.IN, status=Message.Status.RECEIVED)
    while True:
        clock.tick()
        if not waiting.exists():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"replies still not handled after {timeout} s")
        time.sleep(0.02)


def login(page, live_server, username, password="pw"):
    """Log in through the real form in the browser and wait for the dashboard."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


class MutualAid:
    """A Wessex (WSX) incident that reached Avonmoor's (AVM) people by mutual aid, played
    through the real services, webhook and clock: WSX's coordinator raises it; WSX's people
    answer (one with a private reason); the mutual-aid step asks AVM's on-call people, one
    of whom goes; WSX's coordinator closes it and WSX's supervisor writes the debrief.

    `wsx_people` / `avm_people`: the cadre records; `wsx_secrets()` is what AVM's logins
    must never see of it, `avm_names()` what WSX's must never see of AVM's people.
    """

    WSX_REPLY = "N sorry my mother is in hospital"
    AVM_REPLY = "N on leave from tomorrow"

    def __init__(self, client):
        from callouts.engine import clock
        from callouts.engine.policy import create_default_policy

        self.wsx = make_force("Wessex Constabulary", "WSX")
        self.avm = make_force("Avonmoor Police", "AVM")
        self.wsx.neighbours.add(self.avm)
        for force in (self.wsx, self.avm):
            create_default_policy(force)
        now = datetime.now(UTC)
        on = {"start": now - timedelta(hours=1), "end": now + timedelta(hours=12)}
        self.wsx_people = [
            make_negotiator(self.wsx, f"WREN-{n:02d}", mobile=f"+44770211{n:04d}")
            for n in range(1, 5)
        ]
        self.wsx_people.append(
            make_negotiator(self.wsx, "WREN-05", roles=("coordinator",), mobile="+447702110005")
        )
        for n, person in enumerate(self.wsx_people):
            person.full_name = f"Wessexname Surname{n}"
            person.save()
        put_on(self.wsx_people[0], **on)
        put_on(self.wsx_people[1], **on)
        put_on(self.wsx_people[4], "coordinator", **on)
        self.avm_people = [
            make_negotiator(self.avm, "KESTREL-01", mobile="+447702220001"),
            make_negotiator(self.avm, "KESTREL-02", mobile="+447702220002"),
        ]
        self.avm_people[0].full_name, self.avm_people[1].full_name = "Isla Marsh", "Harvey Thorne"
        for person in self.avm_people:
            person.save()
            put_on(person, **on)
        self.wsx_coordinator = make_user("wsx-coordinator", ["coordinator"], force=self.wsx)
        self.wsx_supervisor = make_user("wsx-supervisor", ["supervisor"], force=self.wsx)
        self.avm_coordinator = make_user("avm-coordinator", ["coordinator"], force=self.avm)
        self.avm_supervisor = make_user("avm-supervisor", ["supervisor"], force=self.avm)
        # KESTREL-02 signs in as themselves (their login name is their own name).
        self.avm_login = make_user("harvey.thorne", ["negotiator"], force=self.avm)
        self.avm_people[1].user = self.avm_login
        self.avm_people[1].save()

        def run(fn, *args, **kwargs):
            """As a real commit would: on_commit callbacks (the sync queue's tasks) run."""
            with TestCase.captureOnCommitCallbacks(execute=True):
                return fn(*args, **kwargs)

        self.incident = run(
            raise_incident,
            self.wsx,
            needs={"negotiator": 3, "coordinator": 1},
            brief="Male, 40s; WREN-03 knows the family",
            by=self.wsx_coordinator,
        )
        wren = self.wsx_people
        for n, (person, body) in enumerate(
            [(wren[0], self.WSX_REPLY), (wren[1], "Y 15"), (wren[4], "Y 10")]
        ):
            run(post_sms, client, person, body, f"SMwsx{n}")
        run(clock.tick)
        for _ in range(8):
            if Callout.objects.filter(incident=self.incident, negotiator__force=self.avm).exists():
                break
            self.incident.refresh_from_db()
            run(clock.tick, self.incident.next_step_at + timedelta(seconds=1))
        kestrel = self.avm_people
        run(post_sms, client, kestrel[0], self.AVM_REPLY, "SMavm0")
        run(post_sms, client, kestrel[1], "Y 20", "SMavm1")
        run(clock.tick)
        run(services.close, self.incident, by=self.wsx_coordinator)
        self.incident.refresh_from_db()
        self.debrief = services.save_debrief(
            self.incident,
            outcome="Resolved; WREN-02 led, Wessexname Surname1 spoke to him.",
            by=self.wsx_supervisor,
        )

    def wsx_secrets(self) -> list[str]:
        """What a login of AVM must never see: WSX's people, their words, WSX's logins."""
        found = [self.WSX_REPLY, "mother is in hospital", self.incident.brief]
        found += [self.debrief.outcome, "WREN-02 led"]
        for p in self.wsx_people:
            found += [p.callsign, p.full_name, p.mobile]
        found += [u.username for u in (self.wsx_coordinator, self.wsx_supervisor)]
        return [s for s in found if s]

    def avm_names(self) -> list[str]:
        """What a login of WSX must never see of AVM's lent people: names, mobiles, logins."""
        from cadre.phones import display

        found = [self.avm_login.username]
        for p in self.avm_people:
            found += [p.full_name, p.mobile, display(p.mobile)]
        return found
