"""Where the pages' files are (served by ``voxa.api.routes.pages``)."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).with_name("static")
TEMPLATES = Path(__file__).with_name("templates")
