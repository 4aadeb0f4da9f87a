"""Where a replication runs never changes its numbers: serial, processes, Dask (processes
and threads) give identical tables; the model audit travels with the unit."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim import engine
from sim.cli import main
from sim.experiment import executors
from sim.experiment.sweep import sweep
from sim.experiment.units import Unit, execute

SCENARIO = """
name: small-sweep
run: {duration: 60, warmup: 5, seed: 3}
producers:
  web:
    arrivals: {process: poisson, rate: 8}
    message: {key: {choice: [a, b, c]}}
    publish: jobs
queues: {jobs: {}}
workers:
  pool: {consumes: jobs, count: 2, service_time: {dist: exponential, mean: 0.2}}
"""
GRID = {"workers.pool.count": [2, 3]}


@pytest.fixture(scope="module")
def scenario() -> sim.Scenario:
    return sim.loads(SCENARIO)


@pytest.fixture(scope="module")
def serial_table(scenario) -> pd.DataFrame:
    return sweep(scenario, GRID, 3).table


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    yield cluster
    cluster.close()


def test_processes_give_the_serial_table(scenario, serial_table):
    with executors.Processes(2) as pool:
        table = sweep(scenario, GRID, 3, executor=pool).table
    pd.testing.assert_frame_equal(table, serial_table)


def test_dask_processes_give_the_serial_table(scenario, serial_table, dask_cluster):
    with executors.Dask(dask_cluster.scheduler_address) as where:
        assert where.parallelism == 2
        table = sweep(scenario, GRID, 3, executor=where).table
    pd.testing.assert_frame_equal(table, serial_table)


def test_dask_threads_give_the_serial_table(scenario, serial_table):
    # Two runs at once in threads of one process: gc.freeze and the audit flag are shared.
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client, executors.Dask(client) as where:
        table = sweep(scenario, GRID, 3, executor=where).table
    pd.testing.assert_frame_equal(table, serial_table)


def test_the_audit_flag_travels_with_the_unit(scenario, monkeypatch):
    monkeypatch.setattr(engine, "AUDIT", False)
    unit = Unit(scenario.data, seed=1)
    assert unit.audit is False
    monkeypatch.setattr(engine, "AUDIT", True)
    assert Unit(scenario.data, seed=1).audit is True  # captured when the unit is made
    execute(unit)
    assert engine.AUDIT is False  # a worker sets what the unit carries


def test_audit_runs_in_worker_processes(scenario, monkeypatch):
    # A bookkeeping problem found by the audit in a worker process reaches the caller.
    from sim.model.build import Model

    monkeypatch.setattr(Model, "audit", lambda self, drained: ["planted problem"])
    with pytest.raises(AssertionError, match="planted problem"):
        execute(Unit(scenario.data, seed=1, audit=True))
    execute(Unit(scenario.data, seed=1, audit=False))  # no audit, no problem


def test_outcomes_come_back_in_unit_order(scenario):
    units = [Unit(scenario.data, seed=s, replication=i) for i, s in enumerate((5, 1, 9))]
    with executors.Processes(2) as pool:
        outcomes = pool.run(units)
    assert [o.summary["seed"] for o in outcomes] == [5, 1, 9]
    assert all(o.messages is None for o in outcomes)  # only summaries unless asked


def _table(root: Path) -> pd.DataFrame:
    [folder] = [p for p in root.glob("*/sweep-*") if p.is_dir()]
    return pd.read_csv(folder / "table.csv")


def test_cli_jobs_and_cluster_write_identical_tables(tmp_path, dask_cluster, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    tables = {}
    for name, extra in (("jobs1", ["--jobs", "1"]), ("jobs2", ["--jobs", "2"]),
                        ("cluster", ["--cluster", dask_cluster.scheduler_address])):
        out = tmp_path / name
        code = main(["sweep", str(path), "--param", "workers.pool.count=2,3",
                     "--replications", "4", "--out", str(out), "--no-plots", "--quiet", *extra])
        assert code == 0, capsys.readouterr().err
        tables[name] = _table(out)
    pd.testing.assert_frame_equal(tables["jobs1"], tables["jobs2"])
    pd.testing.assert_frame_equal(tables["jobs1"], tables["cluster"])
    assert len(tables["jobs1"]) == 2 and (tables["jobs1"]["replications"] == 4).all()


def test_an_unreachable_cluster_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 1.0)
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    code = main(["sweep", str(path), "--param", "workers.pool.count=2,3", "--out",
                 str(tmp_path / "out"), "--cluster", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --cluster tcp://127.0.0.1:9") and \
        "Traceback" not in err
    assert not list((tmp_path / "out").glob("*/sweep-*"))


def test_jobs_and_cluster_exclude_each_other(tmp_path, capsys):
    code = main(["sweep", "x.yaml", "--param", "a=1", "--jobs", "2", "--cluster", "tcp://x:1"])
    assert code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_manifest_records_the_command(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    assert main(["sweep", str(path), "--param", "workers.pool.count=2", "--replications", "2",
                 "--out", str(tmp_path), "--no-plots", "--quiet"]) == 0
    [folder] = tmp_path.glob("*/sweep-*")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["versions"]["mqsim"] and manifest["command"][0] == "mqsim"
