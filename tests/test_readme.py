"""The README and docs describe the repository as cloned: no link leaves it (``../shared/WORKFLOWS.md``
is not in a clone), and docs/workflows.md covers every chain that is built."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_no_document_points_outside_the_repository():
    for doc in DOCS:
        text = doc.read_text()
        assert not re.search(r"(?<![\w/])\.\./", text), f"{doc.name} links outside the repository"
        for target in re.findall(r"\]\(([^)#]+)\)", text):  # relative markdown links resolve in the clone
            if not re.match(r"[a-z]+://", target):
                assert (doc.parent / target).exists(), f"{doc.name}: {target}"


def test_the_workflows_are_described_in_the_repository(db):
    from registrar.approvals.chains import all_chains

    readme = (ROOT / "README.md").read_text()
    assert "docs/workflows.md" in readme
    text = (ROOT / "docs" / "workflows.md").read_text()
    for chain in all_chains():
        # described under its seed code (U1), with the readable code it is stored under (`suspension`)
        assert re.search(rf"\*\*{chain.seed_code}\b|^### {chain.seed_code}\b", text, re.M), chain.seed_code
        assert f"`{chain.code}`" in text, chain.code
    for code in [f"U{i}" for i in range(1, 8)] + [f"C{i}" for i in range(1, 11)]:
        assert re.search(rf"\b{code}\b", text), code
