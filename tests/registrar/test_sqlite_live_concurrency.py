"""R3 on the embedded default: concurrent sign-offs through real HTTP against a real server process
on SQLite (``registrar.settings.local``, as ``bash bin/run`` runs it), not the test database.

SQLite has one writer at a time. A transaction begun DEFERRED (SQLite's default) reads first and,
when it then writes after another connection has written, fails at once with "database is locked"
— the busy timeout cannot help it. The settings begin every transaction IMMEDIATE (it waits for the
write lock up to the timeout instead); these tests fail without that:

- three signers of U1's parallel college stage approve at the same moment: three successes, three
  sign-offs, the request moves on exactly once;
- logins and sign-offs made while another process keeps writing (a worker rendering a PDF) all
  succeed.

No PostgreSQL needed; about 30 s, most of it ``migrate``.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time

import pytest

from tests.live_server import PASSWORD, Browser, LiveServer, embedded_env, run_python

ROUNDS = 3  # requests signed three-at-once, each by its own three signers

WORLD = f"""
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from registrar.approvals.services import request_act, request_create
from registrar.documents.services import document_issue_for_request
from registrar.models import User
from registrar.roles import Role
from statuschange.models import U1
from tests.factories import ClassFactory, StudentFactory, staff

call_command("migrate", "--noinput", verbosity=0)
klass = ClassFactory()
people = {{
    "advisor": staff(Role.ADVISOR, klass=klass, username="advisor"),
    "counsellor": staff(Role.COUNSELLOR, klass=klass, username="counsellor"),
    "college_secretary": staff(Role.COLLEGE_SECRETARY, college=klass.college, username="secretary"),
    "college_dean": staff(Role.COLLEGE_DEAN, college=klass.college, username="dean"),
    "student_affairs": staff(Role.STUDENT_AFFAIRS, username="student_affairs"),
    "academic_affairs": staff(Role.ACADEMIC_AFFAIRS, username="registrar"),
}}
COLLEGE = ("counsellor", "college_secretary", "college_dean")

def u1_at_college_review():
    student = StudentFactory(klass=klass)
    req = request_create(chain=U1, student=student, applicant=student.user, submit=True,
                         data={{"reason": "personal", "reason_detail": "家庭原因", "period_start": "2027-03-01",
                               "period_end": "2027-07-01"}})
    return request_act(chain=U1, request_id=req.pk, actor=people["advisor"], action="approve", opinion="同意")

rounds = [u1_at_college_review().pk for _ in range({ROUNDS})]
# a request at the offices' stage (Student Affairs and Academic Affairs sign), signed under load
req = u1_at_college_review()
for role in COLLEGE:
    req = request_act(chain=U1, request_id=req.pk, actor=people[role], action="approve", opinion="同意", as_role=role)
assert req.state == "offices_review", req.state
# the document a worker would be rendering meanwhile
document = document_issue_for_request(doc_type="approval_form", request=req, issued_by=people["counsellor"])
User.objects.update(password=make_password("{PASSWORD}"))
print(json.dumps({{
    "rounds": rounds, "offices": req.pk, "document": document.pk,
    "college_signers": {{role: people[role].username for role in COLLEGE}},
    "office_signers": {{role: people[role].username for role in ("student_affairs", "academic_affairs")}},
    "students": [u.username for u in User.objects.filter(student__isnull=False)][:2],
}}))
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("live-var")
    env = embedded_env(var_dir)
    started = time.monotonic()
    world = run_python(env, WORLD, timeout=240)  # migrate, then the world
    server = LiveServer(env=env, var_dir=var_dir)
    server.start()
    server.prepared_in = time.monotonic() - started
    try:
        yield server, world
    finally:
        server.stop()


def signoffs(server: LiveServer, pk: int) -> list[tuple]:
    return server.query(
        "SELECT s.role, s.stage, s.target_state, u.username FROM registrar_signoff s "
        "JOIN registrar_user u ON u.id = s.actor_id JOIN django_content_type ct ON ct.id = s.content_type_id "
        "WHERE ct.app_label = 'statuschange' AND ct.model = 'suspensionrequest' AND s.object_id = ? "
        "AND s.decision = 'approve' ORDER BY s.id",
        (pk,),
    )


def state_of(server: LiveServer, pk: int) -> str:
    return server.query("SELECT state FROM statuschange_suspensionrequest WHERE id = ?", (pk,))[0][0]


def outcome(response) -> str:
    """ "ok" for a sign-off that redirected to the request with a success message, else what happened."""
    levels = {level for level, _text in response.messages}
    if response.status == 200 and response.redirected_from == 302 and "success" in levels and "danger" not in levels:
        return "ok"
    title = re.search(r"<title>(.*?)</title>", response.body, re.S)
    return f"{response.status} {response.messages or (title and ' '.join(title.group(1).split()))}"


def all_at_once(calls):
    """Run ``calls`` in threads released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results


def approve(browser: Browser, pk: int):
    return lambda: browser.post(f"/requests/suspension/{pk}/act/approve/", {"opinion": "同意"})


def test_three_signers_of_a_parallel_stage_approve_at_the_same_moment(live):
    server, world = live
    signers = world["college_signers"]
    browsers = [Browser(server) for _ in signers]
    for browser, username in zip(browsers, signers.values()):
        assert browser.login(username).status == 200 and browser.logged_in, username
    outcomes = []
    for pk in world["rounds"]:
        results = all_at_once([approve(b, pk) for b in browsers])
        outcomes += [outcome(r) if not isinstance(r, Exception) else repr(r) for r in results]
    assert outcomes == ["ok"] * 3 * len(world["rounds"]), outcomes
    for pk in world["rounds"]:
        signed = [s for s in signoffs(server, pk) if s[1] == "college_review"]
        # each signed once, and exactly one of the three moved the request on
        assert sorted((s[0], s[3]) for s in signed) == sorted(signers.items()), signed
        assert [s[2] for s in signed].count("offices_review") == 1, signed
        assert state_of(server, pk) == "offices_review"


class Renderer(threading.Thread):
    """Another process writing as the worker does while it renders a PDF: progress updates, each
    holding the write lock for ``hold`` seconds, until stopped."""

    def __init__(self, database, document_id: int, hold: float = 0.25, pause: float = 0.1):
        super().__init__(daemon=True)
        self.database, self.document_id, self.hold, self.pause = database, document_id, hold, pause
        self.stop = threading.Event()
        self.writes = 0

    def run(self):
        db = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        try:
            while not self.stop.is_set():
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "UPDATE registrar_document SET progress = ? WHERE id = ?", (self.writes % 100, self.document_id)
                )
                time.sleep(self.hold)
                db.execute("COMMIT")
                self.writes += 1
                time.sleep(self.pause)
        finally:
            db.close()


def test_logins_and_signoffs_succeed_while_another_process_writes(live):
    server, world = live
    renderer = Renderer(server.database, world["document"])
    renderer.start()
    try:
        time.sleep(0.2)
        users = [*world["office_signers"].values(), *world["students"]]
        browsers = [Browser(server) for _ in users]
        logins = all_at_once([lambda b=b, u=u: b.login(u) for b, u in zip(browsers, users)])
        signers = browsers[:2]
        results = all_at_once([approve(b, world["offices"]) for b in signers])
        pages = all_at_once([lambda b=b: b.get("/") for b in browsers])
    finally:
        renderer.stop.set()
        renderer.join(timeout=30)
    assert renderer.writes >= 3, "the concurrent writer did not run alongside"
    assert [(r.status, b.logged_in) for r, b in zip(logins, browsers)] == [(200, True)] * len(users), [
        r.body[:300] for r in logins if r.status != 200
    ]
    assert [outcome(r) for r in results] == ["ok", "ok"]
    assert [p.status for p in pages] == [200] * len(users)
    assert state_of(server, world["offices"]) == "leadership_review"
    signed = [s for s in signoffs(server, world["offices"]) if s[1] == "offices_review"]
    assert sorted(s[0] for s in signed) == ["academic_affairs", "student_affairs"]
