"""The R2 state machine of a chain on the approval kernel (one class per registered chain).

A step is one of: open a request, the natural next step by the right person (``advance``, drawn most
often so walks get deep into long chains), a return (reject / send back) by a signer of the stage, a
random action by a random user, an amendment, printing the approval form, and chain-specific steps
(the class seals of U5B). The machine keeps no model of the kernel: after each step it replays the
request's sign-off log against the chain's definition and checks:

- the log is append-only and contiguous: every row leaves the state the previous one reached, and
  each is a transition the chain declares (submit → first stage; approve → same stage or the next,
  the next (or a declared branch) only once every signer of the stage signed; reject from a returnable
  stage; send back to an earlier returnable stage passed in this round; withdraw from draft, returned or the first stage) — no stage skipped;
- one sign-off per signer role in each visit of a stage (a stage re-entered must be signed again; a
  person holding two of its roles signs each once), rounds counted by submissions; the request row
  agrees with its log;
- a refused action (PermissionDenied, Http404, ApplicationError, TransitionNotAllowed,
  ValidationError) leaves every row as it was; a user who may not see the request gets 404; only a
  user holding a pending role of the stage over the student signs; only the applicant submits,
  amends or withdraws; what the page offers (available_actions) is what the service accepts;
- the chain's effect on the record is applied exactly once (counted rows per request), at the stage
  the chain declares it (``on_pass``) or at completion (``on_complete``);
- documents are issued only when their stage is passed, at most one valid document per type per
  request, all of them (but the approval form) revoked when the request is returned; printing the
  approval form twice with nothing changed gives the same document;
- at most one open request per student; the inbox shows a request exactly to those who may sign it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from grades.models import BATCH_TRANSCRIPT
from registrar.approvals.chains import COMPLETED, DRAFT, RETURNED, WITHDRAWN
from registrar.approvals.models import Attachment, SignOff
from registrar.approvals.selectors import available_actions, inbox_items, inbox_querysets, visible_requests
from registrar.approvals.services import request_act, request_update
from registrar.documents.models import Document
from registrar.notifications.models import Notification
from registrar.roles import Role
from students.models import ScheduledChange, StatusHistory, Student

from .specs import ChainSpec, effect_trigger
from .walks import Walk, add_rule_copies, assert_documents_kept, assert_prefix
from .world import persona_keys, today

PERSONAS = st.sampled_from(persona_keys())
VIA = st.sampled_from(("service",) * 6 + ("web", "api"))
ACTIONS = ("submit", "approve", "reject", "send_back", "withdraw")
SIGNING = ("approve", "reject", "send_back")
SIGNOFF_FIELDS = (
    "id",
    "object_id",
    "stage",
    "round",
    "role",
    "actor_id",
    "decision",
    "opinion",
    "source_state",
    "target_state",
    "data",
    "created_at",
)
DOC_FIELDS = ("id", "doc_type", "request_id", "serial", "code", "revoked_at", "revoke_reason", "status")
APPROVAL_FORM = "approval_form"
TERMINAL = (COMPLETED, WITHDRAWN)
REASON = "材料不全，请补充后重新提交"


def returnable_stages(chain) -> list[str]:
    """Stages a request may be returned from: up to the first stage with an effect on the record
    (``on_pass``) — once that is passed the effect is on record (the kernel's documented rule)."""
    codes = list(chain.stage_codes)
    effect = next((i for i, s in enumerate(chain.stages) if s.on_pass), None)
    return codes if effect is None else codes[: effect + 1]


@dataclass
class LogState:
    """What one request's sign-off log says: where it is, its round, who signed the current visit
    of the current stage, the stages passed in the current round and how often each was passed."""

    state: str = DRAFT
    round: int = 0
    visit: dict = field(default_factory=dict)  # role → actor id
    passed: list = field(default_factory=list)
    passes: Counter = field(default_factory=Counter)


def read_log(chain, rows, signers: dict | None = None) -> LogState:
    """Replay one request's sign-off rows (ordered) against the chain's definition, asserting each.
    ``signers``: the chain's signers by stage (read once; the walks change no stage configuration)."""
    signers = signers or {code: tuple(chain.signers(code)) for code in chain.stage_codes}
    ls = LogState()
    stages = list(chain.stage_codes)
    returnable = returnable_stages(chain)
    for _id, object_id, stage, rnd, role, actor, decision, opinion, src, tgt, _data, _at in rows:
        where = f"{chain.code}#{object_id} sign-off {_id} ({decision} by {role} {src} → {tgt})"
        assert src == ls.state, f"{where}: the log had the request at {ls.state}"
        if decision == SignOff.Decision.SUBMIT:
            assert src in (DRAFT, RETURNED) and tgt == stages[0], f"{where}: not a submission the chain declares"
            assert rnd == ls.round + 1, f"{where}: round {rnd} after round {ls.round}"
            ls.round, ls.passed = rnd, []
        else:
            assert rnd == ls.round, f"{where}: round {rnd} while the request is in round {ls.round}"
            if decision in (SignOff.Decision.APPROVE, SignOff.Decision.REJECT, SignOff.Decision.RETURN):
                assert src in stages and stage == src, f"{where}: signed outside a stage"
                assert role in signers[src], f"{where}: {role} does not sign {src}"
                # One sign-off per role per visit of a stage. A person holding two of the stage's roles
                # signs once in each (tests/statuschange/test_signers.py, the 兼任 case), so "per signer"
                # is per signer role: the same person never signs the same role twice.
                assert role not in ls.visit, f"{where}: {role} had already signed this visit of {src}"
            if decision == SignOff.Decision.APPROVE:
                ls.visit[role] = actor
                if tgt != src:
                    assert tgt in chain.advance_targets(src), f"{where}: stage skipped ({src} → {tgt})"
                    assert set(ls.visit) == set(signers[src]), (
                        f"{where}: left {src} with only {sorted(ls.visit)} of {signers[src]} signed"
                    )
                    ls.passed.append(src)
                    ls.passes[src] += 1
            elif decision == SignOff.Decision.REJECT:
                assert src in returnable and tgt == RETURNED, f"{where}: not a return the chain allows"
                assert opinion.strip(), f"{where}: returned without a reason"
                ls.passed = []
            elif decision == SignOff.Decision.RETURN:
                # to a named earlier stage, one the request passed in this round and still returnable
                assert src in returnable[1:] and tgt in chain.send_back_targets(src) and tgt in ls.passed, (
                    f"{where}: not a send-back the chain allows"
                )
                assert opinion.strip(), f"{where}: sent back without a reason"
            elif decision == SignOff.Decision.WITHDRAW:
                assert src in (DRAFT, RETURNED, stages[0]) and tgt == WITHDRAWN, f"{where}: not a withdrawal"
            else:
                raise AssertionError(f"{where}: unexpected decision")
        if tgt != src or decision == SignOff.Decision.SUBMIT:
            ls.visit = {}
        ls.state = tgt
    return ls


def _jsonable(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if hasattr(value, "pk"):
            value = value.pk
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif value is not None and not isinstance(value, str | int | float | bool):
            value = str(value)
        out[key] = value
    return out


class KernelWalk(Walk):
    """The walk of one chain; ``chain_walk(spec)`` makes the concrete class."""

    spec: ChainSpec = None
    step_count = 30

    # --- per example -----------------------------------------------------------------------------
    def setup_example(self):
        w = self.world
        self.chain = self.spec.chain
        self.code = self.chain.code
        self.ct = ContentType.objects.get_for_model(self.chain.model)
        self.signers = {code: tuple(self.chain.signers(code)) for code in self.chain.stage_codes}
        self.participants = self.chain.participant_roles() | {Role.ACADEMIC_AFFAIRS}
        self._current = None
        self.spec.prepare(w)
        self.n = 0
        self.current_pk = None
        self.stuck = False  # the applicant's submission was refused: withdraw it next time
        self.exhausted = False  # the applicant could not open a new request: advance stops trying
        self.printed: dict = {}  # request id → (what the approval form was built from, its document id)
        self.applied: dict = {}  # request id → the effect rows it wrote when its effect stage was passed
        self._objs: dict = {}
        self.snap = self.snapshot()
        self.logs = self.read_logs(self.snap)

    # --- reading ----------------------------------------------------------------------------------
    def current(self):
        """The request being walked (read once per step)."""
        if self.current_pk is None:
            return None
        if self._current is None or self._current.pk != self.current_pk:
            self._current = self.chain.model.objects.select_related("student", "applicant").get(pk=self.current_pk)
        return self._current

    def snapshot(self) -> dict:
        w = self.world
        subjects = [w["subject"].pk, w["csubject"].pk]
        return {
            "requests": list(self.chain.model.objects.order_by("id").values()),
            "signoffs": list(SignOff.objects.filter(content_type=self.ct).order_by("id").values_list(*SIGNOFF_FIELDS)),
            "docs": list(Document.objects.filter(chain=self.code).order_by("id").values_list(*DOC_FIELDS)),
            "history": list(StatusHistory.objects.filter(student_id__in=subjects).order_by("id").values_list()),
            "scheduled": list(
                ScheduledChange.objects.filter(student_id__in=subjects)
                .order_by("id")
                .values_list("id", "field", "new_value", "effective_date", "request_type", "request_id", "state")
            ),
            "students": list(
                Student.objects.filter(pk__in=subjects)
                .order_by("id")
                .values_list(
                    "status", "klass_id", "card_number", "withdrawal_kind", "expected_graduation", "updated_at"
                )
            ),
            "attachments": Attachment.objects.filter(content_type=self.ct).count(),
            "notifications": Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0,
            "extra": self.spec.extra_snapshot(w),
        }

    def read_logs(self, snap) -> dict[int, LogState]:
        rows: dict[int, list] = {r["id"]: [] for r in snap["requests"]}
        for row in snap["signoffs"]:
            assert row[1] in rows, f"sign-off {row[0]} of a request that does not exist"
            rows[row[1]].append(row)
        logs = {pk: read_log(self.chain, r, self.signers) for pk, r in rows.items()}
        for req in snap["requests"]:
            ls = logs[req["id"]]
            assert req["state"] == ls.state, f"#{req['id']} is at {req['state']}, its log says {ls.state}"
            assert req["round"] == ls.round, f"#{req['id']} is in round {req['round']}, its log says {ls.round}"
        return logs

    # --- the oracle (from the world's recorded grants, not the kernel's code) ---------------------
    def may_see(self, key: str, req) -> bool:
        user = self.world.users[key]
        if user.is_superuser or user.pk in (req.applicant_id, req.student.user_id):
            return True
        if any(row[1] == req.pk and row[5] == user.pk for row in self.snap["signoffs"]):
            return True  # who signed a request may look it up (C3)
        return bool(self.world.roles_over(key, req.student) & self.participants)

    def eligible(self, key: str, req) -> list[str]:
        """The roles in which ``key`` may sign ``req`` now: not yet signed in this visit of its stage
        and held over its student (someone holding two of them signs each once)."""
        if req.state not in self.chain.stage_codes:
            return []
        visit = self.logs[req.pk].visit
        held = self.world.roles_over(key, req.student)
        return [r for r in self.signers[req.state] if r not in visit and r in held]

    def may_initiate(self, key: str, student) -> bool:
        user = self.world.users[key]
        if Role.STUDENT in self.chain.initiator_roles and student.user_id == user.pk:
            return True
        return bool(self.world.roles_over(key, student) & (set(self.chain.initiator_roles) - {Role.STUDENT}))

    def signers_now(self, req) -> list[tuple[str, str]]:
        """(role, user key) of everyone who may sign ``req`` now, in a stable order."""
        return [(role, key) for key in self.world.user_keys() for role in self.eligible(key, req)]

    # --- the step and its checks ------------------------------------------------------------------
    def step(
        self, rule_name: str, key: str, action: str, run, *, via: str = "service", req=None, expect_ok: bool = False
    ) -> str:
        """Run one action on ``req`` (None: on no request, e.g. opening one); ``run(user)`` returns the
        service's result or an HTTP answer. Checks every invariant; returns the outcome: ok, 404, 403
        or refused."""
        user = self.world.users[key]
        info = {"rule": rule_name, "who": key, "action": action, "via": via}
        if req is not None:
            info.update(
                pk=req.pk,
                state=req.state,
                see=self.may_see(key, req),
                eligible=self.eligible(key, req) if action in SIGNING else [],
                applicant=user.pk == req.applicant_id,
            )
            if action in ACTIONS:
                info["offered"] = action in {a["name"] for a in available_actions(req, user)}
        outcome = self.do(run, user, via=via, info=info)
        if expect_ok:
            assert outcome == "ok", f"the right person's step was refused: {info}"
        return outcome

    def after_action(self) -> None:
        self._current = None

    def check(self, before: dict, after: dict, info: dict) -> None:
        where = f"after {info}"
        outcome = info["outcome"]
        # append-only logs and records
        assert_prefix(before["signoffs"], after["signoffs"], f"{where}: sign-offs")
        assert_prefix(before["history"], after["history"], f"{where}: record history")
        assert_documents_kept(before["docs"], after["docs"])
        self.logs = self.read_logs(after)
        # who may do what
        if "see" in info and not info["see"]:
            if info["rule"] in ("amend", "attach") and info["via"] == "service":  # it takes the request object
                assert outcome != "ok", f"{where}: a user who may not see the request amended it"
            else:
                assert outcome == "404", f"{where}: a user who may not see the request got {outcome}, not 404"
        new_rows = after["signoffs"][len(before["signoffs"]) :]
        if outcome == "ok" and info["action"] in ACTIONS:
            assert info.get("offered", True), f"{where}: the service accepted an action the page does not offer"
            assert len(new_rows) >= 1, f"{where}: done without a sign-off"
            mine = [r for r in new_rows if r[1] == info.get("pk")]
            if info["action"] in SIGNING:
                assert len(mine) == 1, f"{where}: {len(mine)} sign-offs for one action"
                assert mine[0][5] == self.world.users[info["who"]].pk
                assert mine[0][4] in info["eligible"], (
                    f"{where}: signed as {mine[0][4]}; the oracle says {info['who']} may sign as {info['eligible']}"
                )
            elif info["action"] in ("submit", "withdraw") and info["rule"] != "open":
                assert info["applicant"], f"{where}: someone else than the applicant did {info['action']}"
        if outcome in ("404", "403") and info.get("offered"):
            raise AssertionError(f"{where}: the page offers the action but the service refuses it with {outcome}")
        # at most one open request per student
        open_ = Counter(r["student_id"] for r in after["requests"] if r["state"] not in TERMINAL)
        assert all(n <= 1 for n in open_.values()), f"{where}: two open requests for one student: {open_}"
        self.check_effects(after, info)
        self.check_documents(before, after, info)
        self.check_views(info)
        self.check_notifications(before, info)

    def check_effects(self, after: dict, info: dict) -> None:
        """The effect rows on record are exactly those of the requests whose effect stage the log
        shows passed (once each); each request's are computed (and checked) when it is applied."""
        trigger = effect_trigger(self.chain)
        expected = Counter()
        for req in after["requests"]:
            ls = self.logs[req["id"]]
            if trigger is None:
                continue
            if trigger == COMPLETED:
                applied = ls.state == COMPLETED
            else:
                assert ls.passes[trigger] <= 1, f"#{req['id']}: the effect stage {trigger} was passed twice"
                applied = ls.passes[trigger] == 1
            if applied:
                if req["id"] not in self.applied:
                    obj = self.chain.model.objects.get(pk=req["id"])
                    self.spec.check_applied(self.world, obj)
                    self.applied[req["id"]] = self.spec.applied_effects(self.world, obj)
                    self.event("effect_applied")
                expected.update(self.applied[req["id"]])
            else:
                assert req["id"] not in self.applied, f"#{req['id']}: its effect was undone in the log"
        actual = self.spec.effects(self.world)
        assert +actual == +expected, f"after {info}: effects on record {dict(actual)}, expected {dict(expected)}"

    def request_obj(self, row: dict):
        """The request of a snapshot row, as a model instance (read again only when the row changed)."""
        key = (row["id"], row["updated_at"])
        if key not in self._objs:
            self._objs[key] = self.chain.model.objects.get(pk=row["id"])
        return self._objs[key]

    def check_documents(self, before: dict, after: dict, info: dict) -> None:
        where = f"after {info}"
        old_ids = {d[0] for d in before["docs"]}
        new_docs = [d for d in after["docs"] if d[0] not in old_ids]
        by_request: dict = {}
        for d in after["docs"]:
            by_request.setdefault(d[2], []).append(d)
        for req in after["requests"]:
            ls = self.logs[req["id"]]
            expected: set[str] = set()
            if ls.state not in (DRAFT, RETURNED, WITHDRAWN):
                for stage in dict.fromkeys(ls.passed):
                    expected |= self.spec.docs_at(stage, self.request_obj(req))
            valid = Counter(
                d[1]
                for d in by_request.get(req["id"], [])
                if d[5] is None and d[7] != Document.Status.FAILED and d[1] != APPROVAL_FORM
            )
            assert all(n <= 1 for n in valid.values()), (
                f"{where}: #{req['id']} has two valid documents of one type: {dict(valid)}"
            )
            assert set(valid) == expected, (
                f"{where}: #{req['id']} ({ls.state}, passed {ls.passed}) has valid documents {sorted(valid)}, "
                f"expected {sorted(expected)}"
            )
        for d in new_docs:
            if d[1] == APPROVAL_FORM:
                assert info["rule"] == "print", f"{where}: an approval form issued by {info['rule']}"
                continue
            assert info["outcome"] == "ok" and info["action"] in ("approve", "seal"), (
                f"{where}: document {d[1]} issued by {info['action']}"
            )
            self.event("document_issued")
        revoked = {d[0] for d in after["docs"] if d[5] is not None} - {d[0] for d in before["docs"] if d[5] is not None}
        if revoked:
            self.event("documents_revoked")

    def check_views(self, info: dict) -> None:
        """The inbox lists a request exactly to those who may sign it now, and the request list (the
        API's, visible_q) shows it exactly to those who may open it."""
        req = self.current()
        if req is None:
            return
        for key in (info["who"],):
            user = self.world.users[key]
            inbox = any(qs.filter(pk=req.pk).exists() for _c, qs in inbox_querysets(user, chain_code=self.code))
            assert inbox == bool(self.eligible(key, req)), (
                f"after {info}: #{req.pk} at {req.state} is{'' if inbox else ' not'} in {key}'s inbox; "
                f"the oracle says {key} may sign it as {self.eligible(key, req)}"
            )
            # the one inbox (the in-flight table) agrees with the per-chain computation
            in_flight = inbox_items(user, chain_code=self.code).filter(object_id=req.pk).exists()
            assert in_flight == inbox, f"after {info}: #{req.pk} at {req.state}: in-flight table says {in_flight}"
            listed = visible_requests(user, self.chain).filter(pk=req.pk).exists()
            assert listed == self.may_see(key, req), (
                f"after {info}: #{req.pk} is{'' if listed else ' not'} listed for {key}, "
                f"who may{'' if self.may_see(key, req) else ' not'} open it"
            )

    def check_notifications(self, before: dict, info: dict) -> None:
        """One notification per user per step (once per stage change), none when a sign-off leaves the
        request where it was (one signer of a parallel stage)."""
        new = list(Notification.objects.filter(pk__gt=before["notifications"]).values_list("user_id", "message", "url"))
        dupes = [k for k, n in Counter(new).items() if n > 1]
        assert not dupes, f"after {info}: duplicate notifications {dupes}"
        if info["outcome"] == "ok" and info["action"] == "approve":
            now = next(r["state"] for r in self.snap["requests"] if r["id"] == info["pk"])
            if now == info["state"]:
                assert not new, f"after {info}: {len(new)} notifications although the request did not move"

    # --- actions -----------------------------------------------------------------------------------
    def act(
        self,
        rule_name: str,
        key: str,
        action: str,
        *,
        via: str,
        opinion: str = "",
        data: dict | None = None,
        as_role: str | None = None,
        expect_ok: bool = False,
    ) -> str:
        req = self.current()
        data = data or {}
        if req is None:
            return "none"
        code, pk = self.code, req.pk

        def run(user):
            if via == "web":
                body = {"opinion": opinion, **data, **({"as_role": as_role} if as_role else {})}
                return self.web(user).post(reverse("approvals:act", args=[code, pk, action]), body)
            if via == "api":
                body = {"action": action, "opinion": opinion, "data": _jsonable(data), "as_role": as_role or ""}
                return self.api(user).post(f"/api/requests/{code}/{pk}/transitions/", body, format="json")
            return request_act(
                chain=self.chain, request_id=pk, actor=user, action=action, opinion=opinion, data=data, as_role=as_role
            )

        outcome = self.step(rule_name, key, action, run, via=via, req=req, expect_ok=expect_ok)
        if outcome == "ok":
            self.note_move(req)
        return outcome

    def note_move(self, before_req) -> None:
        req = self.current()
        if req.state != before_req.state:
            self.event(f"reached:{req.state}")

    def open_request(self, key: str, *, via: str, submit: bool) -> str:
        w = self.world
        self.n += 1
        n = self.n
        via = "api" if via == "api" and self.code != BATCH_TRANSCRIPT.code else "service"  # U5B is filed as a batch
        student = self.spec.subject(w)
        may = self.may_initiate(key, student)

        def run(user):
            if via == "api":
                data = {**_jsonable(self.spec.create_data(w, n)), **self.spec.attachments(w, n)}
                if user.pk != student.user_id:
                    data["student"] = student.pk
                data["submit"] = "true" if submit else ""
                return self.api(user).post(f"/api/requests/{self.code}/", data, format="multipart")
            return self.spec.create(w, user, n, submit)

        before_ids = {r["id"] for r in self.snap["requests"]}
        outcome = self.step("open", key, "open", run, via=via)
        new = [r for r in self.snap["requests"] if r["id"] not in before_ids]
        if outcome == "ok":
            assert may, f"{key} opened a {self.code} request without being an initiator over the student"
            assert len(new) == 1 and new[0]["applicant_id"] == w.users[key].pk, new
            self.current_pk = new[0]["id"]
            self.stuck = self.exhausted = False
            self.event("opened")
        else:
            assert not new
        return outcome

    # --- rules ---------------------------------------------------------------------------------------
    @initialize(via=VIA)
    def first_request(self, via):
        """Every example starts with the applicant's request submitted (the rules below then act on it)."""
        self.open_request(self.spec.applicant_key, via=via, submit=True)

    def advance(self, pick, via):
        """The natural next step by the right person: open, (re)submit, or a pending signer approves."""
        req = self.current()
        w = self.world
        if req is None or req.state in TERMINAL:
            if self.exhausted:
                return  # not a step: the student may have no further request of this kind (withdrawn …)
            self.exhausted = self.open_request(self.spec.applicant_key, via=via, submit=True) != "ok"
            return
        applicant = w.key_of(req.applicant)
        if req.state in (DRAFT, RETURNED):
            if self.stuck:
                self.act("advance", applicant, "withdraw", via=via, expect_ok=True)
                return
            outcome = self.act("advance", applicant, "submit", via=via)
            self.stuck = outcome != "ok"
            if self.stuck:
                self.event("submission_refused")
            return
        candidates = self.signers_now(req)
        assert candidates, f"#{req.pk} at {req.state}: nobody in the world may sign it (pending {req.pending_roles()})"
        role, key = candidates[pick % len(candidates)]
        data = self.spec.stage_data(w, req, req.state, role)
        self.act("advance", key, "approve", via=via, opinion="同意", data=data, as_role=role, expect_ok=True)

    @rule(
        kind=st.sampled_from(("send_back", "send_back", "reject")),
        pick=st.integers(0, 7),
        via=VIA,
        blank=st.sampled_from((False, False, True)),
        go=st.booleans(),
    )
    def give_back(self, kind, pick, via, blank, go):
        """A pending signer of the stage rejects (to the applicant) or sends back (one stage)."""
        req = self.current()
        if req is None or req.state not in self.chain.stage_codes or go:
            return  # not a step: nothing was tried
        role, key = self.signers_now(req)[pick % len(self.signers_now(req))]
        allowed = returnable_stages(self.chain)
        allowed = allowed if kind == "reject" else allowed[1:]
        outcome = self.act("give_back", key, kind, via=via, opinion="" if blank else REASON, as_role=role)
        if blank or req.state not in allowed:
            assert outcome != "ok", f"{kind} at {req.state} (blank reason: {blank}) was accepted"
        else:
            assert outcome == "ok", f"{role} could not {kind} at {req.state}"

    def anyone(self, action, who, via, opinion, data_ok):
        """A random action by a random user, with or without the stage's data."""
        req = self.current()
        if req is None:
            return  # not a step: nothing was tried
        eligible = self.eligible(who, req) if action in SIGNING else []
        role = eligible[0] if eligible else None
        data = self.spec.stage_data(self.world, req, req.state, role or "") if data_ok else {}
        outcome = self.act("anyone", who, action, via=via, opinion=opinion, data=data, as_role=role)
        if action == "approve" and eligible and data_ok:
            assert outcome == "ok", f"{who} may sign #{req.pk} at {req.state} as {eligible} but was refused"

    @rule(who=st.one_of(st.just("applicant"), PERSONAS), via=VIA, submit=st.booleans())
    def open(self, who, via, submit):
        """Anyone tries to open a request (at most one may be open per student)."""
        key = self.spec.applicant_key if who == "applicant" else who
        self.open_request(key, via=via, submit=submit)

    @rule(
        who=st.one_of(st.just("applicant"), PERSONAS),
        via=st.sampled_from(("service", "service", "api")),
        submit=st.booleans(),
    )
    def amend(self, who, via, submit):
        """The applicant (or anyone) amends a draft or returned request, possibly resubmitting it."""
        req = self.current()
        if req is None:
            return  # not a step: nothing was tried
        w = self.world
        key = w.key_of(req.applicant) if who == "applicant" else who
        self.n += 1
        data = self.spec.amend_data(w, req, self.n)
        submit = submit and via == "service"

        def run(user):
            if via == "api":
                return self.api(user).patch(f"/api/requests/{self.code}/{req.pk}/", _jsonable(data), format="json")
            return request_update(request=self.chain.model.objects.get(pk=req.pk), actor=user, data=data, submit=submit)

        outcome = self.step("amend", key, "submit" if submit else "amend", run, via=via, req=req)
        if outcome == "ok":
            assert w.users[key].pk == req.applicant_id, f"{key} amended someone else's request"
            assert req.state in (DRAFT, RETURNED), f"a request at {req.state} was amended"

    @rule(
        who=st.one_of(st.just("applicant"), PERSONAS),
        pick=st.integers(0, 3),
        fake=st.sampled_from((False, False, True)),
        via=st.sampled_from(("service", "api")),
    )
    def attach(self, who, pick, fake, via):
        """The applicant (or anyone) adds a file to a draft or returned request: an image, or a text file
        that only pretends to be one (refused)."""
        from tests.factories import fake_png_upload, photo_upload

        req = self.current()
        if req is None or not self.chain.attachments:
            return  # not a step: nothing to attach
        key = self.world.key_of(req.applicant) if who == "applicant" else who
        kind = self.chain.attachments[pick % len(self.chain.attachments)].kind
        upload = fake_png_upload() if fake else photo_upload()
        code, pk = self.code, req.pk

        def run(user):
            if via == "api":
                return self.api(user).post(
                    f"/api/requests/{code}/{pk}/attachments/", {"kind": kind, "file": upload}, format="multipart"
                )
            return request_update(
                request=self.chain.model.objects.get(pk=pk), actor=user, data={}, attachments={kind: upload}
            )

        count = self.snap["attachments"]
        outcome = self.step("attach", key, "attach", run, via=via, req=req)
        if outcome == "ok":
            assert self.world.users[key].pk == req.applicant_id and req.state in (DRAFT, RETURNED) and not fake, (
                f"{key} attached a {'fake ' if fake else ''}file to a request at {req.state}"
            )
            assert self.snap["attachments"] == count + 1
            self.event("attached")

    @rule(who=st.one_of(st.just("applicant"), PERSONAS), via=st.sampled_from(("service", "service", "web")))
    def print_form(self, who, via):
        """Anyone prints the approval form (审批表); those who may see the request get it."""
        from registrar.approvals.selectors import request_get_visible
        from registrar.documents.services import document_issue_for_request

        req = self.current()
        if req is None:
            return  # not a step: nothing was tried
        key = self.world.key_of(req.applicant) if who == "applicant" else who
        code, pk = self.code, req.pk

        def run(user):
            if via == "web":
                return self.web(user).post(reverse("approvals:approval_form", args=[code, pk]))
            with transaction.atomic():  # what the view does (ATOMIC_REQUESTS)
                visible = request_get_visible(user, self.chain, pk)
                return document_issue_for_request(doc_type=APPROVAL_FORM, request=visible, issued_by=user)

        basis = self._form_basis(req)
        forms_before = [d[0] for d in self.snap["docs"] if d[1] == APPROVAL_FORM and d[2] == pk]
        outcome = self.step("print", key, "print", run, via=via, req=req)
        forms = [d[0] for d in self.snap["docs"] if d[1] == APPROVAL_FORM and d[2] == pk]
        if self.may_see(key, req):
            assert outcome == "ok" or (
                via == "web" and outcome == "refused" and pk in self.printed and self.printed[pk][0] == basis
            ), f"{key} could not print the form: {outcome}"
            if pk in self.printed and self.printed[pk][0] == basis:
                assert forms == forms_before, "printing twice with nothing changed issued a second approval form"
            self.printed[pk] = (basis, forms[-1])
            self.event("form_printed")

    def _form_basis(self, req):
        """What an approval form is built from: the request row, its sign-offs, attachments, student."""
        return (
            [r for r in self.snap["requests"] if r["id"] == req.pk],
            [s for s in self.snap["signoffs"] if s[1] == req.pk],
            self.snap["attachments"],
            self.snap["students"],
        )

    @rule(days=st.sampled_from((0, 31, 400)))
    def time_passes(self, days):
        """The hourly task makes the changes whose effective date has come (``days`` from today)."""
        from students.services import scheduled_changes_apply

        if not any(c[6] == ScheduledChange.State.PENDING for c in self.snap["scheduled"]):
            return  # not a step: nothing is scheduled
        day = today() + dt.timedelta(days=days)
        self.step("time_passes", "superuser", "time", lambda _user: scheduled_changes_apply(today=day))
        due = [c for c in self.snap["scheduled"] if c[3] <= day]
        assert all(c[6] != ScheduledChange.State.PENDING for c in due), f"changes due by {day} still pending: {due}"
        self.event(f"scheduled_applied:{days}")


add_rule_copies(KernelWalk, "advance", 6, pick=st.integers(0, 7), via=VIA)
add_rule_copies(
    KernelWalk,
    "anyone",
    2,
    action=st.sampled_from(ACTIONS),
    who=PERSONAS,
    via=VIA,
    opinion=st.sampled_from(("", "同意", REASON)),
    data_ok=st.booleans(),
)


class BatchTranscriptWalk(KernelWalk):
    """U5B adds the class seals: the teaching secretary, then Academic Affairs, seal a class at once."""

    @rule(stage=st.sampled_from(("college_seal", "academic_affairs_seal")), who=st.one_of(st.just("right"), PERSONAS))
    def seal(self, stage, who):
        from grades.services.transcripts import transcript_batch_seal_class

        req = self.current()
        if req is None:
            return  # not a step: nothing was tried
        signer = self.chain.signers(stage)[0]
        key = next((k for r, k in self.signers_now(req) if r == signer), None) if who == "right" else who
        if key is None:  # not at that stage: anyone who holds the role tries
            key = next(k for k in self.world.user_keys() if signer in self.world.roles_over(k, req.student))
        batch, klass = req.batch, req.student.klass

        def run(user):
            return transcript_batch_seal_class(batch=batch, klass=klass, actor=user, stage=stage, opinion="同意")

        eligible = self.eligible(key, req) if req.state == stage else []
        before = len(self.snap["signoffs"])
        outcome = self.step("seal", key, "seal", run, req=req)
        new = self.snap["signoffs"][before:]
        if outcome == "ok":
            assert req.state == stage, f"sealed {stage} while the request was at {req.state}"
            assert [(r[4], r[5], r[6]) for r in new] == [(signer, self.world.users[key].pk, "approve")], new
            assert signer in eligible, f"{key} sealed {stage} without the role over the student"
            self.note_move(req)
        elif req.state == stage and eligible:
            raise AssertionError(f"{key} could not seal {stage}: {outcome}")


def chain_walk(spec: ChainSpec, world) -> type[KernelWalk]:
    """The walk class of ``spec``'s chain: longer examples for longer chains."""
    chain = spec.chain
    signatures = 1 + sum(len(chain.signers(s)) for s in chain.stage_codes)
    base = BatchTranscriptWalk if spec.code == BATCH_TRANSCRIPT.code else KernelWalk
    return type(
        f"Walk{spec.code}",
        (base,),
        {
            "spec": spec,
            "world": world,
            "name": spec.code,
            "step_count": max(25, 2 * signatures + 10),
        },
    )
