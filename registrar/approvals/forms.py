"""Forms of the approval UI: the generic application form of any chain and the act form.

Forms check only the shape of the input; the services decide (STYLE.md §3). The
application form of a chain is derived from the chain itself (no per-chain form class):
the request model's editable fields minus the kernel's and the stage forms' fields,
plus one file field per attachment rule.
"""

from __future__ import annotations

from django import forms
from django.forms.models import modelform_factory
from django.utils.translation import gettext_lazy as _

from registrar.exceptions import ApplicationError

from .chains import Chain

OPINION_REQUIRED_FOR = ("reject", "send_back")
NO_SUCH_STUDENT = _("No student with this student number is within your scope.")
ATTACHMENT_REQUIRED = _("This file is required to submit the request.")


def applicant_field_names(chain: Chain) -> list[str]:
    """The fields of ``chain``'s request model that the applicant fills in."""
    return chain.applicant_fields()


def use_date_inputs(form: forms.BaseForm) -> None:
    """Render the form's date fields with the browser's date picker (ISO values)."""
    for field in form.fields.values():
        if isinstance(field, forms.DateField) and isinstance(field.widget, forms.DateInput):
            field.widget.input_type = "date"
            field.widget.format = "%Y-%m-%d"


class ApplicationFormBase(forms.ModelForm):
    """Base of every generated application form.

    ``user`` resolves the student (staff initiators pick one by 学号 within their scope, or
    ``student`` was chosen before and the 学号 is fixed); the request model's optional
    classmethod ``limit_applicant_choices(form, user, student)`` narrows the fields' choices
    for the user and the student (None until it is known);
    ``submitting`` makes required attachments required; ``existing_kinds`` are the
    attachment kinds already on file (editing a draft or a returned request)."""

    chain: Chain
    picks_student: bool = False

    def __init__(self, *args, user=None, submitting: bool = False, existing_kinds=(), student=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.submitting = submitting
        self.existing_kinds = set(existing_kinds)
        if student is not None and self.picks_student:  # the student was chosen before (?student=<id>)
            self.fields["student_number"].initial = student.student_number
            self.fields["student_number"].disabled = True
        if student is None and self.instance.pk:
            student = self.instance.student
        limit = getattr(self.chain.model, "limit_applicant_choices", None)
        if limit is not None:  # the request model narrows its fields' choices for this user and student
            limit(self, user, student)
        use_date_inputs(self)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 3
            if name in self.attachment_kinds() and name in self.existing_kinds:
                field.help_text = _("A file is already attached; choose another only to add a replacement.")

    @classmethod
    def attachment_kinds(cls) -> list[str]:
        return [rule.kind for rule in cls.chain.attachments]

    def attachment_fields(self):
        return [self[kind] for kind in self.attachment_kinds()]

    def data_fields(self):
        skip = {*self.attachment_kinds(), "student_number"}
        return [bf for bf in self if bf.name not in skip]

    def clean_student_number(self):
        from registrar.scopes import directory

        number = (self.cleaned_data.get("student_number") or "").strip()
        student = directory().students_visible(self.user).filter(student_number=number).first() if number else None
        if student is None:
            raise forms.ValidationError(NO_SUCH_STUDENT)
        self.cleaned_data["student"] = student
        return number

    def clean(self):
        from . import services

        cleaned = super().clean()
        for rule in self.chain.attachments:
            upload = cleaned.get(rule.kind)
            if upload:
                try:
                    services.attachment_validate(chain=self.chain, kind=rule.kind, upload=upload)
                except ApplicationError as exc:
                    self.add_error(rule.kind, str(exc.message))
            elif (
                self.submitting
                and rule.kind not in self.existing_kinds
                and rule.is_required_for(
                    self.chain.model(**{k: v for k, v in cleaned.items() if k in self._meta.fields})
                )
            ):
                self.add_error(rule.kind, ATTACHMENT_REQUIRED)
        return cleaned

    # --- what the view hands to the service ---------------------------------------------
    def request_data(self) -> dict:
        names = set(self._meta.fields)
        return {k: v for k, v in self.cleaned_data.items() if k in names}

    def attachments(self) -> dict:
        return {kind: self.cleaned_data.get(kind) for kind in self.attachment_kinds() if self.cleaned_data.get(kind)}

    def student(self):
        return self.cleaned_data.get("student")


def _attachment_field(rule) -> forms.FileField:
    limit_kb = (rule.max_bytes // 1024) if rule.max_bytes else None
    if rule.images_only:
        help_text = (
            _("JPEG or PNG image") if limit_kb is None else _("JPEG or PNG image, at most %(kb)s KB") % {"kb": limit_kb}
        )
        widget = forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"})
    else:
        help_text = _("Image or PDF") if limit_kb is None else _("Image or PDF, at most %(kb)s KB") % {"kb": limit_kb}
        widget = forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"})
    return forms.FileField(label=rule.label, required=False, help_text=help_text, widget=widget)


_FORM_CACHE: dict[tuple[str, bool], type[ApplicationFormBase]] = {}


def application_form_for(chain: Chain, *, picks_student: bool = False) -> type[ApplicationFormBase]:
    """The application ModelForm of ``chain`` (optionally with a 学号 field for staff initiators)."""
    key = (chain.code, picks_student)
    if key in _FORM_CACHE:
        return _FORM_CACHE[key]
    attrs: dict = {"chain": chain, "picks_student": picks_student}
    if picks_student:
        attrs["student_number"] = forms.CharField(
            label=_("Student number"),
            max_length=20,
            help_text=_("The 学号 of the student this request is about."),
        )
    for rule in chain.attachments:
        attrs[rule.kind] = _attachment_field(rule)
    base = type(f"{chain.model.__name__}ApplicationBase", (ApplicationFormBase,), attrs)
    form_class = modelform_factory(chain.model, form=base, fields=applicant_field_names(chain))
    if picks_student:  # the student comes first
        order = ["student_number", *[n for n in form_class.base_fields if n != "student_number"]]
        form_class.base_fields = {n: form_class.base_fields[n] for n in order}
    _FORM_CACHE[key] = form_class
    return form_class


class ActForm(forms.Form):
    """The signer's written opinion (签署意见); required to reject or send back."""

    opinion = forms.CharField(
        label=_("Opinion"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, action: str, roles=(), send_back_to=(), **kwargs):
        """``send_back_to``: (stage code, label) pairs a send-back may go to, the nearest preselected."""
        super().__init__(*args, **kwargs)
        self.action = action
        if action == "send_back" and send_back_to:
            self.fields["to"] = forms.ChoiceField(
                label=_("Send back to"),
                required=False,  # none chosen: the stage before
                choices=list(send_back_to),
                initial=list(send_back_to)[-1][0],
                help_text=_("The stage that signs again; every stage after it signs again too."),
            )
        if action in OPINION_REQUIRED_FOR:
            self.fields["opinion"].required = True
            self.fields["opinion"].help_text = _("Required: the applicant will see your reason.")
        elif action == "approve":
            self.fields["opinion"].help_text = _("For example: 同意 (agreed), with any remark.")
        else:
            self.fields["opinion"].label = _("Remark")
        if len(roles) > 1:
            from registrar.roles import Role

            self.fields["as_role"] = forms.ChoiceField(
                label=_("Sign as"),
                choices=[(r, Role(r).label) for r in roles],
            )


NO_SUCH_USER = _("No active user has this username.")


class UserByUsernameField(forms.CharField):
    """A user named by their username (active users only)."""

    def clean(self, value):
        from django.contrib.auth import get_user_model

        username = (super().clean(value) or "").strip()
        user = get_user_model().objects.filter(username=username, is_active=True).first() if username else None
        if user is None:
            raise forms.ValidationError(NO_SUCH_USER)
        return user


class DelegationForm(forms.Form):
    """Name a substitute for a period (the service decides who may be one)."""

    substitute = UserByUsernameField(label=_("Substitute's username"), max_length=150)
    starts_on = forms.DateField(label=_("From"))
    ends_on = forms.DateField(label=_("Until"), help_text=_("Inclusive: the substitute signs on this day too."))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_date_inputs(self)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("starts_on") and cleaned.get("ends_on") and cleaned["starts_on"] > cleaned["ends_on"]:
            from .models import DELEGATION_DATES

            self.add_error("ends_on", DELEGATION_DATES)
        return cleaned


class ReassignForm(forms.Form):
    """Academic Affairs names who signs the current stage of one request, and why."""

    assignee = UserByUsernameField(label=_("Username of the user who signs instead"), max_length=150)
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        if len(roles) > 1:
            from registrar.roles import Role

            self.fields["role"] = forms.ChoiceField(label=_("Signs as"), choices=[(r, Role(r).label) for r in roles])
