"""The R2 state machines of the grade sheet (U5 entry → submit → confirm / return, reopen) and of
station submissions (C8: submit → return → resubmit → accept), each with its own FSM and log.

As for the chains, the machines keep no model of the services: after every step they replay the
log (``SheetEvent``, ``SubmissionReview``) against the declared transitions and check who did what
from the world's recorded grants.

Grade sheet: the log is append-only and replays to the sheet's state (entering → submitted →
confirmed, submitted → entering on return; composition and reopening only while entering); the
instructor of the offering submits, Academic Affairs confirms, returns (with a reason) and reopens,
the teaching secretary or Academic Affairs sets the composition before any result; grades change
only when the instructor enters them on a sheet being entered, never after submission; a sheet is
submitted only with every student's result; whoever may not see the sheet gets 404; a refused
action changes nothing.

Station submissions: the review log is append-only and replays to each submission's state and
round (submit, then return → resubmit with the round + 1, then accept); station staff submit,
the college's teaching secretary or Academic Affairs return (with a reason) and accept; at most one
open submission per station and offering; accepting writes the submission's rows into the grades
exactly then (and only while the sheet is being entered), and nothing else touches those grades
except the instructor's own entry; whoever may not see the submission gets 404; a refused action
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import strategies as st
from hypothesis.stateful import rule

from grades.models import (
    Grade,
    GradeComponent,
    Offering,
    OfferingReopening,
    SheetEvent,
    StationSubmission,
    SubmissionReview,
)
from registrar.notifications.models import Notification
from registrar.roles import Role, Scope

from .walks import Walk, add_rule_copies, assert_prefix
from .world import World, persona_keys

PERSONAS = st.sampled_from(persona_keys())
VIA = st.sampled_from(("service",) * 6 + ("web", "api"))
ENTERING, SUBMITTED, CONFIRMED = (
    Offering.SheetState.ENTERING,
    Offering.SheetState.SUBMITTED,
    Offering.SheetState.CONFIRMED,
)
REASON = "第3题评分有误，请核对"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _university(w: World, key: str, role: str) -> bool:
    return (role, Scope.UNIVERSITY, None) in w.grants.get(key, ())


def _last_notification() -> int:
    return Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- the grade sheet -----------------------------------------------------------------------------
class SheetWalk(Walk):
    """The sheet of ``world["entering_offering"]`` (two students, one component 期末 100 %), taught by
    ``instructor`` in an open entry window."""

    name = "grade_sheet"
    step_count = 15  # a sheet is confirmed in three steps: short examples, more of them

    def setup_example(self):
        self.offering = self.world["entering_offering"]
        self.snap = self.snapshot()

    # --- the oracle ---------------------------------------------------------------------------------
    def teaches(self, key: str) -> bool:
        return key == Role.INSTRUCTOR  # the world's instructor teaches the sheet; nobody else does

    def is_academic_affairs(self, key: str) -> bool:
        return self.world.users[key].is_superuser or _university(self.world, key, Role.ACADEMIC_AFFAIRS)

    def sees(self, key: str) -> bool:
        college_roles = self.world.roles_over(key, self.world["subject"])  # a student of the sheet's college
        return (
            self.is_academic_affairs(key)
            or self.teaches(key)
            or bool(college_roles & {Role.TEACHING_SECRETARY, Role.COLLEGE_DEAN, Role.ACADEMIC_AFFAIRS})
        )

    def composes(self, key: str) -> bool:
        return self.is_academic_affairs(key) or Role.TEACHING_SECRETARY in self.world.roles_over(
            key, self.world["subject"]
        )

    # --- reading ------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        o = self.offering
        return {
            "offering": Offering.objects.filter(pk=o.pk).values().get(),
            "grades": list(Grade.objects.filter(offering=o).order_by("id").values_list()),
            "events": list(
                SheetEvent.objects.filter(offering=o)
                .order_by("id")
                .values_list("id", "decision", "role", "opinion", "actor_id", "created_at")
            ),
            "components": list(
                GradeComponent.objects.filter(offering=o).order_by("id").values_list("code", "weight", "position")
            ),
            "reopenings": list(OfferingReopening.objects.filter(offering=o).order_by("id").values_list()),
            "notifications": _last_notification(),
        }

    def state(self) -> str:
        return self.snap["offering"]["sheet_state"]

    # --- one step -----------------------------------------------------------------------------------
    def step(self, rule_name: str, key: str, run, *, via: str = "service", expect_ok: bool = False) -> str:
        info = {
            "rule": rule_name,
            "who": key,
            "via": via,
            "state": self.state(),
            "see": self.sees(key),
            "complete": all(_entered(g) for g in self.grade_rows(self.snap)),
        }
        outcome = self.do(run, self.world.users[key], via=via, info=info)
        if expect_ok:
            assert outcome == "ok", f"the right person's step was refused: {info}"
        if outcome == "ok":
            self.event(f"{rule_name}:{self.state()}")
        return outcome

    def grade_rows(self, snap) -> list[dict]:
        names = [f.attname for f in Grade._meta.concrete_fields]
        return [dict(zip(names, row, strict=True)) for row in snap["grades"]]

    def check(self, before: dict, after: dict, info: dict) -> None:
        where = f"after {info}"
        w = self.world
        outcome = info["outcome"]
        assert_prefix(before["events"], after["events"], f"{where}: sheet events")
        assert_prefix(before["reopenings"], after["reopenings"], f"{where}: reopenings")
        if not info["see"]:
            assert outcome == "404", f"{where}: a user who may not see the sheet got {outcome}, not 404"
        # the log replays to the sheet's state, each event by someone entitled to it
        state = ENTERING
        ids = {u.pk: k for k, u in w.users.items()}
        for _id, decision, _role, opinion, actor_id, _at in after["events"]:
            actor = ids[actor_id]
            if decision == SheetEvent.Decision.COMPOSITION:
                assert state == ENTERING and self.composes(actor), f"{where}: composition by {actor} at {state}"
            elif decision == SheetEvent.Decision.REOPEN:
                assert state == ENTERING and self.is_academic_affairs(actor), f"{where}: reopened by {actor} at {state}"
            elif decision == SheetEvent.Decision.SUBMIT:
                assert state == ENTERING and self.teaches(actor), f"{where}: submitted by {actor} at {state}"
                state = SUBMITTED
            elif decision == SheetEvent.Decision.CONFIRM:
                assert state == SUBMITTED and self.is_academic_affairs(actor), f"{where}: confirmed by {actor}"
                state = CONFIRMED
            elif decision == SheetEvent.Decision.RETURN:
                assert state == SUBMITTED and self.is_academic_affairs(actor), f"{where}: returned by {actor}"
                assert opinion.strip(), f"{where}: returned without a reason"
                state = ENTERING
            else:
                raise AssertionError(f"{where}: unexpected sheet event {decision}")
        now = after["offering"]["sheet_state"]
        assert now == state, f"{where}: the sheet is {now}, its log says {state}"
        # what each kind of step may change
        events = after["events"][len(before["events"]) :]
        grades_changed = before["grades"] != after["grades"]
        if grades_changed:
            assert info["rule"] == "enter" and outcome == "ok", f"{where}: grades changed"
            assert info["state"] == ENTERING and self.teaches(info["who"]), f"{where}: grades entered"
        if outcome == "ok":
            kinds = [e[1] for e in events]
            expected = {
                "enter": [],
                "submit": ["submit"],
                "confirm": ["confirm"],
                "return": ["return"],
                "reopen": ["reopen"],
                "compose": ["composition"],
            }[info["rule"]]
            assert kinds == expected, f"{where}: logged {kinds}"
            if info["rule"] == "submit":
                assert info["complete"], f"{where}: submitted with students without a result"
            if info["rule"] == "compose":
                assert not any(_entered(g) or g["components"] for g in self.grade_rows(before)), (
                    f"{where}: the composition changed after results were entered"
                )
        else:
            assert not events

    # --- rules -----------------------------------------------------------------------------------------
    def _enter(self, key: str, rows: dict, via: str) -> str:
        from grades.services.entry import grades_enter

        pk = self.offering.pk

        def run(user):
            if via == "api":
                return self.api(user).put(f"/api/grades/offerings/{pk}/grades/", {"rows": rows}, format="json")
            return grades_enter(offering=Offering.objects.get(pk=pk), actor=user, rows=rows)

        return self.step("enter", key, run, via=via)

    def _values(self, pick: int, bad: bool) -> dict:
        grades = self.grade_rows(self.snap)
        codes = [c[0] for c in self.snap["components"]] or ["final"]
        values = ["abc"] if bad else ["58", "75", "缺考", "缓考", "91.5", "60"]
        return {
            g["id"]: {code: values[(pick + i + j) % len(values)] for j, code in enumerate(codes)}
            for i, g in enumerate(grades)
        }

    def advance(self, pick, confirm, via):
        """The natural next step: the instructor enters every result, then submits; Academic Affairs
        confirms (or returns); a confirmed sheet is done."""
        state = self.state()
        if state == ENTERING:
            if not all(_entered(g) for g in self.grade_rows(self.snap)):
                self._enter(Role.INSTRUCTOR, self._values(pick, bad=False), "api" if via == "api" else "service")
            else:
                self.submit(Role.INSTRUCTOR, via, expect_ok=True)
        elif state == SUBMITTED:
            aa = ("academic_affairs", "dual_offices", "superuser")[pick % 3]
            if confirm:
                self.confirm(aa, via, expect_ok=True)
            else:
                self.give_back(aa, False, via)

    @rule(
        who=PERSONAS,
        pick=st.integers(0, 11),
        some=st.booleans(),
        bad=st.booleans(),
        via=st.sampled_from(("service", "service", "api")),
    )
    def enter(self, who, pick, some, bad, via):
        rows = self._values(pick, bad)
        if some:
            rows = dict(list(rows.items())[:1])
        self._enter(who, rows, via)

    @rule(who=PERSONAS, via=VIA)
    def submit(self, who, via, expect_ok=False):
        from grades.services.entry import sheet_submit

        pk = self.offering.pk

        def run(user):
            if via == "web":
                return self.web(user).post(reverse("grades:offering_submit", args=[pk]))
            if via == "api":
                return self.api(user).post(f"/api/grades/offerings/{pk}/submit/")
            return sheet_submit(offering=Offering.objects.get(pk=pk), actor=user)

        self.step("submit", who, run, via=via, expect_ok=expect_ok)

    @rule(who=PERSONAS, via=VIA)
    def confirm(self, who, via, expect_ok=False):
        from grades.services.entry import sheet_confirm

        pk = self.offering.pk

        def run(user):
            if via == "web":
                return self.web(user).post(reverse("grades:offering_confirm", args=[pk]))
            if via == "api":
                return self.api(user).post(f"/api/grades/offerings/{pk}/confirm/")
            return sheet_confirm(offering=Offering.objects.get(pk=pk), actor=user)

        self.step("confirm", who, run, via=via, expect_ok=expect_ok)

    @rule(who=PERSONAS, blank=st.booleans(), via=VIA)
    def give_back(self, who, blank, via):
        from grades.services.entry import sheet_return

        pk = self.offering.pk
        reason = "" if blank else REASON

        def run(user):
            if via == "web":
                return self.web(user).post(reverse("grades:offering_return", args=[pk]), {"reason": reason})
            if via == "api":
                return self.api(user).post(f"/api/grades/offerings/{pk}/return/", {"reason": reason}, format="json")
            return sheet_return(offering=Offering.objects.get(pk=pk), actor=user, reason=reason)

        expect = not blank and self.state() == SUBMITTED and self.is_academic_affairs(who)
        outcome = self.step("return", who, run, via=via)
        assert (outcome == "ok") == expect, f"return by {who} (blank: {blank}) at {self.state()}: {outcome}"

    @rule(who=PERSONAS, days=st.sampled_from((-1, 3, 10)), blank=st.booleans())
    def reopen(self, who, days, blank):
        from grades.services.entry import offering_reopen

        pk = self.offering.pk
        until = timezone.now() + dt.timedelta(days=days)

        def run(user):
            return offering_reopen(
                offering=Offering.objects.get(pk=pk), until=until, reason="" if blank else "补录", actor=user
            )

        state = self.state()
        outcome = self.step("reopen", who, run)
        expect = not blank and days > 0 and state == ENTERING and self.is_academic_affairs(who)
        assert (outcome == "ok") == expect, f"reopen by {who} ({days} days, blank {blank}) at {state}: {outcome}"

    @rule(who=PERSONAS, split=st.sampled_from(((100,), (30, 70), (30, 60))))
    def compose(self, who, split):
        from grades.services.entry import composition_set

        pk = self.offering.pk
        codes = ("final",) if len(split) == 1 else ("regular", "final")
        components = [{"code": c, "weight": wgt} for c, wgt in zip(codes, split, strict=True)]

        def run(user):
            return composition_set(offering=Offering.objects.get(pk=pk), actor=user, components=components)

        self.step("compose", who, run)


add_rule_copies(
    SheetWalk, "advance", 3, pick=st.integers(0, 11), confirm=st.sampled_from((True, True, True, False)), via=VIA
)


def _entered(g: dict) -> bool:
    return g["score"] is not None or bool(g["level"]) or bool(g["mark"])


# --- station submissions ---------------------------------------------------------------------------
def station_world(w: World) -> World:
    """``build_world`` plus a sheet (平时 30 % + 期末 70 %) for the station's class (two students) and a
    class of the other station (one student), being entered in the open window; the station's files."""
    from openpyxl import Workbook

    from students.models import Student
    from tests.factories import ClassFactory, StudentFactory
    from tests.grades.factories import CourseFactory, make_offering

    station_students = [
        w["csubject"],
        StudentFactory(klass=w["cklass"], study_form=Student.StudyForm.CORRESPONDENCE, station=w["station_obj"]),
    ]
    other_station = _station_of(w.users["other_station"])
    other_klass = ClassFactory(major=w["cklass"].major, station=other_station)
    other = StudentFactory(klass=other_klass, study_form=Student.StudyForm.CORRESPONDENCE, station=other_station)
    offering = make_offering(
        course=CourseFactory(college=w["college"]),
        term=w["term"],
        classes=[w["cklass"], other_klass],
        instructors=[w.users[Role.INSTRUCTOR]],
    )
    GradeComponent.objects.filter(offering=offering).delete()
    GradeComponent.objects.bulk_create(
        [
            GradeComponent(offering=offering, code="regular", weight=30, position=0),
            GradeComponent(offering=offering, code="final", weight=70, position=1),
        ]
    )

    def workbook(rows) -> bytes:
        wb = Workbook()
        ws = wb.active
        ws.append(["学号", "姓名", "平时", "期末"])
        for r in rows:
            ws.append(list(r))
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()

    s1, s2 = sorted(station_students, key=lambda s: s.student_number)
    w.objects.update(
        {
            "station_offering": offering,
            "station_students": [s1, s2],
            "other_station_student": other,
            "files": {
                "good": workbook([(s1.student_number, s1.name, 90, 80), (s2.student_number, s2.name, 70, 50)]),
                "corrected": workbook([(s1.student_number, s1.name, 90, 80), (s2.student_number, s2.name, 70, "缺考")]),
                "bad_value": workbook([(s1.student_number, s1.name, 90, "九十"), (s2.student_number, s2.name, 70, 50)]),
                "other_station": workbook([(other.student_number, other.name, 90, 80)]),
                "not_a_workbook": b"this is not a spreadsheet\n",
            },
        }
    )
    return w


