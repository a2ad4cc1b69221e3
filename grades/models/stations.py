"""Station submissions (C8): a station's exam results for one offering, reviewed by the college."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from registrar.common import AppendOnlyModel, TimeStampedModel

from .teaching import Offering


# --- C8 station submissions ---------------------------------------------------------------
class StationSubmission(FSMModelMixin, TimeStampedModel):
    """A station's exam results for its students on one offering (C8).

    ``state``: submitted → returned (with reasons) → submitted again … → accepted (the rows are
    written into the records). Every review is a ``SubmissionReview`` row.
    """

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned to the station")
        ACCEPTED = "accepted", _("Accepted into the records")

    station = models.ForeignKey(
        "students.Station", on_delete=models.PROTECT, related_name="grade_submissions", verbose_name=_("station")
    )
    offering = models.ForeignKey(
        Offering, on_delete=models.PROTECT, related_name="station_submissions", verbose_name=_("offering")
    )
    file = models.FileField(_("results file"), upload_to="grades/station-submissions/%Y/")
    rows = models.JSONField(_("parsed rows"), default=list, blank=True)
    state = FSMField(
        _("state"), max_length=16, choices=State.choices, default=State.SUBMITTED, protected=True, db_index=True
    )
    round = models.PositiveSmallIntegerField(_("submission round"), default=1)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("station grade submission")
        verbose_name_plural = _("station grade submissions")

    def __str__(self):
        return f"{self.station} · {self.offering.code} ({self.get_state_display()})"

    def refresh_from_db(self, *args, **kwargs):
        fields = kwargs.get("fields")
        if fields is None or "state" in fields:
            self.__dict__.pop("state", None)
        super().refresh_from_db(*args, **kwargs)

    def clean_fields(self, exclude=None):
        super().clean_fields(exclude={*(exclude or ()), "state"})

    # Transitions change only in-memory fields; grades.services.stations calls them on a locked row.
    @transition(field=state, source=State.SUBMITTED, target=State.RETURNED)
    def return_to_station(self):
        """The college returns the submission with reasons."""

    @transition(field=state, source=State.RETURNED, target=State.SUBMITTED)
    def resubmit(self):
        """The station sends a corrected file: a new round."""
        self.round += 1

    @transition(field=state, source=State.SUBMITTED, target=State.ACCEPTED)
    def accept(self):
        """The college accepts the results into the records."""


class SubmissionReview(AppendOnlyModel):
    """Append-only log of a station submission: submitted, returned (reasons), accepted."""

    class Decision(models.TextChoices):
        SUBMIT = "submit", _("Submitted")
        RETURN = "return", _("Returned")
        ACCEPT = "accept", _("Accepted")

    submission = models.ForeignKey(
        StationSubmission, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("submission")
    )
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    opinion = models.TextField(_("opinion"), blank=True)
    round = models.PositiveSmallIntegerField(_("round"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    actor_label = models.CharField(_("name"), max_length=64)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("submission review")
        verbose_name_plural = _("submission reviews")

    def __str__(self):
        return f"{self.submission_id} {self.decision}"
