"""xlsx import/export of the people register (django-import-export 4.x).

Rows refer to each other by natural keys — college, major, class and station codes,
usernames for advisors and counsellors — never by database ids, so a sheet exported
from one installation imports into another. Every row is ``full_clean``-ed; with
``IMPORT_EXPORT_USE_TRANSACTIONS`` a file with any bad row writes nothing, and each
error names its row and column.

Students are only *added* by an import: a 学号 that already exists, or that appears
twice in the file, is reported, never silently overwritten (record changes go through
requests that keep history).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets

from registrar.models import User

from .models import Class, College, Major, Station, Student
from .validators import id_birth_date

CODE_NOT_FOUND = _("No %(model)s with code “%(code)s”.")
USER_NOT_FOUND = _("No user with username “%(code)s”.")
CHOICE_UNKNOWN = _("“%(value)s” is not one of: %(choices)s.")
DATE_INVALID = _("“%(value)s” is not a date; write it as YYYY-MM-DD.")
STUDENT_NUMBER_REPEATED = _("Student number %(number)s appears more than once in this file (first on row %(row)s).")
STUDENT_NUMBER_EXISTS = _("A student with student number %(number)s already exists; an import only adds new students.")
ID_NUMBER_REPEATED = _("ID number %(number)s appears more than once in this file (first on row %(row)s).")
GENDER_MISMATCH = _("The gender does not match the ID number (its 17th digit is odd for men, even for women).")
CLASS_OTHER_COLLEGE = _("The major belongs to another college.")


# --- widgets ------------------------------------------------------------------------------
def _text(value) -> str:
    """A cell as text: spreadsheet numbers (123.0) lose their ``.0``; whitespace is trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return force_str(value).strip()


class TextWidget(widgets.CharWidget):
    def __init__(self, *, upper: bool = False, **kwargs):
        self.upper = upper
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        return text.upper() if self.upper else text


class CodeWidget(widgets.ForeignKeyWidget):
    """A foreign key written as the related row's natural key (``code``, ``username``).

    A missing key is a ``ValueError``, which django-import-export reports against this column."""

    def __init__(self, model, field="code", **kwargs):
        super().__init__(model, field=field, **kwargs)

    def clean(self, value, row=None, **kwargs):
        code = _text(value)
        if not code:
            return None
        try:
            return self.get_queryset(code, row, **kwargs).get(**{self.field: code})
        except ObjectDoesNotExist:
            if self.model is User:
                raise ValueError(force_str(USER_NOT_FOUND % {"code": code})) from None
            raise ValueError(
                force_str(CODE_NOT_FOUND % {"model": self.model._meta.verbose_name, "code": code})
            ) from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else getattr(value, self.field)


class ChoiceWidget(widgets.Widget):
    """A choice written as its code, its label, the Chinese in the label's brackets, or an alias."""

    def __init__(self, choices, aliases: dict[str, str] | None = None, **kwargs):
        self.choices = choices
        self.aliases = aliases or {}
        super().__init__(**kwargs)

    def _lookup(self) -> dict[str, str]:
        table = {k.lower(): v for k, v in self.aliases.items()}
        for value, label in self.choices:
            label = force_str(label)
            table[value.lower()] = value
            table[label.lower()] = value
            if "(" in label and label.endswith(")"):
                table[label[label.rindex("(") + 1 : -1].strip().lower()] = value
                table[label[: label.rindex("(")].strip().lower()] = value
        return table

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            return ""
        try:
            return self._lookup()[text.lower()]
        except KeyError:
            raise ValueError(
                force_str(CHOICE_UNKNOWN % {"value": text, "choices": ", ".join(v for v, _label in self.choices)})
            ) from None

    def render(self, value, obj=None, **kwargs):
        return value or ""


class DateWidget(widgets.Widget):
    """Dates from spreadsheet date cells or text (2024-09-01, 2024/9/1, 2024.09.01, 20240901)."""

    FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = _text(value)
        if not text:
            return None
        text = text.split(" ")[0]
        for fmt in self.FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise ValueError(force_str(DATE_INVALID % {"value": text}))

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


def _code_field(attribute: str, column: str, model, field="code") -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column, widget=CodeWidget(model, field=field))


