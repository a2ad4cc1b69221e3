"""Django admin for the grades app.

Reference data (terms, courses, teaching plans, entry windows) is edited here; offerings can
have their exam date, instructors and — while the sheet is being entered — composition changed
(weights must add up to 100 %). Everything that is a record of what happened is read-only: grade
results (they change through the entry grid, an import or a correction request), grade changes,
reopenings, station submissions and their reviews, transcript batches, class prints, graduate
transcript copies, import jobs, grade-sheet sign-offs and the kernel requests. FSM fields are read-only everywhere.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from registrar.admin import ApprovalRequestAdmin, ReadOnlyAdminMixin
from registrar.files import file_link

from .models import (
    BatchTranscriptRequest,
    ClassPrint,
    Course,
    ExemptionRequest,
    Grade,
    GradeChange,
    GradeComponent,
    GradeCorrectionRequest,
    GradeEntryWindow,
    GraduateTranscriptCopy,
    ImportJob,
    Offering,
    OfferingReopening,
    PlanCourse,
    SheetEvent,
    StationSubmission,
    SubmissionReview,
    TeachingPlan,
    Term,
    TranscriptBatch,
    TranscriptRequest,
)
from .scoring import ScoreError, check_weights

ENROL_CLOSED_ADMIN = _("The grade sheet of this offering is no longer being entered: students cannot be added.")
ALREADY_ENROLLED = _("This student is already on this offering.")


class ReadOnlyInline:
    can_delete = False
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- teaching data -------------------------------------------------------------------------------
@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "start_date", "end_date")
    search_fields = ("code", "name")
    date_hierarchy = "start_date"


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "credits", "hours", "kind", "assessment", "college")
    list_filter = ("kind", "assessment", "college")
    search_fields = ("code", "name", "name_en")
    list_select_related = ("college",)
    autocomplete_fields = ("college",)


class PlanCourseInline(admin.TabularInline):
    model = PlanCourse
    extra = 0
    fields = ("term_number", "course", "sample_exam")
    autocomplete_fields = ("course",)
    ordering = ("term_number", "course__code")


@admin.register(TeachingPlan)
class TeachingPlanAdmin(admin.ModelAdmin):
    list_display = ("major", "level", "cohort", "required_credits", "course_count")
    list_filter = ("level", "cohort", "major__college")
    search_fields = ("major__code", "major__name")
    list_select_related = ("major",)
    autocomplete_fields = ("major",)
    inlines = (PlanCourseInline,)

    @admin.display(description=_("courses"))
    def course_count(self, obj):
        return obj.plan_courses.count()


@admin.register(PlanCourse)
class PlanCourseAdmin(admin.ModelAdmin):
    list_display = ("plan", "term_number", "course", "sample_exam")
    list_filter = ("term_number", "sample_exam", "plan__level", "plan__cohort")
    search_fields = ("course__code", "course__name", "plan__major__code", "plan__major__name")
    list_select_related = ("plan__major", "course")
    autocomplete_fields = ("plan", "course")


# --- offerings and their composition ----------------------------------------------------------------
class ComponentFormSet(BaseInlineFormSet):
    """The composition must add up to exactly 100 % (grades.scoring.check_weights)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        pairs = [
            (f.cleaned_data["code"], f.cleaned_data["weight"])
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        try:
            check_weights(pairs)
        except ScoreError as exc:
            raise ValidationError(str(exc)) from None


class GradeComponentInline(admin.TabularInline):
    model = GradeComponent
    formset = ComponentFormSet
    extra = 0
    fields = ("position", "code", "label", "weight")
    ordering = ("position", "id")

    def _entering(self, obj) -> bool:
        return obj is not None and obj.sheet_state == Offering.SheetState.ENTERING

    def has_add_permission(self, request, obj=None):
        return self._entering(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._entering(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._entering(obj) and super().has_delete_permission(request, obj)


class SheetEventInline(ReadOnlyInline, admin.TabularInline):
    model = SheetEvent
    fields = ("created_at", "decision", "role", "actor_label", "opinion")
    readonly_fields = fields
    ordering = ("created_at", "id")
    verbose_name_plural = _("sign-offs of the grade sheet (append-only)")


@admin.register(Offering)
class OfferingAdmin(admin.ModelAdmin):
    """Offerings are created by the import or the teaching data service (which enrols the
    classes' students); here the exam date and instructors can be corrected."""

    list_display = (
        "code",
        "course",
        "term",
        "college",
        "kind",
        "scale",
        "exam_date",
        "sheet_state",
        "submitted_at",
        "confirmed_at",
    )
    list_filter = ("sheet_state", "kind", "scale", "term", "college")
    search_fields = ("=code", "code", "course__code", "course__name")
    list_select_related = ("course", "term", "college")
    autocomplete_fields = ("instructors",)
    date_hierarchy = "exam_date"
    inlines = (GradeComponentInline, SheetEventInline)
    fields = (
        "code",
        "term",
        "course",
        "college",
        "kind",
        "classes",
        "instructors",
        "exam_date",
        "scale",
        "rounding",
        "sheet_state",
        "composition_set_by",
        "composition_set_at",
        "submitted_by",
        "submitted_at",
        "confirmed_by",
        "confirmed_at",
        "reopened_until",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "code",
        "term",
        "course",
        "college",
        "kind",
        "classes",
        "scale",
        "rounding",
        "sheet_state",
        "composition_set_by",
        "composition_set_at",
        "submitted_by",
        "submitted_at",
        "confirmed_by",
        "confirmed_at",
        "reopened_until",
        "created_at",
        "updated_at",
    )
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(GradeComponent)
class GradeComponentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("offering", "position", "code", "label", "weight")
    list_filter = ("code",)
    search_fields = ("=offering__code", "offering__course__name")
    list_select_related = ("offering__course",)


@admin.register(SheetEvent)
class SheetEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "offering", "decision", "role", "actor_label")
    list_filter = ("decision", "role")
    search_fields = ("=offering__code", "actor_label", "opinion")
    list_select_related = ("offering__course",)
    date_hierarchy = "created_at"


@admin.register(GradeEntryWindow)
class GradeEntryWindowAdmin(admin.ModelAdmin):
    list_display = ("term", "opens_at", "closes_at", "note", "published_by")
    list_filter = ("term",)
    search_fields = ("note", "term__code", "term__name")
    list_select_related = ("term", "published_by")
    autocomplete_fields = ("term", "colleges", "offerings", "published_by")
    date_hierarchy = "opens_at"


@admin.register(OfferingReopening)
class OfferingReopeningAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("offering", "until", "reason", "actor", "created_at")
    search_fields = ("=offering__code", "reason", "actor__username")
    list_select_related = ("offering__course", "actor")
    date_hierarchy = "created_at"


# --- grades -----------------------------------------------------------------------------------------
class GradeAddForm(forms.ModelForm):
    class Meta:
        model = Grade
        fields = ("offering", "student", "enrolled_via")

    def clean(self):
        data = super().clean()
        offering, student = data.get("offering"), data.get("student")
        if offering and offering.sheet_state != Offering.SheetState.ENTERING:
            raise ValidationError(ENROL_CLOSED_ADMIN)
        if offering and student and Grade.objects.filter(offering=offering, student=student).exists():
            raise ValidationError(ALREADY_ENROLLED)
        return data

    def validate_unique(self):  # the pair is checked in clean(); course and term come from the offering
        pass


class GradeChangeInline(ReadOnlyInline, admin.TabularInline):
    model = GradeChange
    fields = ("created_at", "old_value", "new_value", "reason", "request_type", "request_id", "actor")
    readonly_fields = fields


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    """A student's place on an offering and the result. Adding enrols a student individually;
    results are read-only here (entry grid, imports and correction requests change them)."""

    list_display = ("offering", "student", "kind", "display_result", "passed", "grade_point", "entered_at")
    list_filter = ("kind", "mark", "passed", "enrolled_via", "term", "offering__sheet_state", "offering__college")
    search_fields = ("=student__student_number", "student__name", "=offering__code", "course__code", "course__name")
    list_select_related = ("offering__course", "student")
    autocomplete_fields = ("offering", "student")
    inlines = (GradeChangeInline,)
    show_full_result_count = False
    result_fields = (
        "course",
        "term",
        "kind",
        "enrolled_via",
        "components",
        "score",
        "level",
        "mark",
        "passed",
        "grade_point",
        "entered_by",
        "entered_at",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = GradeAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ("offering", "student", "enrolled_via") if obj is None else ("offering", "student", *self.result_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("offering", "student", *self.result_fields)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if not change:  # an individual enrolment: the attempt's course, term and kind come from the offering
            obj.course_id, obj.term_id, obj.kind = obj.offering.course_id, obj.offering.term_id, obj.offering.kind
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("result"))
    def display_result(self, obj):
        return obj.display_result or "—"


@admin.register(GradeChange)
class GradeChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "grade", "old_value", "new_value", "request_type", "request_id", "actor")
    list_filter = ("request_type",)
    search_fields = ("=grade__student__student_number", "grade__student__name", "=grade__offering__code", "reason")
    list_select_related = ("grade__student", "grade__offering__course", "actor")
    date_hierarchy = "created_at"


# --- kernel requests (read-only, like every ApprovalRequestAdmin) ---------------------------------
@admin.register(GradeCorrectionRequest)
class GradeCorrectionRequestAdmin(ApprovalRequestAdmin):
    extra_list_display = ("grade", "old_value", "new_score", "new_level", "new_mark")


@admin.register(ExemptionRequest)
class ExemptionRequestAdmin(ApprovalRequestAdmin):
    extra_list_display = ("offering", "kind")


@admin.register(TranscriptRequest)
class TranscriptRequestAdmin(ApprovalRequestAdmin):
    extra_list_display = ("purpose", "language", "copies")


@admin.register(BatchTranscriptRequest)
class BatchTranscriptRequestAdmin(ApprovalRequestAdmin):
    extra_list_display = ("batch",)


# --- transcripts ---------------------------------------------------------------------------------------
def class_print_download(obj) -> str:
    return file_link(reverse("grades:transcript_class_print_download", args=[obj.pk]), obj.file)


class ClassPrintInline(ReadOnlyInline, admin.TabularInline):
    model = ClassPrint
    fields = ("klass", "status", "progress", "file_download", "error", "created_at")
    readonly_fields = fields

    @admin.display(description=_("file"))
    def file_download(self, obj):
        return class_print_download(obj)


@admin.register(TranscriptBatch)
class TranscriptBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "purpose", "language", "note", "filed_by", "created_at", "request_count")
    list_filter = ("purpose", "language")
    search_fields = ("=id", "note", "filed_by__username", "filed_by__full_name")
    list_select_related = ("filed_by",)
    date_hierarchy = "created_at"
    inlines = (ClassPrintInline,)

    @admin.display(description=_("students"))
    def request_count(self, obj):
        return obj.requests.count()


@admin.register(ClassPrint)
class ClassPrintAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("batch", "klass", "status", "progress", "created_at")
    list_filter = ("status",)
    search_fields = ("=batch__id", "klass__code", "klass__name")
    list_select_related = ("batch", "klass")
    exclude = ("file",)
    readonly_fields = ("file_download",)

    @admin.display(description=_("file"))
    def file_download(self, obj):
        return class_print_download(obj)


@admin.register(GraduateTranscriptCopy)
class GraduateTranscriptCopyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("recorded_at", "student", "destination", "document", "recorded_by")
    list_filter = ("destination",)
    search_fields = ("=student__student_number", "student__name", "document__serial")
    list_select_related = ("student", "document", "recorded_by")
    date_hierarchy = "recorded_at"


# --- station submissions ------------------------------------------------------------------------------
class SubmissionReviewInline(ReadOnlyInline, admin.TabularInline):
    model = SubmissionReview
    fields = ("created_at", "round", "decision", "actor_label", "opinion")
    readonly_fields = fields
    ordering = ("created_at", "id")


@admin.register(StationSubmission)
class StationSubmissionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "station", "offering", "state", "round", "submitted_by", "created_at")
    list_filter = ("state", "station")
    search_fields = ("=offering__code", "offering__course__name", "station__code", "station__name")
    list_select_related = ("station", "offering__course", "submitted_by")
    date_hierarchy = "created_at"
    inlines = (SubmissionReviewInline,)
    exclude = ("file",)
    readonly_fields = ("file_download",)

    @admin.display(description=_("results file"))
    def file_download(self, obj):
        return file_link(reverse("grades:station_submission_file", args=[obj.pk]), obj.file)


@admin.register(SubmissionReview)
class SubmissionReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "submission", "round", "decision", "actor_label")
    list_filter = ("decision",)
    search_fields = ("=submission__id", "actor_label", "opinion")
    list_select_related = ("submission__station", "submission__offering__course")
    date_hierarchy = "created_at"


# --- imports ------------------------------------------------------------------------------------------
@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "progress",
        "total_rows",
        "written",
        "created_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("kind", "status")
    search_fields = ("=id", "file", "created_by__username", "created_by__full_name")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"
    exclude = ("file",)
    readonly_fields = ("file_download",)

    @admin.display(description=_("file"))
    def file_download(self, obj):
        return file_link(reverse("grades:import_job_file", args=[obj.pk]), obj.file)
