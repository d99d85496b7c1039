"""``voxa eval``: run the conversation scenarios with a model and print a table
and one JSON line (the table on stderr when ``--json`` only is wanted)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from voxa.eval import report
from voxa.eval.scenarios import load
from voxa.eval.suite import run_scenarios
from voxa.logs import configure_logging
from voxa.settings import build_settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--llm", default=None,
                   help="local, scripted or openai:<model> (default: VOXA_LLM, else local)")
    p.add_argument("--scenarios", type=Path, help="a directory of scenario JSON files "
                   "(default: the packaged ones)")
    p.add_argument("--only", action="append", default=[],
                   help="run scenarios whose id, role or kind contains this (repeatable)")
    p.add_argument("--limit", type=int, help="run at most this many scenarios")
    p.add_argument("--verbose", action="store_true", help="show the replies of failed scenarios")
    p.add_argument("--log-format", choices=["auto", "json", "console"], default="json",
                   help="VOXA_LOG_FORMAT (logs go to stderr)")


def run(args: argparse.Namespace) -> int:
    settings = build_settings(log_format=args.log_format)
    configure_logging(settings)
    scenarios = load(args.scenarios)
    if args.only:
        scenarios = [s for s in scenarios
                     if any(o in s.id or o == s.role or o == s.kind for o in args.only)]
    if args.limit:
        scenarios = scenarios[:args.limit]
    if not scenarios:
        sys.stderr.write("no scenarios chosen\n")
        return 2
    results, model = asyncio.run(run_scenarios(scenarios, llm_name=args.llm or settings.llm))
    data = report.summary(results, model)
    sys.stdout.write(report.table(results, data, verbose=args.verbose) + "\n\n")
    sys.stdout.write(json.dumps(data) + "\n")
    return 0
