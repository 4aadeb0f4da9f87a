"""``mqsim fit service|arrivals FILE``: the YAML to paste on stdout, the evidence on stderr.

``--out DIR`` also writes a folder ``DIR/fit/<UTC time>-<kind>-<file stem>/`` (atomically,
never over an earlier one) with ``fit.json`` (every candidate, its parameters and scores) and
the plots. Bad input is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import yaml

from sim.fit import io
from sim.fit.arrivals import ArrivalsFit, arrivals
from sim.fit.service import MIN_VALUES, ServiceFit, check_values, service, yaml_spec
from sim.fit.values import FitError, yaml_duration

__all__ = ["fit_main", "parser"]

EXIT_OK, EXIT_INVALID = 0, 2
VALUES_FILE = "values.csv"


def parser() -> argparse.ArgumentParser:
    """``mqsim fit``'s own options (the main CLI hands it everything after ``fit``)."""
    fit = argparse.ArgumentParser(
        prog="mqsim fit", description="Fit service times or arrivals to measurements: print "
        "the YAML to paste into a scenario (stdout) and the comparison of candidates (stderr).")
    kinds = fit.add_subparsers(dest="kind", required=True)
    svc = kinds.add_parser("service", help="fit a distribution of durations")
    svc.add_argument("file", help="CSV or Parquet file of durations")
    svc.add_argument("--column", help="the column of durations (default: the only numeric one)")
    svc.add_argument("--unit", choices=sorted(io.TIME_UNITS), default="s",
                     help="the durations' unit (default s)")
    svc.add_argument("--by", metavar="COLUMN",
                     help="fit per message type, named by COLUMN: prints service_time_by_type")
    svc.add_argument("--out", metavar="DIR", help="also write fit.json and plots under DIR/fit/")
    arr = kinds.add_parser("arrivals", help="fit an arrival process to timestamps")
    arr.add_argument("file", help="CSV or Parquet file of timestamps (seconds or ISO dates)")
    arr.add_argument("--column", help="the column of timestamps (default: the only one)")
    arr.add_argument("--out", metavar="DIR", help="also write fit.json and plots under DIR/fit/")
    return fit


def fit_main(argv: Sequence[str], stdout: TextIO | None = None, stderr: TextIO | None = None
         ) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = parser().parse_args(list(argv))
    except SystemExit as done:  # --help or a usage error (argparse printed it)
        return int(done.code or 0) if isinstance(done.code, int) else EXIT_INVALID
    try:
        if args.kind == "service":
            return _service(args, out, err)
        return _arrivals(args, out, err)
    except FitError as error:
        print(f"error: {error}", file=err)
        return EXIT_INVALID


# --- service ----------------------------------------------------------------------------------


def _service(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    column = io.read_measurements(args.file, args.column, exclude=(args.by,) if args.by else ())
    for note in column.notes:
        print(f"note: {note}", file=err)
    where = f"{args.file}, column {column.name!r}"
    x = check_values(io.seconds(column, args.unit), where)
    if column.name == args.by:
        raise FitError(f"--by {args.by} is the column of durations itself")
    groups: dict[str, ServiceFit] = {}
    if args.by:  # read before any fitting: a wrong --by is an error at once
        types = io.read_measurements(args.file, args.by, option="--by", text=True).values
    whole = service(x)
    if args.by:
        types = types.reindex(column.values.index)
        missing = types.isna()
        if missing.any():
            print(f"note: {int(missing.sum())} rows have no {args.by}: they count only in "
                  "service_time", file=err)
        for name, rows in types[~missing].astype(str).str.strip().groupby(
                types[~missing].astype(str).str.strip()):
            vals = x[column.values.index.get_indexer(rows.index)]
            if vals.size < MIN_VALUES:
                print(f"note: {args.by} {name!r} has {vals.size} values (a fit needs "
                      f"{MIN_VALUES}): it uses service_time", file=err)
                continue
            groups[str(name)] = service(vals)
        if not groups:
            raise FitError(f"--by {args.by}: no type has {MIN_VALUES} values to fit")
    unit = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}[args.unit]
    print(f"{whole.n} durations from {where}, in {unit}", file=err)
    _report(whole, "service_time", err)
    for name, fit in groups.items():
        _report(fit, f"service_time_by_type.{name}", err)

    folder = None
    if args.out:
        folder = _write(args.out, "service", args.file,
                        lambda tmp: _write_service(tmp, args, column.name, whole, groups))
    usable = column.single and args.unit == "s" and io.is_csv(args.file) and not args.by
    specs = {"service_time": _printed(whole, folder, VALUES_FILE,
                                      io.absolute(args.file) if usable else None, err,
                                      "service_time")}
    if groups:
        specs["service_time_by_type"] = {
            name: _printed(fit, folder, _values_name(name), None, err,
                           f"service_time_by_type.{name}") for name, fit in groups.items()}
    out.write(_dump(specs))
    if folder is not None:
        print(f"wrote {folder}", file=err)
    return EXIT_OK


