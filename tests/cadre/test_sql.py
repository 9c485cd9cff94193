"""Each statement of cadre.sql saves what the ORM's bulk_create and bulk_update would."""

from datetime import date

from django.contrib.auth.models import User
from django.utils import timezone

from cadre import sql
from cadre.models import Accreditation, Membership, Negotiator
from tests.factories import make_force


def columns(model, pk):
    """Every column of one row, without its id (a ForeignKey as its id)."""
    row = model.objects.filter(pk=pk).values().get()
    row.pop("id")
    return row


def test_it_inserts_each_table_as_bulk_create_would(db):
    force = make_force("Sql Force", "SQL")
    now = timezone.now()

    sql.insert(User, [("by-sql", "!x")], now)
    [orm_user] = User.objects.bulk_create([User(username="by-orm", password="!x")])
    by_sql = User.objects.get(username="by-sql")
    expected = columns(User, orm_user.pk) | {"username": "by-sql", "date_joined": now}
    assert columns(User, by_sql.pk) == expected

    person = (force.pk, "S-1", "Sam Sql", "+447700900101", True, False, True, by_sql.pk)
    sql.insert(Negotiator, [person], now)
    [orm_person] = Negotiator.objects.bulk_create(
        [
            Negotiator(
                force=force,
                callsign="S-2",
                full_name="Sam Sql",
                mobile="+447700900102",
                is_negotiator=True,
                is_coordinator=False,
                is_adviser=True,
                user=orm_user,
            )
        ]
    )
    sam = Negotiator.objects.get(callsign="S-1")
    expected = columns(Negotiator, orm_person.pk) | {
        "callsign": "S-1",
        "mobile": "+447700900101",
        "user_id": by_sql.pk,
        "created_at": now,
        "updated_at": now,
    }
    assert columns(Negotiator, sam.pk) == expected

    sql.insert(Membership, [(by_sql.pk, force.pk, True)], now)
    [orm_member] = Membership.objects.bulk_create(
        [Membership(user=orm_user, force=force, is_negotiator=True)]
    )
    member = Membership.objects.get(user=by_sql)
    expected = columns(Membership, orm_member.pk) | {"user_id": by_sql.pk, "created_at": now}
    assert columns(Membership, member.pk) == expected

    passed, until = date(2025, 1, 1), date(2028, 1, 1)
    sql.insert(Accreditation, [(sam.pk, "initial", passed, until, "Imported")], now)
    [orm_acc] = Accreditation.objects.bulk_create(
        [
            Accreditation(
                negotiator=sam, kind="initial", passed_on=passed, valid_until=until, note="Imported"
            )
        ]
    )
    [acc] = Accreditation.objects.filter(negotiator=sam).exclude(pk=orm_acc.pk)
    assert columns(Accreditation, acc.pk) == columns(Accreditation, orm_acc.pk)


def test_it_updates_as_bulk_update_would(db):
    force = make_force("Sql Force", "SQL")
    now = timezone.now()
    people = Negotiator.objects.bulk_create(
        [
            Negotiator(force=force, callsign=f"U-{n}", full_name="Old", mobile=f"+4477009002{n}")
            for n in (1, 2)
        ]
    )
    login, other = User.objects.create(username="linked"), User.objects.create(username="other")
    by_sql, by_orm = people

    sql.update(sql.CHANGE_PERSON, [("New", "+447700900231", False, True, True, now, by_sql.pk)])
    sql.update(sql.CHANGE_LOGIN, [(login.pk, now, by_sql.pk)])
    changed = Negotiator(
        pk=by_orm.pk,
        full_name="New",
        mobile="+447700900232",
        is_negotiator=False,
        is_coordinator=True,
        is_adviser=True,
        user=other,
        updated_at=now,
    )
    fields = ["full_name", "mobile", "is_negotiator", "is_coordinator", "is_adviser"]
    Negotiator.objects.bulk_update([changed], [*fields, "user", "updated_at"])
    expected = columns(Negotiator, by_orm.pk) | {
        "callsign": "U-1",
        "mobile": "+447700900231",
        "user_id": login.pk,
        "created_at": by_sql.created_at,
    }
    assert columns(Negotiator, by_sql.pk) == expected

    member = Membership.objects.create(user=login, force=force, is_supervisor=True)
    sql.update(sql.GRANT_NEGOTIATOR, [(True, member.pk)])
    assert Membership.objects.get(pk=member.pk).is_negotiator is True
