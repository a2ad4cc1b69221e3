"""The demo seeds grades through the real services: every grades page has something to show."""

import pytest
from django.core.management import call_command

from grades.models import (
    BatchTranscriptRequest,
    ExemptionRequest,
    Grade,
    GradeCorrectionRequest,
    Offering,
    SheetEvent,
    StationSubmission,
    TeachingPlan,
    TranscriptRequest,
)
from grades.selectors.records import student_record
from students.models import Student

pytestmark = pytest.mark.django_db


def test_demo_grades_cover_every_state(tmp_path):
    call_command("seed_demo", "--students", "240", stdout=open(tmp_path / "out.txt", "w"))
    states = set(Offering.objects.values_list("sheet_state", flat=True))
    assert states == {"entering", "submitted", "confirmed"}
    assert Offering.objects.filter(kind=Offering.Kind.MAKEUP, sheet_state="confirmed").exists()
    assert TeachingPlan.objects.count() == 2
    # every confirmed sheet went through submit and confirm, each logged once
    confirmed = Offering.objects.filter(sheet_state="confirmed").count()
    assert SheetEvent.objects.filter(decision="confirm").count() == confirmed
    assert Grade.objects.filter(passed=False).exists() and Grade.objects.filter(mark="absent").exists()
    # the demo student sees a record with credits and a GPA
    record = student_record(Student.objects.get(user__username="student"))
    assert record.credits_earned > 0 and record.gpa is not None
    # requests waiting in the inboxes
    assert TranscriptRequest.objects.filter(state="college_print").count() == 1
    assert ExemptionRequest.objects.filter(state="secretary_review").count() == 1
    assert GradeCorrectionRequest.objects.filter(state="college_review").count() == 1
    assert set(BatchTranscriptRequest.objects.values_list("state", flat=True)) >= {"college_seal"}
    assert StationSubmission.objects.filter(state="submitted").count() == 1

    # the README's tour: "of the current term's sheets one is submitted and four are late"
    import re
    from pathlib import Path

    from grades.selectors.entry import late_offerings

    words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    late = re.search(r"one is submitted and (\w+) are late", readme).group(1)
    assert late_offerings().filter(instructors__username="instructor").count() == words[late]
    current = Offering.objects.filter(instructors__username="instructor").order_by("-term__start_date").first().term
    assert (
        Offering.objects.filter(instructors__username="instructor", term=current, sheet_state="submitted").count() == 1
    )
