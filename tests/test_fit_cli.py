"""``mqsim fit``: only the YAML on stdout, the evidence on stderr, a folder with --out, and
one clear line with exit code 2 for every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main
from sim.random.distributions import make
from tests.conftest import run_checked, scenario_from

ROOT = Path(__file__).parent.parent


def lognormal_ms(n: int = 3000, seed: int = 1) -> np.ndarray:
    return make({"dist": "lognormal", "mean": 0.12, "cv": 0.8}).sample(
        np.random.default_rng(seed), n) * 1000


@pytest.fixture
def jobs(tmp_path: Path) -> Path:
    """Lognormal durations in ms with a job id and a type (sms are a tenth as long as email,
    the email_ms column holds only email durations)."""
    rng = np.random.default_rng(2)
    ms = lognormal_ms()
    kind = rng.choice(["email", "sms"], ms.size)
    mixed = np.where(kind == "sms", ms / 10, ms)
    path = tmp_path / "jobs.csv"
    pd.DataFrame({"job": np.arange(ms.size), "duration_ms": mixed, "email_ms": ms,
                  "type": kind}).to_csv(path, index=False)
    return path


def fit(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["fit", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_service_prints_only_the_yaml_and_ranks_on_stderr(jobs, capsys):
    code, out, err = fit(["service", str(jobs), "--column", "email_ms", "--unit", "ms"], capsys)
    assert code == 0
    printed = yaml.safe_load(out)
    assert list(printed) == ["service_time"]
    assert out.startswith("service_time: {dist: ")
    for family in ("lognormal", "gamma", "erlang", "weibull", "exponential", "pareto"):
        assert family in err
    assert "AIC" in err and "KS" in err and "chosen (*)" in err


def test_by_type_prints_service_time_by_type_that_a_scenario_runs(jobs, tmp_path, capsys):
    code, out, _ = fit(["service", str(jobs), "--column", "duration_ms", "--unit", "ms",
                        "--by", "type"], capsys)
    assert code == 0
    printed = yaml.safe_load(out)
    assert set(printed["service_time_by_type"]) == {"email", "sms"}
    sms, email = (make_spec(printed["service_time_by_type"][t]) for t in ("sms", "email"))
    assert sms.mean == pytest.approx(email.mean / 10, rel=0.1)
    body = "\n".join("    " + line for line in out.splitlines())
    scenario = scenario_from(f"""
name: by-type
run: {{duration: 20, seed: 1}}
producers:
  p:
    arrivals: {{process: poisson, rate: 20}}
    message: {{type: {{choice: [email, sms]}}}}
    publish: q
queues:
  q: {{}}
