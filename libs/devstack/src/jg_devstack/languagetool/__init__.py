"""LanguageTool's French rules, from Maven Central, run with the machine's Java.

:func:`check` builds the checker once into ``.cache/languagetool/`` (``mvn`` fetches
``org.languagetool:language-fr`` and its dependencies; ``javac`` compiles ``LtCheck.java``
against them) and returns every match LanguageTool's default French rules find in the files.
Used by the French check of the rendered emails (notifications' tests).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from jg_devstack.config import find_repo_root

HERE = Path(__file__).parent
POM = HERE / "pom.xml"
SOURCE = HERE / "LtCheck.java"


@dataclass(frozen=True)
class Match:
    file: str
    rule: str
    message: str
    text: str
    sentence: str


class LanguageToolUnavailableError(RuntimeError):
    """Java, javac or Maven is missing, or the jars could not be fetched."""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise LanguageToolUnavailableError(f"`{name}` is needed for the French check")
    return found


def ensure_built(cache: Path | None = None) -> Path:
    """The folder holding ``jars/`` and ``classes/`` (built once; rebuilt when the pom or the
    source change)."""
    cache = cache or find_repo_root() / ".cache" / "languagetool"
    digest = hashlib.sha256(POM.read_bytes() + SOURCE.read_bytes()).hexdigest()[:16]
    home = cache / digest
    stamp = home / ".complete"
    if stamp.is_file():
        return home
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(POM, home / "pom.xml")
    steps = [
        [
            _tool("mvn"),
            "-q",
            "-B",
            "-f",
            str(home / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={home / 'jars'}",
            "-DincludeScope=runtime",
        ],
        [_tool("javac"), "-cp", f"{home / 'jars'}/*", "-d", str(home / "classes"), str(SOURCE)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603
        if done.returncode != 0:
            raise LanguageToolUnavailableError(
                f"{' '.join(step[:4])}... failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
    stamp.write_text("ok\n")
    return home


def check(files: list[Path], cache: Path | None = None) -> list[Match]:
    """Every match of LanguageTool's default French rules in ``files`` (one JVM for all)."""
    if not files:
        return []
    home = ensure_built(cache)
    classpath = f"{home / 'classes'}:{home / 'jars'}/*"
    done = subprocess.run(  # noqa: S603 - our own class, our own files
        [_tool("java"), "-Xmx1g", "-cp", classpath, "LtCheck", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise LanguageToolUnavailableError(f"LtCheck failed:\n{done.stderr[-4000:]}")
    return [Match(**item) for item in json.loads(done.stdout)]
