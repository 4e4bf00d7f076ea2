"""`shopgen init --profile P`: the written shopgen.yaml selects the profile, reads back as its defaults,
and renders in a fresh git repository; `shopgen stages` and the stage READMEs name the profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopgen import yamlio
from shopgen.config import parse, profile_names

from conftest import STAGES, git, run_cli

PROFILES = ("retail-0.7.1", "retail-1.6.2", "blank")


def test_the_shipped_profiles_are_the_documented_ones() -> None:
    assert set(profile_names()) == set(PROFILES)


@pytest.mark.parametrize("profile", PROFILES)
def test_init_with_a_profile_then_synth_in_a_fresh_repository(profile: str, tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    result = run_cli("init", "--profile", profile, "--out", tmp_path)
    assert result.code == 0, result.err
    assert f"(profile {profile})" in result.err
    text = (tmp_path / "shopgen.yaml").read_text()
    cfg = parse(yamlio.to_plain(yamlio.load_text(text, "init")), "init")
    assert cfg.app.profile == profile
    assert f"  profile: {profile}\n" in text
    if profile != "blank":  # blank has no services of its own: its file holds the example
        assert parse({"app": {"profile": profile}}, "p") == cfg
    synth = run_cli("synth", "--out", tmp_path)
    assert synth.code == 0, synth.err
    for stage in STAGES:
        readme = (tmp_path / "environments" / stage / "README.md").read_text()
        assert f"Profile `{profile}`" in readme
    stages = run_cli("stages", "--out", tmp_path)
    assert stages.code == 0 and f"profile {profile}" in stages.err
    assert [line.split()[1] for line in stages.out.splitlines()] == list(STAGES)


def test_blank_starts_with_one_explained_example_service(tmp_path: Path) -> None:
    assert run_cli("init", "--profile", "blank", "--out", tmp_path).code == 0
    text = (tmp_path / "shopgen.yaml").read_text()
    cfg = parse(yamlio.to_plain(yamlio.load_text(text, "init")), "init")
    assert list(cfg.services) == ["web"] and cfg.ingress.service == "web"
    assert cfg.autoscaling.hpa.targets == ("web",)
    for hint in ("# secrets:", "# calls:", "# stores:", "jvm | go | node | nginx | other"):
        assert hint in text  # the optional parts, shown commented
    assert run_cli("synth", "--out", tmp_path).code == 0
    assert (tmp_path / "environments/prestop/web/deployment-web.yaml").is_file()


def test_an_unknown_profile_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    result = run_cli("init", "--profile", "retail-9.9", "--out", tmp_path)
    assert result.code == 2 and "retail-9.9" in result.err
    assert list(tmp_path.iterdir()) == []
