"""The phone simulator page: the handsets of the negotiators of the forces the login
coordinates, for demos and tests.

Only when SMS_GATEWAY is "simulator" (404 otherwise), and only for coordinators
(403 otherwise): handsets show numbers and messages, so another force's are a 404.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cadre import access
from cadre.access import Can
from callouts import queries
from callouts.web import simulator

LOG_LENGTH = 8
POLL_SECONDS = 2
SAID = "simulator_said"  # session: negotiator id -> {"call": message id, "text": what it said}
CALL_OVER = {"completed", "failed", "undelivered", "busy", "no-answer", "cancelled"}


def simulator_only(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if settings.SMS_GATEWAY != "simulator":
            raise Http404("The phone simulator is off")
        if not access.may(request.user, Can.USE_SIMULATOR):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def handset(negotiator, log, call=None, said=None):
    """One phone: its recent messages (newest last), the call ringing on it, if any, and
    what its last answered call said (while that call is still in the log)."""
    if said and not any(m.pk == said["call"] for m in log):
        said = None
    return {"negotiator": negotiator, "log": log, "call": call, "said": said}


def handsets(negotiators, session=None):
    """The handsets of `negotiators`: two queries, only the newest messages of each phone."""
    said = (session or {}).get(SAID, {})
    negotiators = list(negotiators)
    numbers = [n.mobile for n in negotiators]
    logs: dict[str, list] = {number: [] for number in numbers}
    for m in queries.newest_per_number(queries.messages_of(numbers), LOG_LENGTH):
        logs[m.number].append(m)
    ringing = queries.ringing_calls(numbers, CALL_OVER)
    return [
        handset(n, logs[n.mobile], ringing.get(n.mobile), said.get(str(n.pk))) for n in negotiators
    ]


def my_negotiators(request):
    """The handsets this login may hold: its coordinated forces' negotiators."""
    return queries.handset_negotiators(access.negotiators(request.user, Can.USE_SIMULATOR))


def busiest_first(phones):
    """Handsets with the latest messages first (a demo's incident is at the top); then the rest."""
    active = [p for p in phones if p["log"]]
    active.sort(key=lambda p: p["log"][-1].created_at, reverse=True)
    return active + [p for p in phones if not p["log"]]


def chosen(phones, raw):
    """The handset to show: the one asked for (?phone=id), else the busiest."""
    wanted = next((p for p in phones if str(p["negotiator"].pk) == str(raw or "")), None)
    return wanted or (phones[0] if phones else None)


@simulator_only
def phones(request):
    """One handset at a time (a 390 px phone shows one), chosen from the list of them all."""
    everyone = busiest_first(handsets(my_negotiators(request), request.session))
    return render(
        request,
        "callouts/phones.html",
        {
            "phones": everyone,
            "phone": chosen(everyone, request.GET.get("phone")),
            "poll_seconds": POLL_SECONDS,
        },
    )


@simulator_only
def phones_live(request):
    """The shown handset's log and the list of handsets, swapped in place (out of band)."""
    everyone = busiest_first(handsets(my_negotiators(request), request.session))
    return render(
        request,
        "callouts/phones_live.html",
        {"phones": everyone, "phone": chosen(everyone, request.GET.get("phone"))},
    )


def account_sid():
    return settings.TWILIO_ACCOUNT_SID or settings.SIMULATOR_ACCOUNT_SID


def log_answer(request, negotiator):
    if request.htmx:
        phone = handsets([negotiator], request.session)[0]
        return render(request, "callouts/phones.html#log", {"phone": phone})
    return redirect(reverse("simulator_phones") + f"?phone={negotiator.pk}#phone-{negotiator.pk}")


@require_POST
@simulator_only
def phone_reply(request, pk):
    """The handset sends an SMS: Twilio would POST it to our inbound webhook."""
    negotiator = get_object_or_404(my_negotiators(request), pk=pk)
    body = request.POST.get("body", "").strip()[:320]
    if body:
        simulator.post(
            reverse("twilio_sms"),
            {
                "MessageSid": simulator.new_sid("SM"),
                "AccountSid": account_sid(),
                "From": negotiator.mobile,
                "To": settings.TWILIO_FROM_NUMBER or settings.SIMULATOR_NUMBER,
                "Body": body,
                "NumMedia": "0",
            },
            request.get_host(),
        )
    return log_answer(request, negotiator)


def call_params(call) -> dict:
    return {
        "CallSid": call.provider_sid,
        "AccountSid": account_sid(),
        "From": call.from_number or settings.TWILIO_FROM_NUMBER,
        "To": call.to_number,
        "Direction": "outbound-api",
    }


def end_call(request, call, status):
    simulator.post(
        reverse("twilio_status") + f"?m={call.pk}",
        {**call_params(call), "CallStatus": status, "CallDuration": "20"},
        request.get_host(),
    )


@require_POST
@simulator_only
def phone_keypress(request, pk):
    """A key pressed on a ringing or answered call, played as Twilio plays it.

    The first key answers: Twilio fetches the call's TwiML and the <Gather>
    there says where keys go. Keys go to that action; when the answer stops
    gathering the call is over and Twilio reports it completed. The next action
    (the second try after a wrong key) is kept in the session.
    """
    call = queries.outgoing_call(pk)
    if call is None:
        raise Http404("No such call.")
    negotiator = get_object_or_404(my_negotiators(request), mobile=call.to_number)
    digit = request.POST.get("digit", "")[:1]
    if call.status in CALL_OVER or not call.provider_sid:
        return log_answer(request, negotiator)
    if request.POST.get("hangup"):
        end_call(request, call, "no-answer")
        return log_answer(request, negotiator)
    actions = request.session.setdefault("simulator_calls", {})
    action = actions.get(str(call.pk))
    if action is None:
        answered = simulator.post(
            reverse("twilio_voice", args=[call.pk]),
            {**call_params(call), "CallStatus": "in-progress"},
            request.get_host(),
        )
        action = simulator.gather_action(answered.body)
    if action and digit:
        pressed = simulator.post(action, {**call_params(call), "Digits": digit}, request.get_host())
        action = simulator.gather_action(pressed.body)
        words = " ".join(simulator.spoken(pressed.body))
        request.session.setdefault(SAID, {})[str(negotiator.pk)] = {"call": call.pk, "text": words}
    if action:
        actions[str(call.pk)] = action
    else:
        actions.pop(str(call.pk), None)
        end_call(request, call, "completed")
    request.session.modified = True
    return log_answer(request, negotiator)
