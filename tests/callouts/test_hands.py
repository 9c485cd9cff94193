"""A coordinator's hands on a live incident, from its board: an answer given by phone
recorded for someone, and a named person paged now. Through the board's forms, as a
coordinator uses them; what they notice: who is coming, the fill and the stand-downs, the
SMS the person gets, the timeline's line, and refusals that change nothing."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cadre.access import COORDINATOR, NEGOTIATOR
from cadre.models import Accreditation, Negotiator
from callouts import services
from callouts.engine import clock
from callouts.models import BoardAction, Callout, Event, Incident, Message, Response
from tests.factories import (
    make_deployed,
    make_force,
    make_incident,
    make_negotiator,
    make_unavailability,
    make_user,
    post_sms,
    raise_incident,
)

pytestmark = pytest.mark.django_db
K = Event.Kind


@pytest.fixture
def incident(on_call, force, run_tasks):
    """Raised under the default policy: N-ONE, N-TWO and C-ONE (on call) asked by SMS."""
    incident = run_tasks(raise_incident, force, rendezvous="Car park B", brief="Upstairs flat")
    incident.refresh_from_db()
    return incident


def board(client, incident):
    return client.get(reverse("incident_board", args=[incident.pk]))


def key_of(page, form):
    """The key the board gave `form` ("record-answer" or "page-person")."""
    html = page.content.decode()
    found = re.search(rf'class="{form} stack">.*?name="key" value="([^"]+)"', html, re.S)
    assert found, f"no {form} form on the board"
    return found.group(1)


def phoned(client, run_tasks, incident, person, answer, eta="", key=None):
    """The board's "Record an answer given by phone" form, sent; the board it leads to."""
    key = key or key_of(board(client, incident), "record-answer")
    data = {"key": key, "person": person.pk, "answer": answer, "eta": eta}
    url = reverse("incident_record_answer", args=[incident.pk])
    return run_tasks(client.post, url, data, follow=True)


def paged(client, run_tasks, incident, person, channel="both", key=None):
    key = key or key_of(board(client, incident), "page-person")
    data = {"key": key, "person": person.pk, "channel": channel}
    url = reverse("incident_page_person", args=[incident.pk])
    return run_tasks(client.post, url, data, follow=True)


