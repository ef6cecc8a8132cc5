"""The tables bench/speed.py prints: one per corpus, the engines side by side, with the issue's targets."""

from __future__ import annotations

from _util import fmt, table

ENGINES = ("naive", "zhsearch", "fts5")

# The targets.
BUILD_SPEEDUP = 3.0          # zhsearch posts/s >= 3x naive posts/s
COLD_SECONDS = 0.15          # cold CLI query, new process
COLD_MB = 80.0               # ... its peak memory (below 20k posts)
WARM_MS = 10.0               # warm library query with 10 snippets, the standard set
UPDATE_SECONDS = 1.0         # incremental update after one changed post (up to 20k posts)
# At scale: posts -> (cold query s, warm p50 ms, warm p99 ms over the real set, build s, build MB summed).
SCALE_TARGETS = {20_000: (0.25, 5.0, 50.0, None, 400.0), 100_000: (0.5, 20.0, 200.0, 1800.0, 1000.0)}


def _load(values: list[float]) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def _yes(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "NO")


def render(result: dict) -> str:
    eng = result["engines"]
    nv, zh, ft = eng.get("naive"), eng.get("zhsearch"), eng.get("fts5")
    scale = max((n for n in SCALE_TARGETS if result["posts"] >= n), default=None)
    big = scale is not None
    cold_target, p50_target, p99_target, build_target, build_mb = SCALE_TARGETS.get(
        scale or 0, (COLD_SECONDS, None, None, None, None))
    huge = build_target is not None

    def get(d: dict | None, *keys: str) -> float | None:
        for k in keys:
            if not isinstance(d, dict) or d.get(k) is None:
                return None
            d = d[k]
        return d  # type: ignore[return-value]

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.1f}x" if a and b else "—"

    rows: list[list[str]] = []
    failed = result.get("failed", {})
    absent = {name: "(failed)" if name in failed else "(skipped)" for name in ENGINES}

    def row(name: str, path: tuple[str, ...], digits: int = 2, scale: float = 1.0,
            target: str = "", ok: bool | None = None) -> None:
        a, b, c = (get(e, *path) for e in (nv, zh, ft))
        a, b, c = (x * scale if x is not None else None for x in (a, b, c))
        rows.append([name, fmt(a, digits) if nv else absent["naive"], fmt(b, digits) if zh else absent["zhsearch"],
                     fmt(c, digits) if ft else absent["fts5"], ratio(b, a), ratio(b, c), target, _yes(ok)])

    def extra(cells: list[str]) -> None:
        """A row of naive and zhsearch figures only."""
        rows.append([*cells[:3], "", cells[3], "", *cells[4:]])

    nps, zps = get(nv, "build", "posts_per_s"), get(zh, "build", "posts_per_s")
    zb, fb = get(zh, "build", "wall_s"), get(ft, "build", "wall_s")
    if huge:
        row("build, s", ("build", "wall_s"), 1, target=f"<= {build_target:.0f}",
            ok=(zb <= build_target) if zb is not None else None)
    elif big:
        row("build, s", ("build", "wall_s"), 1, target="<= 0.8x FTS5", ok=(zb <= 0.8 * fb) if zb and fb else None)
    else:
        row("build, s", ("build", "wall_s"), 1)
    row("build throughput, posts/s", ("build", "posts_per_s"), 1,
        target=f">= {BUILD_SPEEDUP:.0f}x naive",
        ok=(zps >= BUILD_SPEEDUP * nps) if (nps and zps) else None)
    row("build peak RSS, MB (largest process)", ("build", "maxrss_mb"), 0)
    for label, key in (("RSS", "tree_rss_mb"), ("PSS", "tree_pss_mb")):
        mb = get(zh, "build", key)
        row(f"build peak {label}, MB (sum over processes)", ("build", key), 0,
            target=f"<= {build_mb:.0f}" if build_mb else "", ok=(mb <= build_mb) if build_mb and mb else None)
    zi, fi = get(zh, "index_bytes"), get(ft, "index_bytes")
    row("index size, MB", ("index_bytes",), 1, scale=1e-6, target="<= 0.6x FTS5" if big and not huge else "",
        ok=(zi <= 0.6 * fi) if big and not huge and zi and fi else None)
    cw, cm = get(zh, "cold", "wall_s_worst"), get(zh, "cold", "maxrss_mb_worst")
    row("cold query, s (median of all runs)", ("cold", "wall_s_median"), 3)
    row("cold query, s (slowest query's median)", ("cold", "wall_s_worst"), 3,
        target=f"<= {cold_target}", ok=(cw <= cold_target) if cw is not None else None)
    if result.get("interpreter_s") is not None:
        extra(["  floor: python alone, s", "", fmt(result["interpreter_s"], 3), "", "", ""])
    if result.get("floor_s") is not None:
        extra(["  floor: python importing click, jieba, s", "", fmt(result["floor_s"], 3), "", "", ""])
    row("cold query peak RSS, MB (largest query)", ("cold", "maxrss_mb_worst"), 0,
        target="" if big else f"<= {COLD_MB:.0f}", ok=(cm <= COLD_MB) if cm is not None and not big else None)
    wm, w50, w99 = get(zh, "warm", "ms_median"), get(zh, "warm", "ms_p50"), get(zh, "warm", "ms_p99")
    real = zh is not None and zh.get("warm", {}).get("queries", 0) > 20
    if real and big:
        row("warm query + 10 snippets, ms: p50 over queries", ("warm", "ms_p50"), 1,
            target=f"<= {p50_target:.0f}", ok=(w50 <= p50_target) if w50 is not None else None)
        row("warm query + 10 snippets, ms: p99 over queries", ("warm", "ms_p99"), 1,
            target=f"<= {p99_target:.0f}", ok=(w99 <= p99_target) if w99 is not None else None)
    else:
        row("warm query + 10 snippets, ms", ("warm", "ms_median"), 1,
            target=f"<= {WARM_MS:.0f}", ok=(wm <= WARM_MS) if wm is not None and not real else None)
        row("warm query + 10 snippets, ms: p99 over queries", ("warm", "ms_p99"), 1)
    row("warm query + 10 snippets, ms (slowest query)", ("warm", "ms_worst"), 1)
    if get(nv, "warm", "ms_median_no_snippets") is not None:
        extra(["  naive without snippets, ms", fmt(get(nv, "warm", "ms_median_no_snippets"), 1),
                     "", "", "", ""])
    uc = get(zh, "update", "changed_cli_s")
    rebuild = get(nv, "build", "wall_s")
    extra(["update, 1 changed post: zhsearch index, s",
                 f"{fmt(rebuild, 1)} (rebuild)" if nv else absent["naive"],
                 fmt(uc, 2) if uc is not None else absent["zhsearch"], "", "" if huge else f"<= {UPDATE_SECONDS:.0f}",
                 _yes((uc <= UPDATE_SECONDS) if uc is not None and not huge else None)])
    if zh and zh.get("update"):
        u = zh["update"]
        extra(["  inside search.update_index, s", "", fmt(u["changed_lib_s"], 3), "", "", ""])
        extra([f"  the largest post ({u['largest_post_kb']:.0f} KB) changed, s", "", fmt(u["largest_cli_s"], 2),
                     "", "" if huge else f"<= {UPDATE_SECONDS:.0f}",
                     _yes(None if huge else u["largest_cli_s"] <= UPDATE_SECONDS)])
        extra(["  touched only (mtime), s", "", fmt(u["touched_cli_s"], 2), "", "", ""])
        extra(["  nothing changed, s", "", fmt(u["noop_cli_s"], 2), "", "", ""])

    runs = []
    for name, e in eng.items():
        build = f"build x{e['build']['runs']}" if e.get("build") else "no build (--reuse)"
        cold = f"cold x{e['cold']['runs']} per query, " if e.get("cold") else ""
        runs.append(f"{name}: {build}, {cold}warm x{e['warm']['reps']} over {e['warm']['queries']} queries"
                    + (f", update x{e['update']['runs']}" if e.get("update") else ""))
    head = (f"== {result['corpus']}: {result['posts']} posts, {result['bytes'] / 1e6:.1f} MB "
            f"({result['path']})\n   medians; " + "; ".join(runs)
            + "\n   load average (1/5/15 min) at start " + _load(result["loadavg_at_start"])
            + ", at end " + _load(result["loadavg_at_end"]))
    parts = [head, table(["", "naive", "zhsearch", "FTS5", "zh/naive", "zh/FTS5", "target", "met"], rows)]

    for name, message in failed.items():
        parts.append(f"!! {name} failed on this corpus: " + message.strip().splitlines()[-1][:300])
    if not eng:
        return "\n\n".join(parts)

    if zh and ft and zh.get("warm") and ft.get("warm") and not real:
        parts.append(table(["warm query", "zhsearch ms", "hits", "FTS5 ms", "hits"], [
            [q, fmt(zh["warm"]["ms_per_query"][q], 1), str(zh["warm"]["hits"][q]), fmt(ms, 1),
             str(ft["warm"]["hits"][q]) + ("" if any(len(w) >= 3 for w in q.strip('"').split()) else " (LIKE)")]
            for q, ms in ft["warm"]["ms_per_query"].items()]))
    if real:
        for name, e in eng.items():
            if e.get("warm"):
                slowest = sorted(e["warm"]["ms_per_query"].items(), key=lambda item: -item[1])[:5]
                parts.append(f"slowest warm queries, {name}: " + ", ".join(
                    f"{q} {ms:.1f} ms ({e['warm']['hits'][q]} hits)" for q, ms in slowest))
    timed = [e for e in eng.values() if e.get("cold")]
    if not timed:
        return "\n\n".join(parts)

    # Per query detail for the cold runs.
    detail = []
    for q in timed[0]["cold"]["per_query"]:
        cells = [q]
        for e in (nv, zh):
            if e:
                pq = e["cold"]["per_query"][q]
                hits = e["warm"]["hits"].get(q)
                cells += [fmt(pq["wall_s"], 3), fmt(pq["maxrss_mb"], 0), "—" if hits is None else str(hits)]
            else:
                cells += ["—", "—", "—"]
        detail.append(cells)
    parts.append(table(["cold query", "naive s", "MB", "hits", "zhsearch s", "MB", "hits"], detail))
    if zh and zh.get("update") and zh["update"].get("change_found_by_search") is False:
        parts.append("!! after the update, searching the new token did not find the changed post")
    return "\n\n".join(parts)
