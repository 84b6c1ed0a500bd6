"""``make bench`` (or ``python -m bench [NAME ...]``): run the benchmarks, each printing ``name: value`` lines.

Every figure is measured beside a baseline built in the same run, and printed as a ratio to it.
"""

import sys

from bench import pages, pdf, routing, search, tickets

BENCHMARKS = {"pages": pages.main, "search": search.main, "routing": routing.main, "pdf": pdf.main,
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