def said(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def texts_to(person, purpose=Message.Purpose.REPLY):
    return list(
        Message.objects.filter(to_number=person.mobile, purpose=purpose).values_list(
            "body", flat=True
        )
    )


def timeline(client, incident) -> str:
    html = client.get(reverse("incident_timeline", args=[incident.pk])).content.decode()
    return re.sub(r"\s+", " ", html)


def nothing_changed(incident, before):
    assert state(incident) == before


def state(incident):
    return (
        list(Callout.objects.filter(incident=incident).values_list("negotiator", "state", "role")),
        Response.objects.count(),
        Message.objects.count(),
        Event.objects.filter(incident=incident).count(),
        BoardAction.objects.count(),
        Incident.objects.get(pk=incident.pk).status,
    )


def sms_reply(client, run_tasks, person, body, sid):
    assert run_tasks(post_sms, client, person, body, sid).status_code == 200
    run_tasks(clock.tick, timezone.now())


# Recording an answer given by phone


def test_it_records_an_acceptance_by_phone_as_an_sms_reply_and_texts_the_rendezvous(
    coordinator_client, incident, on_call, run_tasks
):
    n1 = on_call["n1"]
    response = phoned(coordinator_client, run_tasks, incident, n1, "accepted", "20")

    assert "N-ONE recorded as accepted, ETA 20 min; texted to confirm with the rendezvous." in (
        said(response)
    )
    coming = response.content.decode()
    line = re.search(r'data-role-line="negotiator".*?</div>', coming, re.S).group(0)
    assert 'data-callsign="N-ONE"' in line and "20 min" in line
    assert "1 of 2" in line
    # Counted as the SMS reply "Y 20" would be: the same callout, response and deployment.
    callout = Callout.objects.get(incident=incident, negotiator=n1)
    assert (callout.state, callout.role, callout.eta_minutes) == ("accepted", "negotiator", 20)
    assert callout.deployment.went
    assert list(callout.responses.values_list("kind", "channel", "eta_minutes")) == [
        ("accept", "phone", 20)
    ]
    # The confirmation: the answer an SMS gets, rendezvous included; no callsign, no name.
    (text,) = texts_to(n1)
    assert text.startswith("Recorded from your call. ")
    assert "you are going as negotiator" in text and "RV: Car park B" in text
    assert "N-ONE" not in text and n1.full_name not in text
    assert Message.objects.get(body=text).status == "delivered"
    # Who recorded it, on the timeline.
    assert "Accepted, ETA 20 min: recorded by coord (by phone)" in timeline(
        coordinator_client, incident
    )


def test_it_fills_from_a_phoned_answer_and_stands_the_others_down(
    coordinator_client, incident, on_call, run_tasks, client
):
    sms_reply(client, run_tasks, on_call["n1"], "Y 15", "SM-n1")
    phoned(coordinator_client, run_tasks, incident, on_call["c1"], "accepted", "25")
    # N-THREE was not asked: they rang in, and take the last negotiator place.
    n3 = on_call["n3"]
    response = phoned(coordinator_client, run_tasks, incident, n3, "accepted", "30")

    assert "Every place is filled now: the others are stood down." in said(response)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.FILLED
    html = response.content.decode()
    assert 'data-status="filled"' in html
    assert "2 of 2, full" in html and "1 of 1, full" in html
    # N-TWO, asked and not answered, is stood down by SMS as for any fill.
    n2 = Callout.objects.get(incident=incident, negotiator=on_call["n2"])
    assert n2.state == Callout.State.STOOD_DOWN
    assert len(texts_to(on_call["n2"], Message.Purpose.STAND_DOWN)) == 1
    # N-THREE was asked first (a callout made for them), then counted.
    mine = Callout.objects.get(incident=incident, negotiator=n3)
    assert (mine.state, mine.role) == ("accepted", "negotiator")
    assert "Accepted, ETA 30 min (not asked before): recorded by coord (by phone)" in timeline(
        coordinator_client, incident
    )


@pytest.mark.parametrize(
    ("first", "then", "state", "board_says"),
    [
        ("", "declined", "declined", "N-TWO recorded as declined; texted to confirm."),
        ("accepted", "arrived", "accepted", "N-TWO recorded as arrived; texted to confirm."),
        (
            "accepted",
            "withdrew",
            "declined",
            "N-TWO recorded as withdrawn: their place is open again; texted to confirm.",
        ),
    ],
)
def test_it_records_declined_arrived_and_withdrew(
    coordinator_client, incident, on_call, run_tasks, first, then, state, board_says
):
    n2 = on_call["n2"]
    if first:
        phoned(coordinator_client, run_tasks, incident, n2, first, "10")
    response = phoned(coordinator_client, run_tasks, incident, n2, then)

    assert board_says in said(response)
    callout = Callout.objects.get(incident=incident, negotiator=n2)
    assert callout.state == state
    if then == "arrived":
        assert callout.arrived_at is not None
        assert "arrival noted" in texts_to(n2)[-1]
    if then == "withdrew":
        assert callout.deployment.withdrawn_at is not None
        assert "Withdrew: recorded by coord (by phone)" in timeline(coordinator_client, incident)


@pytest.mark.parametrize(
    ("answer", "eta", "refusal"),
    [
        ("accepted", "", "N-ONE: Give their ETA in minutes to record them as accepted."),
        ("accepted", "soon", "N-ONE: Give their ETA as a number of minutes."),
        ("accepted", "900", "N-ONE: An ETA is a number of minutes from 0 to 600."),
        ("arrived", "", "N-ONE: They have not accepted: record “accepted” with their ETA first."),
        ("withdrew", "", "N-ONE: They have not accepted, so cannot withdraw: record “declined”."),
        ("maybe", "", "Choose what they said."),
    ],
)
def test_it_refuses_a_phoned_answer_that_makes_no_sense_and_changes_nothing(
    coordinator_client, incident, on_call, run_tasks, answer, eta, refusal
):
    before = state(incident)
    response = phoned(coordinator_client, run_tasks, incident, on_call["n1"], answer, eta)
    assert refusal in said(response)
    nothing_changed(incident, before)


def test_it_refuses_a_person_of_another_force_and_an_incident_that_is_over(
    coordinator_client, coordinator_user, incident, on_call, run_tasks
):
    stranger = make_negotiator(make_force("Elsewhere", "ELS"), "STRANGER-1")
    before = state(incident)
    response = phoned(coordinator_client, run_tasks, incident, stranger, "accepted", "5")
    assert "Choose someone from the list." in said(response)
    nothing_changed(incident, before)
    # The service says why, to any other caller.
    with pytest.raises(services.ValidationError, match="STRANGER-1 is not of HOME"):
        services.record_phoned_answer(
            incident, stranger, "accepted", 5, key="k" * 20, by=coordinator_user
        )
    nothing_changed(incident, before)

    run_tasks(services.close, incident, by=coordinator_user)
    before = state(incident)
    with pytest.raises(services.ValidationError, match="The incident is closed"):
        services.record_phoned_answer(
            incident, on_call["n1"], "accepted", 5, key="k" * 21, by=coordinator_user
        )
    nothing_changed(incident, before)
    # And the board no longer offers it.
    assert b"Record an answer given by phone" not in board(coordinator_client, incident).content


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        ({"person": "", "answer": "declined"}, "Choose who."),
        ({"person": "99999999999", "answer": "declined"}, "Choose who."),
        ({"person": "-3", "answer": "declined"}, "Choose who."),
        ({"person": "N-ONE", "answer": "declined"}, "Choose who."),
        ({"key": "", "answer": "declined"}, "This form is out of date"),
        ({"key": "x" * 65, "answer": "declined"}, "This form is out of date"),
        ({"key": "not a key!", "answer": "declined"}, "This form is out of date"),
        ({"answer": ""}, "Choose what they said."),
        ({"channel": "fax"}, "Choose SMS, a voice call or both."),
    ],
)
def test_it_refuses_a_form_it_cannot_read_and_changes_nothing(
    coordinator_client, incident, on_call, data, refusal
):
    before = state(incident)
    form = {"key": "k" * 20, "person": str(on_call["n1"].pk), "eta": "", **data}
    url = "incident_page_person" if "channel" in data else "incident_record_answer"
    response = coordinator_client.post(reverse(url, args=[incident.pk]), form, follow=True)
    assert response.status_code == 200
    assert refusal in said(response)
    nothing_changed(incident, before)


