"""deploy/compose.yaml, checked offline (no Docker engine here): parsed like
``docker compose config`` and validated by the compose-spec bindings, then
checked for what the schema cannot know — health checks, start order,
pinned images, published ports, secrets, and commands and settings that
voxa really has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.compose_config import interpolate, load
from voxa.cli import build_parser
from voxa.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
PUBLISHERS = {"proxy", "livekit"}  # the only services with host ports
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|DATABASE_URL|KEYS")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(COMPOSE)


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def _one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def test_the_topology(compose: dict[str, Any]) -> None:
    assert set(_services(compose)) == {"postgres", "redis", "livekit", "migrate", "api",
                                       "proxy", "worker", "jobs"}


def test_schema_rejects_what_compose_would(tmp_path: Path) -> None:
    """The validator can fail: a misspelt key and a bad duration are refused."""
    raw = yaml.safe_load(COMPOSE.read_text())
    raw["services"]["api"]["healthcheck"]["intervall"] = "10s"
    bad = tmp_path / "compose.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match="intervall"):
        load(bad)
    raw["services"]["api"]["healthcheck"].pop("intervall")
    raw["services"]["api"]["healthcheck"]["interval"] = "often"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match="duration"):
        load(bad)
    raw["services"]["api"]["healthcheck"]["interval"] = "10s"
    bad.write_text(yaml.safe_dump(raw))
    load(bad)  # and the untouched copy passes


def test_interpolation_like_compose() -> None:
    assert interpolate("voxa:${V:-0.1.0}", {}) == "voxa:0.1.0"
    assert interpolate("voxa:${V:-0.1.0}", {"V": "2"}) == "voxa:2"
    assert interpolate("$$HOME", {}) == "$HOME"
    with pytest.raises(ValueError):
        interpolate("${UNSET}", {})


def test_every_long_running_service_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        check = service.get("healthcheck", {})
        if _one_shot(service):
            assert check.get("disable") is True, name
            continue
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert check.get("interval") and check.get("retries"), name


def test_start_order_waits_on_health_and_migrations(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, service in services.items():
        for dep, cond in (service.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            target = services[dep]
            expected = ("service_completed_successfully" if _one_shot(target)
                        else "service_healthy")
            assert cond["condition"] == expected, (name, dep)
    for name in ("api", "worker", "jobs"):
        assert "migrate" in services[name]["depends_on"], name


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        image = service["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest", f"{name}: {image} is not pinned"
        assert re.search(r"\d+\.\d+", tag), f"{name}: {image} names no version"


def test_only_the_proxy_and_livekit_publish_ports(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        if name not in PUBLISHERS:
            assert not service.get("ports"), f"{name} publishes {service['ports']}"
    assert _services(compose)["proxy"]["ports"] == ["8000:8000"]


def test_no_secret_inline(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        env = service.get("environment") or {}
        assert isinstance(env, dict), name
        for key, value in env.items():
            if SECRET_NAME.search(key):
                assert key.endswith("_FILE") and str(value).startswith("/run/secrets/"), (
                    f"{name}: {key} is inline; use env_file or secrets")
        for env_file in service.get("env_file") or []:
            path = env_file["path"] if isinstance(env_file, dict) else env_file
            assert (DEPLOY / f"{path}.example").is_file(), f"{path}.example is missing"
            ignored = (DEPLOY / ".gitignore").read_text().split()
            assert Path(path).name in ignored, f"{path} is not git-ignored"
    for secret in compose["secrets"].values():
        assert (DEPLOY / secret["file"]).parent.joinpath(".gitignore").is_file()


def _voxa_args(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_voxa_commands_and_settings_exist(compose: dict[str, Any]) -> None:
    parser = build_parser()
    expected = {"migrate": "migrate", "api": "serve", "worker": "worker", "jobs": "jobs"}
    fields = set(Settings.model_fields)
    env_example = dict(line.split("=", 1) for line in
                       (DEPLOY / "voxa.env.example").read_text().splitlines()
                       if line and not line.startswith("#"))
    for name, command in expected.items():
        service = _services(compose)[name]
        assert service["image"].startswith("voxa:")
        args = parser.parse_args(_voxa_args(service))
        assert args.command == command
        for key in [*(service.get("environment") or {}), *env_example]:
            if key.startswith("VOXA_"):
                assert key[5:].lower() in fields, f"{name}: {key} is not a voxa setting"
    assert parser.parse_args(_voxa_args(_services(compose)["api"])).no_voice


def test_health_checks_probe_the_ports_the_settings_open(compose: dict[str, Any]) -> None:
    worker = _services(compose)["worker"]
    port = worker["environment"]["VOXA_WORKER_HTTP_PORT"]
    assert worker["environment"]["VOXA_WORKER_HTTP_HOST"] == "0.0.0.0"
    assert f"http://127.0.0.1:{port}/" in worker["healthcheck"]["test"]
    api = _services(compose)["api"]["healthcheck"]["test"]
    assert "http://127.0.0.1:8000/readyz" in api and "VOXA_OPERATOR_TOKEN" in api
    assert "dynamic a api 8000" in (DEPLOY / "Caddyfile").read_text()


def test_livekit_config_uses_the_shared_redis(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / compose["configs"]["livekit"]["file"]).read_text())
    assert config["redis"]["address"] == "redis:6379"
    assert "keys" not in config  # from livekit.env, not the file
    assert config["port"] == 7880


def test_worker_drains_longer_than_the_api(compose: dict[str, Any]) -> None:
    def seconds(value: str) -> int:
        number, unit = int(value[:-1]), value[-1]
        return number * {"s": 1, "m": 60, "h": 3600}[unit]

    services = _services(compose)
    assert seconds(services["worker"]["stop_grace_period"]) >= 600
    assert seconds(services["api"]["stop_grace_period"]) >= 30
