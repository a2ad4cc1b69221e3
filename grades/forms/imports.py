"""The Excel import upload form (shape only; grades.services.imports decides)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from ..models import ImportJob


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=())
    file = forms.FileField(
        label=gettext_lazy("Excel file"),
        help_text=gettext_lazy("The first sheet is imported; the header row names the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.xls,.xlsb,.ods"}),
    )

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(ImportJob.Kind.choices)
        self.fields["kind"].choices = [(k, labels[k]) for k in kinds]
