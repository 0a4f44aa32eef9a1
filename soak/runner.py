"""One soak run: build the store, start the processes and the devices, watch,
stop, reconcile, judge, and write var/soak/summary.json."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TextIO

import grpc

from soak.calls import CallRecorder, ScenarioError
from soak.handheld import SimulatedHandheld
from soak.latency import interval_line, judge_latency
from soak.processes import SoakProcesses, hq_lag_rows, start_processes, store_last_seq
from soak.reconcile import reconcile
from soak.rss import RssSampler, judge_rss
from soak.settings import SoakSettings
from soak.store_setup import ADMIN, SoakStore, build_store
from soak.till import SimulatedTill
from tillpoint.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    diagnostics_pb2,
    diagnostics_pb2_grpc,
    stock_pb2,
    stock_pb2_grpc,
)

PROGRESS_RPCS = ("AddItem", "CommitSale", "SendCounts", "Echo")
ECHO_INTERVAL = 0.1  # the reference probe: ~10 calls a second, ~100 per 10-s window


def run(settings: SoakSettings, out: TextIO = sys.stdout) -> dict:
    """The summary (also written to settings.summary_path); summary["ok"] is the verdict."""

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    out_dir = settings.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    for leftover in [*out_dir.glob("hq.db*"), settings.summary_path]:
        leftover.unlink(missing_ok=True)
    say(
        f"soak: building the store in {out_dir} ({settings.tills} tills, "
        f"{settings.handhelds} handhelds)"
    )
    store = build_store(out_dir, tills=settings.tills, handhelds=settings.handhelds)
    hq_url = settings.hq_database or f"sqlite:///{out_dir / 'hq.db'}"
    procs = start_processes(store.db_path, hq_url, out_dir)
    link = "mTLS" if getattr(procs.hq, "pki", None) is not None else "plaintext"
    say(
        f"soak: store server pid {procs.server.proc.pid} on {procs.server.address}, "
        f"HQ on {procs.hq.address}, agent replicating over {link}"
    )
    try:
        summary = _soak(settings, store, procs, hq_url, say)
    except BaseException:
        procs.kill()
        procs.write_logs(out_dir)
        raise
    exits = procs.stop()
    procs.write_logs(out_dir)
    summary["process_exit_codes"] = exits
    if exits.get("server") != 0:
        summary["failures"].append(f"the store server exited with {exits.get('server')}")
        summary["ok"] = False
    settings.summary_path.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    _report(summary, say)
    say(f"soak: summary in {settings.summary_path}")
    return summary


def _open_stocktake(address: str) -> str:
    session_id = str(uuid.uuid4())
    with grpc.insecure_channel(address) as channel:
        device = "soak-office"
        token = (
            auth_pb2_grpc.AuthServiceStub(channel)
            .Login(
                auth_pb2.LoginRequest(operator_id=ADMIN[0], pin=ADMIN[1], device_id=device),
                timeout=10,
            )
            .token
        )
        stock_pb2_grpc.StocktakeServiceStub(channel).OpenSession(
            stock_pb2.OpenSessionRequest(session_id=session_id, name="soak 全店盘点"),
            metadata=[("authorization", f"Bearer {token}"), ("x-device-id", device)],
            timeout=10,
        )
    return session_id


def _echo_probe(address: str, recorder: CallRecorder, stop: threading.Event) -> None:
    with grpc.insecure_channel(address) as channel:
        echo = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel).Echo
        while not stop.wait(ECHO_INTERVAL):
            # A failed probe is recorded as an error already; the probe goes on.
            with contextlib.suppress(ScenarioError):
                recorder.call("probe", "Echo", echo, diagnostics_pb2.EchoMessage())


def _soak(settings: SoakSettings, store: SoakStore, procs: SoakProcesses, hq_url: str, say) -> dict:
    address = procs.server.address
    session_id = _open_stocktake(address)
    recorder = CallRecorder(time.monotonic())
    stop = threading.Event()
    tills = [
        SimulatedTill(n, address, store, recorder, stop, seed=settings.seed * 1000 + n)
        for n in range(1, settings.tills + 1)
    ]
    handhelds = [
        SimulatedHandheld(n, address, store, session_id, recorder, stop, seed=settings.seed + n)
        for n in range(1, settings.handhelds + 1)
    ]
    for device in [*tills, *handhelds]:
        device.login()  # sequential, before the clock starts: logins hash PINs
    recorder.reset_clock()
    rss = RssSampler(procs.server.proc.pid, recorder.started)
    rss.start()
    probe_stop = threading.Event()
    probe = threading.Thread(
        target=_echo_probe, args=(address, recorder, probe_stop), name="echo", daemon=True
    )
    probe.start()
    for device in [*tills, *handhelds]:
        device.start()
    started_at = datetime.now(UTC)
    say(f"soak: {settings.seconds:.0f} s from {started_at:%H:%M:%S} UTC")

    last_report = 0.0
    while (now := recorder.now()) < settings.seconds:
        time.sleep(min(settings.progress_seconds, settings.seconds - now, 1.0))
        now = recorder.now()
        if now - last_report >= settings.progress_seconds or now >= settings.seconds:
            _progress(settings, recorder, tills, handhelds, rss, procs, store, last_report, say)
            last_report = now

    stop.set()
    for device in [*tills, *handhelds]:
        device.join(timeout=60)
    stuck = [d.name for d in [*tills, *handhelds] if d.is_alive()]
    probe_stop.set()
    probe.join(timeout=10)
    soak_seconds = recorder.now()
    say(f"soak: devices stopped after {soak_seconds:.0f} s; waiting for HQ to catch up")
    drain_started = time.monotonic()
    lag = hq_lag_rows(store.db_path, procs.hq.address)
    while lag != 0 and time.monotonic() - drain_started < settings.drain_seconds:
        time.sleep(0.5)
        lag = hq_lag_rows(store.db_path, procs.hq.address)
    drain = time.monotonic() - drain_started
    rss.finish()

    recon = reconcile(
        store.db_path,
        hq_url,
        store.config.store_id,
        [t.record for t in tills],
        [h.record for h in handhelds],
        session_id,
    )
    latency = judge_latency(
        recorder.snapshot(),
        settings.seconds,
        settings.window,
        tolerance=settings.latency_tolerance,
        floor_ms=settings.latency_floor_ms,
        min_samples=settings.latency_min_samples,
    )
    memory = judge_rss(
        rss.samples,
        settings.seconds,
        tolerance=settings.rss_tolerance,
        floor_mb=settings.rss_floor_mb,
    )
    events: dict[str, int] = {}
    for device in [*tills, *handhelds]:
        for key, n in device.record.events.items():
            events[key] = events.get(key, 0) + n
    sales = events.get("sales", 0)
    # Throughput counts the sales of the soak's own time, not the last baskets
    # every till finishes once told to stop.
    sales_in_time = sum(
        1 for t in tills for s in t.record.sales.values() if 0 <= s.at <= settings.seconds
    )

    failures = []
    if recorder.error_count:
        failures.append(f"{recorder.error_count} errors")
    if stuck:
        failures.append(f"devices did not stop: {stuck}")
    if lag != 0:
        failures.append(f"HQ still {lag} change rows behind after {drain:.0f} s")
    failures += [f"reconciliation: {p}" for p in recon.problems]
    failures += [
        f"latency of {r.rpc} grew: p50 x{r.p50_ratio}, p99 x{r.p99_ratio} "
        f"(echo-normalised x{r.normalized_p50_ratio}, x{r.normalized_p99_ratio})"
        for r in latency.values()
        if not r.ok
    ]
    if not memory.ok:
        failures.append(
            f"server RSS grew: last third {memory.last_third_mb:.1f} MB vs middle third "
            f"{memory.middle_third_mb:.1f} MB (x{memory.ratio:.3f})"
        )
    return {
        "ok": not failures,
        "failures": failures,
        "settings": {
            k: str(v) if not isinstance(v, int | float) else v
            for k, v in asdict(settings).items()
            if k != "hq_database"
        }
        | {"hq_database": "sqlite (out_dir/hq.db)" if not settings.hq_database else "given"},
        "started_at": started_at.isoformat(timespec="seconds"),
        "soak_seconds": round(soak_seconds, 1),
        "throughput": {
            "sales": sales,
            "sales_in_soak_time": sales_in_time,
            "sales_per_minute": round(sales_in_time * 60 / settings.seconds, 1),
            "calls": sum(recorder.calls.values()),
            "calls_per_rpc": dict(sorted(recorder.calls.items())),
            "events": dict(sorted(events.items())),
        },
        "errors": {
            "count": recorder.error_count,
            "examples": [asdict(e) for e in recorder.errors],
        },
        "intended_non_ok": dict(sorted(recorder.expected.items())),
        "latency": {
            "window_seconds": settings.window,
            "rpcs": {rpc: r.as_dict() for rpc, r in latency.items()},
        },
        "rss_mb": asdict(memory)
        | {"samples": [[round(t, 1), round(mb, 1)] for t, mb in rss.samples]},
        "hq": {
            # tests/hq/support.py's HqProcess serves mTLS with a throwaway CA by default.
            "mtls": getattr(procs.hq, "pki", None) is not None,
            "lag_rows_at_end": lag,
            "drain_seconds": round(drain, 1),
            "store_change_rows": store_last_seq(store.db_path),
        },
        "reconciliation": {"ok": recon.ok, "figures": recon.figures, "problems": recon.problems},
    }


def _progress(settings, recorder, tills, handhelds, rss, procs, store, since, say) -> None:
    now = recorder.now()
    sales = sum(t.record.events["sales"] for t in tills)
    counts = sum(h.record.events["counts"] for h in handhelds)
    lag = hq_lag_rows(store.db_path, procs.hq.address)
    latest = rss.latest()
    say(
        f"[{now:5.0f}/{settings.seconds:.0f} s] sales {sales:,} "
        f"({sales * 60 / max(now, 1):.0f}/min), counts {counts:,}, "
        f"calls {sum(recorder.calls.values()):,}, errors {recorder.error_count}, "
        f"RSS {latest or 0:.1f} MB, HQ lag {lag if lag is not None else '?'} rows; "
        f"p50/p99 ms since last: {interval_line(recorder.snapshot(), since, PROGRESS_RPCS)}"
    )


def _report(summary: dict, say) -> None:
    t = summary["throughput"]
    say("")
    say(
        f"== soak {summary['soak_seconds']:.0f} s: {t['sales']:,} sales "
        f"({t['sales_per_minute']}/min), {t['calls']:,} calls, "
        f"{summary['errors']['count']} errors"
    )
    say(f"   events: {', '.join(f'{k} {v:,}' for k, v in t['events'].items())}")
    if summary["intended_non_ok"]:
        intended = summary["intended_non_ok"].items()
        say("   intended non-OK: " + ", ".join(f"{k} {v}" for k, v in intended))
    lat = summary["latency"]
    say(
        f"   latency per RPC, ms (windows of {lat['window_seconds']:.0f} s;"
        " ratio: lowest of the last third of the windows over the first):"
    )
    say(
        f"   {'rpc':<16}{'calls':>7}{'p50':>8}{'p99':>8}{'max':>8}   "
        f"{'p99 first':>9} {'p99 last':>9} {'ratio':>6} {'norm':>6}  verdict"
    )
    for rpc, r in lat["rpcs"].items():
        o, first, last = r["overall"], r["windows"][0], r["windows"][-1]
        verdict = ("ok" if r["ok"] else "GREW") if r["judged"] else "too few calls to judge"
        say(
            f"   {rpc:<16}{o['n']:>7,}{o['p50_ms']:>8.1f}{o['p99_ms']:>8.1f}{o['max_ms']:>8.1f}   "
            f"{first['p99_ms']:>9.1f} {last['p99_ms']:>9.1f} {r['p99_ratio']:>6.2f} "
            f"{r['normalized_p99_ratio']:>6.2f}  {verdict}"
        )
    m = summary["rss_mb"]
    say(
        f"   server RSS: start {m['start_mb']:.1f} MB, end {m['end_mb']:.1f}, "
        f"max {m['max_mb']:.1f}; middle third {m['middle_third_mb']:.1f}, "
        f"last third {m['last_third_mb']:.1f} (x{m['ratio']:.3f}), "
        f"{m['slope_mb_per_min']:+.2f} MB/min over the last two thirds: "
        + ("bounded" if m["ok"] else "GROWING")
    )
    rec = summary["reconciliation"]
    say(
        "   reconciliation: "
        + ", ".join(f"{k} {v:,}" for k, v in rec["figures"].items())
        + (": clean" if rec["ok"] else ": PROBLEMS")
    )
    for e in summary["errors"]["examples"][:10]:
        say(f"   error at {e['at']:.1f} s {e['device']} {e['rpc']} {e['status']}: {e['detail']}")
    say("== " + ("PASS" if summary["ok"] else "FAIL: " + "; ".join(summary["failures"])))
