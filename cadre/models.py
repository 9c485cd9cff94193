from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cadre import rules


class Role(models.TextChoices):
    NEGOTIATOR = "negotiator", "Negotiator"
    COORDINATOR = "coordinator", "Coordinator"
    ADVISER = "adviser", "Adviser"


ROLE_FIELDS = {
    Role.NEGOTIATOR: "is_negotiator",
    Role.COORDINATOR: "is_coordinator",
    Role.ADVISER: "is_adviser",
}


class RoleFlags:
    """Roles kept as one boolean field each, read and written as a list of role values.

    Two kinds use it, with roles that only share names: a Negotiator's are the places it can
    fill at an incident (Role), a Membership's what a login may do in a force (LoginRole).
    """

    ROLES: type[models.TextChoices]
    FIELDS: dict

    @property
    def roles(self) -> list[str]:
        return [role for role, field in self.FIELDS.items() if getattr(self, field)]

    @roles.setter
    def roles(self, values):
        wanted = {self.ROLES(v) for v in values}
        for role, field in self.FIELDS.items():
            setattr(self, field, role in wanted)

    def has_role(self, role) -> bool:
        return getattr(self, self.FIELDS[self.ROLES(role)])

    def role_labels(self) -> str:
        return ", ".join(self.ROLES(r).label for r in self.roles)


class Force(models.Model):
    name = models.CharField(max_length=100, unique=True)
    code = models.CharField(max_length=10, unique=True, help_text="Short code, e.g. KNT")
    # Forces we exchange mutual aid with; lending goes both ways.
    neighbours = models.ManyToManyField("self", blank=True, symmetrical=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class NegotiatorQuerySet(models.QuerySet):
    def with_role(self, role):
        return self.filter(**{ROLE_FIELDS[Role(role)]: True})

    def accredited_at(self, at: datetime):
        day = rules.local_date(at)
        valid = Accreditation.objects.filter(
            negotiator=OuterRef("pk"), passed_on__lte=day, valid_until__gte=day
        )
        return self.filter(Exists(valid))

    def deployable(self, at: datetime | None = None):
        """Active and accredited at `at`: the same rule as cadre.rules.is_deployable."""
        return self.filter(active=True).accredited_at(at or timezone.now())


class Negotiator(RoleFlags, models.Model):
    """A person on the register; their roles are the places they can fill at an incident."""

    ROLES = Role
    FIELDS = ROLE_FIELDS

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="negotiator",
    )
    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="negotiators")
    callsign = models.CharField(
        max_length=30, help_text="The name used on boards and in messages, e.g. KILO-7"
    )
    full_name = models.CharField(max_length=150)
    mobile = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +447700900123")
    is_negotiator = models.BooleanField("negotiator", default=True)
    is_coordinator = models.BooleanField("coordinator", default=False)
    is_adviser = models.BooleanField("adviser", default=False)
    active = models.BooleanField(default=True)
    # When they sent STOP (or UNSUBSCRIBE, CANCEL, END, QUIT) to our number: the provider
    # refuses to text them until they send START, UNSTOP or YES. Null: texts reach them.
    # Callouts then reach them by voice only.
    texts_stopped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NegotiatorQuerySet.as_manager()

    class Meta:
        ordering = ["callsign"]
        constraints = [
            models.UniqueConstraint(fields=["force", "callsign"], name="unique_callsign_in_force"),
            models.CheckConstraint(
                condition=Q(is_negotiator=True) | Q(is_coordinator=True) | Q(is_adviser=True),
                name="negotiator_has_a_role",
            ),
        ]

    def __str__(self):
        return self.callsign

    def periods(self) -> list[rules.Period]:
        return [rules.Period(a.passed_on, a.valid_until) for a in self.accreditations.all()]

    def is_deployable(self, at: datetime | None = None) -> bool:
        return rules.is_deployable(self.active, self.periods(), at or timezone.now())

    def accredited_until(self, at: datetime | None = None):
        return rules.accredited_until(self.periods(), rules.local_date(at or timezone.now()))

    @property
    def texts_stopped(self) -> bool:
        return self.texts_stopped_at is not None

    def mobile_display(self) -> str:
        from cadre.phones import display

        return display(self.mobile)


class Accreditation(models.Model):
    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial course"
        REFRESHER = "refresher", "Refresher"
        CPD = "cpd", "CPD"

    negotiator = models.ForeignKey(
        Negotiator, on_delete=models.CASCADE, related_name="accreditations"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    passed_on = models.DateField()
    valid_until = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-valid_until"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("passed_on")),
                name="accreditation_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.passed_on}–{self.valid_until}"


class LoginRole(models.TextChoices):
    """What a login may do in a force (not a callout role: see Role for those)."""

    COORDINATOR = "coordinator", "Coordinator"
    SUPERVISOR = "supervisor", "Supervisor"
    NEGOTIATOR = "negotiator", "Negotiator"


LOGIN_ROLE_FIELDS = {
    LoginRole.COORDINATOR: "is_coordinator",
    LoginRole.SUPERVISOR: "is_supervisor",
    LoginRole.NEGOTIATOR: "is_negotiator",
}


class Membership(RoleFlags, models.Model):
    """A login's place in one force and the roles it carries there (what the login may do,
    not the places a person fills at an incident: those are the Negotiator's).

    Every login belongs to its forces through these and nothing else; a regional
    coordinator or supervisor holds one per force. Superusers need none.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="memberships")
    is_coordinator = models.BooleanField("coordinator", default=False)
    is_supervisor = models.BooleanField("supervisor", default=False)
    is_negotiator = models.BooleanField("negotiator", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    ROLES = LoginRole
    FIELDS = LOGIN_ROLE_FIELDS

    class Meta:
        ordering = ["force__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "force"], name="one_membership_per_force"),
            models.CheckConstraint(
                condition=Q(is_coordinator=True) | Q(is_supervisor=True) | Q(is_negotiator=True),
                name="membership_has_a_role",
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.force.code}: {self.role_labels()}"


class CadreImport(models.Model):
    """A CSV file uploaded to the cadre import, kept from its preview until it is confirmed
    so that the file never travels back through the browser; only its uploader sees it.

    Once imported its text is dropped (names and mobiles live in the register, not in a
    copy of the file): who imported it, when, and how many people it added and changed stay
    as the record. Uploads never confirmed are deleted after a day (by the escalator clock's
    hourly cadre.tasks.forget_stale_uploads_now).
    """

    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255, blank=True)
    text = models.TextField(blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    imported_at = models.DateTimeField(null=True, blank=True)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        return f"{self.filename or 'CSV'} uploaded {self.uploaded_at:%Y-%m-%d %H:%M}"


class FailureCount(models.Model):
    """Failed logins (or codes) under one key (cadre.throttle): a username's digest or a
    client address, per kind. The window runs from `started_at`, the first failure; each
    attempt adds one to `count` in the database (F()), so simultaneous requests each see
    their own number and no more than the limit are ever checked."""

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.count} since {self.started_at:%Y-%m-%d %H:%M:%S}"
