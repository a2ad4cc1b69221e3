"""Django admin for the people register, with xlsx import/export (students.resources).

A student's ``status`` and card number are read-only here: they change only through a
request, which writes a StatusHistory row. History rows are read-only.
"""

from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from registrar.admin import ApprovalRequestAdmin, ReadOnlyAdminMixin, StoredFileWidget
from registrar.admin import UserAdmin as KernelUserAdmin
from registrar.models import User
from registrar.spreadsheets.importexport import SpreadsheetImportExportMixin

from .models import Class, College, IdCardReissueRequest, Major, RoleAssignment, Station, StatusHistory, Student
from .resources import ClassResource, CollegeResource, MajorResource, StationResource, StudentResource


class ImportExportAdmin(SpreadsheetImportExportMixin, ImportExportModelAdmin):
    """xlsx first (the registrar office's format), CSV as well; both through the spreadsheet kernel
    (imports checked by its intake before they are parsed, exports written without live formulas)."""


@admin.register(College)
class CollegeAdmin(ImportExportAdmin):
    resource_classes = [CollegeResource]
    list_display = ("code", "name", "name_en", "major_count", "student_count")
    search_fields = ("code", "name", "name_en")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_majors=Count("majors", distinct=True), _students=Count("students", distinct=True))
        )

    @admin.display(description=_("majors"), ordering="_majors")
    def major_count(self, obj):
        return obj._majors

    @admin.display(description=_("students"), ordering="_students")
    def student_count(self, obj):
        return obj._students


@admin.register(Major)
class MajorAdmin(ImportExportAdmin):
    resource_classes = [MajorResource]
    list_display = ("code", "name", "name_en", "college")
    list_filter = ("college",)
    search_fields = ("code", "name", "name_en", "college__name")
    list_select_related = ("college",)
    autocomplete_fields = ("college",)


@admin.register(Station)
class StationAdmin(ImportExportAdmin):
    resource_classes = [StationResource]
    list_display = ("code", "name", "name_en", "city")
    list_filter = ("city",)
    search_fields = ("code", "name", "name_en", "city")


@admin.register(Class)
class ClassAdmin(ImportExportAdmin):
    resource_classes = [ClassResource]
    list_display = ("code", "name", "cohort", "major", "college", "station", "advisor", "counsellor")
    list_filter = ("cohort", "college", "station")
    search_fields = ("code", "name", "major__name", "advisor__full_name", "counsellor__full_name")
    list_select_related = ("major", "college", "station", "advisor", "counsellor")
    autocomplete_fields = ("major", "college", "station", "advisor", "counsellor")
    readonly_fields = ("english_name",)

    @admin.display(description=_("English name (the major's and the cohort)"))
    def english_name(self, obj):
        return obj.english_name if obj.major_id else "—"


class StatusHistoryInline(admin.TabularInline):
    model = StatusHistory
    extra = 0
    can_delete = False
    fields = (
        "effective_date",
        "field",
        "old_value",
        "new_value",
        "request_type",
        "request_id",
        "recorded_by",
        "note",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Student)
class StudentAdmin(ImportExportAdmin):
    resource_classes = [StudentResource]
    list_display = (
        "student_number",
        "name",
        "gender",
        "college",
        "major",
        "klass",
        "level",
        "study_form",
        "station",
        "status",
    )
    list_filter = ("status", "study_form", "level", "gender", "college", "klass__cohort", "station")
    search_fields = ("=student_number", "name", "=id_number", "klass__name", "klass__code")
    list_select_related = ("college", "major", "klass", "station")
    autocomplete_fields = ("college", "major", "klass", "station", "user")
    date_hierarchy = "enrollment_date"
    readonly_fields = ("status", "card_number", "created_at", "updated_at")
    inlines = (StatusHistoryInline,)
    formfield_overrides = {models.ImageField: {"widget": StoredFileWidget}}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        photo = form.base_fields.get("photo")
        if photo is not None and obj is not None:
            photo.widget.download_url = reverse("students:photo", args=[obj.pk])
        return form

    fieldsets = (
        (
            None,
            {
                "fields": (
                    "student_number",
                    "name",
                    "gender",
                    "id_number",
                    "birth_date",
                    "ethnicity",
                    "political_status",
                    "photo",
                    "user",
                )
            },
        ),
        (
            _("Studies"),
            {
                "fields": (
                    "college",
                    "major",
                    "klass",
                    "level",
                    "study_form",
                    "station",
                    "enrollment_date",
                    "expected_graduation",
                )
            },
        ),
        (_("Record (changed only by requests)"), {"fields": ("status", "card_number", "created_at", "updated_at")}),
    )


@admin.register(StatusHistory)
class StatusHistoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "effective_date",
        "student",
        "field",
        "old_value",
        "new_value",
        "request_type",
        "request_id",
        "recorded_by",
    )
    list_filter = ("field", "request_type")
    search_fields = ("=student__student_number", "student__name", "note")
    list_select_related = ("student", "recorded_by")
    date_hierarchy = "effective_date"


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "scope", "college", "klass", "station")
    list_filter = ("role", "scope", "college", "station")
    search_fields = ("user__username", "user__full_name")
    list_select_related = ("user", "college", "klass", "station")
    autocomplete_fields = ("user", "college", "klass", "station")


@admin.register(IdCardReissueRequest)
class IdCardReissueRequestAdmin(ApprovalRequestAdmin):
    extra_list_display = ("reason", "new_card_number")


# --- users: the kernel's user admin with the user's role assignments -------------------------
class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    fields = ("role", "scope", "college", "klass", "station")
    autocomplete_fields = ("college", "klass", "station")
    verbose_name = _("role assignment")
    verbose_name_plural = _("role assignments (scope: university, or exactly one college, class or station)")


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(KernelUserAdmin):
    inlines = (*KernelUserAdmin.inlines, RoleAssignmentInline)
