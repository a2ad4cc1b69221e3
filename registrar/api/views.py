"""The REST API: thin views over the same services, selectors and scope rules as the UI."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from registrar.approvals import selectors, services
from registrar.approvals.chains import all_chains, get_chain
from registrar.exceptions import ApplicationError
from .serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    SignOffSerializer,
    StudentSerializer,
    TransitionSerializer,
    request_serializer_for,
)

CHAIN_PARAM = OpenApiParameter("chain", str, OpenApiParameter.PATH, description="Chain code, e.g. U6")


def _chain(code: str):
    try:
        return get_chain(code)
    except Http404:
        raise NotFound(f"No workflow {code}.") from None


def _domain_errors(func):
    """Translate domain errors to API errors: wrong state/bad input → 400, scope → 404, role → 403."""
    try:
        return func()
    except ApplicationError as exc:
        raise ValidationError({"detail": str(exc.message), **exc.extra}) from None
    except DjangoValidationError as exc:  # a model's clean() refused the data: 400 by field
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}) from None
    except Http404:
        raise NotFound() from None
    except PermissionDenied as exc:
        raise DRFPermissionDenied(str(exc) or None) from None


class WorkflowListView(APIView):
    @extend_schema(responses=dict, summary="Every chain: stages, signers, transitions, deadlines, documents")
    def get(self, request):
        return Response([chain.describe() for chain in all_chains()])


class StudentListView(generics.ListAPIView):
    serializer_class = StudentSerializer

    def get_queryset(self):
        from students.selectors import student_list

        return student_list(user=self.request.user, search=self.request.query_params.get("search", ""))


class StudentDetailView(generics.RetrieveAPIView):
    serializer_class = StudentSerializer

    def get_object(self):
        from students.selectors import student_get_visible

        return _domain_errors(lambda: student_get_visible(self.request.user, self.kwargs["pk"]))


class InboxView(APIView):
    @extend_schema(responses=dict, summary="Requests awaiting the caller's sign-off, oldest first")
    def get(self, request):
        page = max(int(request.query_params.get("page", 1) or 1), 1)
        size = 50
        rows, counts, total = selectors.inbox_page_rows(
            request.user, offset=(page - 1) * size, limit=size,
            chain_code=request.query_params.get("chain") or None, search=request.query_params.get("search", ""))
        return Response({
            "count": total,
            "counts": counts,
            "results": [dict(request_serializer_for(r.chain)(r).data) for r in rows],
        })


@extend_schema(parameters=[CHAIN_PARAM])
class RequestListCreateView(generics.ListCreateAPIView):
    def get_serializer_class(self):
        return request_serializer_for(_chain(self.kwargs["chain"]))

    def get_queryset(self):
        chain = _chain(self.kwargs["chain"])
        qs = selectors.visible_requests(self.request.user, chain).order_by("-created_at")
        state = self.request.query_params.get("state")
        return qs.filter(state=state) if state else qs

    def create(self, request, *args, **kwargs):
        chain = _chain(self.kwargs["chain"])
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        student = data.pop("student", None) or getattr(request.user, "student", None)
        if student is None:
            raise ValidationError({"student": "Name the student this request is about."})
        attachments = {rule.kind: request.FILES.get(rule.kind) for rule in chain.attachments if request.FILES.get(rule.kind)}
        submit = str(request.data.get("submit", "")).lower() in ("1", "true", "yes")
        obj = _domain_errors(lambda: services.request_create(
            chain=chain, student=student, applicant=request.user, data=data, attachments=attachments, submit=submit))
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[CHAIN_PARAM])
class RequestDetailView(generics.RetrieveUpdateAPIView):
    http_method_names = ["get", "patch", "head", "options"]

    def get_serializer_class(self):
        return request_serializer_for(_chain(self.kwargs["chain"]))

    def get_object(self):
        chain = _chain(self.kwargs["chain"])
        return _domain_errors(lambda: selectors.request_get_visible(self.request.user, chain, self.kwargs["pk"]))

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        data = dict(self.get_serializer(obj).data)
        data["signoffs"] = SignOffSerializer(selectors.request_timeline(obj), many=True).data
        data["attachments"] = AttachmentSerializer(selectors.request_attachments(obj), many=True).data
        data["available_actions"] = selectors.available_actions(obj, request.user)
        return Response(data)

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = self.get_serializer(obj, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "student"}
        obj = _domain_errors(lambda: services.request_update(request=obj, actor=request.user, data=data))
        return Response(self.get_serializer(obj).data)


@extend_schema(parameters=[CHAIN_PARAM])
class RequestTransitionsView(APIView):
    """GET: the transitions the caller may perform now. POST: perform one with an opinion."""

    @extend_schema(responses=dict)
    def get(self, request, chain, pk):
        c = _chain(chain)
        obj = _domain_errors(lambda: selectors.request_get_visible(request.user, c, pk))
        return Response({"state": obj.state, "available_actions": selectors.available_actions(obj, request.user)})

    @extend_schema(request=TransitionSerializer, responses=dict)
    def post(self, request, chain, pk):
        c = _chain(chain)
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        obj = _domain_errors(lambda: services.request_act(
            chain=c, request_id=pk, actor=request.user, action=v["action"], opinion=v["opinion"],
            data=v["data"], as_role=v["as_role"] or None))
        return Response(request_serializer_for(c)(obj).data)


@extend_schema(parameters=[CHAIN_PARAM])
class RequestAttachmentView(APIView):
    @extend_schema(request={"multipart/form-data": AttachmentUploadSerializer}, responses=AttachmentSerializer)
    def post(self, request, chain, pk):
        c = _chain(chain)
        obj = _domain_errors(lambda: selectors.request_get_visible(request.user, c, pk))
        body = AttachmentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if obj.applicant_id != request.user.pk:
            raise NotFound()
        if obj.state not in ("draft", "returned"):
            raise ValidationError({"detail": str(services.NOT_EDITABLE)})
        with transaction.atomic():
            att = _domain_errors(lambda: services.attachment_add(
                request=obj, kind=body.validated_data["kind"], upload=body.validated_data["file"], actor=request.user))
        return Response(AttachmentSerializer(att).data, status=status.HTTP_201_CREATED)
