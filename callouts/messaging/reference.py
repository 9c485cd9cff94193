"""Incident references a person can read out over a radio: force code, a phonetic word, two digits.

KNT-TANGO-27 is said "Kent tango two seven". Words are the NATO alphabet minus
the ones that are easily misheard on a poor line; the digits keep the space large.
"""

import random

WORDS = (
    *("ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL", "INDIA"),
    *("KILO", "LIMA", "MIKE", "OSCAR", "PAPA", "QUEBEC", "ROMEO", "SIERRA", "TANGO"),
    *("VICTOR", "WHISKEY", "YANKEE", "ZULU"),
)
MAX_LENGTH = 20


def make_reference(force_code: str, rng: random.Random | None = None, digits: int = 2) -> str:
    rng = rng or random.SystemRandom()
    word = rng.choice(WORDS)
    number = f"{rng.randrange(10**digits):0{digits}d}"
    tail = f"-{word}-{number}"
    code = "".join(ch for ch in force_code.upper() if ch.isalnum())[: MAX_LENGTH - len(tail)]
    return f"{code}{tail}" if code else tail[1:]


def candidates(force_code: str, rng: random.Random | None = None):
    """Endless references to try: two digits first, three once the short ones run thin."""
    attempt = 0
    while True:
        attempt += 1
        yield make_reference(force_code, rng, digits=2 if attempt <= 20 else 3)
