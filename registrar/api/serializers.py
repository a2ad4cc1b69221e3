from django.utils.encoding import force_str
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registrar.approvals.models import Attachment, SignOff
from registrar.roles import Role
from students.models import Student


class StudentSerializer(serializers.ModelSerializer):
    """A student as the caller may see them: the personal fields (``students.permissions.PERSONAL_FIELDS``)
    in full or masked, as ``personal_data`` decides; ``personal_data_masked`` says which."""

    college = serializers.CharField(source="college.name", read_only=True)
    major = serializers.CharField(source="major.name", read_only=True)
    klass = serializers.CharField(source="klass.name", read_only=True)
    station = serializers.CharField(source="station.name", read_only=True, default=None)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    id_number = serializers.SerializerMethodField()
    birth_date = serializers.SerializerMethodField()
    ethnicity = serializers.SerializerMethodField()
    political_status = serializers.SerializerMethodField()
    personal_data_masked = serializers.SerializerMethodField()

    class Meta:
        model = Student
        fields = [
            "id",
            "student_number",
            "name",
            "gender",
            "id_number",
            "birth_date",
            "ethnicity",
            "political_status",
            "personal_data_masked",
            "level",
            "study_form",
            "college",
            "major",
            "klass",
            "station",
            "enrollment_date",
            "expected_graduation",
            "card_number",
            "status",
            "status_label",
        ]

    def _personal(self, obj):
        from students.permissions import personal_data

        cache = self.context.setdefault("_personal", {})
        if obj.pk not in cache:
            request = self.context.get("request")
            cache[obj.pk] = personal_data(getattr(request, "user", None), obj)
        return cache[obj.pk]

    def get_id_number(self, obj) -> str:
        return self._personal(obj).id_number

    def get_birth_date(self, obj) -> str:
        return self._personal(obj).birth_date

    def get_ethnicity(self, obj) -> str:
        return self._personal(obj).ethnicity

    def get_political_status(self, obj) -> str:
        return self._personal(obj).political_status

    def get_personal_data_masked(self, obj) -> bool:
        return self._personal(obj).masked


class SignOffSerializer(serializers.ModelSerializer):
    stage_label = serializers.SerializerMethodField()
    role_label = serializers.SerializerMethodField()

    class Meta:
        model = SignOff
        fields = [
            "id",
            "stage",
            "stage_label",
            "round",
            "role",
            "role_label",
            "actor_label",
            "decision",
            "opinion",
            "source_state",
            "target_state",
            "data",
            "created_at",
        ]

    def get_stage_label(self, obj) -> str:
        return force_str(obj.stage_label())

    def get_role_label(self, obj) -> str:
        return force_str(Role(obj.role).label) if obj.role in Role.values else obj.role


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="The attachment's download view (stored files have no public URL)."
    )

    class Meta:
        model = Attachment
        fields = ["id", "kind", "original_name", "mime_type", "size", "created_at", "download_url"]

    def get_download_url(self, obj) -> str:
        from django.contrib.contenttypes.models import ContentType
        from django.urls import reverse

        chain = ContentType.objects.get_for_id(obj.content_type_id).model_class().chain
        return reverse("approvals:attachment", args=[chain.code, obj.object_id, obj.pk])


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["submit", "approve", "reject", "send_back", "withdraw"])
    opinion = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    data = serializers.DictField(required=False, default=dict, help_text="The stage form's fields, if any.")
    as_role = serializers.CharField(required=False, allow_blank=True, default="")


class AttachmentUploadSerializer(serializers.Serializer):
    kind = serializers.CharField()
    file = serializers.FileField()


class ActionSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The transition to POST to …/transitions/ as ``action``.")
    label = serializers.CharField()
    decision = serializers.CharField()


_REQUEST_SERIALIZERS: dict = {}
_DETAIL_SERIALIZERS: dict = {}


def _get_chain(self, obj) -> str:
    return obj.chain.code


def _get_state_label(self, obj) -> str:
    return force_str(obj.get_state_label())


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
def _get_pending_roles(self, obj):
    return obj.pending_roles() if obj.stage else []


def request_serializer_for(chain):
    """One ModelSerializer per chain: applicant fields writable, kernel fields read-only."""
    if chain.code in _REQUEST_SERIALIZERS:
        return _REQUEST_SERIALIZERS[chain.code]
    writable = chain.applicant_fields()
    read_only = [
        "id",
        "state",
        "round",
        "submitted_at",
        "completed_at",
        "stage_entered_at",
        "stage_due_at",
        "return_reason",
        "created_at",
        "updated_at",
        *sorted(chain.stage_data_fields()),
    ]

    class Meta:
        model = chain.model
        fields = [*read_only, "student", *writable, "chain", "state_label", "is_overdue", "pending_roles"]
        read_only_fields = read_only

    attrs = {
        "Meta": Meta,
        "student": serializers.PrimaryKeyRelatedField(
            queryset=Student.objects.all(),
            required=False,
            help_text="Staff initiators name the student; a student applies for themself.",
        ),
        "chain": serializers.SerializerMethodField(),
        "state_label": serializers.SerializerMethodField(),
        "is_overdue": serializers.BooleanField(read_only=True),
        "pending_roles": serializers.SerializerMethodField(),
        "get_chain": _get_chain,
        "get_state_label": _get_state_label,
        "get_pending_roles": _get_pending_roles,
    }
    cls = type(f"{chain.model.__name__}Serializer", (serializers.ModelSerializer,), attrs)
    _REQUEST_SERIALIZERS[chain.code] = cls
    return cls


@extend_schema_field(SignOffSerializer(many=True))
def _get_signoffs(self, obj):
    from registrar.approvals.selectors import request_timeline

    return SignOffSerializer(request_timeline(obj), many=True).data


@extend_schema_field(AttachmentSerializer(many=True))
def _get_attachments(self, obj):
    from registrar.approvals.selectors import request_attachments

    return AttachmentSerializer(request_attachments(obj), many=True, context=self.context).data


@extend_schema_field(ActionSerializer(many=True))
def _get_available_actions(self, obj):
    from registrar.approvals.selectors import available_actions

    return available_actions(obj, self.context["request"].user)


def request_detail_serializer_for(chain):
    """The chain's request with its timeline (sign-offs), attachments and the caller's actions."""
    if chain.code in _DETAIL_SERIALIZERS:
        return _DETAIL_SERIALIZERS[chain.code]
    base = request_serializer_for(chain)

    class Meta(base.Meta):
        fields = [*base.Meta.fields, "signoffs", "attachments", "available_actions"]

    attrs = {
        "Meta": Meta,
        "signoffs": serializers.SerializerMethodField(),
        "attachments": serializers.SerializerMethodField(),
        "available_actions": serializers.SerializerMethodField(),
        "get_signoffs": _get_signoffs,
        "get_attachments": _get_attachments,
        "get_available_actions": _get_available_actions,
    }
    cls = type(f"{chain.model.__name__}DetailSerializer", (base,), attrs)
    _DETAIL_SERIALIZERS[chain.code] = cls
    return cls
