from pathlib import Path

import pytest
from pydantic import ValidationError

from voxa.settings import build_settings


def test_explicit_argument_beats_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VOXA_PORT", "9001")
    monkeypatch.setenv("VOXA_RESUME_MINUTES", "12")
    s = build_settings(data_dir=tmp_path, port=9100)
    assert s.port == 9100
    assert s.resume_minutes == 12
    assert build_settings(data_dir=tmp_path, port=None).port == 9001


def test_livekit_variables_use_livekit_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LIVEKIT_URL", "ws://127.0.0.1:7880")
    monkeypatch.setenv("LIVEKIT_API_KEY", "k")
    monkeypatch.setenv("LIVEKIT_API_SECRET", "s" * 40)
    s = build_settings(data_dir=tmp_path)
    assert s.livekit_configured and s.livekit_url == "ws://127.0.0.1:7880"


def test_secrets_never_in_repr(tmp_path: Path) -> None:
    s = build_settings(
        data_dir=tmp_path, secret_key="x" * 40, livekit_api_secret="y" * 40, llm_api_key="sk-zzzz"
    )
    text = repr(s) + str(s) + str(s.model_dump())
    assert "x" * 40 not in text and "y" * 40 not in text and "sk-zzzz" not in text


def test_development_generates_and_keeps_a_key(tmp_path: Path) -> None:
    a = build_settings(data_dir=tmp_path)
    b = build_settings(data_dir=tmp_path)
    assert a.signing_key() == b.signing_key() and len(a.signing_key()) >= 32


@pytest.mark.parametrize("key", [None, "changeme", "short"])
def test_production_refuses_placeholder_secret(tmp_path: Path, key: str | None) -> None:
    with pytest.raises(ValidationError, match="VOXA_SECRET_KEY"):
        build_settings(data_dir=tmp_path, env="production", secret_key=key)


def test_production_refuses_livekit_dev_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LIVEKIT_API_SECRET"):
        build_settings(
            data_dir=tmp_path, env="production", secret_key="k" * 48, livekit_api_secret="secret"
        )


def test_bad_values_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        build_settings(data_dir=tmp_path, resume_minutes=-1)
    with pytest.raises(ValidationError):
        build_settings(data_dir=tmp_path, signup="sometimes")
