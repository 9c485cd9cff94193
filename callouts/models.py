"""Incidents and their callouts.

State lives here, not in the queue: a restarted worker reads it and carries on.
Unique constraints back up the code's own checks that nobody is asked twice for
the same step and that a provider's message is taken in once.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cadre.models import Force, Negotiator, Role
from callouts import deployed, frozen


class IncidentKind(models.TextChoices):
    PERSON_AT_HEIGHT = "person_at_height", "Person at height"
    BARRICADE = "barricade", "Barricade"
    SUICIDE_INTERVENTION = "suicide_intervention", "Suicide intervention"
    HOSTAGE = "hostage", "Hostage"
    KIDNAP_EXTORTION = "kidnap_extortion", "Kidnap or extortion"
    OTHER = "other", "Other"


class Audience(models.TextChoices):
    ON_CALL = "on_call", "On call for the missing roles"
    FORCE = "force", "Every deployable member of the force not yet asked"
    MUTUAL_AID = "mutual_aid", "On call in neighbouring forces (mutual aid)"
    NAMED = "named", "Named people"
    UNANSWERED = "unanswered", "Everyone asked who has not answered"
    MANAGERS = "managers", "Alert coordinators and supervisors that the incident is short"


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice call"
    BOTH = "both", "SMS and voice"


def default_needs():
    return {Role.NEGOTIATOR: 2, Role.COORDINATOR: 1}


# Still short this long after raising: the on-call coordinators and supervisors are texted
# and called (callouts.engine.unfilled), whatever the steps still have to do.
TELL_AFTER_MINUTES = 30
TELL_AFTER_MAX_MINUTES = 24 * 60


class EscalationPolicy(models.Model):
    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="policies")
    name = models.CharField(max_length=100)
    is_default = models.BooleanField(default=False)
    # Per force: what an incident needs unless the person raising it says otherwise.
    default_needs = models.JSONField(default=default_needs)
    # A human is texted and called if an incident is still short this long after raising.
    tell_after_minutes = models.PositiveSmallIntegerField(
        "tell a human if still short after (minutes)",
        default=TELL_AFTER_MINUTES,
        validators=[MinValueValidator(1), MaxValueValidator(TELL_AFTER_MAX_MINUTES)],
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(fields=["force", "name"], name="unique_policy_name"),
            models.UniqueConstraint(
                fields=["force"], condition=Q(is_default=True), name="one_default_policy"
            ),
        ]

    def __str__(self):
        return self.name


class EscalationStep(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    audience = models.CharField(max_length=20, choices=Audience.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    # Minutes after this step before the next one fires (if still short).
    wait_minutes = models.PositiveSmallIntegerField(default=5)
    named = models.ManyToManyField(Negotiator, blank=True, related_name="+")

    class Meta:
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="unique_step_position")
        ]

    def __str__(self):
        return f"{self.position}. {self.get_audience_display()} by {self.get_channel_display()}"


class Incident(models.Model):
    class Status(models.TextChoices):
        CALLING = "calling", "Calling"
        FILLED = "filled", "Filled"
        EXHAUSTED = "exhausted", "Exhausted"
        STOOD_DOWN = "stood_down", "Stood down"
        CLOSED = "closed", "Closed"

    LIVE = (Status.CALLING, Status.FILLED, Status.EXHAUSTED)

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="incidents")
    reference = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=30, choices=IncidentKind.choices)
    location = models.CharField(max_length=80, help_text="Rough area; goes into the SMS")
    rendezvous = models.CharField(max_length=200, blank=True, help_text="Never sent by SMS")
    brief = models.TextField(blank=True, help_text="Never sent by SMS")
    needs = models.JSONField(default=default_needs)
    policy_name = models.CharField(max_length=100)
    # The policy's steps as they were when the incident was raised: editing a
    # policy must never change a live callout.
    steps = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CALLING)
    # Index into `steps` of the last step fired; -1 before the first.
    step_index = models.SmallIntegerField(default=-1)
    # Raising needs (or a withdrawal) escalates again from the first step: a new
    # round, in which people stood down when it filled may be asked again.
    round = models.PositiveSmallIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True, db_index=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    filled_at = models.DateTimeField(null=True, blank=True)
    exhausted_at = models.DateTimeField(null=True, blank=True)
    stood_down_at = models.DateTimeField(null=True, blank=True)
    stood_down_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Someone from another force was asked (set when a step asks them): the list filters on it.
    mutual_aid = models.BooleanField(default=False)
    # When a human is told if it is still short (the policy's tell_after_minutes, frozen when
    # raised); cleared once they have been told for that reason (callouts.engine.unfilled).
    tell_if_short_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [
            models.Index(fields=["force", "-raised_at"], name="incident_force_raised"),
            # The escalator clock looks every tick for live incidents past that time.
            models.Index(
                fields=["tell_if_short_at"],
                condition=Q(tell_if_short_at__isnull=False, status__in=["calling", "exhausted"]),
                name="incident_tell_if_short",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def frozen_steps(self) -> tuple[frozen.FrozenStep, ...]:
        """`steps` as read back: the one reader of the stored JSON (callouts.frozen)."""
        return frozen.read_all(self.steps)


class Callout(models.Model):
    """One person asked to attend one incident, whatever the steps and channels used."""

    class State(models.TextChoices):
        ASKED = "asked", "Asked"
        DELIVERED = "delivered", "Delivered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        NO_ANSWER = "no_answer", "No answer"
        UNREACHABLE = "unreachable", "Unreachable"
        STOOD_DOWN = "stood_down", "Stood down"

    # Still waiting for an answer: asked again, stood down when the incident fills.
    OPEN_STATES = (State.ASKED, State.DELIVERED, State.NO_ANSWER, State.UNREACHABLE)

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="callouts")
    negotiator = models.ForeignKey(Negotiator, on_delete=models.PROTECT, related_name="callouts")
    # The roles they were asked for (those still missing that they hold).
    asked_roles = models.JSONField(default=list)
    first_step = models.SmallIntegerField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.ASKED)
    # The one place they fill once accepted.
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    eta_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    asked_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    stood_down_at = models.DateTimeField(null=True, blank=True)
    late = models.BooleanField(default=False, help_text="Accepted after the incident was filled")
    sms_unreachable = models.BooleanField(default=False)
    voice_unreachable = models.BooleanField(default=False)
    # The last carrier keyword (stop, start, help) they sent while this callout was live,
    # recorded when the reply is handled.
    keyword = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["asked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "negotiator"], name="one_callout_per_person"
            )
        ]

    def __str__(self):
        return f"{self.incident} → {self.negotiator}"


class Message(models.Model):
    """Every SMS and call in or out, saved before it is handed to the provider."""

    class Direction(models.TextChoices):
        OUT = "out", "Outgoing"
        IN = "in", "Incoming"

    class Purpose(models.TextChoices):
        CALLOUT = "callout", "Callout"
        STAND_DOWN = "stand_down", "Stand-down"
        REPLY = "reply", "Answer to a reply"
        ALERT = "alert", "Alert to coordinators"
        # To the on-call coordinators and supervisors: the incident is not filling.
        UNFILLED = "unfilled", "Not filling: told a human"
        REMINDER = "reminder", "Rota reminder"
        INBOUND = "inbound", "Inbound"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        # The provider could not tell us, for a while, whether it took it: the board asks
        # a coordinator to phone the person; reconciling goes on.
        UNKNOWN = "unknown", "Not known to have been sent"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        UNDELIVERED = "undelivered", "Undelivered"
        CANCELLED = "cancelled", "Cancelled"
        RECEIVED = "received", "Received"
        # An inbound SMS that has been understood, recorded and answered.
        HANDLED = "handled", "Handled"
        # Calls
        RINGING = "ringing", "Ringing"
        IN_PROGRESS = "in-progress", "In progress"
        COMPLETED = "completed", "Completed"
        BUSY = "busy", "Busy"
        NO_ANSWER = "no-answer", "No answer"

    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.OUT)
    channel = models.CharField(max_length=10, choices=Channel.choices[:2])
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    callout = models.ForeignKey(
        Callout, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    negotiator = models.ForeignKey(
        Negotiator, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    step = models.SmallIntegerField(null=True, blank=True)
    round = models.PositiveSmallIntegerField(default=0)
    to_number = models.CharField(max_length=20)
    from_number = models.CharField(max_length=20, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    provider_sid = models.CharField(max_length=64, null=True, blank=True, unique=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Failed attempts to ask the provider whether it took a message whose outcome was lost.
    lookups = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The escalator clock looks every half second for what is due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(next_attempt_at__isnull=False),
                name="message_due",
            ),
            # Inbound SMS waiting to be handled, per phone.
            models.Index(
                fields=["from_number", "id"],
                condition=Q(status="received"),
                name="message_unhandled_from",
            ),
        ]
        constraints = [
            # Never a second callout message to the same person for the same step
            # on the same channel, whatever the queue does.
            models.UniqueConstraint(
                fields=["callout", "round", "step", "channel"],
                condition=Q(purpose="callout"),
                name="one_callout_message_per_step_and_channel",
            ),
            models.UniqueConstraint(
                fields=["callout", "round", "channel"],
                condition=Q(purpose="stand_down"),
                name="one_stand_down_per_callout_and_channel",
            ),
        ]

    def __str__(self):
        return f"{self.direction} {self.channel} {self.purpose} {self.to_number}"


class StatusCallback(models.Model):
    """A provider's status callback, kept as it came until it is applied to its message.

    The webhook inserts it (one cheap statement, no foreign key to wait on) before
    applying it, and the transaction that applies it deletes it: a callback whose applying
    failed (a lock conflict that outlasted its retries, a crash) stays here, and the
    escalator clock hands it to the queue once it is due. Twilio retries a failed status
    callback only sometimes: taken in, it is never lost.
    """

    sid = models.CharField(max_length=64)
    status = models.CharField(max_length=20)
    # Our Message's id, from the callback URL's ?m= (as sent; checked when applied).
    message_ref = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the clock may try it (again); None once it has given up (logged).
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(next_attempt_at__isnull=False),
                name="status_callback_due",
            )
        ]

    def __str__(self):
        return f"{self.sid} {self.status}"


class Response(models.Model):
    """What a person answered, by SMS or keypad."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", "Accepted"
        DECLINE = "decline", "Declined"
        ETA = "eta", "ETA update"
        ARRIVED = "arrived", "Arrived"

    callout = models.ForeignKey(Callout, on_delete=models.CASCADE, related_name="responses")
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="response"
    )
    # "web": answered on the incident's page instead of by SMS or keypress; "phone": said
    # on the phone and recorded by a coordinator from the board.
    channel = models.CharField(
        max_length=10,
        choices=[*Channel.choices[:2], ("web", "Web page"), ("phone", "By phone")],
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    eta_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    late = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self):
        return f"{self.callout} {self.kind}"