def _values_name(name: str) -> str:
    from sim.results import safe_name

    return f"values-{safe_name(name)}.csv"


def _printed(fit: ServiceFit, folder: Path | None, values_name: str, input_file: str | None,
             err: TextIO, what: str) -> dict[str, Any] | str:
    """The spec to print: the fit's, or, when no family fits, empirical with a file."""
    if fit.fits:
        return fit.yaml_spec()
    if folder is not None:
        return {"dist": "empirical", "file": str((folder / values_name).resolve())}
    if input_file is not None:
        return {"dist": "empirical", "file": input_file}
    best = fit.candidates[0]
    print(f"note: {what}: no family fits, but {fit.n} values inline would be unreadable: "
          f"printing the best, {best.family}; rerun with --out DIR to get a one-column file "
          "in seconds for empirical", file=err)
    return yaml_spec(best.spec)


def _report(fit: ServiceFit, what: str, err: TextIO) -> None:
    print(f"{what}: {fit.n} values, mean {yaml_duration(fit.mean)}, cv {fit.cv:.3g}", file=err)
    if not fit.candidates:
        print(f"  {fit.why}", file=err)
        return
    print(f"  {'family':<17}{'AIC':>12}{'KS':>8}{'KS p':>9}{'mean':>10}{'cv':>7}  parameters",
          file=err)
    for c in fit.candidates:
        mark = "*" if c is fit.chosen else ("x" if c.rejected else " ")
        shown = yaml_spec(c.spec)  # a candidate is a family, never a constant (a str)
        assert isinstance(shown, dict)
        params = ", ".join(f"{k}: {_inline(v)}" for k, v in shown.items() if k != "dist")
        cv = f"{c.cv:.3g}" if math.isfinite(c.cv) else "inf"
        mean = yaml_duration(c.mean) if math.isfinite(c.mean) else "inf"
        print(f"{mark} {c.family:<17}{c.aic:>12.1f}{c.ks:>8.4f}{_p(c.ks_p):>9}"
              f"{mean!s:>10}{cv:>7}  {params}", file=err)
    if fit.fits:
        print(f"  chosen (*): {fit.spec['dist']}: {fit.why}", file=err)
    else:
        print(f"  no family fits: {fit.why}", file=err)
    print("  (x: rejected by the KS test at 1%; the KS p-value ignores that the parameters "
          "were estimated, so a rejection is real)", file=err)


def _inline(value: Any) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)


def _p(p: float) -> str:
    return f"{p:.3g}" if p >= 1e-4 else "<1e-4"


def _write_service(tmp: Path, args: argparse.Namespace, name: str, whole: ServiceFit,
                   groups: dict[str, ServiceFit]) -> None:
    from sim.fit.charts import qq_figure, service_figure

    tmp.mkdir()
    payload: dict[str, Any] = {"kind": "service", "file": args.file, "column": name,
                               "unit": args.unit, "by": args.by, **whole.as_dict()}
    payload["spec"] = _relative_spec(whole, VALUES_FILE)
    if groups:
        payload["by_type"] = {}
        for type_name, fit in groups.items():
            entry = fit.as_dict()
            entry["spec"] = _relative_spec(fit, _values_name(type_name))
            payload["by_type"][type_name] = entry
    for fit, values_name, suffix in [(whole, VALUES_FILE, ""), *(
            (fit, _values_name(t), f"-{_values_name(t)[7:-4]}") for t, fit in groups.items())]:
        if not fit.fits:
            np.savetxt(tmp / values_name, fit.values, fmt="%.9g", header="seconds",
                       comments="")
        if not fit.candidates:
            continue  # a constant: nothing to draw against
        for figure, stem in ((service_figure(fit), "service_fit"), (qq_figure(fit), "service_qq")):
            figure.savefig(tmp / f"{stem}{suffix}.png", dpi=120)
    (tmp / "fit.json").write_text(json.dumps(_finite(payload), indent=2, allow_nan=False) + "\n")


