"""The server-rendered approval UI: permission matrix, U6 end to end through the views,
bad input, and a constant query count for the inbox."""

import pytest
from django.contrib.messages import ERROR, get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registrar.approvals.models import Attachment, SignOff
from registrar.approvals.services import request_act, request_create
from registrar.notifications.models import Notification
from students.models import U6, IdCardReissueRequest
from tests.factories import StudentFactory, photo_upload, png_bytes

pytestmark = pytest.mark.django_db


def _submitted(w, student=None):
    student = student or w["student"]
    return request_create(
        chain=U6,
        student=student,
        applicant=student.user,
        data={"reason": "lost"},
        attachments={"photo": photo_upload()},
        submit=True,
    )


def _url(name, req, *extra):
    return reverse(f"approvals:{name}", args=[U6.code, req.pk, *extra])


def _last_message_level(response):
    """The level of the newest message queued by ``response`` (earlier ones may be unread)."""
    messages = list(get_messages(response.wsgi_request))
    return messages[-1].level if messages else None


@pytest.fixture
def world(u6_world):
    u6_world["other_student"] = StudentFactory().user
    return u6_world


# --- (role, page, status) matrix ---------------------------------------------------------
MATRIX = [
    # detail
    ("student_user", "detail", 200),
    ("other_student", "detail", 404),
    ("counsellor", "detail", 200),
    ("other_counsellor", "detail", 404),
    ("finance", "detail", 200),
    ("registrar", "detail", 200),
    # inbox (everyone logged in has one; only the in-scope counsellor sees the request)
    ("counsellor", "inbox", 200),
    ("other_counsellor", "inbox", 200),
    ("student_user", "inbox", 200),
    # act confirmation page
    ("counsellor", "act_get", 200),
    ("other_counsellor", "act_get", 404),
    ("other_student", "act_get", 404),
    ("finance", "act_get", 403),
    ("student_user", "act_get", 403),
    # act POST
    ("counsellor", "act_post", 302),
    ("finance", "act_post", 403),
    ("registrar", "act_post", 403),
    ("student_user", "act_post", 403),
    ("other_counsellor", "act_post", 404),
    ("other_student", "act_post", 404),
    # anonymous users are sent to the login page
    (None, "detail", 302),
    (None, "inbox", 302),
    (None, "act_get", 302),
]


@pytest.mark.parametrize(("who", "page", "status"), MATRIX)
def test_permission_matrix(client, world, who, page, status):
    req = _submitted(world)
    if who:
        client.force_login(world[who])
    if page == "detail":
        response = client.get(_url("detail", req))
    elif page == "inbox":
        response = client.get(reverse("approvals:inbox"))
    elif page == "act_get":
        response = client.get(_url("act", req, "approve"))
    else:
        response = client.post(_url("act", req, "approve"), {"opinion": "同意"})
    assert response.status_code == status
    req.refresh_from_db()
    expected_state = "finance_payment" if (page == "act_post" and status == 302) else "counsellor_confirm"
    assert req.state == expected_state


def test_inbox_lists_only_what_awaits_the_user(client, world):
    req = _submitted(world)
    client.force_login(world["counsellor"])
    rows = client.get(reverse("approvals:inbox")).context["rows"]
    assert [r.pk for r in rows] == [req.pk]
    client.force_login(world["other_counsellor"])
    assert client.get(reverse("approvals:inbox")).context["rows"] == []
    client.force_login(world["finance"])  # not yet at finance's stage
    assert client.get(reverse("approvals:inbox")).context["rows"] == []


def test_detail_shows_actions_from_the_fsm(client, world):
    req = _submitted(world)
    client.force_login(world["counsellor"])
    actions = [a["name"] for a in client.get(_url("detail", req)).context["actions"]]
    assert actions == ["approve", "reject"]  # first stage: nothing to send back to
    client.force_login(world["finance"])
    assert client.get(_url("detail", req)).context["actions"] == []
    client.force_login(world["student_user"])
    assert [a["name"] for a in client.get(_url("detail", req)).context["actions"]] == ["withdraw"]


