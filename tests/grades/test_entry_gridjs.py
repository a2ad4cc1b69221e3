"""The grid's live composite preview (static/grades/grid.js) follows grades/scoring.py.

Runs the script's pure functions under Node (skipped where Node is not installed) on a table of
cases and compares them with the server's ``evaluate`` — the server stays authoritative, but the
preview must not disagree with it."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from grades import scoring
from grades.services.results import evaluate

NODE = shutil.which("node")
GRID_JS = Path(settings.BASE_DIR) / "static" / "grades" / "grid.js"

HARNESS = """
const fs = require("fs");
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
const out = [];
for (const c of cases) {
  const form = {getAttribute: () => "1", querySelectorAll: () => [], querySelector: () => null, addEventListener() {}};
  global.window = {addEventListener() {}};
  global.document = {getElementById: (id) => id === "grade-grid-form" ? form
    : id === "grid-config" ? {textContent: JSON.stringify(c.cfg)} : null};
  eval(fs.readFileSync(process.argv[1], "utf8"));
  const g = window.gradeGrid;
  const entries = {};
  for (const [code, raw] of Object.entries(c.raw)) { entries[code] = g.parse(raw); }
  const r = g.compute(entries);
  out.push({text: r.incomplete ? "" : r.text, passed: r.passed === undefined ? null : r.passed, error: !!r.error});
}
process.stdout.write(JSON.stringify(out));
"""

W = [["regular", 30], ["final", 70]]
CASES = [
    ("hundred", "integer", "regular", W, {"regular": "85", "final": "58.5"}),
    ("hundred", "integer", "regular", W, {"regular": "85", "final": "58.4"}),
    ("hundred", "one_decimal", "regular", W, {"regular": "85", "final": "58.5"}),
    ("hundred", "integer", "regular", W, {"regular": "59.5", "final": "59.5"}),
    ("hundred", "integer", "regular", W, {"regular": "100", "final": "100"}),
    ("hundred", "integer", "regular", W, {"regular": "0", "final": "0"}),
    ("hundred", "integer", "regular", W, {"regular": "85", "final": ""}),
    ("hundred", "integer", "regular", W, {"regular": "85", "final": "缺考"}),
    ("hundred", "integer", "regular", W, {"regular": "作弊", "final": "缓考"}),
    ("hundred", "integer", "regular", W, {"regular": "免修", "final": ""}),
    ("hundred", "integer", "regular", W, {"regular": "优", "final": "90"}),
    ("hundred", "integer", "makeup", [["final", 100]], {"final": "88"}),
    ("hundred", "integer", "makeup", [["final", 100]], {"final": "45"}),
    ("five_level", "integer", "regular", W, {"regular": "良", "final": "中"}),
    ("five_level", "integer", "regular", [["final", 100]], {"final": "92"}),
    ("pass_fail", "integer", "regular", [["final", 100]], {"final": "合格"}),
    ("pass_fail", "integer", "regular", [["final", 100]], {"final": "不合格"}),
    (
        "hundred",
        "one_decimal",
        "regular",
        [["regular", 33], ["midterm", 33], ["final", 34]],
        {"regular": "77.7", "midterm": "81.3", "final": "69.9"},
    ),
]


def server(scale, rounding, kind, weights, raw):
    try:
        _stored, r = evaluate(scale=scale, rounding=rounding, kind=kind, weights=[tuple(x) for x in weights], raw=raw)
    except scoring.ScoreError:
        return {"text": "?", "passed": None, "error": True}
    return {"text": scoring.display(r.score, r.level, r.mark), "passed": r.passed, "error": False}


@pytest.mark.skipif(NODE is None, reason="Node is not installed")
def test_preview_matches_the_server():
    conf = scoring.conf()
    cases = []
    for scale, rounding, kind, weights, raw in CASES:
        cases.append(
            {
                "raw": raw,
                "cfg": {
                    "scale": scale,
                    "rounding": rounding,
                    "kind": kind,
                    "weights": weights,
                    "fiveLevels": dict(conf["FIVE_LEVELS"]),
                    "fiveBounds": conf["FIVE_LEVEL_BOUNDS"],
                    "passFail": conf["PASS_FAIL_LEVELS"],
                    "passScore": conf["PASS_SCORE"],
                    "makeupCap": conf["MAKEUP_SCORE_CAP"],
                    "marks": scoring.MARKS,
                    "markText": scoring.MARK_TEXT,
                    "messages": {},
                },
            }
        )
    done = subprocess.run(
        [NODE, "-e", HARNESS, str(GRID_JS)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    got = json.loads(done.stdout)
    expected = [server(*c) for c in CASES]
    for case, g, e in zip(CASES, got, expected, strict=True):
        assert (g["text"], g["passed"], g["error"]) == (e["text"], e["passed"], e["error"]), case
