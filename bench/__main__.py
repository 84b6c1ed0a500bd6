"""``make bench`` (or ``python -m bench [NAME ...]``): run the benchmarks, each printing ``name: value`` lines.

Every figure is measured beside a baseline built in the same run, and printed as a ratio to it.
"""

import sys

from bench import load, pages, pdf, routing, search, tickets


def _load() -> None:
    """The 200-person morning (``make load``), on SQLite and on PostgreSQL."""
    code = load.main([])
    if code:
        print(f"load: exit {code} (see above)")


BENCHMARKS = {"pages": pages.main, "load": _load, "search": search.main, "routing": routing.main, "pdf": pdf.main,
              "tickets": tickets.main}


def main() -> None:
    chosen = sys.argv[1:] or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for name in chosen:
        print(f"# {name}", flush=True)
        BENCHMARKS[name]()


main()
