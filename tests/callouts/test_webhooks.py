"""The Twilio webhooks as Twilio calls them: signed form posts."""

import pytest
from django.conf import settings
from django.db.models import Max

from callouts import services
from callouts.engine import clock
from callouts.models import Callout, Incident, Message, Response, StatusCallback
from tests.factories import (
    make_callout,
    make_message,
    make_negotiator,
    post_signed,
    post_sms,
    raise_incident,
    sign,
)


def sms(client, run_tasks, person_or_number, body, sid="SM1"):
    """Post an inbound SMS as Twilio does; the response carries the SMS sent back, if any."""
    number = getattr(person_or_number, "mobile", person_or_number)
    before = Message.objects.aggregate(last=Max("pk"))["last"] or 0
    response = run_tasks(post_sms, client, number, body, sid)
    run_tasks(clock.tick)  # the escalator clock hands the reply to the queue
    answers = Message.objects.filter(purpose="reply", to_number=number, pk__gt=before)
    response.answers = list(answers.order_by("pk"))
    return response


def text_of(response):
    """The SMS sent back to an inbound SMS, or a voice webhook's TwiML."""
    if hasattr(response, "answers"):
        return " / ".join(m.body for m in response.answers)
    return response.content.decode()


def test_it_refuses_a_missing_signature_and_changes_nothing(
    client, cadre, on_call, force, run_tasks
):
    run_tasks(raise_incident, force)
    params = {"From": cadre["n1"].mobile, "To": "+4477", "Body": "Y", "MessageSid": "SMx"}
    response = client.post("/twilio/sms/", params)
    assert response.status_code == 403
    assert not Message.objects.filter(direction="in").exists()
    assert not Response.objects.exists()


def test_it_refuses_a_forged_signature_and_changes_nothing(
    client, cadre, on_call, force, run_tasks
):
    run_tasks(raise_incident, force)
    params = {"From": cadre["n1"].mobile, "To": "+4477", "Body": "Y", "MessageSid": "SMx"}
    forged = sign(settings.PUBLIC_BASE_URL + "/twilio/sms/", {**params, "Body": "N"})
    response = client.post("/twilio/sms/", params, HTTP_X_TWILIO_SIGNATURE=forged)
    assert response.status_code == 403
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "delivered"
    assert not Message.objects.filter(direction="in").exists()


def test_it_refuses_a_signature_over_another_host(client, cadre, on_call, force, run_tasks):
    params = {"From": cadre["n1"].mobile, "To": "+4477", "Body": "Y", "MessageSid": "SMx"}
    wrong = sign("http://internal:8000/twilio/sms/", params)
    assert client.post("/twilio/sms/", params, HTTP_X_TWILIO_SIGNATURE=wrong).status_code == 403
    assert not Message.objects.filter(direction="in").exists()
    assert not Response.objects.exists()


