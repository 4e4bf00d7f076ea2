"""The controllers in the model: the HPA, the Deployment controller's rolling update, Karpenter.

A mixin of ``engine.Simulation``; the scheduler's placement lives in the engine with the cluster set-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopgen.simulate.cluster import GIB, Pod, kube_reserved_cpu, plan_nodes
from shopgen.simulate.hpa import MetricSample, metric_recommendation

if TYPE_CHECKING:
    pass


class Controllers:
    """Control loops over the exposed service's pods; ``self`` is the Simulation."""

    # -- controllers -------------------------------------------------------------------------
    def _hpa(self):
        auto, p = self.autoscaler, self.params
        yield self.env.timeout(p["hpa.sync_period"] * self.draw("hpa"))
        while True:
            now = self.env.now
            pods = [x for x in self.pods if x.deleted_at is None and x.phase != "gone"]
            current = self.desired
            window = p["hpa.metrics_window"]
            recommendations = []
            if auto.cpu_target is not None:
                samples = [
                    MetricSample(
                        sum(u for _, u in x.used) / window,
                        x.workload.cpu,
                        ready=self._counts(x, now),
                        missing=x.phase in ("pending", "starting"),  # no container yet: no metric
                    )
                    for x in pods
                    if x.workload.cpu > 0
                ]
                recommendations.append(metric_recommendation(current, samples, auto.cpu_target, p["hpa.tolerance"]))
            if auto.memory_target is not None:
                used = p.runtime("memory_used", self.entry.facts.runtime)
                samples = [
                    MetricSample(
                        used * x.workload.memory, x.workload.memory, missing=x.phase in ("pending", "starting")
                    )
                    for x in pods
                ]
                recommendations.append(metric_recommendation(current, samples, auto.memory_target, p["hpa.tolerance"]))
            if recommendations:
                desired = self.behavior.decide(now, current, max(recommendations), auto.minimum, auto.maximum)
                if desired != self.desired:
                    self.desired = desired
                    self._reconcile()
            yield self.env.timeout(p["hpa.sync_period"])

    def _counts(self, pod: Pod, now: float) -> bool:
        """Whether the HPA takes this pod's CPU as measured: a ready pod, or one that was ready once and
        started over 5 minutes ago (--horizontal-pod-autoscaler-cpu-initialization-period); others
        count as 0 % when it scales up."""
        if pod.ready:
            settled = now - pod.ready_since >= self.params["hpa.metrics_window"]
            return settled or now - pod.bound_at >= 300.0
        return pod.ever_ready and now - pod.bound_at >= 300.0

    def _reconcile(self) -> None:
        """The Deployment controller: scale to the desired replicas, rolling from old revisions."""
        if self._reconciling:
            return
        self._reconciling = True
        try:
            self._scale()
            self._place_all()
        finally:
            self._reconciling = False

    _reconciling = False

    def _scale(self) -> None:
        live = [p for p in self.pods if p.deleted_at is None and p.phase != "gone"]
        new = [p for p in live if p.revision == self.revision]
        old = [p for p in live if p.revision != self.revision]
        desired = self.desired
        surge, unavailable = self.entry.surge_and_unavailable(desired)
        if not old:
            for _ in range(desired - len(new)):
                self.pods.append(self.cluster.new_pod(self.entry, self.revision, self.env.now))
            if len(new) > desired:
                for pod in self._deletion_order(new)[: len(new) - desired]:
                    self._delete(pod)
            return
        if len(new) > desired:  # the HPA scaled down mid-rollout: the new revision shrinks too
            for pod in self._deletion_order(new)[: len(new) - desired]:
                self._delete(pod)
                live.remove(pod)
                new.remove(pod)
        room = desired + surge - len(live)
        for _ in range(max(0, min(room, desired - len(new)))):
            self.pods.append(self.cluster.new_pod(self.entry, self.revision, self.env.now))
            live.append(self.pods[-1])
            new.append(self.pods[-1])
        # The Deployment controller's budget (pkg/controller/deployment/rolling.go): old pods that
        # are not ready go first, but only as far as allPods - minAvailable - new pods not ready;
        # then ready old pods, as far as available pods exceed minAvailable.
        min_available = desired - unavailable
        new_unavailable = sum(1 for p in new if not p.ready)
        cleanup = max(0, len(live) - min_available - new_unavailable)
        unready_old = self._deletion_order([p for p in old if not p.ready])[:cleanup]
        for pod in unready_old:
            self._delete(pod)
        available = sum(1 for p in live if p.ready)
        ready_old = [p for p in old if p.ready]
        for pod in self._deletion_order(ready_old)[: max(0, available - min_available)]:
            self._delete(pod)

    @staticmethod
    def _deletion_order(pods: list[Pod]) -> list[Pod]:
        """ReplicaSet scale-down order: unscheduled, then not ready, then the newest."""
        return sorted(pods, key=lambda p: (p.node is not None, p.ready, -p.created, -p.uid))

    def _delete(self, pod: Pod) -> None:
        pod.deleted_at = self.env.now
        if pod.node is None:
            self.cluster.unbind(pod)
            pod.phase = "gone"
            return
        self.env.process(self._terminate(pod))

    def _plans(self, pods: list[Pod]):
        cap = self.shape.capacity
        used = sum(n.vcpus for n in self.cluster.nodes if not n.managed)  # a NodePool limit counts capacity
        room = (cap.cpu_limit if cap else 0.0) - used
        p = self.params
        overhead_cpu = p["node.daemonset_cpu"] + (cap.system_reserved_cpu if cap else 0.0)
        overhead_mem = p["node.daemonset_memory"] * GIB + (cap.system_reserved_memory if cap else 0.0)
        return plan_nodes(
            pods,
            cpu_room=room,
            allocatable=lambda v: (
                v - kube_reserved_cpu(v) - overhead_cpu,
                v * 4 * GIB * 0.9 - overhead_mem,
            ),
        )

    def _karpenter(self):
        p = self.params
        while True:
            waiting = [x for x in self.cluster.pending if not x.nominated]
            if not waiting:
                self._remove_empty_nodes()
                yield self.env.timeout(1.0)
                continue
            opened, seen = self.env.now, len(waiting)
            idle_since = self.env.now
            while (
                self.env.now - opened < p["karpenter.batch_max"]
                and self.env.now - idle_since < p["karpenter.batch_idle"]
            ):
                yield self.env.timeout(0.5)
                now_waiting = [x for x in self.cluster.pending if not x.nominated]
                if len(now_waiting) != seen:
                    seen, idle_since = len(now_waiting), self.env.now
            batch = [x for x in self.cluster.pending if not x.nominated]
            for vcpus, group in self._plans(batch):
                for pod in group:
                    pod.nominated = True
                self.env.process(self._launch(vcpus, group))

    def _remove_empty_nodes(self) -> None:
        """Consolidation of the simplest kind: a node of the NodePool with no pod for consolidateAfter
        goes (a launch whose pods found room elsewhere, a node emptied by scale-in)."""
        after = self.shape.capacity.consolidate_after if self.shape.capacity else None
        if after is None:
            return
        now = self.env.now
        for node in [n for n in self.cluster.nodes if not n.managed and n.ready]:
            if node.pods:
                node.empty_since = None
            elif node.empty_since is None:
                node.empty_since = now
            elif now - node.empty_since >= after:
                self.cluster.nodes.remove(node)
                self.cluster.version += 1

    def _launch(self, vcpus: float, group: list[Pod]):
        p = self.params
        node = self._add_node(vcpus, vcpus * 4 * GIB, managed=False, ready=False)
        jitter = p["karpenter.launch_jitter"]
        self.launches += 1
        spread = 2 * self.draw("launch", self.launches) - 1
        yield self.env.timeout(max(1.0, p["karpenter.launch_to_ready"] + jitter * spread))
        node.ready = True
        self.cluster.version += 1
        for pod in group:
            pod.nominated = False
        self._place_all()

    def _rollout(self, at: float):
        """The new version: a new revision at ``at``, then the Deployment controller's resync every second."""
        yield self.env.timeout(max(0.0, at - self.env.now))
        self.revision += 1
        self._reconcile()
        while True:  # the controller also resyncs on its own
            yield self.env.timeout(1.0)
            self._reconcile()
