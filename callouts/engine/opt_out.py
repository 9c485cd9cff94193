"""What a carrier keyword changes: STOP, START, HELP, and YES (Twilio's opt-in word too). Pure.

On a long code Twilio handles STOP, UNSUBSCRIBE, CANCEL, END and QUIT itself: it refuses
every SMS to that number (error 21610) until the number sends START, UNSTOP or YES, and it
still forwards the keyword to us. We remember it on the person (cadre's
`Negotiator.texts_stopped_at`), whether a callout is live or not, so that escalation reaches
them by voice only, no SMS is tried that would fail, the register shows it, and a callout's
board says so. The keyword is also recorded on their live callouts (what they sent while
asked). HELP is answered with how to reply, unless their texts are stopped (the provider
would refuse it). A YES is also an acceptance: it turns texts back on and is then answered
as one.

`change` decides; `callouts.engine.inbound` applies it in one small function.
"""

from dataclasses import dataclass

from callouts.messaging import replies

STOP, START, HELP = "stop", "start", "help"


@dataclass(frozen=True)
class Change:
    # The person's texts: stopped from now (True), back on (False), as they were (None).
    texts_stopped: bool | None = None
    # Recorded on each of their live callouts ("stop", "start", "help"); "": nothing.
    keyword: str = ""
    # Their live callouts' sms_unreachable becomes this; None: left as it is.
    sms_unreachable: bool | None = None
    # The reply is a keyword and nothing else: not an answer to a callout.
    only_keyword: bool = False
    # Answer with how to reply (texts.HELP).
    send_help: bool = False
    # An SMS can reach them once this is applied: their answer may be sent.
    may_text: bool = True


def change(kind: str, *, is_yes: bool, stopped: bool) -> Change:
    """What the reply of `kind` (replies.parse) changes. `is_yes`: the whole message is the
    word YES (an acceptance that is also the provider's opt-in); `stopped`: their texts are
    stopped now."""
    if kind == replies.OPT_OUT:
        return Change(
            texts_stopped=None if stopped else True,
            keyword=STOP,
            sms_unreachable=True,
            only_keyword=True,
            may_text=False,
        )
    if kind == replies.OPT_IN:
        return Change(
            texts_stopped=False if stopped else None,
            keyword=START,
            sms_unreachable=False,
            only_keyword=True,
        )
    if kind == replies.HELP:
        return Change(keyword=HELP, only_keyword=True, send_help=not stopped, may_text=not stopped)
    if kind == replies.ACCEPT and is_yes:
        return Change(texts_stopped=False if stopped else None, sms_unreachable=False)
    return Change(may_text=not stopped)
