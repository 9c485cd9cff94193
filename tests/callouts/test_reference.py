import random

from callouts.messaging.reference import MAX_LENGTH, WORDS, candidates, make_reference
from callouts.messaging.replies import parse, reference_key


def test_it_makes_a_reference_from_code_word_and_digits():
    ref = make_reference("knt", random.Random(1))
    code, word, number = ref.split("-")
    assert code == "KNT" and word in WORDS and len(number) == 2 and number.isdigit()


def test_it_keeps_a_long_force_code_within_the_field():
    for seed in range(50):
        ref = make_reference("AVON&SOMERSET", random.Random(seed))
        assert len(ref) <= MAX_LENGTH
        assert ref.startswith("AVONSOM")


def test_it_moves_to_three_digits_when_two_run_thin():
    refs = candidates("KNT", random.Random(2))
    tried = [next(refs) for _ in range(25)]
    assert all(len(r.split("-")[2]) == 2 for r in tried[:20])
    assert all(len(r.split("-")[2]) == 3 for r in tried[20:])


def test_every_reference_can_be_named_in_a_reply():
    for seed in range(30):
        ref = make_reference("WSX", random.Random(seed))
        assert parse(f"Y {ref}").reference == reference_key(ref)
        assert parse(f"{ref.lower()} n").kind == "decline"
