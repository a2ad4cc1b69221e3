"""The REST API: thin views over the same services, selectors and scope rules as the UI."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils.encoding import force_str
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import MethodNotAllowed, NotFound, ValidationError
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from registrar import params
from registrar.approvals import selectors, services
from registrar.approvals.chains import all_chains, get_chain
from registrar.exceptions import ApplicationError
from registrar.lockout import is_locked_out, lockout_message

from .serializers import (
    ActionSerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    TransitionSerializer,
    request_detail_serializer_for,
    request_serializer_for,
)

CHAIN_PARAM = OpenApiParameter(
    "chain",
    str,
    OpenApiParameter.PATH,
    description="Chain code, e.g. id_card",
    enum=[c.code for c in all_chains() if c.model is not None],
)


def _one_of(name: str, factory, *, many: bool = False) -> PolymorphicProxySerializer:
    """For the schema: the chain's own serializer, one per chain (the path's ``chain`` decides)."""
    return PolymorphicProxySerializer(
        component_name=name,
        resource_type_field_name=None,
        many=many,
        serializers=lambda: [factory(c) for c in all_chains() if c.model is not None],
    )


DETAIL = inline_serializer("Detail", {"detail": serializers.CharField()})
NOT_OPENED_HERE = ", ".join(f"{c.code}: {c.opened_elsewhere}" for c in all_chains() if c.opened_elsewhere)


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


class TokenView(ObtainAuthToken):
    """POST ``username`` and ``password`` → the user's API token. Failed attempts count towards the
    login lockout (django-axes, as the login page): once locked, 429 — the right password included.

    A refusal is answered, not raised: DRF rolls back the request's transaction on a raised error,
    which would forget the failed attempt."""

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong username or password."),
            429: inline_serializer("LockedOut", {"detail": serializers.CharField()}),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if serializer.is_valid():
            token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
            return Response({"token": token.key})
        if is_locked_out(request):
            return Response({"detail": lockout_message()}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)


class WorkflowListView(APIView):
    @extend_schema(responses=dict, summary="Every chain: stages, signers, transitions, deadlines, documents")
    def get(self, request):
        return Response([chain.describe() for chain in all_chains()])


class InboxView(APIView):
    PAGE_SIZE = 50

    @extend_schema(
        summary="Requests awaiting the caller's sign-off, oldest first",
        parameters=[
            OpenApiParameter("page", int, description="A page number (50 a page); 404 past the last page."),
            OpenApiParameter(
                "chain",
                str,
                description="Only this chain's requests.",
                enum=[c.code for c in all_chains() if c.model is not None],
            ),
            OpenApiParameter("search", str, description="Student name or number."),
        ],
        responses={
            200: inline_serializer(
                "Inbox",
                {
                    "count": serializers.IntegerField(),
                    "counts": serializers.DictField(child=serializers.IntegerField(), help_text="Requests per chain."),
                    "results": _one_of("InboxRequest", request_serializer_for, many=True),
                },
            ),
            400: OpenApiResponse(description="A bad filter."),
            404: DETAIL,
        },
    )
    def get(self, request):

        page = params.api_page_number(request.query_params.get("page"))
        query = params.parse_api_query(
            request.query_params,
            search=params.SearchField(),
            chain=params.ChainField(),
        )
        size = self.PAGE_SIZE
        rows, counts, total = selectors.inbox_page_rows(
            request.user,
            offset=(page - 1) * size,
            limit=size,
            chain_code=query["chain"] or None,
            search=query["search"] or "",
        )
        if page > 1 and (page - 1) * size >= total:
            raise NotFound(params.INVALID_PAGE)
        subjects = selectors.inbox_subjects(rows)
        return Response(
            {
                "count": total,
                "counts": counts,
                "results": [_inbox_result(r, subjects) for r in rows],
            }
        )


def _inbox_result(row, subjects) -> dict:
    """A request as its chain's serializer gives it; other work (a grade sheet, station results) as
    its kind, id, title, stage and link."""
    if row.is_request and (row.kind, row.pk) in subjects:
        return {"kind": row.kind, **request_serializer_for(row.chain)(subjects[(row.kind, row.pk)]).data}
    return {
        "kind": row.kind,
        "chain": None,
        "id": row.pk,
        "title": row.title,
        "state": row.state,
        "state_label": force_str(row.get_state_label()),
        "stage_entered_at": row.stage_entered_at.isoformat() if row.stage_entered_at else None,
        "stage_due_at": row.stage_due_at.isoformat() if row.stage_due_at else None,
        "is_overdue": row.is_overdue,
        "url": row.get_absolute_url(),
    }


@extend_schema(parameters=[CHAIN_PARAM])
class RequestListCreateView(generics.ListCreateAPIView):
    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):  # the schema documents every chain (extend_schema)
            return request_serializer_for(all_chains()[0])
        return request_serializer_for(_chain(self.kwargs["chain"]))

    def get_queryset(self):
        chain = _chain(self.kwargs["chain"])
        qs = selectors.visible_requests(self.request.user, chain).order_by("-created_at", "-pk")
        query = params.parse_api_query(self.request.query_params, state=params.SearchField())
        return qs.filter(state=query["state"]) if query["state"] else qs

    @property
    def allowed_methods(self):
        methods = super().allowed_methods
        chain = getattr(self, "kwargs", {}).get("chain")
        if chain and any(c.code == chain and c.opened_elsewhere for c in all_chains()):
            methods = [m for m in methods if m != "POST"]
        return methods

    @extend_schema(
        summary="The caller's visible requests of a chain, newest first",
        parameters=[
            OpenApiParameter(
                "state",
                str,
                description="Only requests in this state (a stage code, draft, returned, withdrawn or completed).",
            )
        ],
        responses=_one_of("Request", request_serializer_for, many=True),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Open a request (a draft, or submitted with submit=true)",
        description="Not offered for chains whose requests are opened by a service of their own (405): "
        + (NOT_OPENED_HERE or "none"),
        request=_one_of("RequestInput", request_serializer_for),
        responses={
            201: _one_of("Request", request_serializer_for),
            400: OpenApiResponse(
                description="Invalid data, or a refusal of the chain (wrong state or status, limits)."
            ),
            405: DETAIL,
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        chain = _chain(self.kwargs["chain"])
        if chain.opened_elsewhere:
            raise MethodNotAllowed("POST", detail=str(chain.opened_elsewhere))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        student = data.pop("student", None) or getattr(request.user, "student", None)
        if student is None:
            raise ValidationError({"student": "Name the student this request is about."})
        attachments = {
            rule.kind: request.FILES.get(rule.kind) for rule in chain.attachments if request.FILES.get(rule.kind)
        }
        submit = str(request.data.get("submit", "")).lower() in ("1", "true", "yes")
        obj = _domain_errors(
            lambda: services.request_create(
                chain=chain, student=student, applicant=request.user, data=data, attachments=attachments, submit=submit
            )
        )
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[CHAIN_PARAM])
class RequestDetailView(generics.RetrieveUpdateAPIView):
    http_method_names = ["get", "patch", "head", "options"]

    def get_serializer_class(self):
        factory = request_detail_serializer_for if self.request.method in ("GET", "HEAD") else request_serializer_for
        if getattr(self, "swagger_fake_view", False):  # the schema documents every chain (extend_schema)
            return factory(all_chains()[0])
        return factory(_chain(self.kwargs["chain"]))

    def get_object(self):
        chain = _chain(self.kwargs["chain"])
        return _domain_errors(lambda: selectors.request_get_visible(self.request.user, chain, self.kwargs["pk"]))

    @extend_schema(
        summary="One request with its sign-offs, attachments and the caller's available actions",
        responses={200: _one_of("RequestDetail", request_detail_serializer_for), 404: DETAIL},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Amend a draft or returned request (the applicant)",
        request=_one_of("RequestPatch", request_serializer_for),
        responses={
            200: _one_of("Request", request_serializer_for),
            400: OpenApiResponse(description="Invalid data, or the request is not editable."),
            404: DETAIL,
        },
    )
    def patch(self, request, *args, **kwargs):
        return super().patch(request, *args, **kwargs)

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

    @extend_schema(
        responses={
            200: inline_serializer(
                "Transitions", {"state": serializers.CharField(), "available_actions": ActionSerializer(many=True)}
            ),
            404: DETAIL,
        }
    )
    def get(self, request, chain, pk):
        c = _chain(chain)
        obj = _domain_errors(lambda: selectors.request_get_visible(request.user, c, pk))
        return Response({"state": obj.state, "available_actions": selectors.available_actions(obj, request.user)})

    @extend_schema(
        request=TransitionSerializer,
        responses={
            200: _one_of("Request", request_serializer_for),
            400: OpenApiResponse(description="The action is not available now, or its data is invalid."),
            403: DETAIL,
            404: DETAIL,
        },
    )
    def post(self, request, chain, pk):
        c = _chain(chain)
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        obj = _domain_errors(
            lambda: services.request_act(
                chain=c,
                request_id=pk,
                actor=request.user,
                action=v["action"],
                opinion=v["opinion"],
                data=v["data"],
                as_role=v["as_role"] or None,
                to=v["to"] or None,
            )
        )
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
            att = _domain_errors(
                lambda: services.attachment_add(
                    request=obj,
                    kind=body.validated_data["kind"],
                    upload=body.validated_data["file"],
                    actor=request.user,
                )
            )
        return Response(AttachmentSerializer(att).data, status=status.HTTP_201_CREATED)
