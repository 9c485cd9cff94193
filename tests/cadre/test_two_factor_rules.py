"""Two-factor login's pure parts: codes as people type them (cadre/codes.py), and who must
use it, may turn it off and may reset another's (cadre/scope.py). No database."""

import pytest

from cadre import codes
from cadre.scope import (
    CODE,
    COORDINATOR,
    NEGOTIATOR,
    SETUP,
    SUPERVISOR,
    may_turn_off_two_factor,
    scope,
    second_factor,
    two_factor_reset_problem,
)

WSX, AVM = 1, 2


@pytest.mark.parametrize(
    ("typed", "code", "recovery"),
    [
        ("123456", "123456", False),
        (" 123 456 ", "123456", False),
        ("123-456", "123456", False),
        ("K3JD-7MQ2", "k3jd7mq2", True),
        ("k3jd 7mq2", "k3jd7mq2", True),
    ],
)
def test_it_reads_codes_as_people_type_them(typed, code, recovery):
    assert codes.read(typed) == codes.Typed(code, recovery)


@pytest.mark.parametrize(
    "typed", ["", "12345", "1234567", "k3jd7mq", "k3jd7mq21", "k3jd7mq1", "1" * 40]
)
def test_it_refuses_what_is_neither_kind_of_code(typed):
    assert codes.read(typed) is None


def test_it_shows_recovery_codes_and_the_key_in_groups_of_four():
    assert codes.shown("k3jd7mq2") == "k3jd-7mq2"
    assert codes.key_groups(b"\x00" * 20) == ["AAAA"] * 8


def test_it_asks_everyone_with_an_authenticator_for_its_code_whatever_the_setting():
    negotiator = scope([(WSX, [NEGOTIATOR])])
    for required in (True, False):
        assert second_factor(negotiator, required=required, enrolled=True, verified=False) == CODE
        assert second_factor(negotiator, required=required, enrolled=True, verified=True) is None


def test_it_sends_coordinators_supervisors_and_superusers_to_set_one_up_when_required():
    for s in (
        scope([(WSX, [COORDINATOR])]),
        scope([(WSX, [NEGOTIATOR]), (AVM, [SUPERVISOR])]),
        scope([], superuser=True, every_force=[WSX]),
    ):
        assert second_factor(s, required=True, enrolled=False, verified=False) == SETUP
        assert second_factor(s, required=False, enrolled=False, verified=False) is None
        assert not may_turn_off_two_factor(s, required=True)
        assert may_turn_off_two_factor(s, required=False)
    negotiator = scope([(WSX, [NEGOTIATOR])])
    assert second_factor(negotiator, required=True, enrolled=False, verified=False) is None
    assert may_turn_off_two_factor(negotiator, required=True)


def reset(actor, *, own=False, record_force=WSX, superuser=False, forces=(WSX,)):
    return two_factor_reset_problem(
        actor, own=own, record_force=record_force, target_superuser=superuser, target_forces=forces
    )


def test_it_lets_a_coordinator_of_the_force_reset_a_members_two_factor_login():
    coordinator = scope([(WSX, [COORDINATOR])])
    assert reset(coordinator) is None
    assert reset(scope([], superuser=True, every_force=[WSX, AVM]), forces=(WSX, AVM)) is None


def test_it_refuses_a_reset_of_ones_own_another_forces_or_a_wider_login():
    coordinator = scope([(WSX, [COORDINATOR]), (AVM, [SUPERVISOR])])
    assert "your own" in reset(coordinator, own=True)
    assert "Only a coordinator" in reset(coordinator, record_force=AVM, forces=(AVM,))
    assert "Only a coordinator" in reset(scope([(WSX, [SUPERVISOR])]))
    assert "a force you do not coordinate" in reset(coordinator, forces=(WSX, AVM))
    assert "administrator" in reset(coordinator, superuser=True)
