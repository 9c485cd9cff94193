"""TwiML for callout calls: the SMS's facts read out, press 1 to attend or 2 to decline.

Only a keypress answers: an answering machine that picks up hears the message
and the call ends as "no answer". A wrong key, or no key, gets the question once more.
"""

from twilio.twiml.voice_response import VoiceResponse

from callouts.messaging.gateways.base import public_url

VOICE = "Polly.Amy"  # British English


def _say(response, text):
    response.say(text, voice=VOICE, language="en-GB")


def ask(message, attempt: int = 1, prefix: str = "") -> str:
    response = VoiceResponse()
    action = public_url("twilio_voice_key", message.pk, query=f"try={attempt}")
    gather = response.gather(num_digits=1, action=action, method="POST", timeout=8)
    if prefix:
        gather.say(prefix, voice=VOICE, language="en-GB")
    gather.say(message.body, voice=VOICE, language="en-GB")
    if attempt == 1:
        # Silence the first time round: ask once more (as for a wrong key).
        response.redirect(action, method="POST")
    else:
        _say(response, "No key was pressed. Goodbye.")
        response.hangup()
    return str(response)


def say(text: str) -> str:
    response = VoiceResponse()
    _say(response, text)
    response.hangup()
    return str(response)


def tell(text: str) -> str:
    """A message with nothing to answer, said twice (the first words are often missed)."""
    response = VoiceResponse()
    _say(response, text)
    response.pause(length=1)
    _say(response, "Again. " + text)
    response.hangup()
    return str(response)
