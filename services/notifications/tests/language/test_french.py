"""Every email, as the customer reads it, passes LanguageTool's French rules.

Every template is rendered with realistic data (the previews), its text part and its HTML part
(turned into the text a reader sees) go through LanguageTool's default French rules
(``org.languagetool:language-fr`` from Maven Central, run with the machine's Java). A match is
accepted only if the reviewed list ``accepted.json`` names it (rule and matched text: brand
names, references, order numbers...); any other match fails the test with its sentence.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jg_devstack.languagetool import Match, check
from jg_messaging import Environment, PlatformSettings
from notifications.app import renderer_for
from notifications.preview import write_previews
from notifications.settings import NotificationsSettings

pytestmark = [
    pytest.mark.integration,  # needs Java and Maven Central's jars (cached)
    pytest.mark.timeout(900),  # one JVM for every email: a minute, more when loaded
]

ACCEPTED = Path(__file__).with_name("accepted.json")


class _Text(HTMLParser):
    """The text of an HTML email as a reader sees it (no styles, no head, block breaks)."""

    BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "table", "td", "th", "ul", "ol"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "head", "title"):
            self._skip += 1
        if tag in self.BLOCKS:
            self.parts.append("\n\n")  # a paragraph break: LanguageTool ends the sentence

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "head", "title"):
            self._skip -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n\n".join(line for line in lines if line)


def rendered_emails(folder: Path) -> list[Path]:
    """Every email's text part and its HTML part as text, one file each."""
    development = PlatformSettings(environment=Environment.DEVELOPMENT)
    write_previews(folder, renderer_for(NotificationsSettings(platform=development)))
    files = sorted(folder.glob("*.txt"))
    for html in sorted(folder.glob("*.html")):
        if html.name == "index.html":
            continue
        target = html.with_suffix(".html.txt")
        target.write_text(visible_text(html.read_text(encoding="utf-8")), encoding="utf-8")
        files.append(target)
    return files


def accepted() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = json.loads(ACCEPTED.read_text(encoding="utf-8"))["accepted"]
    return entries


def accepts(entry: dict[str, str], match: Match) -> bool:
    """An entry names a rule and the matched text, exactly or as a regular expression."""
    if entry["rule"] != match.rule:
        return False
    if "pattern" in entry:
        return re.fullmatch(entry["pattern"], match.text) is not None
    return entry["text"] == match.text


def is_accepted(match: Match, entries: list[dict[str, str]]) -> bool:
    return any(accepts(e, match) for e in entries)


def describe(match: Match) -> str:
    return (
        f"{Path(match.file).name}: [{match.rule}] « {match.text} » — {match.message}\n"
        f"    in: {match.sentence}"
    )


def test_every_email_passes_languagetools_french_rules(tmp_path: Path) -> None:
    files = rendered_emails(tmp_path)
    assert len(files) >= 40  # every template, text and HTML
    entries = accepted()
    matches = check(files)
    new = [m for m in matches if not is_accepted(m, entries)]
    assert not new, "LanguageTool found in the emails:\n" + "\n".join(map(describe, new))
    # The list stays reviewed: an accepted entry nothing matches any more is removed.
    stale = [e for e in entries if not any(accepts(e, m) for m in matches)]
    assert not stale, f"accepted.json names matches that no longer occur: {stale}"


def test_a_misspelling_in_a_template_is_caught(tmp_path: Path) -> None:
    """The check is not blind: a word misspelled in a rendered email is reported."""
    files = rendered_emails(tmp_path)
    victim = next(f for f in files if f.name == "order_confirmed.txt")
    victim.write_text(
        victim.read_text(encoding="utf-8").replace("commande", "comande", 1), encoding="utf-8"
    )
    new = [m for m in check([victim]) if not is_accepted(m, accepted())]
    assert any(m.text == "comande" for m in new), [describe(m) for m in new]