class DeploymentQuerySet(models.QuerySet):
    def went(self):
        """Those who went (callouts.deployed: the one definition)."""
        return self.filter(deployed.WENT)


class Deployment(models.Model):
    """Someone who accepted: a permanent fact, kept apart from their callout's current state.

    Standing down, closing or anything else that happens later changes the callout, never
    this: who went, in which role, when, with which ETA, when they arrived and when (and by
    whom) they were stood down. A late acceptance (no place left) is kept too, as late.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deployments")
    callout = models.OneToOneField(Callout, on_delete=models.CASCADE, related_name="deployment")
    negotiator = models.ForeignKey(Negotiator, on_delete=models.PROTECT, related_name="+")
    # The place they filled; "" for a late acceptance, which filled none.
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    accepted_at = models.DateTimeField()
    late = models.BooleanField(default=False)
    eta_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    # The ETA as a moment: minutes counted from the message that gave them.
    eta_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    # They replied N after accepting: the place was given up, they did not go.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    stood_down_at = models.DateTimeField(null=True, blank=True)
    stood_down_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["accepted_at", "pk"]

    def __str__(self):
        return f"{self.incident} {self.negotiator} {self.role}"

    @property
    def went(self) -> bool:
        return deployed.went(self.role, self.late, self.withdrawn_at)


class Event(models.Model):
    """One line of an incident's log: append-only, written in the transaction of the change.

    No phone numbers: people are named by their negotiator record.
    """

    class Kind(models.TextChoices):
        RAISED = "raised", "Raised"
        STEP_FIRED = "step_fired", "Step fired"
        MESSAGE_QUEUED = "message_queued", "Message queued"
        MESSAGE_SENT = "message_sent", "Message sent"
        MESSAGE_DELIVERED = "message_delivered", "Message delivered"
        MESSAGE_FAILED = "message_failed", "Message failed"
        CALL_ANSWERED = "call_answered", "Call answered"
        KEY_PRESSED = "key_pressed", "Key pressed"
        CALL_UNANSWERED = "call_unanswered", "Call not answered"
        REPLY_RECEIVED = "reply_received", "Reply received"
        ACCEPTED = "accepted", "Accepted"
        LATE = "late", "Accepted late"
        DECLINED = "declined", "Declined"
        ETA = "eta", "ETA updated"
        ARRIVED = "arrived", "Arrived"
        WITHDRAWN = "withdrawn", "Withdrew"
        NEEDS_RAISED = "needs_raised", "Needs raised"
        CALLED_AGAIN = "called_again", "Called again"
        FILLED = "filled", "Filled"
        EXHAUSTED = "exhausted", "Exhausted"
        ALERT = "alert", "Alert"
        UNFILLED = "unfilled", "Told a human it is not filling"
        PERSON_STOOD_DOWN = "person_stood_down", "Person stood down"
        STOOD_DOWN = "stood_down", "Incident stood down"
        CLOSED = "closed", "Closed"
        ANSWER_RECORDED = "answer_recorded", "Answer recorded by phone"
        PAGED = "paged", "Paged by hand"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # The user who did it (raise, needs, stand down, close); None for the system.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whose line it is (a negotiator sees only their own).
    negotiator = models.ForeignKey(
        Negotiator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=10, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["incident", "at", "id"], name="event_incident_at")]

    def __str__(self):
        return f"{self.incident_id} {self.at:%H:%M:%S} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Events are append-only: an event cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Events are append-only: an event cannot be deleted.")


class ApiToken(models.Model):
    """A control-room system's bearer token. Only a hash is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.prefix}… ({self.user})"