def test_every_webhook_requires_a_signature(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    before = list(Message.objects.order_by("pk").values_list("pk", "status", "direction"))
    for path in ["/twilio/sms/", "/twilio/status/", "/twilio/voice/1/", "/twilio/voice/1/key/"]:
        assert client.post(path, {"Digits": "1"}).status_code == 403
    # Nothing taken in, nothing answered, no message changed.
    assert list(Message.objects.order_by("pk").values_list("pk", "status", "direction")) == before
    assert not StatusCallback.objects.exists()
    assert not Response.objects.exists()


def test_it_accepts_and_answers_with_the_rendezvous(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force, rendezvous="Rear car park, Sessions House")
    response = sms(client, run_tasks, cadre["n1"], "yes 20 mins")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    # Twilio gets an empty answer at once; the answer goes out as an SMS of its own.
    assert "<Message>" not in response.content.decode()
    [answer] = response.answers
    assert answer.direction == "out" and answer.status == "delivered"
    assert "RV: Rear car park, Sessions House" in answer.body
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert (callout.state, callout.role, callout.eta_minutes) == ("accepted", "negotiator", 20)


def test_the_same_message_twice_takes_effect_once(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    first = sms(client, run_tasks, cadre["n1"], "Y", sid="SMdup")
    second = sms(client, run_tasks, cadre["n1"], "Y", sid="SMdup")
    assert second.status_code == 200
    assert len(first.answers) == 1 and second.answers == []
    assert Response.objects.count() == 1
    assert Message.objects.filter(direction="in").count() == 1
    assert Message.objects.filter(purpose="reply").count() == 1


def test_a_number_not_in_the_cadre_gets_a_neutral_answer(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    response = sms(client, run_tasks, "+447700900999", "Y")
    body = text_of(response)
    assert "Message received." in body
    assert incident.reference not in body and "Maidstone" not in body
    assert not Response.objects.exists()


def test_it_declines_with_thanks(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    assert "declined, thank you" in text_of(sms(client, run_tasks, cadre["n1"], "no"))
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "declined"


def test_it_logs_a_reply_without_the_phone_number_in_it_but_with_its_date_and_time(
    client, cadre, on_call, force, run_tasks
):
    from callouts.models import Event

    run_tasks(raise_incident, force)
    sms(client, run_tasks, cadre["n1"], "free from 2026-07-01 14:30, ring 07700 900123")
    heard = Event.objects.get(kind=Event.Kind.REPLY_RECEIVED, negotiator=cadre["n1"])
    assert heard.data["text"] == "free from 2026-07-01 14:30, ring [number]"


def test_it_answers_what_it_does_not_understand_with_the_valid_forms(
    client, cadre, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force)
    body = text_of(sms(client, run_tasks, cadre["n1"], "on my way maybe"))
    question = "not understood. Are you coming? Reply Y or N (Y 20 = ETA 20 min)."
    assert body == f"{incident.reference}: {question}"
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "delivered"


def test_it_updates_eta_and_arrival_after_accepting(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    sms(client, run_tasks, cadre["n1"], "Y", sid="SM1")
    assert "ETA 15 min noted" in text_of(sms(client, run_tasks, cadre["n1"], "ETA 15", sid="SM2"))
    assert "arrival noted" in text_of(sms(client, run_tasks, cadre["n1"], "ARRIVED", sid="SM3"))
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert callout.eta_minutes == 15 and callout.arrived_at is not None


def test_eta_before_accepting_asks_them_to_accept_first(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    assert "not accepted" in text_of(sms(client, run_tasks, cadre["n1"], "ETA 15"))


def test_a_bare_reply_with_two_live_callouts_gets_a_question(
    client, cadre, on_call, force, run_tasks
):
    first = run_tasks(raise_incident, force)
    second = run_tasks(raise_incident, force, kind="hostage", location="Dover")
    body = text_of(sms(client, run_tasks, cadre["n1"], "Y", sid="SM1"))
    assert "more than one callout" in body
    assert first.reference in body and second.reference in body
    assert not Response.objects.exists()
    word_number = second.reference.split("-", 1)[1]
    body = text_of(sms(client, run_tasks, cadre["n1"], f"Y {word_number}", sid="SM2"))
    assert "you are going" in body
    accepted = Callout.objects.get(state="accepted")
    assert accepted.incident == second and accepted.negotiator == cadre["n1"]


def test_stop_is_recorded_and_marks_sms_unreachable(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    response = sms(client, run_tasks, cadre["n1"], "STOP")
    assert response.answers == []  # Twilio has blocked the number; nothing is sent back
    inbound = Message.objects.get(direction="in")
    assert inbound.body == "STOP" and inbound.negotiator == cadre["n1"]
    assert Callout.objects.get(incident=incident, negotiator=cadre["n1"]).sms_unreachable


def test_help_gets_how_to_reply(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    assert "reply Y to attend" in text_of(sms(client, run_tasks, cadre["n1"], "HELP"))


def fill(client, run_tasks, cadre):
    for i, key in enumerate(["n1", "n2", "c1"]):
        sms(client, run_tasks, cadre[key], "Y 10", sid=f"SMfill{i}")


def test_filling_stands_the_others_down_and_tells_the_coordinator(
    client, cadre, on_call, force, run_tasks, coordinator_user
):
    make_negotiator(force=force, callsign="BOSS", user=coordinator_user, roles=("coordinator",))
    incident = run_tasks(raise_incident, force, by=coordinator_user)
    extra = make_negotiator(force=force, callsign="N-LATE")
    make_callout(incident, extra)
    fill(client, run_tasks, cadre)
    incident.refresh_from_db()
    assert incident.status == "filled"
    stand_down = Message.objects.get(purpose="stand_down")
    assert stand_down.negotiator == extra and stand_down.status == "delivered"
    assert Callout.objects.get(negotiator=extra).state == "stood_down"
    alert = Message.objects.get(purpose="alert")
    assert alert.negotiator.callsign == "BOSS"
    assert "N-ONE negotiator ETA 10 min" in alert.body and "C-ONE coordinator" in alert.body


def test_filling_with_no_coordinator_mobile_records_an_alert(
    client, cadre, on_call, force, run_tasks
):
    run_tasks(raise_incident, force)
    fill(client, run_tasks, cadre)
    alert = Message.objects.get(purpose="alert")
    assert alert.to_number == "" and "FILLED" in alert.body


def test_a_late_acceptance_is_thanked_stood_down_and_recorded(
    client, cadre, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force)
    late = make_negotiator(force=force, callsign="N-LATE")
    make_callout(incident, late)
    fill(client, run_tasks, cadre)
    body = text_of(sms(client, run_tasks, late, "Y", sid="SMlate"))
    assert "not needed any more" in body
    callout = Callout.objects.get(negotiator=late)
    assert callout.late and callout.state == "stood_down"
    assert Response.objects.get(callout=callout).late
    assert Callout.objects.filter(incident=incident, state="accepted").count() == 3


def test_a_reply_after_stand_down_is_not_needed(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    run_tasks(services.stand_down, incident, by=None)
    assert "not needed any more" in text_of(sms(client, run_tasks, cadre["n1"], "Y"))
    assert not Callout.objects.filter(state="accepted").exists()


def status(client, run_tasks, params, query=""):
    return run_tasks(post_signed, client, "/twilio/status/" + query, params)


def test_status_callbacks_move_forward_only(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    message = Message.objects.get(negotiator=cadre["n1"], purpose="callout")
    Message.objects.filter(pk=message.pk).update(status="sent")
    assert (
        status(
            client, run_tasks, {"MessageSid": message.provider_sid, "MessageStatus": "delivered"}
        ).status_code
        == 204
    )
    status(client, run_tasks, {"MessageSid": message.provider_sid, "MessageStatus": "sent"})
    message.refresh_from_db()
    assert message.status == "delivered"


def test_a_status_for_an_unknown_sid_is_ignored(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    before = list(Message.objects.order_by("pk").values_list("pk", "status"))
    response = status(client, run_tasks, {"MessageSid": "SMnobody", "MessageStatus": "delivered"})
    assert response.status_code == 204
    assert list(Message.objects.order_by("pk").values_list("pk", "status")) == before


def test_a_status_callback_adopts_the_sid_a_dead_worker_never_saved(
    client, cadre, on_call, force, run_tasks
):
    run_tasks(raise_incident, force)
    message = Message.objects.get(negotiator=cadre["n1"], purpose="callout")
    Message.objects.filter(pk=message.pk).update(status="sending", provider_sid=None)
    status(
        client, run_tasks, {"MessageSid": "SMadopted", "MessageStatus": "sent"}, f"?m={message.pk}"
    )
    message.refresh_from_db()
    assert (message.status, message.provider_sid) == ("sent", "SMadopted")


def test_a_permanent_delivery_failure_marks_the_person_unreachable(
    client, cadre, on_call, force, run_tasks
):
    run_tasks(raise_incident, force)
    message = Message.objects.get(negotiator=cadre["n1"], purpose="callout")
    Message.objects.filter(pk=message.pk).update(status="sent")
    status(
        client,
        run_tasks,
        {"MessageSid": message.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30006"},
    )
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert callout.sms_unreachable and callout.state == "unreachable"


def voice_message(incident, person):
    return make_message(
        Callout.objects.get(incident=incident, negotiator=person),
        channel="voice",
        step=1,
        body="This is a Standby callout.",
        status="ringing",
        provider_sid=f"CA{person.pk}",
    )


def test_a_call_reads_the_callout_and_gathers_one_key(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    call = voice_message(incident, cadre["n1"])
    body = text_of(run_tasks(post_signed, client, f"/twilio/voice/{call.pk}/", {"CallSid": "CA1"}))
    assert '<Gather action="http://127.0.0.1:8000/twilio/voice/' in body
    assert 'numDigits="1"' in body and "This is a Standby callout." in body


def test_pressing_1_accepts_and_2_declines(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    call = voice_message(incident, cadre["n1"])
    path = f"/twilio/voice/{call.pk}/key/?try=1"
    body = text_of(run_tasks(post_signed, client, path, {"CallSid": "CA1", "Digits": "1"}))
    assert "you are going" in body
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert callout.state == "accepted"
    assert Response.objects.get(callout=callout).channel == "voice"
    call2 = voice_message(incident, cadre["n2"])
    run_tasks(post_signed, client, f"/twilio/voice/{call2.pk}/key/?try=1", {"Digits": "2"})
    assert Callout.objects.get(negotiator=cadre["n2"]).state == "declined"


def test_a_wrong_key_repeats_once_then_gives_up(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    call = voice_message(incident, cadre["n1"])
    again = text_of(
        run_tasks(post_signed, client, f"/twilio/voice/{call.pk}/key/?try=1", {"Digits": "7"})
    )
    assert "not an answer" in again and "try=2" in again
    done = text_of(
        run_tasks(post_signed, client, f"/twilio/voice/{call.pk}/key/?try=2", {"Digits": "7"})
    )
    assert "<Gather" not in done and "Goodbye" in done
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "delivered"


def test_a_call_that_ends_without_a_key_is_no_answer(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    call = voice_message(incident, cadre["n1"])
    status(client, run_tasks, {"CallSid": call.provider_sid, "CallStatus": "completed"})
    assert Callout.objects.get(negotiator=cadre["n1"]).state == "no_answer"
    call.refresh_from_db()
    assert call.status == "completed"
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CALLING


def test_yes_after_stop_makes_sms_reachable_again_and_accepts(
    client, cadre, on_call, force, run_tasks
):
    incident = run_tasks(raise_incident, force)
    sms(client, run_tasks, cadre["n1"], "STOP", sid="SMstop")
    body = text_of(sms(client, run_tasks, cadre["n1"], "yes", sid="SMyes"))
    assert "you are going" in body
    callout = Callout.objects.get(incident=incident, negotiator=cadre["n1"])
    assert not callout.sms_unreachable and callout.state == "accepted"


def test_silence_asks_once_more_then_ends_unanswered(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    call = voice_message(incident, cadre["n1"])
    first = text_of(run_tasks(post_signed, client, f"/twilio/voice/{call.pk}/", {"CallSid": "CA"}))
    assert "<Redirect" in first and "try=1" in first
    again = text_of(run_tasks(post_signed, client, f"/twilio/voice/{call.pk}/key/?try=1", {}))
    assert "no key was pressed" in again and "try=2" in again and "<Redirect" not in again
    assert "Goodbye" in again


@pytest.mark.parametrize(
    "params",
    [
        {"Body": "Y\x00"},
        {"From": "+44770090\x000001"},
        {"From": ""},
        {"From": "+4477009000010000000000"},
        {"MessageSid": "SM" + "a" * 70},
        {"MessageSid": ""},
        {"Body": "Y" * 1601},
    ],
)
def test_it_refuses_an_sms_nobody_could_have_sent_and_stores_nothing(client, db, params):
    fields = {"From": "+447700900001", "To": "+447700900000", "Body": "Y", "MessageSid": "SMok"}
    response = post_signed(client, "/twilio/sms/", fields | params)
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_a_status_callback_with_a_sid_too_long_is_refused(client, db):
    params = {"MessageSid": "SM" + "b" * 70, "MessageStatus": "delivered"}
    assert post_signed(client, "/twilio/status/", params).status_code == 400
    assert not StatusCallback.objects.exists()


def test_it_decides_which_webhooks_are_not_ours():
    from callouts.messaging.replies import not_ours

    ours = {"account": "AC" + "1" * 32, "numbers": ["+447700900000"]}
    assert not_ours("AC" + "1" * 32, "+447700900000", **ours) == ""
    assert not_ours("", "+447700900000", **ours) == ""
    assert not_ours("AC" + "2" * 32, None, **ours) == "AccountSid is not our Twilio account"
    assert not_ours("AC" + "1" * 32, "+447700900999", **ours) == "To is not one of our numbers"
    assert not_ours("", None, **ours) == ""  # a status callback: To is the handset's


@pytest.mark.parametrize(
    "fields",
    [{"AccountSid": "AC" + "9" * 32}, {"To": "+447700900999"}, {"To": ""}],
)
def test_it_refuses_a_signed_sms_for_another_account_or_number(client, cadre, fields, caplog):
    params = {
        "From": cadre["n1"].mobile,
        "To": "+447700900000",
        "Body": "Y",
        "MessageSid": "SM" + "f" * 32,
        **fields,
    }
    with caplog.at_level("WARNING", logger="standby.security"):
        response = post_signed(client, "/twilio/sms/", params)
    assert response.status_code == 403
    assert "Webhook refused" in caplog.text
    assert not Message.objects.filter(direction="in").exists()


def test_it_takes_a_signed_sms_for_our_account_and_number(client, cadre, settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_NUMBERS = ["+447700900000", "+447700900001"]
    params = {
        "AccountSid": "AC" + "1" * 32,
        "From": cadre["n1"].mobile,
        "To": "+447700900001",
        "Body": "Y",
        "MessageSid": "SM" + "e" * 32,
    }
    assert post_signed(client, "/twilio/sms/", params).status_code == 200
    assert Message.objects.filter(direction="in").exists()


def test_it_refuses_a_status_callback_or_call_for_another_account(client, db):
    other = {"AccountSid": "AC" + "9" * 32}
    status = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", **other}
    assert post_signed(client, "/twilio/status/", status).status_code == 403
    assert post_signed(client, "/twilio/voice/1/", {"CallSid": "CA1", **other}).status_code == 403
    assert not StatusCallback.objects.exists()
    assert not Message.objects.exists()
