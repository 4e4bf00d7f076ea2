"""Termination under load: preStop against the deregistration lag, grace against preStop + shutdown.

The shapes are the rendered prestop stage's, with the ui's preStop and grace period changed the
way a pull request would change them (config consistency refuses the bad combinations; the
rendered objects are what Argo CD applies, so the model takes them as they come).
"""

from __future__ import annotations

from dataclasses import replace

from shopgen.simulate.traffic import DRAINING, KILLED


def with_ui(shape, **changes):
    workloads = tuple(replace(w, **changes) if w.name == "ui" else w for w in shape.workloads)
    return replace(shape, workloads=workloads)


def test_prestop_covering_the_deregistration_lag_and_grace_covering_shutdown_give_no_5xx(shapes, run):
    shape = with_ui(shapes["prestop"], prestop=6.0, grace=16.0)  # lag 5 s; 6 + shutdown 10 = 16
    outcome = run(shape, "rollout", load__duration=300)
    assert outcome.tally.requests == 30000
    assert sum(outcome.tally.errors.values()) == 0
    assert outcome.max_replicas["ui"] > 2  # it rolled under load


def test_the_rendered_prestop_stage_rolls_out_without_5xx(shapes, run):
    outcome = run(shapes["prestop"], "rollout", load__duration=300)
    assert sum(outcome.tally.errors.values()) == 0


def test_a_prestop_shorter_than_the_deregistration_lag_gives_draining_target_errors(shapes, run):
    shape = with_ui(shapes["prestop"], prestop=2.0, grace=12.0)
    errors = run(shape, "rollout", load__duration=300).tally.errors
    assert errors[DRAINING] > 0
    assert set(errors) == {DRAINING}
    longer = run(with_ui(shapes["prestop"], prestop=4.0, grace=14.0), "rollout", load__duration=300).tally.errors
    assert 0 < longer[DRAINING] < errors[DRAINING]  # a shorter gap loses fewer requests


def test_a_grace_period_shorter_than_prestop_plus_shutdown_kills_requests_in_flight(shapes, run):
    # Two fixed pods a fifth past their capacity hold seconds of queued requests when the rollout
    # deletes them; SIGKILL at the grace period cuts what they still hold. The baseline's pods have
    # no readiness probe, so nothing takes them out of rotation first.
    load = {"load__duration": 200, "load__rate": 80, "rollout__warm_up": 0, "rollout__at": 40}
    short = run(with_ui(shapes["baseline"], prestop=6.0, grace=7.0), "rollout", **load)
    assert short.tally.errors[KILLED] > 0
    long = run(with_ui(shapes["baseline"], prestop=6.0, grace=120.0), "rollout", **load)
    assert long.tally.errors[KILLED] == 0


LONG_REQUESTS = {"request_cost__jvm": 5.0, "warmup_factor__jvm": 1.0, "load__rate": 1, "load__duration": 300}


def test_on_the_prestop_stage_a_grace_period_too_short_for_long_requests_kills_them(shapes, run):
    # Requests of several seconds (5 CPU-seconds each, an export, say) still run when the ALB stops
    # sending (5 s after the delete); preStop 6 s, then SIGTERM, and SIGKILL at 7 s cuts them, where
    # a grace period of preStop + shutdown (16 s) lets them finish.
    short = run(with_ui(shapes["prestop"], prestop=6.0, grace=7.0), "rollout", **LONG_REQUESTS).tally.errors
    assert short[KILLED] > 0
    assert set(short) == {KILLED}
    enough = run(with_ui(shapes["prestop"], prestop=6.0, grace=16.0), "rollout", **LONG_REQUESTS).tally.errors
    assert sum(enough.values()) == 0


def test_the_deregistration_delay_cuts_requests_still_running_when_it_ends(shapes, run):
    # The target group drains for deregistration_delay.timeout_seconds, then closes what is left.
    shape = shapes["prestop"]
    none = replace(shape, entry=replace(shape.entry, deregistration_delay=0.0))
    cut = run(none, "rollout", **LONG_REQUESTS).tally.errors
    assert cut[DRAINING] > 0
    assert sum(run(shape, "rollout", **LONG_REQUESTS).tally.errors.values()) == 0  # the rendered 60 s
