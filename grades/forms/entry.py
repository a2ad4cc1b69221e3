"""Forms of the grades pages. They check only the shape of the input; the services
(grades.services.*) decide the rules and refuse with their own messages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from registrar.params import ModelIdMultipleChoiceField
from students.models import College

from ..models import GradeComponent, Offering, Term

XLSX_MAX_BYTES = 5 * 1024 * 1024
FILE_NOT_XLSX = _("Upload the .xlsx workbook downloaded for this offering.")
FILE_TOO_LARGE = _("The file is larger than 5 MB.")
UNKNOWN_OFFERINGS = _("No offering of this term has the code(s): %(codes)s.")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CompositionForm(forms.Form):
    """One weight (and optional label) per component code; a blank weight leaves the component out."""

    scale = forms.ChoiceField(label=_("Grading scale"), choices=Offering.Scale.choices)
    rounding = forms.ChoiceField(label=_("Rounding"), choices=Offering.Rounding.choices)

    def __init__(self, *args, offering: Offering | None = None, **kwargs):
        if offering is not None and "initial" not in kwargs:
            current = {c.code: c for c in offering.components.all()}
            initial = {"scale": offering.scale, "rounding": offering.rounding}
            for code in GradeComponent.Code.values:
                if code in current:
                    initial[f"weight_{code}"] = current[code].weight
                    initial[f"label_{code}"] = current[code].label
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.rows = []
        for code, label in GradeComponent.Code.choices:
            self.fields[f"weight_{code}"] = forms.IntegerField(
                label=_("Weight of %(component)s (%%)") % {"component": label},
                required=False,
                min_value=0,
                max_value=100,
                widget=forms.NumberInput(attrs={"data-component": code, "class": "weight-input"}),
            )
            self.fields[f"label_{code}"] = forms.CharField(
                label=_("Label of %(component)s") % {"component": label}, required=False, max_length=32
            )
            self.rows.append((code, label))

    def bound_rows(self):
        return [(code, label, self[f"weight_{code}"], self[f"label_{code}"]) for code, label in self.rows]

    def components(self) -> list[dict]:
        """The components given a weight, in the order of GradeComponent.Code."""
        data = self.cleaned_data
        return [
            {"code": code, "weight": data[f"weight_{code}"], "label": data.get(f"label_{code}") or ""}
            for code, _label in self.rows
            if data.get(f"weight_{code}") not in (None, "")
        ]


class WindowForm(forms.Form):
    term = forms.ModelChoiceField(label=_("Term"), queryset=Term.objects.order_by("-start_date"))
    opens_at = forms.DateTimeField(label=_("Opens at"), widget=DateTimeInput())
    closes_at = forms.DateTimeField(label=_("Closes at"), widget=DateTimeInput())
    colleges = ModelIdMultipleChoiceField(
        label=_("Colleges"),
        required=False,
        queryset=College.objects.order_by("code"),
        help_text=_("Leave empty (and no offerings) for every college of the term."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    offering_codes = forms.CharField(
        label=_("Offerings (codes)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional: offering codes separated by spaces, commas or new lines."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean(self):
        data = super().clean()
        codes = [c for c in (data.get("offering_codes") or "").replace(",", " ").replace("，", " ").split() if c]
        data["offerings"] = []
        if codes and data.get("term"):
            found = list(Offering.objects.filter(term=data["term"], code__in=codes))
            missing = sorted(set(codes) - {o.code for o in found})
            if missing:
                self.add_error("offering_codes", UNKNOWN_OFFERINGS % {"codes": ", ".join(missing)})
            data["offerings"] = found
        return data


class ReopenForm(forms.Form):
    until = forms.DateTimeField(label=_("Open until"), widget=DateTimeInput())
    reason = forms.CharField(label=_("Reason"), max_length=255, widget=forms.Textarea(attrs={"rows": 3}))


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Reason for returning"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4}))


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Filled-in workbook (.xlsx)"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"})
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(FILE_NOT_XLSX)
        if f.size > XLSX_MAX_BYTES:
            raise forms.ValidationError(FILE_TOO_LARGE)
        return f


class OfferingFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=64)
    term = forms.ModelChoiceField(
        label=_("Term"), required=False, queryset=Term.objects.order_by("-start_date"), empty_label=_("All terms")
    )
    college = forms.ModelChoiceField(
        label=_("College"), required=False, queryset=College.objects.order_by("code"), empty_label=_("All colleges")
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Any state")), *Offering.SheetState.choices]
    )
    late = forms.BooleanField(label=_("Late only"), required=False)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        d = self.cleaned_data
        return {
            "search": d.get("q") or "",
            "term_id": d["term"].pk if d.get("term") else None,
            "college_id": d["college"].pk if d.get("college") else None,
            "state": d.get("state") or None,
            "late": bool(d.get("late")),
        }