class ProviderHealth(models.Model):
    """Whether the SMS and voice provider is taking our messages: one row, kept by sending.

    Coordinators see a banner while it is failing; the log says so once per change.
    """

    name = models.CharField(max_length=20, unique=True, default="provider")
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_error_code = models.CharField(max_length=20, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "provider health"

    def __str__(self):
        return f"{self.name}: failing since {self.failing_since}" if self.failing_since else "ok"


class Heartbeat(models.Model):
    """When a background process last showed it was alive, and whether anyone was told it
    was not. The escalator beats; the queue workers watch it, and it watches them."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()
    # When coordinators were last told that what this row watches had stopped.
    alerted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} at {self.at}"


class Debrief(models.Model):
    """What happened and what was learnt, written once an incident is closed.

    Shown on the timeline page and printed with it. Edits keep who wrote it last.
    """

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="debrief")
    outcome = models.TextField()
    lessons = models.TextField(blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    written_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Debrief of {self.incident}"


class AccessRecord(models.Model):
    """Who looked at or took away the record: every timeline view and every export."""

    class What(models.TextChoices):
        TIMELINE = "timeline", "Viewed a timeline"
        EXPORT_INCIDENTS = "export_incidents", "Exported the incident list"
        EXPORT_TIMELINE = "export_timeline", "Exported a timeline"
        EXPORT_WORKLOAD = "export_workload", "Exported the workload table"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    what = models.CharField(max_length=30, choices=What.choices)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The filters or options the page or export was asked for (GET parameters).
    filters = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.what}"


class BoardAction(models.Model):
    """A coordinator's action on an incident from its board, by hand: an answer someone gave
    by phone, recorded, or a page sent to a named person. Its key (one per form shown) makes
    a form sent twice act once; what was done is in the incident's log."""

    class Kind(models.TextChoices):
        ANSWER = "answer", "Answer recorded by phone"
        PAGE = "page", "Page sent by hand"

    key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    negotiator = models.ForeignKey(Negotiator, on_delete=models.PROTECT, related_name="+")
    # The answer recorded (engine.hands.Phoned) or the channel paged by (sms, voice, both).
    what = models.CharField(max_length=20)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.incident_id} {self.kind} {self.what}"
