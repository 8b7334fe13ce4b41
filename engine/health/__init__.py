"""Model health: initialisation checks, the runtime monitor, weight and token statistics.

Layout: `init_check.py` (check a fresh policy, retry other init methods: `initialise`),
`monitor.py` (per-step health events and the repairs they trigger: `HealthMonitor`),
`weights.py` (per-tensor statistics and a weight histogram for the Model screen), `tokens.py`
(token and pair usage against a uniform choice: `token_report`), `benchmark.py` (what all this
costs per batch: `python -m engine.health.benchmark`).
"""

from engine.health.init_check import InitCheck, InitReport, check_init, initialise, measure_init
from engine.health.monitor import HealthEvent, HealthMonitor, apply_health_actions, grad_norms
from engine.health.tokens import token_report, uniform_expectation
from engine.health.weights import weight_histogram, weight_stats

__all__ = [
    "HealthEvent",
    "HealthMonitor",
    "InitCheck",
    "InitReport",
    "apply_health_actions",
    "check_init",
    "grad_norms",
    "initialise",
    "measure_init",
    "token_report",
    "uniform_expectation",
    "weight_histogram",
    "weight_stats",
]
