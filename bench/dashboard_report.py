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
        "\n(a) a new tab's first request for the Compare view's 7D range (the 7 days today's "
        "page shows): on_update through Dash's own wrapper, all its outputs as the JSON body Dash "
        "sends; (b) the tab's next interval (Page.tick, the Patch and the other outputs) after "
        "write_quotes of one tick per stock (untimed); both medians of the timed runs after one "
        f"warm-up ({args.repeat}; at most 3 when the warm-up took over 1 s). Parts: read = "
        "chart_stocks + read_window + the cards' prices, shape = downsample + compare_view + "
        "cards, JSON = to_json_plotly of figure, numbers and cards. (c) SELECT every "
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


# The outputs shown in columns; both pages' stores of the view share one.
OUTPUT_COLUMNS = [
    ("chart.figure",),
    ("page.data", "view.data"),
    ("edge.data",),
    ("numbers.data",),
    ("cards.children",),
]


def print_today(rows) -> None:
    """The new page against today's (page_today.Row list): the table, the outputs, the targets."""
    if not rows:
        return
    baseline = {(r.database, r.stocks, r.case): r for r in rows if "today" in r.case}

    def today_of(r):
        return baseline[(r.database, r.stocks, "tick today" if "tick" in r.case else "today 7D")]

    print("\nThe new page against today's (commit 859ba40), same run, same databases:\n")
    print("| database | stocks | case | ms (median) | KB | ms ratio | KB ratio | runs |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        t = today_of(r)
        print(
            f"| {r.database} | {r.stocks} | {r.case} | {r.ms:.1f} | {kb(r.size)} "
            f"| {r.ms / t.ms:.2f}× | {r.size / t.size:.2f}× | {r.runs} |"
        )
    print("\nKB per output (last run; JSON of each output's value):\n")
    print("| database | stocks | case | figure | page/view store | edge | numbers | cards | rest |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        parts = dict(r.outputs)
        named = [sum(parts.pop(k, 0) for k in keys) for keys in OUTPUT_COLUMNS]
        cells = " | ".join(kb(n) for n in [*named, sum(parts.values())])
        print(f"| {r.database} | {r.stocks} | {r.case} | {cells} |")
    print(
        "\ntoday 7D: the page of 859ba40 (a subprocess on that tree), its first request "
        "(on_tick with no view: load_window of 7 days); Compare/Price 1D/7D: a new tab's first "
        "request for that view and range; tick today: its on_tick (refresh) following live; "
        "tick new: Page.tick of a tab on that view; each after one new tick per stock (untimed). "
        "Every request through Dash's wrapper of the callback; KB = the JSON body Dash sends. "
        "Requests alternate (order rotated each round); ms = median after one warm-up round; "
        "ratios against today's figure at the same stocks and database."
    )
    loads = [r for r in rows if r.case.startswith(("Compare", "Price"))]
    slow = [r for r in loads if r.ms > 1.5 * today_of(r).ms or r.size > 1.5 * today_of(r).size]
    print(
        "\n- first load of either view ≤ 1.5× today's (time and bytes) for the same stocks: "
        + ("PASS" if not slow else "FAIL (" + "; ".join(_ratio(r, today_of(r)) for r in slow) + ")")
    )
    big = [r for r in rows if r.stocks == 6 and r.case.startswith("tick new") and r.size > 2_000]
    ticks6 = [r for r in rows if r.stocks == 6 and r.case.startswith("tick new")]
    verdict = "n/a (6 stocks not measured)" if not ticks6 else ("FAIL" if big else "PASS")
    sizes = ", ".join(f"{r.database} {r.case} {r.size:,} bytes" for r in ticks6)
    print(f"- a tick ≤ 2 KB for 6 stocks: {verdict}" + (f" ({sizes})" if sizes else ""))


def _ratio(r, today) -> str:
    return (
        f"{r.database} {r.stocks} stocks {r.case}: {r.ms / today.ms:.2f}× time, "
        f"{r.size / today.size:.2f}× bytes"
    )
