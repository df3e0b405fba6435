"""Run every benchmark module (or those named on the command line) and print one table;
exit 1 when a row misses its target."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from bench import Row


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
        if not names:
            print(f"no benchmark matches {' '.join(argv)}", file=sys.stderr)
            return 2
    rows: list[Row] = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(importlib.import_module(f"bench.{name}").run())
    return report(rows)


def report(rows: list[Row]) -> int:
    """Print the table; 0 when every row met its target, else 1 (naming the misses)."""
    header = ("benchmark", "ours", "reference", "ratio", "target", "ok")
    table = [header] + [
        (r.name, r.ours, r.reference, f"{r.ratio:.2f}x", r.target, "yes" if r.ok else "NO") for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    missed = [r.name for r in rows if not r.ok]
    if missed:
        print(f"\n{len(missed)} target(s) missed: " + "; ".join(missed))
        return 1
    print(f"\nall {len(rows)} targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