# --- U6 end to end through the web views ---------------------------------------------------
def test_u6_full_journey_through_the_views(client, world):
    w = world
    # the student applies with a photo
    client.force_login(w["student_user"])
    home = client.get(reverse("home"))
    assert U6.code in [item["chain"].code for item in home.context["apply"]]
    assert client.get(reverse("approvals:create", args=[U6.code])).status_code == 200
    response = client.post(
        reverse("approvals:create", args=[U6.code]),
        {"reason": "lost", "reason_detail": "在图书馆遗失", "photo": photo_upload(), "submit": "1"},
    )
    req = IdCardReissueRequest.objects.get(student=w["student"])
    assert response.status_code == 302 and response["Location"] == _url("detail", req)
    assert req.state == "counsellor_confirm"
    assert Attachment.objects.filter(object_id=req.pk, kind="photo").count() == 1
    # the student's home lists the request
    assert [r.pk for r in client.get(reverse("home")).context["own_requests"]] == [req.pk]
    attachment = Attachment.objects.get(object_id=req.pk)
    photo = client.get(_url("attachment", req, attachment.pk))
    assert photo.status_code == 200 and b"".join(photo.streaming_content) == png_bytes()

    # the counsellor confirms
    client.force_login(w["counsellor"])
    assert client.get(_url("act", req, "approve")).status_code == 200
    response = client.post(_url("act", req, "approve"), {"opinion": "情况属实，同意补办"})
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.state == "finance_payment"

    # finance records the fee: the confirmation page carries the stage's form
    client.force_login(w["finance"])
    page = client.get(_url("act", req, "approve"))
    assert set(page.context["stage_form"].fields) == {"fee_amount", "receipt_number"}
    response = client.post(
        _url("act", req, "approve"), {"opinion": "已缴费", "fee_amount": "20.00", "receipt_number": "R2024001"}
    )
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.state == "registrar_reissue" and str(req.fee_amount) == "20.00"

    # the registrar reissues the card
    client.force_login(w["registrar"])
    response = client.post(_url("act", req, "approve"), {"opinion": "已补办", "new_card_number": "SC-000123"})
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.state == "completed"
    w["student"].refresh_from_db()
    assert w["student"].card_number == "SC-000123"

    # the student sees the whole timeline
    client.force_login(w["student_user"])
    detail = client.get(_url("detail", req))
    decisions = [(s.stage, s.decision) for s in detail.context["signoffs"]]
    assert decisions == [
        ("draft", "submit"),
        ("counsellor_confirm", "approve"),
        ("finance_payment", "approve"),
        ("registrar_reissue", "approve"),
    ]
    assert [s["status"] for s in detail.context["steps"]] == ["done", "done", "done"]
    html = detail.content.decode()
    assert "情况属实，同意补办" in html and "SC-000123" in html and "R2024001" in html
    assert Notification.objects.filter(user=w["student_user"]).exists()


def test_print_approval_form_issues_a_document(client, world):
    from registrar.documents.models import Document

    req = _submitted(world)
    client.force_login(world["student_user"])
    assert client.get(_url("approval_form", req)).status_code == 405  # POST only
    response = client.post(_url("approval_form", req))
    assert response.status_code == 302 and response["Location"] == _url("detail", req)
    doc = Document.objects.get(chain=U6.code, request_id=req.pk, doc_type="approval_form")
    assert [d.pk for d in client.get(_url("detail", req)).context["documents"]] == [doc.pk]
    client.force_login(world["other_counsellor"])
    assert client.post(_url("approval_form", req)).status_code == 404


def test_reject_then_amend_and_resubmit_through_the_views(client, world):
    req = _submitted(world)
    client.force_login(world["counsellor"])
    client.post(_url("act", req, "reject"), {"opinion": "照片不清晰，请重新上传"})
    req.refresh_from_db()
    assert req.state == "returned"
    client.force_login(world["student_user"])
    edit = client.get(_url("edit", req))
    assert edit.status_code == 200 and "照片不清晰，请重新上传" in edit.content.decode()
    response = client.post(_url("edit", req), {"reason": "damaged", "photo": photo_upload(), "submit": "1"})
    assert response.status_code == 302
    req.refresh_from_db()
    assert (req.state, req.reason, req.round) == ("counsellor_confirm", "damaged", 2)
    # not editable any more, and never by somebody else
    assert client.get(_url("edit", req)).status_code == 302
    client.force_login(world["counsellor"])
    assert client.get(_url("edit", req)).status_code == 403


def test_save_draft_without_photo_then_submit_from_detail(client, world):
    client.force_login(world["student_user"])
    response = client.post(reverse("approvals:create", args=[U6.code]), {"reason": "lost", "save": "1"})
    req = IdCardReissueRequest.objects.get(student=world["student"])
    assert response.status_code == 302 and req.state == "draft"
    # submitting the draft without the photo is refused with a message, nothing written
    response = client.post(_url("act", req, "submit"), {"opinion": ""})
    req.refresh_from_db()
    assert req.state == "draft"
    assert _last_message_level(response) == ERROR
    assert not SignOff.objects.filter(object_id=req.pk, chain=U6.code).exists()