def test_it_refuses_someone_whose_accreditation_has_lapsed(
    coordinator_client, incident, force, run_tasks
):
    lapsed = make_negotiator(force, "LAPSED-1", valid_until=date.today() - timedelta(days=3))
    before = state(incident)
    response = phoned(coordinator_client, run_tasks, incident, lapsed, "accepted", "5")
    assert "LAPSED-1 has a lapsed accreditation and must not be called out." in said(response)
    nothing_changed(incident, before)


def test_it_records_a_form_sent_twice_once(coordinator_client, incident, on_call, run_tasks):
    n1 = on_call["n1"]
    key = key_of(board(coordinator_client, incident), "record-answer")
    phoned(coordinator_client, run_tasks, incident, n1, "accepted", "20", key=key)
    again = phoned(coordinator_client, run_tasks, incident, n1, "accepted", "20", key=key)

    assert "Already done: that form was sent twice (N-ONE)." in said(again)
    assert Response.objects.filter(callout__negotiator=n1).count() == 1
    assert len(texts_to(n1)) == 1
    assert Event.objects.filter(incident=incident, kind=K.ANSWER_RECORDED).count() == 1


def test_it_lets_only_the_forces_managers_record_or_page(
    client, incident, on_call, run_tasks, force
):
    for url in ("incident_record_answer", "incident_page_person"):
        data = {"key": "k" * 20, "person": on_call["n1"].pk, "answer": "declined", "eta": ""}
        data["channel"] = "sms"
        negotiator = make_user(None, [NEGOTIATOR], force=force)
        client.force_login(negotiator)
        assert client.post(reverse(url, args=[incident.pk]), data).status_code == 403
        other = make_user(None, [COORDINATOR], force=make_force())
        client.force_login(other)
        assert client.post(reverse(url, args=[incident.pk]), data).status_code == 404
    assert not BoardAction.objects.exists()
    with pytest.raises(services.PermissionDenied):
        services.page(incident, on_call["n1"], "sms", key="k" * 20, by=other)