# --- resources ----------------------------------------------------------------------------
class RegisterResourceMixin:
    """All or nothing — a file with any invalid row writes nothing, also when called outside
    the admin — and each validation error reported under the spreadsheet column it came
    from (``class_code``, not the model field ``klass``)."""

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=True,
        **kwargs,
    ):
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=use_transactions,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=rollback_on_validation_errors,
            **kwargs,
        )

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        try:
            super().validate_instance(instance, import_validation_errors, validate_unique)
        except ValidationError as e:
            columns = {f.attribute: f.column_name for f in self.get_import_fields() if f.attribute}
            raise ValidationError({columns.get(k, k): v for k, v in e.update_error_dict({}).items()}) from None


class BaseResource(RegisterResourceMixin, resources.ModelResource):
    """Common options: natural ``code`` ids, full_clean per row, transactions from settings."""

    class Meta:
        import_id_fields = ("code",)
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True


class CollegeResource(BaseResource):
    code = fields.Field(attribute="code", column_name="code", widget=TextWidget())

    class Meta(BaseResource.Meta):
        model = College
        fields = ("code", "name", "name_en")
        export_order = fields


class MajorResource(BaseResource):
    code = fields.Field(attribute="code", column_name="code", widget=TextWidget())
    college = _code_field("college", "college_code", College)

    class Meta(BaseResource.Meta):
        model = Major
        fields = ("code", "name", "name_en", "college")
        export_order = fields


class StationResource(BaseResource):
    code = fields.Field(attribute="code", column_name="code", widget=TextWidget())

    class Meta(BaseResource.Meta):
        model = Station
        fields = ("code", "name", "name_en", "city")
        export_order = fields


class ClassResource(BaseResource):
    code = fields.Field(attribute="code", column_name="code", widget=TextWidget())
    major = _code_field("major", "major_code", Major)
    college = _code_field("college", "college_code", College)
    station = _code_field("station", "station_code", Station)
    advisor = _code_field("advisor", "advisor_username", User, field="username")
    counsellor = _code_field("counsellor", "counsellor_username", User, field="username")

    class Meta(BaseResource.Meta):
        model = Class
        fields = ("code", "name", "cohort", "major", "college", "station", "advisor", "counsellor")
        export_order = fields

    def import_instance(self, instance, row, **kwargs):
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as e:
            errors = e.update_error_dict({})
        else:
            errors = {}
        # The college may be left blank: it is the major's.
        if instance.major_id and not instance.college_id and "college" not in errors:
            instance.college = instance.major.college
        if instance.major_id and instance.college_id and instance.major.college_id != instance.college_id:
            errors.setdefault("major", []).append(ValidationError(CLASS_OTHER_COLLEGE))
        if errors:
            raise ValidationError(errors)
        return instance

    def get_queryset(self):
        return super().get_queryset().select_related("major", "college", "station", "advisor", "counsellor")


