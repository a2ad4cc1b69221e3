"""Issue 3, Performance: the counsellor's and the dean's inbox, with pending requests of every
status-change type (and U6), render with a number of queries that does not grow with the number
of requests. bench/inbox.py measures the same page at 500 and 5,000 requests."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registrar.approvals.services import request_act, request_create
from statuschange.models import U1, U2, U3, U4
from students.models import U6, Student
from tests.factories import StudentFactory, photo_upload
from tests.statuschange.helpers import advance

#: (chain, signed at college_review by): each pending request lands where the counsellor, the dean or both sign
KINDS = (U1.code, f"{U1.code}-counsellor-signed", U2.code, U3.code, U4.code, U6.code)
COUNSELLOR_SEES = {U1.code, U6.code}
DEAN_SEES = {U1.code, U2.code, U3.code, U4.code}


def _pending(world, n: int, start: int = 0) -> list:
    """``n`` pending requests of mixed types, each for a new student of the world's class, made through
    the services and advanced to the stage where the counsellor or the dean signs."""
    klass = world["student"].klass
    made = []
    for i in range(start, start + n):
        kind = KINDS[i % len(KINDS)]
        suspended = kind == U2.code
        s = StudentFactory(klass=klass, status=Student.Status.SUSPENDED if suspended else Student.Status.ENROLLED)
        if kind.startswith(U1.code):
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
        elif kind == U2.code:
            req = request_create(chain=U2, student=s, applicant=s.user, submit=True, data={"reason_detail": "期满"})
        elif kind == U3.code:
            req = request_create(chain=U3, student=s, applicant=s.user, submit=True, data={"reason_detail": "出国"})
        elif kind == U4.code:
            req = request_create(
                chain=U4,
                student=s,
                applicant=world["counsellor"],
                submit=True,
                data={"absent_since": "2026-01-05", "evidence": "连续两月未到校"},
                attachments={"absence_evidence": photo_upload()},
            )
        else:
            req = request_create(
                chain=U6,
                student=s,
                applicant=s.user,
                submit=True,
                data={"reason": "lost", "reason_detail": "遗失"},
                attachments={"photo": photo_upload()},
            )
        if kind in (U1.code, f"{U1.code}-counsellor-signed", U2.code, U3.code):
            req = advance(world, req, until="college_review")
        if kind == f"{U1.code}-counsellor-signed":
            req = request_act(
                chain=U1,
                request_id=req.pk,
                actor=world["counsellor"],
                action="approve",
                opinion="同意",
                as_role="counsellor",
            )
        made.append(req)
    return made


def _inbox(client):
    response = client.get(reverse("approvals:inbox"))
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("who", ["counsellor", "dean"])
def test_inbox_queries_do_not_grow_with_requests(client, sc_world, who, django_assert_num_queries):
    _pending(sc_world, 6)
    client.force_login(sc_world[who])
    _inbox(client)  # warm the content-type cache and the session
    with CaptureQueriesContext(connection) as few:
        small = _inbox(client)
    expected_types = COUNSELLOR_SEES if who == "counsellor" else DEAN_SEES
    assert {r.chain.code for r in small.context["rows"]} == expected_types
    small_total = small.context["all_count"]
    assert small_total == len(small.context["rows"]) == (2 if who == "counsellor" else 5)

    with django_assert_num_queries(len(few.captured_queries)):
        _inbox(client)  # the smaller inbox is stable from one render to the next

    _pending(sc_world, 42, start=6)  # 48 in all: eight of each kind
    with django_assert_num_queries(len(few.captured_queries)):
        large = _inbox(client)
    rows = large.context["rows"]
    assert large.context["all_count"] == small_total * 8
    assert len(rows) == min(small_total * 8, 25)  # the first page only
    assert {r.chain.code for r in rows} == expected_types
    entered = [r.stage_entered_at for r in rows]
    assert entered == sorted(entered)  # oldest first across chains
    html = large.content.decode()
    assert all(r.student.name in html for r in rows)


def test_signed_stage_leaves_the_counsellors_inbox_but_not_the_deans(client, sc_world):
    signed = _pending(sc_world, 2)[1]  # U1 the counsellor signed at college_review
    assert signed.state == "college_review"
    client.force_login(sc_world["counsellor"])
    assert signed.pk not in {r.pk for r in _inbox(client).context["rows"] if r.chain.code == U1.code}
    client.force_login(sc_world["dean"])
    assert signed.pk in {r.pk for r in _inbox(client).context["rows"] if r.chain.code == U1.code}
