"""The pages' scripts never turn data into markup: ESLint with
eslint-plugin-no-unsanitized (frontend/eslint.config.mjs) over
src/voxa/web/static/js, the same check as ``npm run lint`` in frontend/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "frontend" / "eslint.config.mjs"
ESLINT = ROOT / "frontend" / "node_modules" / "eslint" / "bin" / "eslint.js"
SCRIPTS = Path("src/voxa/web/static/js")

PROBE = """\
export function render(el, data) {
  el.innerHTML = data;
  el.insertAdjacentHTML("beforeend", data);
  el.outerHTML = `<b>${data}</b>`;
  document.write(data);
  el.setAttribute("onclick", data);
  el.innerHTML = "";
}
"""


def eslint(cwd: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not ESLINT.exists():
        message = ("ESLint is not installed: run `npm ci` in frontend/ "
                   "(scripts/bootstrap.sh does it)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run(
        [node, str(ESLINT), "--config", str(CONFIG), "--max-warnings=0", "--format=json",
         str(SCRIPTS)],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_page_scripts_pass_the_lint() -> None:
    result = eslint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_fails_when_a_sink_comes_back(tmp_path: Path) -> None:
    shutil.copytree(ROOT / SCRIPTS, tmp_path / SCRIPTS)
    assert eslint(tmp_path).returncode == 0  # the copy alone is clean
    (tmp_path / SCRIPTS / "probe.js").write_text(PROBE)
    result = eslint(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    flagged = {m["line"] for f in json.loads(result.stdout)
               if f["filePath"].endswith("probe.js") for m in f["messages"]}
    # each sink is reported, even a constant "" (clear with replaceChildren())
    assert flagged == {2, 3, 4, 5, 6, 7}, result.stdout