workers:
  w:
    consumes: q
    count: 8
{body}
""")
    assert run_checked(scenario).summary["totals"]["completed"] > 200


def make_spec(spec: dict):
    from sim.scenario import from_dict

    scenario = from_dict({"name": "x", "run": {"duration": 1},
                          "producers": {"p": {"arrivals": {"process": "poisson", "rate": 1},
                                              "publish": "q"}},
                          "queues": {"q": {}},
                          "workers": {"w": {"consumes": "q", "service_time": spec}}})
    return make(scenario.data["workers"]["w"]["service_time"])


def test_out_writes_fit_json_and_plots_and_never_overwrites(jobs, tmp_path, capsys):
    out_dir = tmp_path / "out"
    args = ["service", str(jobs), "--column", "email_ms", "--unit", "ms", "--out",
            str(out_dir)]
    assert fit(args, capsys)[0] == 0
    assert fit(args, capsys)[0] == 0
    folders = sorted((out_dir / "fit").iterdir())
    assert len(folders) == 2 and all("-service-jobs" in f.name for f in folders)
    for folder in folders:
        names = {p.name for p in folder.iterdir()}
        assert names == {"fit.json", "service_fit.png", "service_qq.png"}
        data = json.loads((folder / "fit.json").read_text())
        assert data["chosen"] == "lognormal" and len(data["candidates"]) >= 6
        assert {"family", "spec", "parameters", "aic", "ks", "ks_p"} <= set(data["candidates"][0])
    assert not list((out_dir / "fit").glob(".tmp*"))


def test_no_family_fits_proposes_empirical_with_a_file_that_loads(tmp_path, capsys):
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(0.010, 0.001, 2500), rng.normal(0.100, 0.005, 2500)])
    path = tmp_path / "two_modes.csv"
    pd.DataFrame({"seconds": x}).to_csv(path, index=False)
    code, out, err = fit(["service", str(path)], capsys)  # one column in seconds: usable as is
    assert code == 0 and "no family fits" in err
    spec = yaml.safe_load(out)["service_time"]
    assert spec == {"dist": "empirical", "file": str(path.resolve())}
    assert make_spec(spec).mean == pytest.approx(x.mean())
    # With --out, the values are written in seconds beside fit.json, whatever the input.
    pd.DataFrame({"ms": x * 1000, "id": np.arange(x.size)}).to_csv(path, index=False)
    code, out, err = fit(["service", str(path), "--column", "ms", "--unit", "ms", "--out",
                          str(tmp_path / "o")], capsys)
    spec = yaml.safe_load(out)["service_time"]
    assert spec["dist"] == "empirical" and Path(spec["file"]).name == "values.csv"
    assert make_spec(spec).mean == pytest.approx(x.mean(), rel=1e-6)


def test_equal_durations_print_a_constant(tmp_path, capsys):
    path = tmp_path / "same.csv"
    path.write_text("d\n" + "0.25\n" * 20)
    code, out, err = fit(["service", str(path)], capsys)
    assert (code, out) == (0, "service_time: 250ms\n") and "the same: a constant" in err


def test_a_hyperexponential_prints_on_one_line(tmp_path, capsys):
    x = make({"dist": "hyperexponential", "probs": [0.7, 0.3], "means": [0.05, 0.3]}).sample(
        np.random.default_rng(1), 5000)
    path = tmp_path / "h2.csv"
    pd.DataFrame({"d": x}).to_csv(path, index=False)
    code, out, _ = fit(["service", str(path)], capsys)
    assert code == 0 and out.count("\n") == 1
    assert out.startswith("service_time: {dist: hyperexponential, probs: [0.")


def test_parquet_input_is_read(tmp_path, capsys):
    path = tmp_path / "d.parquet"
    pd.DataFrame({"d": lognormal_ms() / 1000}).to_parquet(path)
    code, out, _ = fit(["service", str(path)], capsys)
    assert code == 0 and yaml.safe_load(out)["service_time"]["dist"] == "lognormal"


def test_arrivals_from_iso_dates_print_a_schedule(tmp_path, capsys):
    from tests.test_fit_arrivals import TWO_STEPS, arrivals_of

    t = arrivals_of(TWO_STEPS, 3600, 1)
    stamps = pd.Timestamp("2026-11-30T09:00:00Z") + pd.to_timedelta(t, unit="s")
    path = tmp_path / "access.csv"
    pd.DataFrame({"ts": stamps.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "path": "/"}).iloc[::-1] \
        .to_csv(path, index=False)
    code, out, err = fit(["arrivals", str(path), "--out", str(tmp_path / "o")], capsys)
    assert code == 0
    printed = yaml.safe_load(out)["arrivals"]
    assert printed["process"] == "poisson" and len(printed["schedule"]) == 2
    assert "not in order: sorted them" in err and "PELT" in err and "dispersion" in err
    [folder] = (tmp_path / "o" / "fit").iterdir()
    assert {p.name for p in folder.iterdir()} == {"fit.json", "arrivals_rate.png"}
    assert json.loads((folder / "fit.json").read_text())["choice"] == "schedule"


@pytest.mark.parametrize(("content", "args", "says"), [
    ("", [], "is empty"),
    ("d\n", [], "has a header (d) but no rows"),
    ("a,b\n1,2\n3,4\n", ["--column", "c"], "has no column 'c' (--column); the columns are a, b"),
    ("a,b\n1,2\n3,4\n", [], "several numeric columns (a, b); choose one with --column NAME"),
    ("name,d\nx,1\ny,2\n", ["--column", "name"], "column 'name' is not numeric (2 of 2"),
    ("d\n" + "0.1\n" * 10 + "0\n-1\n-2\n", [], "durations must be > 0, got 1 zero and 2 "
     "negative of 13"),
    ("d\n0.5\n", [], "at least 10 values, got 1"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", [], "is not a CSV or Parquet file"),
    ("d\n" + "0.1\n" * 20, ["--by", "kind"], "has no column 'kind' (--by); the columns are d"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, content, args, says):
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    code, out, err = fit(["service", str(path), *args], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and says in err, err
    assert "Traceback" not in err


def test_a_missing_file_and_a_bad_option_exit_2(tmp_path, capsys):
    code, _, err = fit(["service", str(tmp_path / "none.csv")], capsys)
    assert code == 2 and "cannot read" in err
    code, _, err = fit(["service", str(tmp_path / "none.csv"), "--unit", "h"], capsys)
    assert code == 2 and "invalid choice" in err


def test_the_cli_does_not_import_the_fits_at_start_up(tmp_path):
    scenario = ROOT / "scenarios" / "traffic_spike.yaml"
    code = (f"import sys; from sim.cli import main; main(['validate', {str(scenario)!r}]); "
            "print('sim.fit' in sys.modules, 'scipy' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's sim, not an installed one
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True, env=env)
    assert done.stdout.strip().splitlines()[-1] == "False False"
