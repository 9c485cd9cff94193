"""Twilio's webhooks: inbound SMS, status callbacks, voice TwiML and keypresses.

Every request must carry a valid X-Twilio-Signature computed over
PUBLIC_BASE_URL + the path Twilio called (not the host behind our proxy);
anything else gets 403 and changes nothing (and nothing is spooled). Each view
answers at once: an SMS is only taken in (the reply task handles it; while the
database is down it is spooled on disk, see callouts.engine.intake), a status
callback is kept, then applied (callouts.messaging.status), a keypress is recorded
under the incident's lock; sending is queued.
"""

import logging
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from callouts import queries
from callouts.engine import inbound, intake
from callouts.messaging import replies, status, texts, voice
from callouts.models import Incident, Message

log = logging.getLogger(__name__)
security = logging.getLogger("standby.security")


def signed_url(request) -> str:
    return settings.PUBLIC_BASE_URL + request.get_full_path()


def twilio_signed(view=None, *, inbound_sms=False):
    """Twilio's signature required (403); then our account, and for an inbound SMS
    (`inbound_sms`) one of our numbers as `To` (403, logged)."""
    if view is None:
        return lambda view: twilio_signed(view, inbound_sms=inbound_sms)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        signature = request.headers.get("X-Twilio-Signature", "")
        validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
        if not signature or not validator.validate(
            signed_url(request), request.POST.dict(), signature
        ):
            return HttpResponseForbidden("Invalid signature")
        # Signed, but for another account or (an SMS) to a number that is not ours.
        to = request.POST.get("To", "") if inbound_sms else None
        account = settings.TWILIO_ACCOUNT_SID or settings.SIMULATOR_ACCOUNT_SID
        problem = replies.not_ours(
            request.POST.get("AccountSid", ""), to, account=account, numbers=settings.TWILIO_NUMBERS
        )
        if problem:
            security.warning("Webhook refused: %s (%s)", problem, request.path_info)
            return HttpResponseForbidden(problem)
        return view(request, *args, **kwargs)

    return csrf_exempt(require_POST(wrapped))


def twiml(document) -> HttpResponse:
    return HttpResponse(str(document), content_type="text/xml")


# The SMS webhook's answer is always the same empty document: built once, not per request.
NOTHING_TO_SAY = str(MessagingResponse())


@twilio_signed(inbound_sms=True)
def sms(request):
    """Take the message in and answer Twilio at once; the answer follows as its own SMS.

    With the database down, the message is kept in this server's spool and Twilio gets
    the same answer: it does not retry a failed webhook, so a 500 would lose the reply.
    """
    post = request.POST
    sid, sender = post.get("MessageSid", ""), post.get("From", "")
    to, body = post.get("To", ""), post.get("Body", "")
    problem = replies.inbound_problem(sid, sender, to, body)
    if problem:
        # Not an SMS anyone sent (a forged or broken request that was signed anyway):
        # refused plainly, nothing stored, nothing answered.
        return HttpResponseBadRequest(problem)
    intake.take_in_sms(sid, sender, to, body)
    return twiml(NOTHING_TO_SAY)


@twilio_signed
def status_callback(request):
    post = request.POST
    if post.get("CallSid") and post.get("CallStatus"):
        sid, value = post["CallSid"], post["CallStatus"]
    else:
        sid, value = post.get("MessageSid", ""), post.get("MessageStatus", "")
    if not replies.SID.fullmatch(sid):
        return HttpResponseBadRequest("Not a Twilio id")
    # Kept first (Twilio retries a failed callback only sometimes), then applied; answered
    # 204 once kept, whatever applying meets: what is left, the clock applies later.
    message_id, error_code = request.GET.get("m"), post.get("ErrorCode", "")
    taken = status.take_in(sid, value, message_id=message_id, error_code=error_code)
    try:
        status.apply_taken(taken.pk)
    except Exception:
        log.exception("status callback %s kept, not applied yet: the clock will", taken.pk)
    return HttpResponse(status=204)


def _call_message(pk) -> Message:
    message = queries.outgoing_call(pk)
    if message is None:
        raise Http404("No such call.")
    return message


def _call_still_wanted(message) -> bool:
    return message.incident.status in Incident.LIVE and message.callout.state not in (
        "stood_down",
        "declined",
    )


@twilio_signed
def call(request, pk):
    message = _call_message(pk)
    if message.purpose == Message.Purpose.UNFILLED:
        # A coordinator or supervisor told the incident is not filling: said twice, no keys.
        return HttpResponse(voice.tell(message.body), content_type="text/xml")
    if not _call_still_wanted(message):
        return HttpResponse(voice.say(texts.not_needed_sms(message.incident)), "text/xml")
    return HttpResponse(voice.ask(message), content_type="text/xml")


def _again(digits) -> str:
    return "Sorry, that key is not an answer." if digits else "Sorry, no key was pressed."


@twilio_signed
def keypress(request, pk):
    message = _call_message(pk)
    if message.callout_id is None:
        # Only a callout's call asks for a key: any other call has nothing to answer.
        return HttpResponse(voice.say("Nothing to answer. Goodbye."), content_type="text/xml")
    digits = request.POST.get("Digits", "").strip()
    kind = {"1": replies.ACCEPT, "2": replies.DECLINE}.get(digits[:1])
    if kind is None:
        if request.GET.get("try", "1") == "1":
            return HttpResponse(
                voice.ask(message, attempt=2, prefix=_again(digits)),
                content_type="text/xml",
            )
        return HttpResponse(voice.say("No answer was given. Goodbye."), content_type="text/xml")
    outcome = inbound.receive_keypress(message, digits[:1], kind)
    return HttpResponse(voice.say(outcome.text), content_type="text/xml")
