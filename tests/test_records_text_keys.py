"""Keys and types are text in the messages table, so any mix of YAML types can be written."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import run_checked, scenario_from

from sim.cli import main
from sim.metrics import check_messages
from sim.records import Records

MIXED = """
    name: mixed-keys
    run: {duration: 20s, seed: 1}
    producers:
      vip: {arrivals: {process: poisson, rate: 5}, publish: q, message: {key: vip, type: 1}}
      rest:
        arrivals: {process: poisson, rate: 5}
        publish: q
        message: {key: {uniform_int: [1, 50]}, type: {choice: [a, 2]}}
    queues: {q: {}}
    workers: {w: {consumes: q, service_time: 10ms, count: 2}}
"""


def test_mixed_key_types_run_and_are_written(tmp_path):
    # 'vip' beside integer keys: the run used to end with exit 1 while writing the table
    # ("Could not convert 'vip' ... int64").
    path = tmp_path / "mixed.yaml"
    path.write_text(MIXED)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-plots", "--quiet"]) == 0
    [folder] = (tmp_path / "out" / "mixed-keys").iterdir()
    table = pd.read_parquet(folder / "messages.parquet")
    keys = set(table["key"].astype(str))
    assert "vip" in keys and keys <= {"vip", *(str(i) for i in range(1, 51))}
    assert set(table["type"].astype(str)) == {"1", "a", "2"}
    assert check_messages(table) == []


def test_the_summary_counts_reordering_per_text_key():
    result = run_checked(scenario_from(MIXED))
    assert all(isinstance(k, str) for k in result.messages["key"].cat.categories)
    assert result.summary["reordering"]["reordered"] is not None


def test_values_with_the_same_text_are_one_key():
    # 7 and "7" print the same: one key in the table, numbered as one sequence.
    records = Records(["q"], ["p"], ["w/0"])
    for i, value in enumerate([7, "7", "x", 7]):
        records.add(i, 0, 0, records.keys.code(value), -1, float(i), float(i), i)
    table = records.to_frame()
    assert list(table["key"].astype(str)) == ["7", "7", "x", "7"]
    assert list(table["key"].cat.categories) == ["7", "x"]
    np.testing.assert_array_equal(table["seq"], [0, 1, 0, 2])
    assert table["type"].isna().all()
