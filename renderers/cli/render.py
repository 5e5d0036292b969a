"""Render commands: ``render`` (one design, or ``--all``) and ``doctor``."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import click

from renderers.formats import DEFAULT_QUALITY, FORMATS, QUALITIES

from opendesign.catalogue import queries
from opendesign.cli.base import AppContext, emit_json, json_option, pass_app
from opendesign.manifests import kinds


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}: expected NAME=VALUE", param_hint="-p")
        if name in params:
            raise click.BadParameter(f"{name!r} is given twice", param_hint="-p")
        params[name] = value
    return params


def _fmt_number(x: float) -> str:
    return f"{x:.6g}"


def _describe(info) -> list[tuple[str, str]]:
    rows = [("path", str(info.path)), ("bytes", str(info.bytes)), ("sha256", info.sha256)]
    if info.triangles is not None:
        rows.append(("triangles", str(info.triangles)))
    if info.watertight is not None:
        rows.append(("watertight", "yes" if info.watertight else "NO"))
    if info.volume is not None:
        rows.append(("volume", f"{_fmt_number(info.volume)} mm³"))
    if info.bbox:
        lo, hi = info.bbox
        size = " × ".join(_fmt_number(h - l) for l, h in zip(lo, hi))
        rows.append(("bbox", f"[{', '.join(map(_fmt_number, lo))}] … [{', '.join(map(_fmt_number, hi))}] mm ({size})"))
    rows += [("seconds", f"{info.seconds:.3f}"), ("cache", info.cache)]
    return rows


def _print_artifact(info) -> None:
    part = f" part {info.part}" if info.part else ""
    click.secho(f"{info.ref}{part}  {info.format}  {info.quality}", bold=True)
    for key, value in _describe(info):
        colour = "red" if value == "NO" else None
        click.echo(f"  {key:<11} " + click.style(value, fg=colour))


def _write_out(app: AppContext, infos: list, output: str, as_dir: bool = False) -> list:
    """Copy verified artifacts to *output* (a file for one artifact, else a folder); return infos with new paths."""
    from dataclasses import replace

    from renderers.cache import artifact_store

    store = artifact_store(app.db, app.settings)
    target = Path(output)
    as_dir = as_dir or len(infos) > 1 or target.is_dir() or output.endswith(os.sep)
    if as_dir:
        target.mkdir(parents=True, exist_ok=True)
    written = []
    for info in infos:
        dest = target / info.filename if as_dir else target
        opened = store.open_verified(info.key)
        if opened is None:
            raise click.ClickException(f"{info.filename}: the cached file failed its sha256 check; render again")
        src, _ = opened
        with src, tempfile.NamedTemporaryFile(dir=dest.parent, prefix=f".{dest.name}.", delete=False) as tmp:
            shutil.copyfileobj(src, tmp)
        os.replace(tmp.name, dest)
        written.append(replace(info, path=dest.resolve()))
    return written


@click.command("render")
@click.argument("ref", required=False, metavar="SLUG[@VERSION]")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Set a parameter (repeatable); unset parameters keep their defaults.")
@click.option("-f", "--format", "formats", multiple=True, type=click.Choice(list(FORMATS)),
              help="Output format (repeatable; default stl).")
@click.option("--quality", type=click.Choice(list(QUALITIES)), default=DEFAULT_QUALITY, show_default=True,
              help="Tessellation quality of mesh formats.")
@click.option("-o", "--output", type=click.Path(), help="Copy the files here (a folder when there are several).")
@click.option("--all", "render_all", is_flag=True, help="Render every design's defaults, in parallel.")
@json_option
@pass_app
def render_command(app: AppContext, ref: str | None, params: tuple[str, ...], formats: tuple[str, ...],
                   quality: str, output: str | None, render_all: bool, as_json: bool) -> None:
    """Render a design to STL, 3MF, GLB, STEP or SVG (cached; sandboxed).

    Prints, per file: path, bytes, sha256, triangles, watertight, volume,
    bounding box, seconds and whether it came from the cache. Exits non-zero
    with the error's category when the render fails.
    """
    formats = formats or ("stl",)
    if render_all:
        if ref or params:
            raise click.UsageError("--all renders every design's defaults; it takes no SLUG or -p")
        _render_all(app, list(formats), quality, output, as_json)
        return
    if not ref:
        raise click.UsageError("give a SLUG[@VERSION], or --all")
    from renderers.errors import RenderError
    from renderers.job_client import JobRenderer

    values = _parse_params(params)
    try:
        # A job on the preview queue when broker_url is set; this process's pool otherwise.
        infos = JobRenderer(app.settings, app.db, queue="preview").render(ref, values, list(formats), quality)
    except RenderError as exc:
        if as_json:
            emit_json({"ok": False, "error": exc.as_dict()})
        raise
    if output:
        infos = _write_out(app, infos, output)
    if as_json:
        emit_json({"ok": True, "artifacts": [i.as_dict() for i in infos]})
    else:
        for info in infos:
            _print_artifact(info)


def _render_all(app: AppContext, formats: list[str], quality: str, output: str | None, as_json: bool) -> None:
    from renderers.errors import RenderError
    from renderers.job_client import JobRenderer

    with app.db.session() as session:
        latest = [d.latest_version for d in queries.list_designs(session) if d.latest_version is not None]
        refs = [v.ref for v in latest]
        # --all asks for what each design has: a design of mesh files has no STEP to give.
        no_step = {v.ref for v in latest if kinds.no_step_reason(v.manifest or {})}
    # With broker_url set, every design is a job on the batch queue for the Celery workers;
    # without it, this process's warm pool renders them.
    renderer = JobRenderer(app.settings, app.db, queue="batch")
    if renderer.remote:
        pool, threads = None, max(1, min(len(refs), 32))
    else:
        from renderers.pool import get_pool

        pool = get_pool(app.settings)
        threads = max(1, pool.size)
    results: dict[str, dict] = {}
    started = time.perf_counter()

    def one(ref: str) -> dict:
        t0 = time.perf_counter()
        try:
            wanted = [f for f in formats if not (f == "step" and ref in no_step)] or ["stl"]
            infos = renderer.render(ref, {}, wanted, quality, pool=pool)
            if output:
                infos = _write_out(app, infos, str(Path(output) / ref.replace("@", "-")), as_dir=True)
            return {"ref": ref, "ok": True, "seconds": time.perf_counter() - t0, "artifacts": infos}
        except RenderError as exc:
            return {"ref": ref, "ok": False, "seconds": time.perf_counter() - t0, "error": exc}

    show = not as_json and sys.stderr.isatty()
    with ThreadPoolExecutor(threads) as executor, \
            click.progressbar(length=len(refs), label="rendering", file=sys.stderr, hidden=not show,
                              item_show_func=lambda r: r or "") as bar:
        futures = {executor.submit(one, ref): ref for ref in refs}
        for future in as_completed(futures):
            result = future.result()
            results[result["ref"]] = result
            bar.update(1, result["ref"])
    ordered = [results[r] for r in refs]
    failed = [r for r in ordered if not r["ok"]]
    if as_json:
        emit_json({"ok": not failed, "seconds": round(time.perf_counter() - started, 3), "designs": [
            {"ref": r["ref"], "ok": r["ok"], "seconds": round(r["seconds"], 3),
             **({"artifacts": [i.as_dict() for i in r["artifacts"]]} if r["ok"] else {"error": r["error"].as_dict()})}
            for r in ordered]})
    else:
        for r in ordered:
            if r["ok"]:
                whole = r["artifacts"][0]
                tight = "watertight" if whole.watertight else click.style("NOT watertight", fg="red")
                parts = len([i for i in r["artifacts"] if i.part and i.format == whole.format])
                extra = f", {parts} parts" if parts else ""
                click.echo(f"{click.style('ok', fg='green')}    {r['ref']:<48} {whole.triangles or 0:>8} triangles, "
                           f"{tight}{extra}, {r['seconds']:.2f} s ({whole.cache})")
            else:
                click.echo(f"{click.style('FAIL', fg='red')}  {r['ref']:<48} {r['error'].category}: "
                           f"{r['error'].message}")
        click.echo(f"{len(ordered) - len(failed)} rendered, {len(failed)} failed in "
                   f"{time.perf_counter() - started:.1f} s")
    if failed:
        sys.exit(1)


def _broker_report(settings) -> dict:
    from renderers.celery_dispatch import CeleryDispatcher

    return CeleryDispatcher(settings).describe()


_PROBE = b"""import cadquery as cq


