"""``slicewise teach CASELIST|demo [--replay ANSWERS.json|first] [--out SESSION.csv]``.

Without ``--replay`` it opens the viewer in quiz (reader) mode on the case list (``demo`` = the
built-in teaching set), or in presenter mode with ``--present``. With ``--replay`` it runs
headless: answers come from the JSON file (a GUI session's ``-answers.json``, or hand-written)
or ``first`` picks the first option of every case; the AI runs for every case; the session CSV,
the summary CSV and the HTML report are written and the reader-study table is printed.
Exit status: 0, or 1 when the list or answers are unusable or a case had no AI result.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from viewer.cli.errors import CommandError
from viewer.modules.ai.service import ModelPool

METHODS = ("gradcam", "occlusion")


def add_teach_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``teach`` on the CLI's sub-parsers (called by ``viewer.cli.main.build_parser``)."""
    s = sub.add_parser("teach", help="teaching quiz / reader study on a case list "
                                     "('demo' = built-in teaching set)")
    s.add_argument("caselist", metavar="CASELIST", help="case list (.json or .csv) or 'demo'")
    s.add_argument("--replay", metavar="ANSWERS.json|first",
                   help="answer without a display: from a JSON file, or 'first' option each time")
    s.add_argument("--out", metavar="SESSION.csv",
                   help="session CSV (summary and HTML report are written beside it)")
    s.add_argument("--reader", default="", help="reader's name or code for the report")
    s.add_argument("--occlusion", action="store_true",
                   help="also compute occlusion maps (slower), revealed with Grad-CAM")
    s.add_argument("--present", action="store_true", help="open presenter mode instead of the quiz")
    s.add_argument("--windowed", action="store_true", help="presenter mode without full screen")
    return s


def _case_list(name: str):
    from viewer.modules.teaching.caselist import CaseListError, load_case_list

    try:
        if name == "demo":
            from viewer.modules.teaching.demo_set import load_demo_set

            return load_demo_set()
        return load_case_list(name)
    except CaseListError as exc:
        raise CommandError(str(exc)) from exc


def run_teach(args: argparse.Namespace) -> int:
    """Run the ``teach`` command (see module docstring); returns the exit status."""
    cases = _case_list(args.caselist)
    methods = METHODS if getattr(args, "occlusion", False) else ("gradcam",)
    if getattr(args, "replay", None):
        return _replay(args, cases, methods)
    return _gui(args, cases, methods)


def _replay(args: argparse.Namespace, cases, methods: tuple[str, ...]) -> int:
    from viewer.modules.teaching.replay import FIRST, AnswersError, load_answers, replay
    from viewer.modules.teaching.report import format_table, write_session
    from viewer.modules.teaching.summary import summarise

    try:
        answers = FIRST if args.replay == FIRST else load_answers(args.replay)
    except AnswersError as exc:
        raise CommandError(str(exc)) from exc
    if isinstance(answers, dict) and getattr(args, "reader", ""):
        answers = {**answers, "reader": args.reader}

    def progress(done: int, total: int, case_id: str) -> None:
        if case_id:
            print(f"  case {done + 1}/{total}: {case_id}", file=sys.stderr, flush=True)

    try:
        result = replay(cases, ModelPool(getattr(args, "device", None) or "auto"), answers, methods,
                        progress=progress)
    except AnswersError as exc:
        raise CommandError(str(exc)) from exc
    session = result.session
    if getattr(args, "reader", "") and answers == FIRST:
        session.reader = args.reader
    records = session.records()
    summary = summarise(records, session.reader, [c.options for c in cases.cases])
    out = Path(args.out) if args.out else Path(f"{(cases.source.stem if cases.source else 'session')}"
                                                "-session.csv")
    demo = any(ai.demo for ai in result.ai.values())
    paths = write_session(records, summary, out, answers=session.answers_json(),
                          title=cases.title, demo=demo)
    print(format_table(summary))
    print()
    for kind in ("session", "summary", "report", "answers"):
        if kind in paths:
            print(f"{kind}: {paths[kind]}")
    failed = [(cid, ai.error) for cid, ai in result.ai.items() if ai.error]
    for cid, error in failed:
        print(f"slicewise: case {cid}: no AI result: {error}", file=sys.stderr)
    return 1 if failed else 0


def _gui(args: argparse.Namespace, cases, methods: tuple[str, ...]) -> NoReturn:
    import logging

    from viewer.app import create_application, create_main_window, leave

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_application([])
    window = create_main_window()
    window.show_for_reading()   # maximised the first time, as the viewer
    teaching = window.modules["teaching"].controller
    if getattr(args, "present", False):
        presenter = teaching.start_presenter(cases, methods,
                                             full_screen=not getattr(args, "windowed", False))
        presenter.ended.connect(window.close)
    else:
        teaching.start_quiz(cases, args.out, methods, reader=getattr(args, "reader", ""))
        teaching.quiz_ended.connect(lambda: print(f"session: {teaching.out_csv}", flush=True))
    leave(int(app.exec()))
