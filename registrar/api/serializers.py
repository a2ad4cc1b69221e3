from django.utils.encoding import force_str
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registrar.approvals.models import Attachment, SignOff
from registrar.roles import Role


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
            "on_behalf_of_label",
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
    to = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=40,
        help_text="send_back only: the code of the earlier stage to send the request back to (default: the last passed).",
    )


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
            queryset=chain.model._meta.get_field("student").related_model._default_manager.all(),
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
