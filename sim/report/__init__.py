"""Printed reports: the text ``mqsim`` prints after a run, a sweep or a comparison.

Each takes what the Python API returns, so a notebook prints the same table as the CLI::

    print(sim.report.format_summary(result.summary))
    print(sim.report.format_sweep(sweep.table, sweep.parameters,
                                  currency=sim.format.currency_of(sweep.scenario)))
    print(sim.report.format_comparison(c.table, c.differences, c.names, threshold=c.threshold))

(``currency``: named once in the header of a cost column; without it the header names none.)

Light to import (no pandas, no matplotlib): a report reads the tables it is given.
"""

from sim.report.experiments import format_comparison, format_sweep
from sim.report.run import format_replicated, format_summary

__all__ = ["format_comparison", "format_replicated", "format_summary", "format_sweep"]
