from callouts.engine import clock
from callouts.models import Callout, Incident, Message
from tests.factories import post_sms, raise_incident


def test_it_calls_out_those_on_call_and_fills(client, cadre, on_call, force, run_tasks):
    incident = run_tasks(raise_incident, force)
    incident.refresh_from_db()
    assert incident.status == "calling"
    asked = set(Callout.objects.values_list("negotiator__callsign", flat=True))
    assert asked == {"N-ONE", "N-TWO", "C-ONE"}
    assert set(Message.objects.filter(purpose="callout").values_list("status", flat=True)) == {
        "delivered"
    }
    for i, key in enumerate(["n1", "n2", "c1"]):
        response = run_tasks(post_sms, client, cadre[key], "Y 20", f"SM{i}")
        assert response.status_code == 200
        run_tasks(clock.tick)
        answer = Message.objects.filter(purpose="reply", to_number=cadre[key].mobile).last()
        assert "thank you, you are going" in answer.body
    incident.refresh_from_db()
    assert incident.status == Incident.Status.FILLED