def build(params):
    return cq.Workplane("XY").box(10, 10, 10).edges("|Z").fillet(2)
"""


@click.command()
@click.option("--probe/--no-probe", default=True, show_default=True,
              help="Start the sandbox and render a test cube in it.")
@json_option
@pass_app
def doctor(app: AppContext, probe: bool, as_json: bool) -> None:
    """Report the render setup: versions, sandbox mode, limits, pool and cache."""
    from renderers import launcher
    from renderers.keys import renderer_versions
    from renderers.sandbox.confine import seccomp_supported
    from renderers.pool import RenderJob, get_pool, limits_for

    from opendesign.trust import render_mode

    settings = app.settings
    plan = launcher.plan(settings)
    mode = render_mode(settings, plan.isolated)
    bwrap = launcher.bwrap_path()
    bwrap_version = None
    if bwrap:
        import subprocess

        try:
            bwrap_version = subprocess.run([bwrap, "--version"], capture_output=True, text=True,
                                           timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            bwrap_version = "unknown"
    limits = limits_for(settings)
    report: dict = {
        "python": platform.python_version(),
        "versions": renderer_versions(),
        "bwrap": {"path": bwrap, "version": bwrap_version},
        "euid": os.geteuid(),
        "sandbox": {"mode": plan.mode, "isolated": plan.isolated, "detail": plan.describe(),
                    "job_uid_base": plan.uid_base, "seccomp": seccomp_supported()},
        "render_mode": {"mode": mode.name, "detail": mode.describe(),
                        "allow_unsandboxed_untrusted": settings.render_allow_unsandboxed_untrusted},
        "pool_size": settings.render_pool_size,
        "limits": {"timeout_seconds": settings.render_timeout, "cpu_seconds": limits.cpu_seconds,
                   "memory_mb": settings.render_memory_mb, "max_output_mb": settings.render_max_output_mb,
                   "max_triangles": settings.render_max_triangles, "processes": limits.processes,
                   "open_files": limits.open_files},
        "cache": {"path": str(settings.cache_dir.resolve()), "max_bytes": settings.cache_max_bytes},
    }
    try:
        from renderers.cache import artifact_store

        report["cache"].update(artifact_store(app.db, settings).stats())
    except Exception as exc:  # noqa: BLE001 — a doctor reports, it does not fail on the cache
        report["cache"]["error"] = str(exc)
    ok = True
    if settings.broker_url:
        report["broker"] = _broker_report(settings)
        ok = report["broker"]["reachable"]
    if probe:
        from renderers.errors import RenderError

        t0 = time.perf_counter()
        try:
            pool = get_pool(settings)
            info = pool.start()
            t1 = time.perf_counter()
            out = pool.render(RenderJob(files={"model.py": _PROBE}, params={}, label="doctor probe"))
            report["probe"] = {"ok": "model.stl" in out.files, "zygote_start_seconds": round(t1 - t0, 3),
                               "render_seconds": round(out.seconds, 3), "zygote": info}
        except RenderError as exc:
            ok = False
            report["probe"] = {"ok": False, "error": exc.as_dict()}
    if as_json:
        emit_json(report)
    else:
        v = report["versions"]
        rows = [
            ("python", report["python"]),
            ("cadquery", v["cadquery"]), ("OCP", v["ocp"]), ("trimesh", v["trimesh"]),
            ("renderer", v["renderer"]),
            ("bwrap", f"{bwrap} ({bwrap_version})" if bwrap else "not installed (apt-get install bubblewrap)"),
            ("running as", "root" if report["euid"] == 0 else f"uid {report['euid']}"),
            ("sandbox", f"{plan.mode}: {plan.describe()}"),
            ("renders", ("" if mode.isolated else "NOT ISOLATED — ") + mode.describe()),
            ("seccomp", "on (x86_64 filter)" if seccomp_supported() else "OFF (filter written for x86_64 only)"),
            ("pool size", str(settings.render_pool_size)),
            ("limits", f"wall {settings.render_timeout:g} s, CPU {limits.cpu_seconds} s, memory "
                       f"{settings.render_memory_mb} MiB, {settings.render_max_output_mb} MiB per file, "
                       f"{settings.render_max_triangles} triangles, {limits.processes} processes, "
                       f"{limits.open_files} open files"),
        ]
        cache = report["cache"]
        if "entries" in cache:
            rows.append(("cache", f"{cache['path']}: {cache['entries']} files, {cache['bytes'] / 2**20:.1f} of "
                                  f"{cache['max_bytes'] / 2**20:.0f} MiB"))
        if probe:
            p = report["probe"]
            rows.append(("probe", f"ok — sandbox started in {p['zygote_start_seconds']:.2f} s, test cube rendered "
                                  f"in {p['render_seconds']:.3f} s" if p["ok"]
                         else f"FAILED — {p['error']['category']}: {p['error']['message']}"))
        if "broker" in report:
            from renderers.celery_dispatch import doctor_rows

            rows += doctor_rows(report["broker"])
        for key, value in rows:
            colour = "red" if value.startswith(("NONE", "none", "FAILED", "not installed", "OFF", "NOT",
                                                "UNREACHABLE")) else None
            click.echo(f"{key:<11} " + click.style(value, fg=colour))
    if not ok:
        sys.exit(1)
