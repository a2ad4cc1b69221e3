"""Forms of the transcript pages: shape only (the services decide)."""

from __future__ import annotations

import re
from typing import ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from registrar.params import ModelIdMultipleChoiceField
from students.models import Class, Student

from ..models import TranscriptBatch, TranscriptLanguage

UNKNOWN_NUMBERS = _("No student with these numbers is within your scope: %(numbers)s.")
PICK_SOMEONE = _("Choose at least one class or paste at least one student number.")
EMPTY_CLASSES = _("The chosen classes have no student who can be included.")
TOO_MANY_NUMBERS = _("Paste at most %(max)s student numbers at a time.")

MAX_NUMBERS = 2000
NUMBER_SPLIT = re.compile(r"[\s,;，；、]+")


class StudentPickForm(forms.Form):
    """Students by class(es) and/or pasted student numbers, within the user's scope."""

    classes = ModelIdMultipleChoiceField(
        label=_("Classes"),
        queryset=Class.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Every student of the chosen classes, except those who have withdrawn."),
    )
    student_numbers = forms.CharField(
        label=_("Student numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, or separated by spaces or commas."),
    )
    class_statuses: ClassVar[tuple | None] = None

    def __init__(self, *args, class_queryset, student_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["classes"].queryset = class_queryset
        self.fields["classes"].label_from_instance = lambda k: f"{k.code} {k.name}"
        self.student_queryset = student_queryset

    def clean_student_numbers(self) -> list[str]:
        raw = self.cleaned_data.get("student_numbers") or ""
        numbers = list(dict.fromkeys(n for n in NUMBER_SPLIT.split(raw.strip()) if n))
        if len(numbers) > MAX_NUMBERS:
            raise forms.ValidationError(TOO_MANY_NUMBERS % {"max": MAX_NUMBERS})
        return numbers

    def clean(self):
        from ..selectors.transcripts import class_students

        cleaned = super().clean()
        numbers = cleaned.get("student_numbers") or []
        classes = cleaned.get("classes") or []
        if "student_numbers" in self.errors or "classes" in self.errors:
            return cleaned
        if not numbers and not classes:
            raise forms.ValidationError(PICK_SOMEONE)
        found = {s.student_number: s for s in self.student_queryset.filter(student_number__in=numbers)}
        unknown = [n for n in numbers if n not in found]
        if unknown:
            self.add_error("student_numbers", UNKNOWN_NUMBERS % {"numbers": "、".join(unknown)})
            return cleaned
        students: dict[int, Student] = {}
        if classes:
            picked = class_students(classes, statuses=self.class_statuses)
            if not picked and not numbers:
                self.add_error("classes", EMPTY_CLASSES)
                return cleaned
            students.update((s.pk, s) for s in picked)
        students.update((s.pk, s) for s in found.values())
        cleaned["students"] = list(students.values())
        return cleaned


class TranscriptBatchForm(StudentPickForm):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=TranscriptBatch.Purpose.choices)
    language = forms.ChoiceField(label=_("Language"), choices=TranscriptLanguage.choices, initial=TranscriptLanguage.ZH)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    field_order = ("purpose", "language", "note", "classes", "student_numbers")

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "purpose": data["purpose"],
            "language": data["language"],
            "note": data.get("note") or "",
            "students": data["students"],
        }


class GraduateCopiesForm(StudentPickForm):
    class_statuses: ClassVar[tuple | None] = (
        Student.Status.ENROLLED,
        Student.Status.GRADUATED,
        Student.Status.COMPLETED,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["classes"].help_text = _(
            "Every student of the chosen classes who is studying, has graduated or has completed (结业)."
        )


class SealForm(forms.Form):
    opinion = forms.CharField(
        label=_("Opinion"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
