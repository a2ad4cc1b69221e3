from django import forms
from django.utils.translation import gettext_lazy as _

from .models import IdCardReissueRequest


class FeePaymentForm(forms.Form):
    """Finance records the reissue fee (U6 stage ``finance_payment``)."""

    fee_amount = forms.DecimalField(label=_("Fee (yuan)"), min_value=0, max_digits=8, decimal_places=2)
    receipt_number = forms.RegexField(
        label=_("Receipt number"),
        regex=r"^[0-9A-Za-z-]{4,32}$",
        error_messages={"invalid": _("4–32 letters, digits or dashes.")},
    )


class CardReissueForm(forms.Form):
    """The registrar records the new card's number (U6 stage ``registrar_reissue``)."""

    new_card_number = forms.RegexField(
        label=_("New card number"),
        regex=r"^[0-9A-Za-z-]{4,32}$",
        error_messages={"invalid": _("4–32 letters, digits or dashes.")},
    )


class IdCardReissueApplicationForm(forms.ModelForm):
    photo = forms.FileField(label=_("1-inch photo"), required=False, help_text=_("JPEG or PNG, at most 2 MB."))

    class Meta:
        model = IdCardReissueRequest
        fields = ["reason", "reason_detail", "old_card_number"]
        widgets = {"reason_detail": forms.Textarea(attrs={"rows": 3})}

    attachment_fields = ("photo",)
