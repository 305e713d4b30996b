"""The dashboard benchmark's results: one record per case, the markdown tables and the targets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Result:
    """One database × case: medians in ms, response sizes in bytes."""

    database: str
    case: str
    stocks: int
    a_ms: float
    a_bytes: int
    b_ms: float
    b_bytes: int
    c_ms: float
    c_bytes: int
    runs: tuple[int, int, int]  # timed runs of (a), (b), (c)
    read_ms: float
    shape_ms: float
    json_ms: float
    rows_read: int
    points_sent: int
    note: str = ""


def kb(size: int) -> str:
    """Bytes as KB (1 KB = 1,000 bytes)."""
    return f"{size / 1000:,.1f}"


def print_report(results: list[Result], args) -> None:
    """The results table, the (a) breakdown, what was filled, and the targets."""
    print(
        "\n| database | case | (a) first load ms | (a) KB | (b) one tick ms | (b) bytes "
        "| (c) 2017 ms | (c) KB | (c)/(a) time | (c)/(a) bytes | runs a/b/c |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.database} | {r.case} | {r.a_ms:.1f} | {kb(r.a_bytes)} | {r.b_ms:.2f} "
            f"| {r.b_bytes:,} | {r.c_ms:,.0f} | {kb(r.c_bytes)} | {r.c_ms / r.a_ms:,.0f}× "
            f"| {r.c_bytes / r.a_bytes:,.0f}× | {'/'.join(map(str, r.runs))} |"
        )
    print("\n(a) split into its parts (separate runs; medians):\n")
    print("| database | case | read ms | shape ms | JSON ms | rows read | points sent |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.database} | {r.case} | {r.read_ms:.1f} | {r.shape_ms:.1f} | {r.json_ms:.1f} "
            f"| {r.rows_read:,} | {r.points_sent:,} |"
        )
    print(
        "\n(a) load_window + to_json_plotly(patch); (b) refresh + to_json_plotly(patch) after "
        "write_quotes of one tick per stock (untimed); both medians of the timed runs after one "
        f"warm-up ({args.repeat}; at most 3 when the warm-up took over 1 s). (c) SELECT every "
        "7-day row, pandas groupby, a figure with every point, to_json_plotly; no warm-up. "
        "Clock fixed at 2026-12-01 21:00 UTC; KB = 1,000 bytes."
    )
    filled = "Filled: 7 days of ticks every 5 s per stock (120,960 ticks, 10,080 rollup rows)"
    if any(r.note for r in results):
        filled += (
            f"; the year case adds 365 days before them at one tick every {args.year_step} s, "
            "for the 6-stock database only"
        )
    print(filled + ".")
    for r in results:
        if r.note:
            print(f"  {r.database} {r.case}: {r.note}")
    print_targets(results)


def print_targets(results: list[Result]) -> None:
    """The issue's PostgreSQL targets, each PASS, MISS or n/a."""
    pg = {r.case: r for r in results if r.database == "PostgreSQL"}
    six = pg.get("6 stocks, 7 days")
    hundred = pg.get("100 stocks, 7 days")
    year = next((r for c, r in pg.items() if c.startswith("6 stocks, 7 days + 1 year")), None)

    def line(text: str, result: Result | None, ok, shown) -> None:
        verdict = (
            "n/a (not measured)"
            if result is None
            else (f"{'PASS' if ok(result) else 'MISS'} ({shown(result)})")
        )
        print(f"- {text}: {verdict}")

    print("\nTargets (PostgreSQL):")
    line("(a) 6 stocks ≤ 50 ms", six, lambda r: r.a_ms <= 50, lambda r: f"{r.a_ms:.1f} ms")
    line(
        "(a) 6 stocks ≤ 300 KB",
        six,
        lambda r: r.a_bytes <= 300_000,
        lambda r: f"{r.a_bytes:,} bytes",
    )
    line("(a) 100 stocks ≤ 250 ms", hundred, lambda r: r.a_ms <= 250, lambda r: f"{r.a_ms:.1f} ms")
    if year is not None and six is not None:
        ratio = year.a_ms / six.a_ms
        verdict = "PASS" if 1 / 1.2 <= ratio <= 1.2 else "MISS"
        print(
            f"- the extra year changes (a) by at most 1.2×: {verdict} "
            f"({six.a_ms:.1f} → {year.a_ms:.1f} ms, {ratio:.2f}×)"
        )
    else:
        print("- the extra year changes (a) by at most 1.2×: n/a (not measured)")
    line("(b) 6 stocks ≤ 10 ms", six, lambda r: r.b_ms <= 10, lambda r: f"{r.b_ms:.2f} ms")
    line("(b) 6 stocks ≤ 2 KB", six, lambda r: r.b_bytes <= 2_000, lambda r: f"{r.b_bytes:,} bytes")
    for case, r in pg.items():
        line(
            f"(a) ≥ 100× faster than (c), {case}",
            r,
            lambda r: r.c_ms / r.a_ms >= 100,
            lambda r: f"{r.c_ms / r.a_ms:,.0f}×",
        )