def _relative_spec(fit: ServiceFit, values_name: str) -> dict[str, Any] | str:
    if fit.fits:
        return fit.spec
    return {"dist": "empirical", "file": values_name}


# --- arrivals ---------------------------------------------------------------------------------


def _arrivals(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    column = io.read_measurements(args.file, args.column, dates=True)
    for note in column.notes:
        print(f"note: {note}", file=err)
    fit = arrivals(column.values)
    for note in fit.notes:
        print(f"note: {note}", file=err)
    _report_arrivals(fit, f"{args.file}, column {column.name!r}", err)
    folder = None
    if args.out:
        folder = _write(args.out, "arrivals", args.file,
                        lambda tmp: _write_arrivals(tmp, args, column.name, fit))
    out.write(_dump({"arrivals": fit.yaml_spec()}))
    if folder is not None:
        print(f"wrote {folder}", file=err)
    return EXIT_OK


def _report_arrivals(fit: ArrivalsFit, where: str, err: TextIO) -> None:
    t = fit.tests
    print(f"{fit.n} arrivals from {where} over {yaml_duration(fit.span)} "
          f"(mean rate {fit.n / fit.span:.4g}/s), counted in {t['bins']} bins of "
          f"{yaml_duration(fit.bin_width)}", file=err)
    cp = t["change_points"]
    steps = ", ".join(f"{s['rate']:.4g}/s from {yaml_duration(s['start'])}" for s in fit.steps)
    print(f"  change points ({cp['method']}, penalty 2 ln bins = {cp['penalty']:.1f}): "
          f"{cp['steps'] - 1}; steps: {steps}", file=err)
    d = t["dispersion"]
    print(f"  dispersion within the steps: index {d['index']:.3f} (Pearson chi2 "
          f"{d['pearson']:.0f} on {d['df']} df, p {_p(d['p'])})", file=err)
    if fit.mmpp is not None:
        lo, hi = fit.mmpp["rates"]
        dl, dh = fit.mmpp["mean_durations"]
        print(f"  MMPP-2 ({fit.mmpp['method']}): rates {lo:.4g}/s and {hi:.4g}/s, mean "
              f"durations {yaml_duration(dl)} and {yaml_duration(dh)}, "
              f"{t.get('mmpp_cycles', 0):.1f} "
              "cycles over the span", file=err)
    bic = ", ".join(f"{k} {v:.1f}" for k, v in t["bic"].items() if v is not None)
    print(f"  BIC (lower is better): {bic}", file=err)
    print(f"  chosen: {fit.choice}: {fit.why}", file=err)
    print(f"  the fit covers {yaml_duration(fit.span)}: a run.duration of that length replays "
          "the same span", file=err)


def _write_arrivals(tmp: Path, args: argparse.Namespace, name: str, fit: ArrivalsFit) -> None:
    from sim.fit.charts import rate_figure

    tmp.mkdir()
    payload = {"kind": "arrivals", "file": args.file, "column": name, **fit.as_dict()}
    rate_figure(fit).savefig(tmp / "arrivals_rate.png", dpi=120)
    (tmp / "fit.json").write_text(json.dumps(_finite(payload), indent=2, allow_nan=False) + "\n")


# --- shared -----------------------------------------------------------------------------------


def _write(root: str, kind: str, file: str, write: Any) -> Path:
    """The fit's folder, written atomically under ``root/fit`` (never over an earlier one)."""
    from sim.results import OutputError, check_writable, safe_name, write_folder

    try:
        base = check_writable(root, "fit")
    except OutputError as error:
        raise FitError(f"--out {root}: {error}") from None
    return write_folder(base, "", f"-{kind}-{safe_name(Path(file).stem)}", write)


def _finite(value: Any) -> Any:
    """``value`` for JSON: inf and nan become None, numpy numbers plain ones."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


class _Dumper(yaml.SafeDumper):
    """Writes a distribution's mapping on one line, lists inside it too."""


def _inline_mapping(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = "dist" in data  # a distribution: {dist: ..., mean: ...} as in the docs
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(dict, _inline_mapping)


def _dump(specs: dict[str, Any]) -> str:
    """The YAML to paste: a mapping per key, each distribution inline
    (``service_time: {dist: lognormal, mean: 120ms, cv: 0.8}``)."""
    return yaml.dump(specs, Dumper=_Dumper, sort_keys=False, default_flow_style=None,
                     allow_unicode=True, width=100)