def test_it_hides_the_section_from_negotiators_and_supervisors_see_callsigns_only(
    client, supervisor_client, incident, on_call, negotiator_user
):
    page = board(supervisor_client, incident).content.decode()
    assert "Record an answer given by phone" in page and "Page someone now" in page
    assert "N-THREE · on call" not in page  # not on call: no shift
    assert "N-THREE · not on call" in page
    assert on_call["n3"].full_name not in page
    client.force_login(negotiator_user)
    Callout.objects.create(
        incident=incident, negotiator=negotiator_user.negotiator, first_step=0, asked_roles=[]
    )
    assert (
        b"Page someone now" not in client.get(reverse("incident_board", args=[incident.pk])).content
    )


# Paging a named person now


def test_it_pages_someone_not_asked_by_sms_and_voice(
    coordinator_client, incident, on_call, run_tasks
):
    n3 = on_call["n3"]
    response = paged(coordinator_client, run_tasks, incident, n3, "both")

    assert "Paging N-THREE by SMS and voice call." in said(response)
    callout = Callout.objects.get(incident=incident, negotiator=n3)
    assert callout.state in ("asked", "delivered")
    sent = Message.objects.filter(callout=callout, purpose=Message.Purpose.CALLOUT)
    assert sorted(sent.values_list("channel", flat=True)) == ["sms", "voice"]
    # Saved through the outbox and sent: the simulator delivered both.
    assert dict(sent.values_list("channel", "status")) == {"sms": "delivered", "voice": "ringing"}
    sms = sent.get(channel="sms")
    assert incident.reference in sms.body and "N-THREE" not in sms.body
    assert 'data-callsign="N-THREE"' in response.content.decode()
    assert "Paged by coord by SMS and call" in timeline(coordinator_client, incident)
    # They answer by SMS as anyone asked does.
    sms_reply(coordinator_client, run_tasks, n3, "Y 10", "SM-n3")
    assert Callout.objects.get(pk=callout.pk).state == "accepted"


def test_it_pages_a_form_sent_twice_once(coordinator_client, incident, on_call, run_tasks):
    n3 = on_call["n3"]
    key = key_of(board(coordinator_client, incident), "page-person")
    paged(coordinator_client, run_tasks, incident, n3, "sms", key=key)
    again = paged(coordinator_client, run_tasks, incident, n3, "sms", key=key)

    assert "Already done" in said(again)
    assert Message.objects.filter(to_number=n3.mobile, purpose="callout").count() == 1
    assert Event.objects.filter(incident=incident, kind=K.PAGED).count() == 1


def test_it_pages_someone_asked_again_after_they_declined(
    coordinator_client, incident, on_call, run_tasks, client
):
    n2 = on_call["n2"]
    sms_reply(client, run_tasks, n2, "N", "SM-n2")
    response = paged(coordinator_client, run_tasks, incident, n2, "voice")

    assert "Paging N-TWO by voice call again." in said(response)
    callout = Callout.objects.get(incident=incident, negotiator=n2)
    assert callout.state in ("asked", "delivered")
    assert Message.objects.filter(callout=callout, channel="voice", step=None).count() == 1
    assert "Paged again by coord by call" in timeline(coordinator_client, incident)