# --- bad input ------------------------------------------------------------------------------
def _apply(client, world, **files):
    client.force_login(world["student_user"])
    return client.post(reverse("approvals:create", args=[U6.code]), {"reason": "lost", "submit": "1", **files})


def test_missing_photo_is_refused_next_to_the_field(client, world):
    response = _apply(client, world)
    assert response.status_code == 200
    assert "photo" in response.context["form"].errors
    assert not IdCardReissueRequest.objects.exists() and not Attachment.objects.exists()


def test_non_image_photo_is_refused(client, world):
    fake = SimpleUploadedFile("photo.png", b"%!PS-Adobe not an image at all" * 10, content_type="image/png")
    response = _apply(client, world, photo=fake)
    assert response.status_code == 200
    assert "photo" in response.context["form"].errors
    assert not IdCardReissueRequest.objects.exists() and not Attachment.objects.exists()


def test_pdf_is_refused_for_an_images_only_attachment(client, world):
    pdf = SimpleUploadedFile("photo.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = _apply(client, world, photo=pdf)
    assert response.status_code == 200 and "photo" in response.context["form"].errors
    assert not IdCardReissueRequest.objects.exists()


def test_oversize_photo_is_refused(client, world):
    big = SimpleUploadedFile("photo.png", png_bytes() + b"\0" * (3 * 1024 * 1024), content_type="image/png")
    response = _apply(client, world, photo=big)
    assert response.status_code == 200
    assert "photo" in response.context["form"].errors
    assert not IdCardReissueRequest.objects.exists() and not Attachment.objects.exists()


def test_invalid_choice_is_refused(client, world):
    client.force_login(world["student_user"])
    response = client.post(
        reverse("approvals:create", args=[U6.code]), {"reason": "bored", "photo": photo_upload(), "submit": "1"}
    )
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert not IdCardReissueRequest.objects.exists()


def test_second_open_request_is_refused_with_a_message(client, world):
    _submitted(world)
    response = _apply(client, world, photo=photo_upload())
    assert response.status_code == 200
    assert _last_message_level(response) == ERROR
    assert IdCardReissueRequest.objects.count() == 1


def test_staff_cannot_open_a_student_only_chain(client, world):
    client.force_login(world["counsellor"])
    assert client.get(reverse("approvals:create", args=[U6.code])).status_code == 403
    assert client.get(reverse("approvals:create", args=["NOPE"])).status_code == 404


def test_reject_without_opinion_writes_nothing(client, world):
    req = _submitted(world)
    client.force_login(world["counsellor"])
    before = SignOff.objects.count()
    response = client.post(_url("act", req, "reject"), {"opinion": "   "})
    assert response.status_code == 200
    assert "opinion" in response.context["form"].errors
    req.refresh_from_db()
    assert req.state == "counsellor_confirm" and SignOff.objects.count() == before


@pytest.mark.parametrize("action", ["reject", "send_back"])
def test_invalid_post_by_someone_who_may_not_sign_is_refused_not_shown_the_form(client, world, action):
    """The act view refuses an action the user may not take before it reads the form: an empty POST
    (no opinion) by a viewer of the request who does not sign this stage is a 403, not the
    confirmation page re-rendered with a form error (found by the R1 permission matrix)."""
    req = request_act(chain=U6, request_id=_submitted(world).pk, actor=world["counsellor"], action="approve")
    client.force_login(world["registrar"])  # sees the request (signs a later stage), may not act now
    before = SignOff.objects.count()
    response = client.post(_url("act", req, action), {})
    assert response.status_code == 403
    req.refresh_from_db()
    assert req.state == "finance_payment" and SignOff.objects.count() == before


def test_finance_without_fee_data_writes_nothing(client, world):
    req = _submitted(world)
    request_act(chain=U6, request_id=req.pk, actor=world["counsellor"], action="approve")
    client.force_login(world["finance"])
    before = SignOff.objects.count()
    response = client.post(_url("act", req, "approve"), {"opinion": "", "fee_amount": "-5", "receipt_number": "x"})
    assert response.status_code == 200
    errors = response.context["stage_form"].errors
    assert "fee_amount" in errors and "receipt_number" in errors
    req.refresh_from_db()
    assert req.state == "finance_payment" and req.fee_amount is None and SignOff.objects.count() == before


def test_tampered_action_name(client, world):
    req = _submitted(world)
    client.force_login(world["counsellor"])
    before = SignOff.objects.count()
    assert client.get(_url("act", req, "approve_everything")).status_code == 404
    response = client.post(_url("act", req, "approve_everything"), {"opinion": "x"})
    assert response.status_code == 302
    assert _last_message_level(response) == ERROR
    req.refresh_from_db()
    assert req.state == "counsellor_confirm" and SignOff.objects.count() == before


def test_tampered_fields_are_ignored(client, world):
    req = _submitted(world)
    client.force_login(world["counsellor"])
    client.post(
        _url("act", req, "approve"),
        {"opinion": "同意", "state": "completed", "new_card_number": "HACK-1", "as_role": "academic_affairs"},
    )
    req.refresh_from_db()
    assert req.state == "finance_payment" and req.new_card_number == ""
    assert SignOff.objects.for_object(req).filter(decision="approve").get().role == "counsellor"


def test_acting_twice_records_one_signoff(client, world):
    req = _submitted(world)
    client.force_login(world["counsellor"])
    first = client.post(_url("act", req, "approve"), {"opinion": "同意"})
    second = client.post(_url("act", req, "approve"), {"opinion": "同意"})
    assert first.status_code == 302
    assert second.status_code == 302 and second["Location"] == _url("detail", req)
    assert _last_message_level(second) == ERROR
    assert SignOff.objects.for_object(req).filter(decision="approve").count() == 1
    req.refresh_from_db()
    assert req.state == "finance_payment"
    # a stale confirmation page sends the signer back to the request with a message
    stale = client.get(_url("act", req, "approve"))
    assert stale.status_code == 302 and stale["Location"] == _url("detail", req)
    # while a role that has not signed gets a plain 403 at a stage that is not theirs
    client.force_login(world["registrar"])
    assert client.post(_url("act", req, "approve"), {"opinion": "x"}).status_code == 403


def test_act_on_a_finished_request_redirects_with_a_message(client, world):
    req = _submitted(world)
    client.force_login(world["student_user"])
    client.post(_url("act", req, "withdraw"), {"opinion": ""})
    req.refresh_from_db()
    assert req.state == "withdrawn"
    client.force_login(world["counsellor"])
    response = client.get(_url("act", req, "approve"))
    assert response.status_code == 302 and response["Location"] == _url("detail", req)
    response = client.post(_url("act", req, "approve"), {"opinion": "同意"})
    assert response.status_code == 302 and _last_message_level(response) == ERROR
    assert not SignOff.objects.for_object(req).filter(decision="approve").exists()


# --- inbox filters and query count ------------------------------------------------------------
def _many(world, n):
    return [_submitted(world, StudentFactory(klass=world["student"].klass)) for _ in range(n)]


def test_inbox_filters_and_pagination(client, world):
    reqs = _many(world, 27)
    client.force_login(world["counsellor"])
    first = client.get(reverse("approvals:inbox"))
    assert len(first.context["rows"]) == 25 and first.context["page_obj"].paginator.count == 27
    assert [r.pk for r in first.context["rows"]] == [r.pk for r in reqs[:25]]  # oldest first
    second = client.get(reverse("approvals:inbox"), {"page": 2})
    assert [r.pk for r in second.context["rows"]] == [r.pk for r in reqs[25:]]
    target = reqs[3].student
    found = client.get(reverse("approvals:inbox"), {"q": target.student_number})
    assert [r.pk for r in found.context["rows"]] == [reqs[3].pk]
    assert client.get(reverse("approvals:inbox"), {"overdue": "1"}).context["rows"] == []
    tabs = client.get(reverse("approvals:inbox"), {"type": U6.code}).context["tabs"]
    assert next(t for t in tabs if t["code"] == U6.code)["count"] == 27
    assert client.get(reverse("approvals:inbox"), {"page": "999"}).status_code == 200


def test_inbox_flags_overdue(client, world):
    from datetime import timedelta

    from django.utils import timezone

    from registrar.approvals.workitems import workitems_sync_request

    req = _submitted(world)
    IdCardReissueRequest.objects.filter(pk=req.pk).update(stage_due_at=timezone.now() - timedelta(days=1))
    # written around the services: bring the in-flight table in step, as the kernel does on every act
    workitems_sync_request(request=IdCardReissueRequest.objects.get(pk=req.pk))
    client.force_login(world["counsellor"])
    response = client.get(reverse("approvals:inbox"), {"overdue": "1"})
    assert [r.pk for r in response.context["rows"]] == [req.pk]
    assert "table-danger" in response.content.decode()


def test_inbox_query_count_is_constant(client, world, django_assert_max_num_queries):
    _many(world, 5)
    client.force_login(world["counsellor"])
    client.get(reverse("approvals:inbox"))  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(reverse("approvals:inbox")).context["rows"]) == 5
    _many(world, 35)
    with django_assert_max_num_queries(len(five.captured_queries)):
        assert len(client.get(reverse("approvals:inbox")).context["rows"]) == 25


