#!/usr/bin/env python3
"""Bench-only oracle: FD.io CSIT's own MLRsearch driven over a pipe, so that bench/search.ts can run
it on exactly the same simulated DUTs (same model, same seeds, same trial sequence semantics) as
vsperf-ts' search. CSIT's code is not part of this repository: CSIT_MLRSEARCH names the directory
that holds its `MLRsearch` package (resources/libraries/python of an FDio/csit checkout).

Protocol (JSON lines): stdin line 1 is the configuration; then for every trial this process writes
{"load": fps, "duration": s} and reads {"tx": frames, "rx": frames}; at the end it writes
{"done": true, "goals": [{"lower": fps|null, "upper": fps|null, "ct": fps|null}, ...]}, or
{"done": true, "error": "..."} when CSIT's search raises (it fails fast when min load is an upper bound).
"""
import json
import os
import sys

sys.path.insert(0, os.environ["CSIT_MLRSEARCH"])

from MLRsearch import (  # noqa: E402  (path set above)
    AbstractMeasurer,
    Config,
    MeasurementResult,
    MultipleLossRatioSearch,
    SearchGoal,
)


class PipeMeasurer(AbstractMeasurer):
    """Asks the Node side to run each trial on its simulated generator."""

    def measure(self, intended_duration, intended_load):
        sys.stdout.write(json.dumps({"load": intended_load, "duration": intended_duration}) + "\n")
        sys.stdout.flush()
        reply = json.loads(sys.stdin.readline())
        return MeasurementResult(
            intended_duration=intended_duration,
            intended_load=intended_load,
            offered_count=reply["tx"],
            loss_count=reply["tx"] - reply["rx"],
        )


def main():
    cfg = json.loads(sys.stdin.readline())
    goals = [
        SearchGoal(
            loss_ratio=g["loss_ratio"],
            exceed_ratio=g["exceed_ratio"],
            relative_width=g["relative_width"],
            initial_trial_duration=g["initial_trial_duration"],
            final_trial_duration=g["final_trial_duration"],
            duration_sum=g["duration_sum"],
            preceding_targets=cfg["preceding_targets"],
            expansion_coefficient=cfg["expansion_coefficient"],
        )
        for g in cfg["goals"]
    ]
    config = Config()
    config.goals = goals
    config.min_load = cfg["min_load"]
    config.max_load = cfg["max_load"]
    config.search_duration_max = 3600.0
    config.warmup_duration = 0.0
    try:
        results = MultipleLossRatioSearch(config=config).search(measurer=PipeMeasurer(), debug=lambda _text: None)
    except RuntimeError as err:
        # E.g. "No lower bound" (fail-fast when the min load is an upper bound).
        sys.stdout.write(json.dumps({"done": True, "error": str(err).split(":")[0]}) + "\n")
        sys.stdout.flush()
        return
    out = []
    for goal in goals:
        res = results[goal]
        lower = res.relevant_lower_bound
        upper = res.relevant_upper_bound
        ct = res.conditional_throughput
        out.append({
            "lower": float(lower) if lower else None,
            "upper": float(upper) if upper else None,
            "ct": float(ct) if ct else None,
        })
    sys.stdout.write(json.dumps({"done": True, "goals": out}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