def test_it_pages_while_exhausted_and_the_answer_counts(
    coordinator_client, force, cadre, run_tasks
):
    incident = make_incident(force, status=Incident.Status.EXHAUSTED, needs={"negotiator": 1})
    n4 = cadre["n4"]
    response = paged(coordinator_client, run_tasks, incident, n4, "sms")
    assert "Paging N-FOUR by SMS." in said(response)
    assert Message.objects.get(to_number=n4.mobile, purpose="callout").status == "delivered"
    response = phoned(coordinator_client, run_tasks, incident, n4, "accepted", "12")
    assert "Every place is filled now" in said(response)


@pytest.mark.parametrize(
    ("setup", "refusal"),
    [
        ("unavailable", "N-FOUR is marked unavailable: not paged."),
        ("lapsed", "N-FOUR has a lapsed accreditation and must not be called out: not paged."),
        ("accepted", "N-ONE has already accepted: nothing to page."),
        ("stop", "N-TWO sent STOP, so SMS cannot reach them: choose a voice call."),
        ("filled", "Every place is filled: raise needs first to ask for more people."),
        ("closed", "The incident is closed: nobody is paged for it."),
    ],
)
def test_it_refuses_a_page_it_must_not_send_and_sends_nothing(
    coordinator_client, coordinator_user, incident, on_call, run_tasks, client, setup, refusal
):
    person = on_call["n4"]
    if setup == "unavailable":
        make_unavailability(person, start=timezone.now() - timedelta(hours=1), days=2)
    elif setup == "lapsed":
        Accreditation.objects.filter(negotiator=person).update(
            valid_until=date.today() - timedelta(days=1)
        )
    elif setup == "accepted":
        person = on_call["n1"]
        sms_reply(client, run_tasks, person, "Y 5", "SM-n1")
    elif setup == "stop":
        person = on_call["n2"]
        sms_reply(client, run_tasks, person, "STOP", "SM-n2")
    elif setup == "filled":
        Incident.objects.filter(pk=incident.pk).update(status=Incident.Status.FILLED)
    elif setup == "closed":
        run_tasks(services.close, incident, by=coordinator_user)
    before = state(incident)
    key = "k" * 24
    response = paged(coordinator_client, run_tasks, incident, person, "sms", key=key)
    assert refusal in said(response)
    nothing_changed(incident, before)


def test_it_sends_only_the_call_to_someone_who_sent_stop(
    coordinator_client, incident, on_call, run_tasks, client
):
    n2 = on_call["n2"]
    sms_reply(client, run_tasks, n2, "STOP", "SM-n2")
    response = paged(coordinator_client, run_tasks, incident, n2, "both")
    assert "Paging N-TWO by voice call again. No SMS: they sent STOP." in said(response)
    paged_now = Message.objects.filter(to_number=n2.mobile, purpose="callout", step=None)
    assert list(paged_now.values_list("channel", flat=True)) == ["voice"]


def test_it_shows_where_each_person_stands_in_the_picker(
    coordinator_client, incident, on_call, force
):
    now = timezone.now()
    make_unavailability(on_call["n4"], start=now - timedelta(hours=1), days=1)
    on_call["c2"].accreditations.update(valid_until=date.today() - timedelta(days=1))
    rested = make_negotiator(force, "RESTED-1")
    earlier = make_incident(force, status=Incident.Status.STOOD_DOWN)
    make_deployed(earlier, rested, role="negotiator")
    earlier.deployments.update(stood_down_at=now - timedelta(hours=2))

    page = re.sub(r"\s+", " ", board(coordinator_client, incident).content.decode())
    assert re.search(r"N-FOUR [^<]*· unavailable until [^<]*\d\d:\d\d</option>", page)
    assert re.search(r"disabled>C-TWO [^<]*· accreditation lapsed</option>", page)
    assert re.search(r"RESTED-1 [^<]*· resting: stood down [^<]*\d\d:\d\d</option>", page)
    assert re.search(r"N-THREE [^<]*· not on call</option>", page)
    assert '<optgroup label="Asked: page again">' in page
    assert "Unavailable: cannot be paged" in page
    # Coordinators see names in it.
    assert on_call["n3"].full_name in page


