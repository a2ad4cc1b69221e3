"""Forms of the records area: make-up / clearing sheet creation and the dashboards' filters.
Forms check only the shape of the input; the services decide (STYLE.md §3)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from registrar.params import ModelIdMultipleChoiceField
from registrar.roles import Role

from ..models import Course, Offering, Term


# --- make-ups and clearing exams ----------------------------------------------------------------
def instructor_queryset():
    return (
        get_user_model()
        .objects.filter(role_assignments__role=Role.INSTRUCTOR, is_active=True)
        .distinct()
        .order_by("username")
    )


class MakeupCreateForm(forms.Form):
    """Create the make-up (补考) or graduation clearing exam (毕业清考) sheet of one course."""

    term = forms.ModelChoiceField(label=_("Term"), queryset=Term.objects.all(), widget=forms.HiddenInput)
    course = forms.ModelChoiceField(label=_("Course"), queryset=Course.objects.all(), widget=forms.HiddenInput)
    college = forms.ModelChoiceField(label=_("College"), queryset=None, widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("Kind"),
        widget=forms.HiddenInput,
        choices=[
            (Offering.Kind.MAKEUP, Offering.Kind.MAKEUP.label),
            (Offering.Kind.CLEARING, Offering.Kind.CLEARING.label),
        ],
    )
    graduation_year = forms.IntegerField(
        label=_("Graduation year"), required=False, min_value=2000, max_value=2100, widget=forms.HiddenInput
    )
    exam_date = forms.DateField(label=_("Exam date"), widget=forms.DateInput(attrs={"type": "date"}))
    instructors = ModelIdMultipleChoiceField(label=_("Instructors"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        from students.models import College

        super().__init__(*args, **kwargs)
        self.fields["college"].queryset = College.objects.all()
        self.fields["instructors"].queryset = instructor_queryset()
        self.fields["instructors"].label_from_instance = lambda u: f"{u.display_name} ({u.username})"

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "term": data["term"],
            "course": data["course"],
            "college": data["college"],
            "kind": data["kind"],
            "exam_date": data["exam_date"],
            "instructors": list(data["instructors"]),
            "graduation_year": data.get("graduation_year"),
        }


class RecordsFilterForm(forms.Form):
    """Term, college (Academic Affairs only), graduation year and search of the records pages."""

    term = forms.ModelChoiceField(label=_("Term"), queryset=Term.objects.order_by("-start_date"), required=False)
    college = forms.ModelChoiceField(label=_("College"), queryset=None, required=False, empty_label=_("All colleges"))
    year = forms.IntegerField(label=_("Graduation year"), required=False, min_value=2000, max_value=2100)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": _("Name or student number"), "type": "search"}),
    )

    def __init__(self, *args, colleges=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["college"].queryset = colleges
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field, forms.ModelChoiceField) else "form-control"
            )

    def value(self, name):
        if not self.is_bound or not self.is_valid():
            return None
        return self.cleaned_data.get(name)
