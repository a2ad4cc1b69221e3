"""A class print is produced again only when it failed or is stuck — never over a ready or running one."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grades.models import ClassPrint
from grades.services.transcripts import (
    CLASS_PRINT_NOT_RETRIABLE,
    CLASS_PRINT_STUCK_MINUTES,
    class_print_retry,
    transcript_batch_file,
)
from registrar.exceptions import ApplicationError
from tests.grades.test_transcripts_support import transcript_world

pytestmark = pytest.mark.django_db


def _print(w, status):
    batch = transcript_batch_file(actor=w["student_affairs"], purpose="job_fair", language="zh", students=w["students"])
    return ClassPrint.objects.create(batch=batch, klass=w["klass"], status=status, progress=100)


@pytest.mark.parametrize("status", [ClassPrint.Status.READY, ClassPrint.Status.PENDING])
def test_ready_or_running_print_is_left_alone(status):
    w = transcript_world()
    cp = _print(w, status)
    with pytest.raises(ApplicationError) as exc:
        class_print_retry(class_print=cp)
    assert str(exc.value) == str(
        CLASS_PRINT_NOT_RETRIABLE
        % {"klass": w["klass"].name, "status": cp.get_status_display(), "minutes": CLASS_PRINT_STUCK_MINUTES}
    )
    cp.refresh_from_db()
    assert cp.status == status and cp.progress == 100


def test_failed_or_stuck_print_is_produced_again():
    w = transcript_world()
    failed = _print(w, ClassPrint.Status.FAILED)
    assert class_print_retry(class_print=failed).status == ClassPrint.Status.PENDING
    stuck = ClassPrint.objects.create(batch=failed.batch, klass=w["other_class"], status=ClassPrint.Status.PENDING)
    ClassPrint.objects.filter(pk=stuck.pk).update(
        updated_at=timezone.now() - dt.timedelta(minutes=CLASS_PRINT_STUCK_MINUTES + 1)
    )
    stuck.refresh_from_db()
    assert class_print_retry(class_print=stuck).progress == 0


def test_retry_view_refuses_a_ready_print_with_a_message(client):
    w = transcript_world()
    cp = _print(w, ClassPrint.Status.READY)
    client.force_login(w["secretary"])
    response = client.post(reverse("grades:transcript_class_print_retry", args=[cp.pk]), follow=True)
    assert response.status_code == 200
    cp.refresh_from_db()
    assert cp.status == ClassPrint.Status.READY
    assert any(m.level_tag == "error" for m in response.context["messages"])