def test_it_records_a_late_acceptance_by_phone_and_tells_them_they_are_not_needed(
    coordinator_client, incident, on_call, run_tasks, client
):
    for key, body in (("n1", "Y 10"), ("n2", "Y 12"), ("c1", "Y 8")):
        sms_reply(client, run_tasks, on_call[key], body, f"SM-{key}")
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.FILLED
    n3 = on_call["n3"]
    response = phoned(coordinator_client, run_tasks, incident, n3, "accepted", "15")

    assert (
        "N-THREE accepted, but every place they could fill is taken: recorded as late; "
        "texted that they are not needed."
    ) in said(response)
    (text,) = texts_to(n3)
    assert "not needed" in text
    assert not Callout.objects.get(incident=incident, negotiator=n3).deployment.went


def test_it_waits_for_calling_to_start_before_acting_by_hand(
    coordinator_client, force, cadre, run_tasks
):
    incident = make_incident(force)  # raised a moment ago: its first step has not fired
    before = state(incident)
    for response in (
        phoned(coordinator_client, run_tasks, incident, cadre["n1"], "accepted", "5"),
        paged(coordinator_client, run_tasks, incident, cadre["n1"], "sms"),
    ):
        assert "Calling is just starting: try again in a moment." in said(response)
    nothing_changed(incident, before)


@pytest.mark.postgres("row locks (select_for_update)")
@pytest.mark.parametrize("action", ["record", "page"])
def test_it_acts_once_on_a_form_sent_twice_at_the_same_moment(
    transactional_db, on_call, force, coordinator_user, action
):
    import threading

    from django.db import connections

    incident = raise_incident(force, rendezvous="Car park B")
    person = on_call["n3"]
    start = threading.Barrier(2)
    done = []

    def send():
        try:
            start.wait()
            if action == "record":
                done.append(
                    services.record_phoned_answer(
                        incident, person, "accepted", 20, key="same-form-key", by=coordinator_user
                    )
                )
            else:
                done.append(
                    services.page(
                        incident, person, "both", key="same-form-key", by=coordinator_user
                    )
                )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(d.repeated for d in done) == [False, True]
    callout = Callout.objects.get(incident=incident, negotiator=person)
    if action == "record":
        assert callout.responses.count() == 1
        assert Message.objects.filter(to_number=person.mobile, purpose="reply").count() == 1
    else:
        assert Message.objects.filter(callout=callout, purpose="callout").count() == 2
    assert BoardAction.objects.count() == 1


def test_it_pages_and_confirms_by_voice_only_someone_whose_texts_stopped_before_the_incident(
    coordinator_client, incident, on_call, run_tasks, cadre
):
    # STOP sent between incidents is remembered on the person, not on any callout of this one.
    n4 = cadre["n4"]
    Negotiator.objects.filter(pk=n4.pk).update(texts_stopped_at=timezone.now())
    response = paged(coordinator_client, run_tasks, incident, n4, "both")
    assert "Paging N-FOUR by voice call. No SMS: they sent STOP." in said(response)
    paged_now = Message.objects.filter(to_number=n4.mobile, purpose="callout", step=None)
    assert list(paged_now.values_list("channel", flat=True)) == ["voice"]
    refused = paged(coordinator_client, run_tasks, incident, n4, "sms")
    assert "N-FOUR sent STOP, so SMS cannot reach them: choose a voice call." in said(refused)
    phoned(coordinator_client, run_tasks, incident, n4, "accepted", "15")
    assert not texts_to(n4)  # no confirmation SMS that Twilio would refuse
