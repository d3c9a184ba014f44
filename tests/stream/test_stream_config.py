from __future__ import annotations

from pathlib import Path

import pytest

from microexp.errors import ConfigError
from microexp.stream.config import StreamConfig, load_stream_config


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "infer.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _yaml(**override: object) -> str:
    import yaml

    data = StreamConfig(roi=(10, 20, 128, 128)).to_mapping() | override
    return yaml.safe_dump({"stream": data})


def test_round_trip_through_yaml(tmp_path: Path) -> None:
    cfg = load_stream_config(_write(tmp_path, _yaml()))
    assert cfg == StreamConfig(roi=(10, 20, 128, 128))


def test_unknown_missing_and_bad_values_name_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"infer.yaml: unknown key\(s\) slice_ms"):
        load_stream_config(_write(tmp_path, _yaml(slice_ms=33)))
    text = _yaml().replace("  top_k: 3\n", "")
    with pytest.raises(ConfigError, match=r"infer.yaml: missing key\(s\) top_k"):
        load_stream_config(_write(tmp_path, text))
    with pytest.raises(ConfigError, match=r"infer.yaml: .*theta_off 0.9 exceeds theta_on 0.3"):
        load_stream_config(_write(tmp_path, _yaml(theta_off=0.9)))
    with pytest.raises(ConfigError, match=r"infer.yaml: .*crop must be 'fixed' or 'tracked'"):
        load_stream_config(_write(tmp_path, _yaml(crop="auto")))
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_stream_config(_write(tmp_path, "- 1\n"))


def test_the_shipped_config_loads_and_equals_the_defaults() -> None:
    path = Path(__file__).resolve().parents[2] / "config" / "infer" / "stream.yaml"
    assert load_stream_config(path) == StreamConfig()
