"""Forms of the station pages (shape only; the services decide)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from registrar.params import ModelIdMultipleChoiceField, id_or_none

from ..models import StationSubmission, Term
from ..selectors import stations as sel

XLSX_ACCEPT = ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BlankSheetForm(forms.Form):
    """Pick a term, optionally a station, and the classes whose blank sheets to print."""

    FORMATS = (("pdf", _("PDF")), ("xlsx", _("Excel")))

    term = forms.ModelChoiceField(label=_("Term"), queryset=Term.objects.order_by("-start_date"))
    station = forms.ModelChoiceField(
        label=_("Station"),
        queryset=None,
        required=False,
        empty_label=_("All students of the class"),
        help_text=_("Only this station's students are listed."),
    )
    classes = ModelIdMultipleChoiceField(
        label=_("Classes"), queryset=None, widget=forms.SelectMultiple(attrs={"size": 10})
    )
    format = forms.ChoiceField(label=_("Format"), choices=FORMATS, initial="pdf", widget=forms.RadioSelect)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        stations = sel.printable_stations(user)
        self.own_stations = sel.station_ids_of(user) if sel.reviewer_college_ids(user) == set() else set()
        self.fields["station"].queryset = stations
        if self.own_stations:  # station staff print only their own station's students
            self.fields["station"].required = True
            self.fields["station"].empty_label = None
        classes = sel.printable_classes(user)
        station_id = id_or_none(self.data.get("station")) if self.is_bound else None
        if station_id:
            from django.db.models import Q

            from students.models import Student

            classes = classes.filter(
                Q(station_id=station_id) | Q(pk__in=Student.objects.filter(station_id=station_id).values("klass_id"))
            )
        self.fields["classes"].queryset = classes
        self.fields["classes"].label_from_instance = lambda k: (
            f"{k.code} {k.name}" + (f" · {k.station.name}" if k.station_id else "")
        )


class SubmissionCreateForm(forms.Form):
    station = forms.ModelChoiceField(label=_("Station"), queryset=None, empty_label=None)
    offering = forms.ModelChoiceField(label=_("Course offering"), queryset=None)
    file = forms.FileField(
        label=_("Results file (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": XLSX_ACCEPT}),
        help_text=_(
            "The filled blank sheet's Excel, or a sheet with the student number and the "
            "component columns (or one score column)."
        ),
    )

    def __init__(self, *args, stations, **kwargs):
        from ..models import Grade, Offering

        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = stations
        if len(stations) == 1:
            self.fields["station"].widget = forms.HiddenInput()
            self.fields["station"].initial = stations[0].pk
        self.fields["offering"].queryset = (
            Offering.objects.filter(
                sheet_state=Offering.SheetState.ENTERING,
                pk__in=Grade.objects.filter(student__station__in=stations).values("offering_id"),
            )
            .select_related("course", "term")
            .order_by("-term__start_date", "course__code", "code")
        )
        self.fields["offering"].label_from_instance = lambda o: f"{o.term} · {o.code} {o.course.name}"

    def clean(self):
        cleaned = super().clean()
        station, offering = cleaned.get("station"), cleaned.get("offering")
        if station and offering and not sel.offerings_for_station(station).filter(pk=offering.pk).exists():
            self.add_error("offering", _("No student of this station is on this offering."))
        return cleaned


class ResubmitForm(forms.Form):
    file = forms.FileField(
        label=_("Corrected results file (.xlsx)"), widget=forms.ClearableFileInput(attrs={"accept": XLSX_ACCEPT})
    )
    opinion = forms.CharField(
        label=_("Remark"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Reasons for returning"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required: the station will see them."),
    )


class AcceptForm(forms.Form):
    opinion = forms.CharField(
        label=_("Opinion"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class SubmissionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=64)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Any state")), *StationSubmission.State.choices]
    )
    station = forms.ModelChoiceField(label=_("Station"), required=False, queryset=None, empty_label=_("All stations"))
    term = forms.ModelChoiceField(
        label=_("Term"), required=False, queryset=Term.objects.order_by("-start_date"), empty_label=_("All terms")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = sel.printable_stations(user)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        d = self.cleaned_data
        return {
            "search": d.get("q") or "",
            "state": d.get("state") or "",
            "station_id": d["station"].pk if d.get("station") else None,
            "term_id": d["term"].pk if d.get("term") else None,
        }
