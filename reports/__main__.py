"""`python -m reports`: render, merge, diff and validate reports.

    python -m reports html REPORT.json [-o PAGE.html]
    python -m reports fix REPORT.json [-o PLAN-fix.sh]                (the fix plan as a script; never run)
    python -m reports merge REPORT.json ... [-o matrix.html] [--markdown matrix.md] [--csv matrix.csv] [--checks]
    python -m reports diff OLD.json NEW.json [--threshold 0.1]     (exit 1 on a regression)
    python -m reports validate REPORT.json ...                       (needs the jsonschema package)
    python -m reports horizon [REPORT.json]       (what the facts were checked against; with a report, what it ran)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reports.diff import DROP_THRESHOLD, diff_documents, diff_lines
from reports.document import SCHEMA_FILE, ReportError, load
from reports.fixplan import script_for, script_name
from reports.matrix import merge, to_csv, to_html, to_markdown
from reports.page import render_page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports", description="APU conformance reports")
    sub = parser.add_subparsers(dest="command", required=True)
    p_html = sub.add_parser("html", help="render one report as a self-contained page")
    p_html.add_argument("report")
    p_html.add_argument("-o", "--output")
    p_fix = sub.add_parser("fix", help="write the report's fix plan as a bash script (beside it by default)")
    p_fix.add_argument("report")
    p_fix.add_argument("-o", "--output")
    p_merge = sub.add_parser("merge", help="a compatibility matrix from many reports")
    p_merge.add_argument("reports", nargs="+")
    p_merge.add_argument("-o", "--output", default="matrix.html")
    p_merge.add_argument("--markdown")
    p_merge.add_argument("--csv")
    p_merge.add_argument("--checks", action="store_true", help="add a machines x checks table")
    p_diff = sub.add_parser("diff", help="regressions and fixes between two reports of one machine")
    p_diff.add_argument("old")
    p_diff.add_argument("new")
    p_diff.add_argument("--threshold", type=float, default=DROP_THRESHOLD)
    p_val = sub.add_parser("validate", help="check reports against reports/schema.json")
    p_val.add_argument("reports", nargs="+")
    p_hor = sub.add_parser("horizon", help="the newest release per component the suite's facts were checked against")
    p_hor.add_argument("report", nargs="?", help="also show what this report's run had installed")
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ReportError as exc:
        print(f"reports: {exc}", file=sys.stderr)
        return 2


def cmd_html(args: argparse.Namespace) -> int:
    doc = load(args.report)
    out = Path(args.output or Path(args.report).with_suffix(".html"))
    out.write_text(render_page(doc))
    print(f"wrote {out}")
    return 0


def cmd_fix(args: argparse.Namespace) -> int:
    doc = load(args.report)
    out = Path(args.output or Path(args.report).with_name(script_name(Path(args.report).name)))
    out.write_text(script_for(doc, Path(args.report).name))
    steps = sum(1 for step in doc.get("fix_plan") or [] if isinstance(step, dict) and step.get("commands"))
    print(f"wrote {out}: {steps} steps with commands; read it, then run it with bash (the suite never does)")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    docs, skipped = [], []
    for path in args.reports:
        try:
            docs.append(load(path))
        except ReportError as exc:
            skipped.append(str(exc))
    for line in skipped:
        print(f"reports: skipped {line}", file=sys.stderr)
    if not docs:
        print("reports: no readable report to merge", file=sys.stderr)
        return 2
    rows = merge(docs)
    Path(args.output).write_text(to_html(rows, args.checks))
    print(f"wrote {args.output}: {len(rows)} machine x stack rows from {len(docs)} reports")
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(rows))
        print(f"wrote {args.markdown}")
    if args.csv:
        Path(args.csv).write_text(to_csv(rows))
        print(f"wrote {args.csv}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    diff = diff_documents(load(args.old), load(args.new), args.threshold)
    print("\n".join(diff_lines(diff)))
    return 1 if diff["regressions"] else 0


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        import jsonschema
    except ImportError:
        print("reports: validate needs the jsonschema package (pip install jsonschema)", file=sys.stderr)
        return 2
    schema = json.loads(SCHEMA_FILE.read_text())
    bad = 0
    for path in args.reports:
        doc = load(path)
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda err: list(err.path))
        for err in errors[:10]:
            print(f"{path}: {'/'.join(map(str, err.path)) or '(top)'}: {err.message}")
        bad += bool(errors)
        if not errors:
            print(f"{path}: valid {doc['schema']}")
    return 1 if bad else 0


def cmd_horizon(args: argparse.Namespace) -> int:
    """The knowledge horizon (fixtures/knowledge/horizon.toml), and a report's installed versions beside it."""
    from fixtures.knowledge.horizon import horizon_entries

    rows = (load(args.report).get("horizon") or []) if args.report else horizon_entries({})
    if args.report and not rows:
        print(f"reports: {args.report} has no horizon (written before the suite recorded one)", file=sys.stderr)
        return 2
    print(f"{'component':<13} {'checked against':<16} {'released':<11} {'checked on':<11} installed")
    for row in rows:
        mark = " (newer: verdicts resting on it carry a caveat)" if row.get("newer") else ""
        print(f"{row['component']:<13} {row['checked_against']:<16} {row.get('released', ''):<11} "
              f"{row.get('checked_on', ''):<11} {row.get('installed') or '-'}{mark}")
    return 0


COMMANDS = {"horizon": cmd_horizon, "html": cmd_html, "fix": cmd_fix, "merge": cmd_merge, "diff": cmd_diff,
            "validate": cmd_validate}

if __name__ == "__main__":
    sys.exit(main())
