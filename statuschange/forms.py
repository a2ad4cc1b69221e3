"""Stage forms: what a signer records when passing a status-change stage."""

from django import forms
from django.utils.translation import gettext_lazy as _

from students.models import Class

RECEIPT = r"^[0-9A-Za-z-]{4,32}$"
RECEIPT_INVALID = _("4–32 letters, digits or dashes.")


class EffectiveDateForm(forms.Form):
    effective_date = forms.DateField(label=_("Effective date"))


class ResumptionPlacementForm(forms.Form):
    receiving_class = forms.ModelChoiceField(label=_("Receiving class"), queryset=Class.objects.all())
    effective_date = forms.DateField(label=_("Effective date"))


class TuitionSettlementForm(forms.Form):
    tuition_amount = forms.DecimalField(label=_("Tuition settled (yuan)"), min_value=0, max_digits=10, decimal_places=2)
    tuition_receipt = forms.RegexField(
        label=_("Receipt number"), regex=RECEIPT, error_messages={"invalid": RECEIPT_INVALID}
    )


class FinanceClearanceForm(forms.Form):
    arrears = forms.DecimalField(label=_("Arrears (yuan)"), min_value=0, max_digits=10, decimal_places=2)
    refund = forms.DecimalField(label=_("Refund (yuan)"), min_value=0, max_digits=10, decimal_places=2)


class WithdrawalHandInForm(forms.Form):
    notice_returned = forms.BooleanField(label=_("Leave-school notice handed in"), required=True)
    photos_received = forms.IntegerField(label=_("1-inch photos received"), min_value=2, max_value=10)
    id_card_returned = forms.BooleanField(label=_("Student ID card handed in"), required=True)
    effective_date = forms.DateField(label=_("Effective date"))


class DossierForm(forms.Form):
    dossier_filed_on = forms.DateField(label=_("Dossier filed on"))
    dossier_collected_on = forms.DateField(label=_("Dossier collected on"), required=False)


class ProvinceFilingForm(forms.Form):
    filed_on = forms.DateField(label=_("Filed with the province on"))
    filing_reference = forms.CharField(label=_("Filing reference"), max_length=64)
    filing_outcome = forms.CharField(label=_("Province's outcome"), max_length=255)
