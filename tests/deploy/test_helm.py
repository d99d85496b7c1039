"""deploy/helm/voxa: ``helm lint`` and ``helm template`` (helm from
scripts/bootstrap.sh --tools), the rendered manifests validated against the
Kubernetes schemas (kubernetes-validate, strict: unknown fields fail), then
checked for probes, autoscaling, disruption budgets, draining and secrets."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from voxa.cli import build_parser
from voxa.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "voxa"
KUBE_VERSION = "1.33.0"
SECRET = "voxa-secrets"


def _helm() -> str:
    for candidate in (os.environ.get("VOXA_HELM"), str(ROOT / ".tools" / "bin" / "helm"),
                      shutil.which("helm")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    if os.environ.get("CI"):  # CI installs it: a missing helm is a failure there
        pytest.fail("helm is not installed: scripts/bootstrap.sh --tools builds it")
    pytest.skip("helm is not installed: run scripts/bootstrap.sh --tools")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_helm(), *args], capture_output=True, text=True, timeout=120,
                          check=False)


def _render(*sets: str) -> list[dict[str, Any]]:
    flags = [f"--set={s}" for s in (f"existingSecret={SECRET}", *sets)]
    done = _run("template", "rel", str(CHART), "--kube-version", KUBE_VERSION, *flags)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    return _render()


def _get(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name, [(m["kind"], m["metadata"]["name"]) for m in manifests])
    return found[0]


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_helm_lint() -> None:
    done = _run("lint", str(CHART), "--strict", f"--set=existingSecret={SECRET}",
                "--kube-version", KUBE_VERSION)
    assert done.returncode == 0, done.stdout + done.stderr


def test_secret_name_is_required() -> None:
    done = _run("template", "rel", str(CHART), "--kube-version", KUBE_VERSION)
    assert done.returncode != 0 and "existingSecret" in done.stderr


def test_manifests_match_the_kubernetes_schemas(manifests: list[dict[str, Any]]) -> None:
    assert {m["kind"] for m in manifests} == {
        "ConfigMap", "Service", "Deployment", "HorizontalPodAutoscaler",
        "PodDisruptionBudget", "Job"}
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBE_VERSION, strict=True)


def test_schema_validation_can_fail(manifests: list[dict[str, Any]]) -> None:
    bad = yaml.safe_load(yaml.safe_dump(_get(manifests, "Deployment", "rel-voxa-api")))
    _container(bad)["readinessProbe"]["periodSecond"] = 10
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBE_VERSION, strict=True)


def test_api_probes(manifests: list[dict[str, Any]]) -> None:
    api = _container(_get(manifests, "Deployment", "rel-voxa-api"))
    assert api["args"] == ["serve", "--no-voice"]
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    ready = api["readinessProbe"]["exec"]["command"]
    assert ready[0] == "voxa-probe" and ready[1].endswith(":8000/readyz")
    assert ready[2:] == ["--token-env", "VOXA_OPERATOR_TOKEN"]
    env = {e["name"]: e["value"] for e in api["env"]}
    assert env["VOXA_HOST"] == "0.0.0.0" and env["VOXA_PORT"] == "8000"


def test_worker_probes_its_health_endpoint(manifests: list[dict[str, Any]]) -> None:
    deployment = _get(manifests, "Deployment", "rel-voxa-worker")
    worker = _container(deployment)
    env = {e["name"]: e["value"] for e in worker["env"]}
    ports = {p["name"]: p["containerPort"] for p in worker["ports"]}
    assert env["VOXA_WORKER_HTTP_HOST"] == "0.0.0.0"
    assert int(env["VOXA_WORKER_HTTP_PORT"]) == ports["health"]
    assert int(env["VOXA_WORKER_METRICS_PORT"]) == ports["metrics"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert worker[probe]["httpGet"] == {"path": "/", "port": "health"}
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 600


def test_autoscalers(manifests: list[dict[str, Any]]) -> None:
    api = _get(manifests, "HorizontalPodAutoscaler", "rel-voxa-api")["spec"]
    assert api["scaleTargetRef"]["name"] == "rel-voxa-api"
    assert api["metrics"][0]["resource"]["name"] == "cpu"
    worker = _get(manifests, "HorizontalPodAutoscaler", "rel-voxa-worker")["spec"]
    assert worker["scaleTargetRef"]["name"] == "rel-voxa-worker"
    (metric,) = worker["metrics"]
    # the metric the worker's own metrics endpoint exports (livekit-agents)
    assert metric["pods"]["metric"]["name"] == "lk_agents_active_job_count"
    assert worker["minReplicas"] >= 2
    for name in ("rel-voxa-api", "rel-voxa-worker"):  # the HPA owns the replica count
        assert "replicas" not in _get(manifests, "Deployment", name)["spec"]


def test_disruption_budgets_select_their_pods(manifests: list[dict[str, Any]]) -> None:
    for name in ("rel-voxa-api", "rel-voxa-worker"):
        pdb = _get(manifests, "PodDisruptionBudget", name)
        labels = _get(manifests, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_migrations_run_as_a_hook(manifests: list[dict[str, Any]]) -> None:
    job = _get(manifests, "Job", "rel-voxa-migrate")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert _container(job)["args"] == ["migrate"]
    assert _container(job)["envFrom"] == [{"secretRef": {"name": SECRET}}]


def test_secrets_come_from_the_secret(manifests: list[dict[str, Any]]) -> None:
    config = _get(manifests, "ConfigMap", "rel-voxa")["data"]
    fields = set(Settings.model_fields)
    for key in config:
        assert not any(s in key for s in ("SECRET", "TOKEN", "PASSWORD", "API_KEY")), key
        if key.startswith("VOXA_"):
            assert key[5:].lower() in fields, f"{key} is not a voxa setting"
    parser = build_parser()
    for deployment in (m for m in manifests if m["kind"] == "Deployment"):
        container = _container(deployment)
        assert {"secretRef": {"name": SECRET}} in container["envFrom"]
        assert container["image"] == "voxa:0.1.0"
        assert parser.parse_args(container["args"]).command in ("serve", "worker", "jobs")
        for env in container.get("env", []):
            assert env["name"][5:].lower() in fields, env["name"]


def test_autoscaling_off_sets_replicas() -> None:
    manifests = _render("api.autoscaling.enabled=false", "worker.autoscaling.enabled=false",
                        "api.replicas=3")
    assert not [m for m in manifests if m["kind"] == "HorizontalPodAutoscaler"]
    assert _get(manifests, "Deployment", "rel-voxa-api")["spec"]["replicas"] == 3
