"""From measurements to a scenario: fit service times and arrivals (``mqsim fit``).

```python
import sim.fit
fit = sim.fit.service(durations_in_seconds)    # ServiceFit: .spec, .candidates, .why
fit.yaml_spec()                                # {"dist": "lognormal", "mean": "120ms", "cv": 0.8}
arr = sim.fit.arrivals(timestamps)             # ArrivalsFit: .spec, .choice, .tests, .why
```

`sim.fit.service` fits the scenario format's families by maximum likelihood and ranks them
(AIC, Kolmogorov–Smirnov); `sim.fit.arrivals` chooses a steady Poisson rate, a schedule of
steps (PELT change points) or a bursty two-state MMPP. The figures are in `sim.fit.charts`.
This package needs scipy; the CLI imports it only when ``mqsim fit`` runs.
"""

from __future__ import annotations

from sim.fit.arrivals import ArrivalsFit, arrivals
from sim.fit.service import Candidate, ServiceFit, service
from sim.fit.values import FitError

__all__ = ["ArrivalsFit", "Candidate", "FitError", "ServiceFit", "arrivals", "service"]
