from freezegun import freeze_time

from registrar.approvals.services import request_create
from registrar.documents.models import Document
from statuschange.models import C4, U1, U2, U3, U4
from students.models import StatusHistory, Student
from tests.factories import photo_upload
from tests.statuschange.helpers import advance


@freeze_time("2026-03-10 10:00")
def test_all_five_chains_complete(sc_world):
    w = sc_world
    s = w["student"]
    req = request_create(
        chain=U1,
        student=s,
        applicant=s.user,
        submit=True,
        data={
            "reason": "personal",
            "reason_detail": "家庭原因",
            "period_start": "2026-03-15",
            "period_end": "2026-09-01",
        },
    )
    req = advance(w, req)
    assert req.state == "completed"
    s.refresh_from_db()
    assert s.status == Student.Status.SUSPENDED
    req = request_create(chain=U2, student=s, applicant=s.user, submit=True, data={"reason_detail": "康复"})
    req = advance(w, req)
    s.refresh_from_db()
    assert (s.status, s.klass) == (Student.Status.ENROLLED, w["receiving_class"])
    req = request_create(chain=U3, student=s, applicant=s.user, submit=True, data={"reason_detail": "出国"})
    req = advance(w, req)
    s.refresh_from_db()
    assert (s.status, s.withdrawal_kind) == ("withdrawn", "voluntary")
    assert set(Document.objects.filter(student=s).values_list("doc_type", flat=True)) == {
        "suspension_slip",
        "resumption_certificate",
        "leave_notice",
        "withdrawal_certificate",
    }
    assert StatusHistory.objects.filter(student=s, field="status").count() == 3


@freeze_time("2026-03-10 10:00")
def test_u4_and_c4_complete(sc_world):
    w = sc_world
    s = w["student"]
    req = request_create(
        chain=U4,
        student=s,
        applicant=w["counsellor"],
        submit=True,
        data={"absent_since": "2026-01-05", "evidence": "连续两月未到校"},
        attachments={"absence_evidence": photo_upload()},
    )
    req = advance(w, req)
    s.refresh_from_db()
    assert (s.status, s.withdrawal_kind) == ("withdrawn", "automatic")
    c = w["cstudent"]
    req = request_create(
        chain=C4,
        student=c,
        applicant=w["station"],
        submit=True,
        data={"change_type": "suspension", "reason_detail": "工作调动"},
        attachments={"written_application": photo_upload()},
    )
    req = advance(w, req)
    c.refresh_from_db()
    assert c.status == "suspended"