def _station_of(user):
    from students.models import RoleAssignment

    return RoleAssignment.objects.select_related("station").get(user=user, role=Role.STATION).station


FILES = st.sampled_from(("good", "good", "corrected", "bad_value", "other_station", "not_a_workbook"))


class StationWalk(Walk):
    """Submissions of the world's station (``station`` staff) for ``station_offering``."""

    name = "station_submissions"
    step_count = 30

    def setup_example(self):
        self.offering = self.world["station_offering"]
        self.station = self.world["station_obj"]
        self.snap = self.snapshot()

    # --- the oracle ---------------------------------------------------------------------------------
    def staff(self, key: str) -> bool:
        """Who may submit for the station: its staff (and the superuser, who passes every check)."""
        return key == "station" or self.world.users[key].is_superuser

    def reviewer(self, key: str) -> bool:
        w = self.world
        return (
            w.users[key].is_superuser
            or _university(w, key, Role.ACADEMIC_AFFAIRS)
            or bool(w.roles_over(key, w["subject"]) & {Role.TEACHING_SECRETARY, Role.ACADEMIC_AFFAIRS})
        )

    def sees(self, key: str) -> bool:
        return self.staff(key) or self.reviewer(key)

    # --- reading ------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        o = self.offering
        return {
            "submissions": list(
                StationSubmission.objects.filter(offering=o)
                .order_by("id")
                .values("id", "station_id", "state", "round", "rows", "submitted_by_id", "file")
            ),
            "reviews": list(
                SubmissionReview.objects.filter(submission__offering=o)
                .order_by("id")
                .values_list("id", "submission_id", "decision", "round", "opinion", "actor_id")
            ),
            "grades": list(
                Grade.objects.filter(offering=o)
                .order_by("id")
                .values_list(
                    "id", "student_id", "components", "score", "level", "mark", "passed", "entered_by_id", "entered_at"
                )
            ),
            "sheet": Offering.objects.filter(pk=o.pk).values_list("sheet_state", flat=True).get(),
            "notifications": _last_notification(),
        }

    def open_submission(self) -> dict | None:
        return next(
            (
                s
                for s in self.snap["submissions"]
                if s["station_id"] == self.station.pk and s["state"] != StationSubmission.State.ACCEPTED
            ),
            None,
        )

    def latest(self) -> dict | None:
        mine = [s for s in self.snap["submissions"] if s["station_id"] == self.station.pk]
        return mine[-1] if mine else None

    # --- one step -----------------------------------------------------------------------------------
    def step(
        self, rule_name: str, key: str, run, *, via: str = "service", sub: dict | None = None, expect_ok: bool = False
    ) -> str:
        info = {
            "rule": rule_name,
            "who": key,
            "via": via,
            "sheet": self.snap["sheet"],
            "sub": sub["id"] if sub else None,
            "sub_state": sub["state"] if sub else None,
        }
        outcome = self.do(run, self.world.users[key], via=via, info=info)
        if expect_ok:
            assert outcome == "ok", f"the right person's step was refused: {info}"
        if outcome == "ok":
            self.event(f"{rule_name}:ok")
        return outcome

    def check(self, before: dict, after: dict, info: dict) -> None:
        where = f"after {info}"
        w = self.world
        outcome = info["outcome"]
        ids = {u.pk: k for k, u in w.users.items()}
        assert_prefix(before["reviews"], after["reviews"], f"{where}: submission reviews")
        if info["sub"] is not None and info["rule"] != "create" and not self.sees(info["who"]):
            assert outcome == "404", f"{where}: a user who may not see the submission got {outcome}, not 404"
        # each submission's log replays to its state and round, each review by someone entitled to it
        for sub in after["submissions"]:
            state, rnd = None, 0
            for _id, sub_id, decision, r, opinion, actor_id in after["reviews"]:
                if sub_id != sub["id"]:
                    continue
                actor = ids[actor_id]
                if decision == SubmissionReview.Decision.SUBMIT:
                    assert state in (None, StationSubmission.State.RETURNED), f"{where}: submitted at {state}"
                    assert r == rnd + 1 and self.staff(actor), f"{where}: submission round {r} by {actor}"
                    state, rnd = StationSubmission.State.SUBMITTED, r
                elif decision in (SubmissionReview.Decision.RETURN, SubmissionReview.Decision.ACCEPT):
                    assert state == StationSubmission.State.SUBMITTED, f"{where}: {decision} at {state}"
                    assert r == rnd and self.reviewer(actor), f"{where}: {decision} (round {r}) by {actor}"
                    if decision == SubmissionReview.Decision.RETURN:
                        assert opinion.strip(), f"{where}: returned without a reason"
                        state = StationSubmission.State.RETURNED
                    else:
                        state = StationSubmission.State.ACCEPTED
            assert (sub["state"], sub["round"]) == (state, rnd), (
                f"{where}: #{sub['id']} is {sub['state']} round {sub['round']}, its log says {state} round {rnd}"
            )
        open_ = [s["id"] for s in after["submissions"] if s["state"] != StationSubmission.State.ACCEPTED]
        assert len(open_) <= 1, f"{where}: two open submissions of one station for one offering: {open_}"
        # the grades change only when a submission is accepted (its rows, then) or the instructor enters them
        new_reviews = after["reviews"][len(before["reviews"]) :]
        if before["grades"] != after["grades"]:
            assert outcome == "ok" and info["rule"] in ("accept", "instructor_enter"), f"{where}: grades changed"
        if outcome == "ok" and info["rule"] == "accept":
            assert info["sheet"] == ENTERING, f"{where}: accepted into a sheet that is {info['sheet']}"
            assert [r[2] for r in new_reviews] == ["accept"], new_reviews
            accepted = next(s for s in after["submissions"] if s["id"] == info["sub"])
            grades = {g[1]: g for g in after["grades"]}
            old = {g[1]: g for g in before["grades"]}
            written = {row["student_id"]: row for row in accepted["rows"]}
            for student_id, g in grades.items():
                if student_id in written:
                    assert g[2] == written[student_id]["components"], f"{where}: {g} is not {written[student_id]}"
                    assert g[7] == w.users[info["who"]].pk, f"{where}: entered by {g[7]}"
                else:
                    assert g == old[student_id], f"{where}: a grade outside the submission changed"
            self.event("grades_written")
        if outcome == "ok" and info["rule"] in ("create", "resubmit"):
            assert info["sheet"] == ENTERING and self.staff(info["who"]), f"{where}"
            assert [r[2] for r in new_reviews] == ["submit"], new_reviews

    # --- rules -----------------------------------------------------------------------------------------
    def upload(self, kind: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(f"{kind}.xlsx", self.world["files"][kind], content_type=XLSX)

    def advance(self, pick, accept):
        """The natural next step: the station submits (or resubmits) a good file, the teaching secretary
        (or Academic Affairs) returns it or accepts it; after acceptance a new round of results; a
        sheet locked by the other rules is returned to entering."""
        sub = self.open_submission()
        reviewer = ("teaching_secretary", "academic_affairs", "dual_offices")[pick % 3]
        if self.snap["sheet"] != ENTERING:
            self.lock_sheet(True)
        elif sub is None:
            self.create("station", "good", expect_ok=True)
        elif sub["state"] == StationSubmission.State.RETURNED:
            self.resubmit("station", "corrected", expect_ok=True)
        elif accept:
            self.accept(reviewer, expect_ok=True)
        else:
            self.give_back(reviewer, False)

    @rule(who=PERSONAS, kind=FILES, via=st.sampled_from(("service", "service", "web")))
    def create(self, who, kind, expect_ok=False, via="service"):
        from grades.services.stations import station_submission_create

        station, offering = self.station, self.offering

        def run(user):
            if via == "web":
                return self.web(user).post(
                    reverse("grades:station_submission_create"),
                    {"station": station.pk, "offering": offering.pk, "file": self.upload(kind)},
                )
            return station_submission_create(station=station, offering=offering, upload=self.upload(kind), actor=user)

        self.step("create", who, run, via=via, expect_ok=expect_ok)

    @rule(who=PERSONAS, kind=FILES)
    def resubmit(self, who, kind, expect_ok=False):
        from grades.services.stations import station_submission_resubmit

        sub = self.latest()
        if sub is None:
            return  # not a step: nothing to resubmit
        pk = sub["id"]

        def run(user):
            return station_submission_resubmit(
                submission=StationSubmission.objects.get(pk=pk), upload=self.upload(kind), actor=user, opinion="已更正"
            )

        self.step("resubmit", who, run, sub=sub, expect_ok=expect_ok)

    @rule(who=PERSONAS, blank=st.booleans(), via=st.sampled_from(("service", "service", "web")))
    def give_back(self, who, blank, via="service"):
        from grades.services.stations import station_submission_return

        sub = self.latest()
        if sub is None:
            return  # not a step
        pk, reason = sub["id"], "" if blank else REASON

        def run(user):
            if via == "web":
                return self.web(user).post(reverse("grades:station_submission_return", args=[pk]), {"reason": reason})
            return station_submission_return(submission=StationSubmission.objects.get(pk=pk), actor=user, reason=reason)

        outcome = self.step("return", who, run, via=via, sub=sub)
        expect = not blank and sub["state"] == StationSubmission.State.SUBMITTED and self.reviewer(who)
        assert (outcome == "ok") == expect, f"return by {who} (blank {blank}) of a {sub['state']} submission: {outcome}"

    @rule(who=PERSONAS, via=st.sampled_from(("service", "service", "web")))
    def accept(self, who, expect_ok=False, via="service"):
        from grades.services.stations import station_submission_accept

        sub = self.latest()
        if sub is None:
            return  # not a step
        pk = sub["id"]

        def run(user):
            if via == "web":
                return self.web(user).post(reverse("grades:station_submission_accept", args=[pk]), {"opinion": "同意"})
            return station_submission_accept(
                submission=StationSubmission.objects.get(pk=pk), actor=user, opinion="同意"
            )

        sheet = self.snap["sheet"]
        outcome = self.step("accept", who, run, via=via, sub=sub, expect_ok=expect_ok)
        expect = sub["state"] == StationSubmission.State.SUBMITTED and self.reviewer(who) and sheet == ENTERING
        assert (outcome == "ok") == expect, f"accept by {who} of a {sub['state']} submission ({sheet}): {outcome}"

    @rule(go=st.sampled_from((False, False, True)))
    def lock_sheet(self, go):
        """The sheet moves under the submissions: the instructor enters what is missing and submits it;
        Academic Affairs returns a submitted sheet (so accepting is refused while it is locked)."""
        from grades.services.entry import grades_enter, sheet_return, sheet_submit

        if not go:
            return  # not a step (the sheet moves in one example step out of about thirty)
        pk = self.offering.pk
        if self.snap["sheet"] == SUBMITTED:
            self.step(
                "sheet_return",
                "academic_affairs",
                lambda user: sheet_return(offering=Offering.objects.get(pk=pk), actor=user, reason=REASON),
                expect_ok=True,
            )
            return
        if self.snap["sheet"] != ENTERING:
            return  # not a step
        missing = {
            g[0]: {"regular": "80", "final": "75"}
            for g in self.snap["grades"]
            if g[3] is None and not g[4] and not g[5]
        }
        if missing:
            self.step(
                "instructor_enter",
                Role.INSTRUCTOR,
                lambda user: grades_enter(offering=Offering.objects.get(pk=pk), actor=user, rows=missing),
                expect_ok=True,
            )
        self.step(
            "sheet_submit",
            Role.INSTRUCTOR,
            lambda user: sheet_submit(offering=Offering.objects.get(pk=pk), actor=user),
            expect_ok=True,
        )


add_rule_copies(StationWalk, "advance", 3, pick=st.integers(0, 11), accept=st.sampled_from((True, True, False)))