# --- other pages --------------------------------------------------------------------------------
def test_home_for_staff_shows_inbox_summary(client, world):
    req = _submitted(world)
    client.force_login(world["counsellor"])
    response = client.get(reverse("home"))
    assert response.context["inbox_total"] == 1
    assert [r.pk for r in response.context["inbox_rows"]] == [req.pk]
    assert "apply" not in response.context


def test_login_and_logout(client, world):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": world["counsellor"].username, "password": "pass12345"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert client.get(reverse("logout")).status_code == 405  # logout is POST only
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_notifications_mark_all_read(client, world):
    _submitted(world)  # notifies the counsellor
    client.force_login(world["counsellor"])
    assert Notification.objects.filter(user=world["counsellor"], read_at__isnull=True).exists()
    page = client.get(reverse("notifications"))
    assert page.status_code == 200 and page.context["nav"].unread >= 1
    assert client.get(reverse("notifications_mark_read")).status_code == 405
    client.post(reverse("notifications_mark_read"))
    assert not Notification.objects.filter(user=world["counsellor"], read_at__isnull=True).exists()


def test_workflows_page_draws_every_chain(client, world):
    client.force_login(world["student_user"])
    response = client.get(reverse("workflows"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<svg xmlns") >= 1 and f'id="chain-{U6.code}"' in html
    for stage in U6.stages:
        assert f'data-stage="{stage.code}"><title>{stage.label}</title>' in html  # hover shows the label
    assert 'stroke-dasharray="5 4"' in html  # reject / send-back arrows


def test_language_switch(client, world):
    client.force_login(world["student_user"])
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get(reverse("home")).content.decode()


# --- the generic application form -------------------------------------------------------------
def test_application_form_is_derived_from_the_chain():
    from registrar.approvals.forms import application_form_for

    form_class = application_form_for(U6)
    assert list(form_class.base_fields) == ["reason", "reason_detail", "old_card_number", "photo"]
    picking = application_form_for(U6, picks_student=True)
    assert next(iter(picking.base_fields)) == "student_number"


def test_staff_initiator_picks_a_student_in_scope(client, world, monkeypatch):
    """A chain opened by staff (e.g. U4, the counsellor acts for the student): the form asks for the 学号."""
    import dataclasses

    from registrar.approvals import chains, forms

    staff_chain = dataclasses.replace(U6, initiator_roles=("counsellor",))
    monkeypatch.setitem(chains._REGISTRY, U6.code, staff_chain)
    monkeypatch.setattr(forms, "_FORM_CACHE", {})
    client.force_login(world["counsellor"])
    page = client.get(reverse("approvals:create", args=[U6.code]))
    assert page.status_code == 200 and "student_number" in page.context["form"].fields
    outsider = StudentFactory()
    response = client.post(
        reverse("approvals:create", args=[U6.code]),
        {"student_number": outsider.student_number, "reason": "lost", "photo": photo_upload(), "submit": "1"},
    )
    assert response.status_code == 200 and "student_number" in response.context["form"].errors
    assert not IdCardReissueRequest.objects.exists()
    response = client.post(
        reverse("approvals:create", args=[U6.code]),
        {"student_number": world["student"].student_number, "reason": "lost", "photo": photo_upload(), "submit": "1"},
    )
    req = IdCardReissueRequest.objects.get()
    assert response.status_code == 302
    assert (req.student_id, req.applicant_id, req.state) == (
        world["student"].pk,
        world["counsellor"].pk,
        "counsellor_confirm",
    )
    # a student may not open this chain any more
    client.force_login(world["other_student"])
    assert client.get(reverse("approvals:create", args=[U6.code])).status_code == 403
