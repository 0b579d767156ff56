"""Every relative link of the project's Markdown pages (README.md, docs/, the roles', the sandbox's,
the tests'...) leads to a file or folder that exists, so the front page's "where to read more" holds."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def pages():
    return sorted(path for path in ROOT.rglob("*.md")
                  if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
                  and "changelogs" not in path.parts)


def test_the_pages_are_found():
    assert ROOT / "README.md" in pages() and len(pages()) > 10


def test_every_relative_link_leads_to_a_file():
    broken = []
    for page in pages():
        for target in LINK.findall(page.read_text()):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue  # a URL, or an anchor in the same page
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []
