"""A pod's life in the model: start-up, probes, restarts, its ALB target, and termination.

A mixin of ``engine.Simulation`` (its state: ``env``, ``params``, ``shape``, ``targets``, ...): the
kubelet's and the AWS Load Balancer Controller's side of the story.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopgen.simulate import traffic
from shopgen.simulate.cluster import Pod
from shopgen.simulate.traffic import Target

if TYPE_CHECKING:
    pass


class PodLife:
    """Processes for one pod at a time; ``self`` is the Simulation."""

    # -- pod life ----------------------------------------------------------------------------
    def _boot(self, pod: Pod, pull: bool):
        pod.phase = "starting"
        pod.life += 1
        life = pod.life
        if pod.workload is not self.entry:
            pod.phase, pod.listening, pod.started, pod.containers_ready, pod.ready = "running", True, True, True, True
            return
        if pull:
            yield self.env.timeout(self.params["pod.image_pull"])
        if pod.backoff_until > self.env.now:  # CrashLoopBackOff before the container starts again
            yield self.env.timeout(pod.backoff_until - self.env.now)
        if pod.life != life or pod.phase != "starting" or pod.deleted_at is not None:
            return
        pod.phase = "running"
        self.env.process(self._probes(pod, life))
        jitter = self.params["pod.start_jitter"]
        spread = 2 * self.draw("start", pod.workload.name, pod.revision, pod.ordinal, pod.life) - 1
        start = pod.workload.facts.start_seconds * (1 + jitter * spread)
        yield self.env.timeout(max(0.0, start))
        if pod.life == life and pod.phase == "running":
            pod.listening, pod.up_since, pod.restarting = True, self.env.now, False

    def _phase(self, pod: Pod, probe: str) -> float:
        """Where in its period a probe of this pod first fires (keyed: see ``draw``)."""
        return self.draw(probe, pod.workload.name, pod.revision, pod.ordinal, pod.life)

    def _probe_ok(self, pod: Pod, timeout: float) -> bool:
        if not (pod.listening and pod.accepting and pod.phase == "running"):
            return False
        return traffic.probe_latency(pod, self.params["pod.probe_cost"]) <= timeout

    def _probes(self, pod: Pod, life: int, warm: bool = False):
        """startupProbe first; then readiness and liveness. No readiness probe: ready once running."""
        w = pod.workload
        alive = lambda: pod.life == life and pod.phase == "running"  # noqa: E731
        if not warm and w.startup is not None:
            yield self.env.timeout(w.startup.initial_delay + w.startup.period * self._phase(pod, "startup"))
            failures = 0
            while alive() and not self._probe_ok(pod, w.startup.timeout):
                failures += 1
                if failures >= w.startup.failure:
                    self._restart(pod, None)
                    return
                yield self.env.timeout(w.startup.period)
            if not alive():
                return
        pod.started = True
        if w.readiness is None:
            self._set_containers_ready(pod, True)
        else:
            self.env.process(self._readiness(pod, life, warm))
        if w.liveness is not None:
            self.env.process(self._liveness(pod, life))

    def _readiness(self, pod: Pod, life: int, warm: bool):
        probe = pod.workload.readiness
        yield self.env.timeout((0 if warm else probe.initial_delay) + probe.period * self._phase(pod, "readiness"))
        passes = fails = 0
        while pod.life == life and pod.phase == "running":
            if self._probe_ok(pod, probe.timeout):
                passes, fails = passes + 1, 0
                if not pod.containers_ready and passes >= probe.success:
                    self._set_containers_ready(pod, True)
            else:
                passes, fails = 0, fails + 1
                if pod.containers_ready and fails >= probe.failure:
                    self._set_containers_ready(pod, False)
            yield self.env.timeout(probe.period)

    def _liveness(self, pod: Pod, life: int):
        probe = pod.workload.liveness
        yield self.env.timeout(probe.initial_delay + probe.period * self._phase(pod, "liveness"))
        fails = 0
        while pod.life == life and pod.phase == "running":
            fails = 0 if self._probe_ok(pod, probe.timeout) else fails + 1
            if fails >= probe.failure:
                self._restart(pod, traffic.LIVENESS)
                return
            yield self.env.timeout(probe.period)

    def _restart(self, pod: Pod, cause: str | None) -> None:
        """The kubelet restarts the container: what it held fails; it starts again on the same node,
        after the back-off (10 s, doubling, at most 300 s; forgotten after 10 minutes running)."""
        traffic.kill(pod, cause or traffic.LIVENESS)
        if self.env.now - pod.up_since > 600:
            pod.restarts = 0
        pod.backoff_until = self.env.now + min(300.0, 10.0 * 2**pod.restarts)
        pod.restarts += 1
        pod.listening = pod.started = False
        pod.restarting = True
        self._set_containers_ready(pod, False)
        self.env.process(self._boot(pod, pull=False))

    def _set_containers_ready(self, pod: Pod, value: bool) -> None:
        if pod.containers_ready == value:
            return
        pod.containers_ready = value
        self._refresh_ready(pod)
        self.env.process(self._lbc_sync(pod))

    def _refresh_ready(self, pod: Pod) -> None:
        gate = self.shape.entry.readiness_gate and pod.workload is self.entry
        target = self.targets.get(pod.uid)
        gate_ok = (not gate) or (target is not None and target.state == "healthy") or pod.ready
        ready = pod.containers_ready and pod.phase == "running" and gate_ok
        if ready != pod.ready:
            pod.ready = ready
            pod.ever_ready = pod.ever_ready or ready
            if ready:
                pod.ready_since = self.env.now
            self._reconcile()

    # -- the ALB and its controller ------------------------------------------------------------
    def _lbc_sync(self, pod: Pod):
        """The controller (de)registers the pod's target a little after the pod's readiness changes."""
        yield self.env.timeout(self.params["lbc.registration_delay"])
        wanted = pod.containers_ready and pod.phase == "running" and pod.deleted_at is None
        target = self.targets.get(pod.uid)
        if wanted and (target is None or target.state == "draining"):
            target = Target(pod)
            self.targets[pod.uid] = target
            self.env.process(self._health_checks(target))
        elif not wanted and target is not None and target.state != "draining":
            self._deregister(target)

    def _deregister(self, target: Target) -> None:
        target.state = "draining"
        delay = self.shape.entry.deregistration_delay
        target.drained_at = self.env.now + (self.params["alb.deregistration_delay"] if delay is None else delay)

    def _health_checks(self, target: Target):
        p = self.params
        yield self.env.timeout(p["alb.healthcheck_interval"] * self._phase(target.pod, "healthcheck"))
        while target.state != "draining" and self.targets.get(target.pod.uid) is target:
            if self._probe_ok(target.pod, p["alb.healthcheck_timeout"]):
                target.passes, target.fails = target.passes + 1, 0
                if target.state != "healthy" and target.passes >= p["alb.healthy_threshold"]:
                    target.state = "healthy"
                    self._refresh_ready(target.pod)
            else:
                target.passes, target.fails = 0, target.fails + 1
                if target.state != "unhealthy" and target.fails >= p["alb.unhealthy_threshold"]:
                    target.state = "unhealthy"
            yield self.env.timeout(p["alb.healthcheck_interval"])

    def _routable(self) -> list[Target]:
        registered = [t for t in self.targets.values() if t.state != "draining"]
        healthy = [t for t in registered if t.state == "healthy"]
        if healthy:
            return healthy
        # Fail open: with no healthy target the ALB routes to the unhealthy ones (ELB docs); a target
        # still "initial" (its first health checks) gets nothing.
        return [t for t in registered if t.state == "unhealthy"]

    def _terminate(self, pod: Pod):
        """Endpoint removal and deregistration start with preStop; SIGTERM after it; SIGKILL at grace."""
        w, p = pod.workload, self.params
        started = pod.phase == "running"  # its container runs (a pod still pulling its image has none)
        pod.phase = "terminating"
        pod.ready = False
        pod.containers_ready = False
        self.env.process(self._lbc_sync(pod))
        start = self.env.now
        if not started:  # no container: no preStop to run, nothing to stop
            pod.phase, pod.listening = "gone", False
            self.cluster.unbind(pod)
            self._reconcile()
            return
        if w.prestop >= w.grace:  # preStop overran: SIGTERM at the grace period, +2 s, then SIGKILL
            sigterm, kill_at = w.grace, w.grace + 2.0
        else:
            sigterm, kill_at = w.prestop, w.grace
        yield self.env.timeout(sigterm)
        yield self.env.timeout(min(p["pod.stop_accepting_after_sigterm"], kill_at - sigterm))
        pod.accepting = False
        exit_at = start + sigterm + w.facts.shutdown_seconds
        while self.env.now < start + kill_at and (self.env.now < exit_at or pod.batches):
            yield self.env.timeout(min(p["sim.tick"], start + kill_at - self.env.now))
        if pod.backlog > 0 or pod.batches:
            traffic.kill(pod, traffic.KILLED)
        pod.phase, pod.listening = "gone", False
        self.cluster.unbind(pod)
        self._reconcile()