class StudentResource(RegisterResourceMixin, resources.ModelResource):
    """Students by 学号. Class, major, college and station are codes; college, major and
    station may be left blank (taken from the class), as may birth date and gender (taken
    from the ID number), ethnicity (汉族) and political status (群众)."""

    student_number = fields.Field(attribute="student_number", column_name="student_number", widget=TextWidget())
    name = fields.Field(attribute="name", column_name="name", widget=TextWidget())
    gender = fields.Field(
        attribute="gender",
        column_name="gender",
        widget=ChoiceWidget(Student.Gender.choices, aliases={"男": "M", "女": "F"}),
    )
    id_number = fields.Field(attribute="id_number", column_name="id_number", widget=TextWidget(upper=True))
    birth_date = fields.Field(attribute="birth_date", column_name="birth_date", widget=DateWidget())
    ethnicity = fields.Field(attribute="ethnicity", column_name="ethnicity", widget=TextWidget())
    political_status = fields.Field(
        attribute="political_status",
        column_name="political_status",
        widget=ChoiceWidget(
            Student.PoliticalStatus.choices, aliases={"团员": "league", "党员": "party", "预备党员": "probationary"}
        ),
    )
    level = fields.Field(attribute="level", column_name="level", widget=ChoiceWidget(Student.Level.choices))
    study_form = fields.Field(
        attribute="study_form", column_name="study_form", widget=ChoiceWidget(Student.StudyForm.choices)
    )
    klass = _code_field("klass", "class_code", Class)
    major = _code_field("major", "major_code", Major)
    college = _code_field("college", "college_code", College)
    station = _code_field("station", "station_code", Station)
    enrollment_date = fields.Field(attribute="enrollment_date", column_name="enrollment_date", widget=DateWidget())
    expected_graduation = fields.Field(
        attribute="expected_graduation", column_name="expected_graduation", widget=DateWidget()
    )
    status = fields.Field(attribute="status", column_name="status", widget=ChoiceWidget(Student.Status.choices))
    card_number = fields.Field(attribute="card_number", column_name="card_number", widget=TextWidget())

    class Meta:
        model = Student
        import_id_fields = ("student_number",)
        fields = (
            "student_number",
            "name",
            "gender",
            "id_number",
            "birth_date",
            "ethnicity",
            "political_status",
            "level",
            "study_form",
            "klass",
            "major",
            "college",
            "station",
            "enrollment_date",
            "expected_graduation",
            "status",
            "card_number",
        )
        export_order = fields
        clean_model_instances = True

    def get_queryset(self):
        return super().get_queryset().select_related("klass", "major", "college", "station")

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._seen_numbers: dict[str, int] = {}
        self._seen_ids: dict[str, int] = {}

    def import_row(self, row, instance_loader, **kwargs):
        self._row_is_new = True
        self._not_reported: set[str] = set()
        return super().import_row(row, instance_loader, **kwargs)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        errors.update({name: [] for name in self._not_reported if name not in errors})
        try:
            super().validate_instance(instance, errors, validate_unique)
        except ValidationError as e:
            reported = {k: v for k, v in e.update_error_dict({}).items() if v}
            if reported:
                raise ValidationError(reported) from None

    def after_init_instance(self, instance, new, row, **kwargs):
        super().after_init_instance(instance, new, row, **kwargs)
        self._row_is_new = new

    def import_instance(self, instance, row, **kwargs):
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as e:
            errors = e.update_error_dict({})
        else:
            errors = {}
        row_number = kwargs.get("row_number")

        def add(field, message):
            errors.setdefault(field, []).append(ValidationError(message))

        number = instance.student_number
        if number:
            first = self._seen_numbers.get(number)
            if first is not None:
                add("student_number", STUDENT_NUMBER_REPEATED % {"number": number, "row": first})
            elif not self._row_is_new:
                add("student_number", STUDENT_NUMBER_EXISTS % {"number": number})
            self._seen_numbers.setdefault(number, row_number)
        id_number = instance.id_number
        if id_number and "id_number" not in errors:
            first = self._seen_ids.get(id_number)
            if first is not None:
                add("id_number", ID_NUMBER_REPEATED % {"number": id_number, "row": first})
            self._seen_ids.setdefault(id_number, row_number)

        # Blanks taken from the class or the ID number.
        klass = instance.klass if instance.klass_id else None
        if "klass" in errors:  # blanks that would come from the class are not errors of their own
            self._not_reported = {name for name in ("college", "major") if not getattr(instance, f"{name}_id")}
        if klass is not None:
            if not instance.major_id and "major" not in errors:
                instance.major = klass.major
            if not instance.college_id and "college" not in errors:
                instance.college = klass.college
            if not instance.station_id and klass.station_id and "station" not in errors:
                instance.station = klass.station
        born = id_birth_date(id_number) if id_number and len(id_number) == 18 else None
        if not instance.birth_date and born and "birth_date" not in errors:
            instance.birth_date = born
        if id_number and len(id_number) == 18 and id_number[16].isdigit():
            from_id = Student.Gender.MALE if int(id_number[16]) % 2 else Student.Gender.FEMALE
            if not instance.gender and "gender" not in errors:
                instance.gender = from_id
            elif instance.gender and instance.gender != from_id and "gender" not in errors:
                add("gender", GENDER_MISMATCH)
        if not instance.ethnicity:
            instance.ethnicity = "汉族"
        if not instance.political_status:
            instance.political_status = Student.PoliticalStatus.MASSES
        if not instance.status:
            instance.status = Student.Status.ENROLLED
        if errors:
            raise ValidationError(errors)
        return instance


#: The resources the admin offers, by model.
RESOURCES = {
    College: CollegeResource,
    Major: MajorResource,
    Station: StationResource,
    Class: ClassResource,
    Student: StudentResource,
}
