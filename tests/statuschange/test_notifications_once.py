"""One notification per stage change (registrar.notifications.services.notify_request_moved): a signer
of a parallel stage whose sign-off leaves the request where it is tells nobody. A full 休学 run told
the student 17 times, twice alike for each parallel stage."""

from collections import Counter

from freezegun import freeze_time

from registrar.approvals.chains import COMPLETED, get_chain
from registrar.notifications.models import Notification
from statuschange.models import U1

from .helpers import advance, open_request, sign


@freeze_time("2026-03-10 10:00")
def test_a_full_suspension_tells_the_student_once_per_stage_and_nobody_twice(sc_world):
    chain = get_chain(U1.code)
    student_user = sc_world["student"].user
    req = advance(sc_world, open_request(sc_world, U1.code))
    assert req.state == COMPLETED
    # submitted → each of the 7 stages passed: one "now at …" per stage change, none per signer
    told = list(Notification.objects.filter(user=student_user).order_by("id").values_list("message", flat=True))
    assert len(told) == len(chain.stages) == 7
    assert str(chain.state_label(COMPLETED)) in told[-1]
    duplicates = Counter(Notification.objects.values_list("user_id", "message", "url")) - Counter(
        set(Notification.objects.values_list("user_id", "message", "url"))
    )
    assert not duplicates, duplicates


@freeze_time("2026-03-10 10:00")
def test_signers_of_a_parallel_stage_are_told_once_when_it_begins(sc_world):
    req = advance(sc_world, open_request(sc_world, U1.code), until="college_review")
    dean = sc_world["dean"]
    assert Notification.objects.filter(user=dean).count() == 1
    before = Notification.objects.count()
    req = sign(sc_world, req, "counsellor")
    req = sign(sc_world, req, "college_secretary")
    assert req.state == "college_review"
    assert Notification.objects.count() == before  # nobody hears of a sign-off that moves nothing
    assert Notification.objects.filter(user=dean).count() == 1
    sign(sc_world, req, "college_dean")
    assert Notification.objects.filter(user=sc_world["student"].user).count() == 2  # advisor → college → offices
