"""What ``docker compose config`` does, for a machine without Docker: load the
YAML (anchors and ``<<`` merges), interpolate ``${VAR:-default}`` from an
environment, then parse the result with the compose-spec bindings, which
reject unknown keys, wrong types and malformed durations, ports and images."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from compose_spec import PyCompose

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(3)
        if name in env:
            return env[name]
        if m.group(2) is not None:
            return m.group(2)
        raise ValueError(f"${name} is not set and has no default")

    return _VAR.sub(sub, value)


def load(path: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The resolved compose model, validated by the compose-spec parser."""
    raw = yaml.safe_load(path.read_text())
    resolved: dict[str, Any] = interpolate(raw, env or {})
    resolved = {k: v for k, v in resolved.items() if not k.startswith("x-")}
    compose = PyCompose.from_yaml(yaml.safe_dump(resolved))
    compose.validate()
    compose.validate_networks()
    compose.validate_volumes()
    compose.validate_configs()
    compose.validate_secrets()
    return resolved
