"""CSV exports (no phone numbers; names for coordinators only) and the access audit."""

import csv
import io

from cadre.access import SUPERVISOR
from callouts.models import AccessRecord, Incident
from tests.factories import make_force, make_user


def parse(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_it_exports_the_incident_list_without_a_phone_number(
    coordinator_client, history, cadre, force
):
    Incident.objects.filter(pk=history["i1"].pk).update(location="Call +44 7700 900123 now")
    rows = parse(
        coordinator_client.get(f"/reports/export/incidents.csv?kind=barricade&force={force.pk}")
    )
    assert rows[0][:3] == ["reference", "force", "kind"]
    assert sorted(r[0] for r in rows[1:]) == sorted(
        [
            history["i1"].reference,
            history["i3"].reference,
            *Incident.objects.filter(raised_at__year=2025).values_list("reference", flat=True),
        ]
    )
    text = "\n".join(",".join(r) for r in rows)
    for person in cadre.values():
        assert person.mobile not in text
        assert person.mobile[3:] not in text
    assert "7700 900123" not in text and "[number]" in text
    i1 = next(r for r in rows if r[0] == history["i1"].reference)
    assert "N-ONE (negotiator) Person" in i1[9]  # a coordinator's export has names
    assert i1[10:12] == ["2.0", "6.0"]


def test_it_leaves_names_out_of_a_supervisors_export(supervisor_client, history, cadre):
    text = supervisor_client.get("/reports/export/incidents.csv").content.decode()
    assert "N-ONE (negotiator)" in text
    assert cadre["n1"].full_name not in text


def test_it_records_who_exported_what_with_which_filters(
    supervisor_client, supervisor_user, history
):
    supervisor_client.get("/reports/export/incidents.csv?kind=barricade&status=")
    supervisor_client.get(f"/reports/export/incidents/{history['i1'].pk}/timeline.csv")
    supervisor_client.get("/reports/export/workload.csv?days=90")
    records = list(AccessRecord.objects.order_by("pk"))
    assert [(r.user, r.what) for r in records] == [
        (supervisor_user, "export_incidents"),
        (supervisor_user, "export_timeline"),
        (supervisor_user, "export_workload"),
    ]
    assert records[0].filters == {"kind": "barricade"}
    assert records[1].incident == history["i1"]
    assert records[2].filters == {"force": "HOME", "days": 90}


def test_it_records_every_view_of_a_timeline(coordinator_client, coordinator_user, history):
    coordinator_client.get(f"/incidents/{history['i2'].pk}/timeline/?person=N-ONE")
    record = AccessRecord.objects.get()
    assert (record.user, record.what, record.incident, record.filters) == (
        coordinator_user,
        "timeline",
        history["i2"],
        {"person": "N-ONE"},
    )


def test_it_lists_the_audit_for_supervisors_and_superusers_only(
    client, coordinator_client, history, force
):
    coordinator_client.get(f"/incidents/{history['i2'].pk}/timeline/")
    assert coordinator_client.get("/reports/audit/").status_code == 403
    client.force_login(make_user("sup", [SUPERVISOR], force=force))
    page = client.get("/reports/audit/").content.decode()
    assert "Viewed a timeline" in page and history["i2"].reference in page and "coord" in page


def test_it_lists_a_supervisor_only_their_forces_audit_and_an_administrator_all_of_it(
    client, coordinator_client, history, force
):
    coordinator_client.get(f"/incidents/{history['i2'].pk}/timeline/")
    loner = make_user("loner")  # a login of no force, e.g. an administrator's helper
    AccessRecord.objects.create(user=loner, what=AccessRecord.What.EXPORT_INCIDENTS)

    def listed():
        page = client.get("/reports/audit/").context["page"]
        return sorted((r.what, r.incident_id) for r in page.object_list)

    client.force_login(make_user("elsewhere", [SUPERVISOR], force=make_force("Far", "FAR")))
    assert listed() == []
    client.force_login(make_user("home", [SUPERVISOR], force=force))
    assert listed() == [("timeline", history["i2"].pk)]
    admin = make_user("admin")
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    assert listed() == [("export_incidents", None), ("timeline", history["i2"].pk)]


def test_it_exports_a_timeline_and_the_workload_without_phone_numbers(
    coordinator_client, history, cadre
):
    timeline = parse(
        coordinator_client.get(f"/reports/export/incidents/{history['i2'].pk}/timeline.csv")
    )
    assert timeline[0] == ["time", "minutes since raised", "who", "what"]
    workload = parse(coordinator_client.get("/reports/export/workload.csv?days=365"))
    assert "name" in workload[0]
    text = str(timeline) + str(workload)
    assert all(person.mobile not in text for person in cadre.values())


def test_it_explains_a_bad_filter_and_exports_nothing(supervisor_client, history):
    response = supervisor_client.get(
        "/reports/export/incidents.csv?since=2026-03-01&until=2026-01-01"
    )
    assert response.status_code == 302
    assert not AccessRecord.objects.exists()


def test_it_refuses_exports_to_negotiators(negotiator_client, history):
    assert negotiator_client.get("/reports/export/incidents.csv").status_code == 403
    assert (
        negotiator_client.get(
            f"/reports/export/incidents/{history['i1'].pk}/timeline.csv"
        ).status_code
        == 403
    )
    assert not AccessRecord.objects.exists()  # nothing exported, so nothing to audit
