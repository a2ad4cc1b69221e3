"""Demo status-change requests for ``seed_demo``: U1–U4 and C4 at various stages, made and moved
through the approval services, so their sign-offs, effects (status history) and documents are
real. Runs after the students app's demo (``settings.REGISTRAR["DEMO_SEEDERS"]``), whose
organisation, students and staff logins it uses."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from registrar.models import User
from students.management.demo import DEMO_CLASS, SECOND_CLASS, STAFF, STAFF_STATION, pdf_file
from students.models import Class, Student

from .models import C4, U1, U2, U3, U4

#: Status-change scenarios: (key, chain, where the request is left). Each takes the next student.
#: ``until`` stops before that stage (None: complete); ``also`` roles sign there already;
#: ``then`` is a last action (reject with a reason).
STATUS_CHANGE_SCENARIOS = (
    # U1 休学
    {
        "key": "u1-new",
        "chain": "suspension",
        "until": "advisor_confirm",
        "reason": "illness",
        "detail": "患急性肝炎，需住院治疗并休养半年，附医院诊断证明。",
    },
    {
        "key": "u1-college",
        "chain": "suspension",
        "until": "college_review",
        "also": ("counsellor",),
        "reason": "personal",
        "detail": "家中父亲重病，需回家照顾。",
    },
    {
        "key": "u1-offices",
        "chain": "suspension",
        "until": "offices_review",
        "reason": "military",
        "detail": "应征入伍，服义务兵役两年。",
        "days": 365,
    },
    {
        "key": "u1-clearance",
        "chain": "suspension",
        "until": "clearance",
        "also": ("library",),
        "reason": "entrepreneurship",
        "detail": "休学创业，公司已完成工商注册。",
    },
    # U2 复学: a completed U1 first (the student is then 休学)
    {
        "key": "u2-college",
        "chain": "resumption",
        "until": "college_review",
        "also": ("advisor",),
        "detail": "休学期满，身体已康复，申请复学。",
        "after_u1": "illness",
    },
    {
        "key": "u2-new",
        "chain": "resumption",
        "until": "advisor_confirm",
        "detail": "创业项目告一段落，申请复学。",
        "after_u1": "entrepreneurship",
    },
    # U3 退学
    {
        "key": "u3-clearance",
        "chain": "withdrawal",
        "until": "clearance",
        "also": ("college_office", "finance", "library"),
        "detail": "已被国外大学录取，出国留学。",
    },
    {"key": "u3-done", "chain": "withdrawal", "until": None, "detail": "家庭经济困难，决定退学就业。"},
    {
        "key": "u3-returned",
        "chain": "withdrawal",
        "until": "college_review",
        "detail": "不想读了。",
        "then": ("reject", "college_dean", "退学理由过于简单，请写明具体原因并与家长沟通后重新提交。"),
    },
    # U4 自动退学 (filed by the counsellor; students of the second class)
    {
        "key": "u4-pending",
        "chain": "auto_withdrawal",
        "until": "college_leadership",
        "also": ("college_secretary",),
        "detail": "自2025年10月起连续两个月未到校上课，多次电话、短信联系本人及家长均未回复。",
        "absent_days": 60,
    },
    {
        "key": "u4-done",
        "chain": "auto_withdrawal",
        "until": None,
        "detail": "开学后一直未报到注册，超过两周未办理请假手续，经辅导员多方联系无果。",
        "absent_days": 75,
    },
    # C4 函授站学籍异动 (filed by station staff for a correspondence student)
    {
        "key": "c4-college",
        "chain": "station_status_change",
        "until": "college_review",
        "change_type": "suspension",
        "detail": "工作单位派驻外地一年，无法参加面授，申请休学。",
    },
)

OPINIONS = {
    "advisor": "情况属实，同意。",
    "counsellor": "经核实情况属实，同意。",
    "college_secretary": "同意。",
    "college_dean": "同意，报学校审批。",
    "student_affairs": "同意。",
    "academic_affairs": "同意。",
    "academic_affairs_head": "同意。",
    "leadership": "同意。",
    "party_committee": "同意。",
    "vice_president": "同意。",
    "student_affairs_head": "同意。",
    "records_leader": "同意，报省教育厅备案。",
    "finance": "已结清。",
    "library": "无借阅欠书。",
    "dorm": "已办理退宿。",
    "apartment": "已退宿，钥匙已交回。",
    "canteen": "饭卡已恢复。",
    "textbook": "无教材欠款。",
    "youth_league": "团组织关系已转出。",
    "college_office": "学院手续已办结。",
    "teaching_secretary": "已报到。",
    "station": "材料齐全，同意上报。",
}


class StatusChangeSeeder:
    """Status-change requests (U1–U4, C4) made and moved through the approval services, so their
    sign-offs, effects (status history) and documents are real. Idempotent: a scenario whose student
    already has a status-change request is skipped."""

    def __init__(self):
        self.today = timezone.localdate()

    def run(self) -> None:
        self.chains = chains = {c.code: c for c in (U1, U2, U3, U4, C4)}
        role_user = {role: username for username, _name, role in STAFF}
        self.users = {
            u.username: u for u in User.objects.filter(username__in=[*role_user.values(), "ce_dean", "records_leader"])
        }
        self.by_role = {role: self.users[username] for role, username in role_user.items() if username in self.users}
        classes = {c.code: c for c in Class.objects.filter(code__in=[DEMO_CLASS, SECOND_CLASS])}
        if len(classes) < 2:
            return  # no demo institution (seed_demo --students 0 still makes the classes)
        pools = {
            "student": list(
                Student.objects.filter(klass=classes[DEMO_CLASS], user__isnull=False)
                .select_related("user")
                .order_by("student_number")[10:]
            ),  # 0–9: ID-card requests
            "counsellor": list(Student.objects.filter(klass=classes[SECOND_CLASS]).order_by("student_number")),
            "station": list(Student.objects.filter(klass__station__code=STAFF_STATION).order_by("student_number")),
        }
        for scenario in STATUS_CHANGE_SCENARIOS:
            chain = chains[scenario["chain"]]
            pool = pools["student" if "student" in chain.initiator_roles else chain.initiator_roles[0]]
            if not pool:
                continue
            student = pool.pop(0)
            if self._has_status_change(student):
                continue
            self.scenario(scenario, student)

    def _has_status_change(self, student) -> bool:
        return any(c.model.objects.filter(student=student).exists() for c in self.chains.values())

    # --- actors and stage data -------------------------------------------------------------
    def signer(self, role: str, student):
        if role == "college_dean" and student.college.code == "CE":
            return self.users["ce_dean"]
        if role == "records_leader":
            return self.users["records_leader"]
        return self.by_role[role]

    def stage_data(self, code: str, stage: str, role: str, student) -> dict:
        today = self.today.isoformat()
        if code == "withdrawal" and stage == "clearance" and role == "finance":
            return {"arrears": "0", "refund": "1250.00"}
        return {
            ("suspension", "registrar_issue"): {"effective_date": today},
            ("resumption", "registrar_issue"): {"receiving_class": student.klass_id, "effective_date": today},
            ("resumption", "finance_settlement"): {
                "tuition_amount": "5200.00",
                "tuition_receipt": f"XF-{student.pk:06d}",
            },
            ("withdrawal", "registrar_certificate"): {
                "notice_returned": "on",
                "photos_received": "2",
                "id_card_returned": "on",
                "effective_date": today,
            },
            ("withdrawal", "dossier"): {"dossier_filed_on": today},
            ("station_status_change", "province_filing"): {
                "filed_on": today,
                "filing_reference": f"浙教学备〔{self.today:%Y}〕18号",
                "filing_outcome": "准予备案",
            },
        }.get((code, stage), {})

    def sign(self, req, role: str):
        from registrar.approvals.services import request_act

        stage = req.state
        return request_act(
            chain=req.chain,
            request_id=req.pk,
            actor=self.signer(role, req.student),
            action="approve",
            opinion=OPINIONS.get(role, "同意。"),
            as_role=role,
            data=self.stage_data(req.chain.code, stage, role, req.student),
        )

    def advance(self, req, *, until: str | None = None, also: tuple = ()):
        """Approve stage after stage until ``until`` (or completion); then ``also`` sign ``until``."""
        chain = req.chain
        while req.state in chain.stage_codes and req.state != until:
            for role in chain.signers(req.state):
                req = self.sign(req, role)
        for role in also if req.state == until else ():
            req = self.sign(req, role)
        return req

    # --- one scenario --------------------------------------------------------------------
    def suspension(self, student, *, reason: str, detail: str, days: int = 180):
        from registrar.approvals.services import request_create

        start = self.today + dt.timedelta(days=7)
        attachments = {"medical_certificate": pdf_file("诊断证明.pdf")} if reason == "illness" else {}
        return request_create(
            chain=self.chains["suspension"],
            student=student,
            applicant=student.user,
            submit=True,
            attachments=attachments,
            data={
                "reason": reason,
                "reason_detail": detail,
                "period_start": start,
                "period_end": start + dt.timedelta(days=days),
            },
        )

    def scenario(self, sc: dict, student) -> None:
        from registrar.approvals.services import request_act, request_create

        code = sc["chain"]
        chain = self.chains[code]
        if code == "suspension":
            req = self.suspension(student, reason=sc["reason"], detail=sc["detail"], days=sc.get("days", 180))
        elif code == "resumption":
            self.advance(self.suspension(student, reason=sc["after_u1"], detail="休学一学期。"))
            student.refresh_from_db()
            attachments = {"medical_clearance": pdf_file("复查证明.pdf")} if sc["after_u1"] == "illness" else {}
            req = request_create(
                chain=chain,
                student=student,
                applicant=student.user,
                submit=True,
                attachments=attachments,
                data={"reason_detail": sc["detail"]},
            )
        elif code == "withdrawal":
            req = request_create(
                chain=chain, student=student, applicant=student.user, submit=True, data={"reason_detail": sc["detail"]}
            )
        elif code == "auto_withdrawal":
            req = request_create(
                chain=chain,
                student=student,
                applicant=self.by_role["counsellor"],
                submit=True,
                data={"absent_since": self.today - dt.timedelta(days=sc["absent_days"]), "evidence": sc["detail"]},
                attachments={"absence_evidence": pdf_file("缺勤记录.pdf")},
            )
        else:  # C4: only within the term's filing window; outside it the demo files it as if inside
            from registrar.approvals.deadlines import windows_waived

            with windows_waived():
                req = request_create(
                    chain=chain,
                    student=student,
                    applicant=self.by_role["station"],
                    submit=True,
                    data={"change_type": sc["change_type"], "reason_detail": sc["detail"]},
                    attachments={"written_application": pdf_file("书面申请.pdf")},
                )
        req = self.advance(req, until=sc["until"], also=sc.get("also", ()))
        if sc.get("then"):
            action, role, opinion = sc["then"]
            request_act(
                chain=chain,
                request_id=req.pk,
                actor=self.signer(role, student),
                action=action,
                opinion=opinion,
                as_role=role,
            )


def seed_status_changes(*, students: int = 600) -> None:
    """The statuschange app's part of the demo (``students`` is the students demo's size, unused)."""
    StatusChangeSeeder().run()
