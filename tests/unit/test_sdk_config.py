"""The run config: access, updates from many sources, files, and the WAL."""

# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import argparse
import json
from pathlib import Path

import lodestar
import pytest
import yaml
from lodestar import Config, ConfigValueChanged, UsageError
from sdk_support import bodies, offline, workdir  # noqa: F401


class AbslStyleFlags:
    def flag_values_dict(self):
        return {"batch_size": 32, "model": "mlp"}


def test_attribute_and_item_access():
    config = Config()
    config.lr = 0.1
    config["epochs"] = 3
    assert (config["lr"], config.epochs, len(config)) == (0.1, 3, 2)
    assert "lr" in config
    with pytest.raises(AttributeError, match="no key 'missing'"):
        _ = config.missing
    with pytest.raises(KeyError):
        _ = config["missing"]


def test_update_from_argparse_absl_and_dict():
    config = Config()
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.01)
    config.update(parser.parse_args([]))
    config.update(AbslStyleFlags())
    config.update({"layers": (64, 32)})
    assert config.as_dict() == {
        "lr": 0.01, "batch_size": 32, "model": "mlp", "layers": [64, 32]
    }


def test_changing_a_value_needs_allow_val_change():
    config = Config()
    config.update({"lr": 0.1})
    config.update({"lr": 0.1})
    with pytest.raises(ConfigValueChanged) as raised:
        config.lr = 0.2
    assert (raised.value.key, raised.value.old, raised.value.new) == ("lr", 0.1, 0.2)
    config.update({"lr": 0.2}, allow_val_change=True)
    assert config.lr == 0.2


def test_nested_dicts_stay_nested(workdir):
    run = offline(workdir, config={"opt": {"name": "adam", "betas": [0.9, 0.99]}})
    assert run.config.opt == {"name": "adam", "betas": [0.9, 0.99]}
    run.finish()
    [start] = bodies(run, "run_start")
    assert json.loads(start.config_json) == {
        "opt": {"name": "adam", "betas": [0.9, 0.99]}
    }


def test_in_place_nested_edit_reaches_the_wal_at_finish(workdir):
    run = offline(workdir, config={"opt": {"lr": 0.1}})
    run.config.opt["lr"] = 0.5
    run.finish()
    [update] = bodies(run, "config")
    assert json.loads(update.set_json) == {"opt": {"lr": 0.5}}
    stored = yaml.safe_load((Path(run.dir) / "config.yaml").read_text())
    assert stored == {"opt": {"lr": 0.5}}


def test_in_place_edit_travels_with_the_next_update(workdir):
    run = offline(workdir, config={"opt": {"lr": 0.1}})
    run.config.opt["lr"] = 0.5
    run.config.update({"seed": 1})
    del run.config["seed"]
    run.finish()
    updates = bodies(run, "config")
    assert [json.loads(u.set_json) for u in updates] == [
        {"opt": {"lr": 0.5}, "seed": 1},
        {},
    ]
    assert list(updates[1].remove) == ["seed"]


def test_config_defaults_yaml_is_loaded_in_both_forms(workdir):
    (workdir / "config-defaults.yaml").write_text(
        "wandb_version: 1\n"
        "epochs:\n  desc: passes over the data\n  value: 10\n"
        "lr: 0.01\n"
    )
    run = offline(workdir, config={"lr": 0.5})
    assert run.config.as_dict() == {"epochs": 10, "lr": 0.5}
    run.finish()


def test_init_config_from_a_yaml_file(workdir):
    (workdir / "params.yaml").write_text("depth: 4\nact:\n  value: relu\n")
    run = offline(workdir, config="params.yaml")
    assert run.config.as_dict() == {"depth": 4, "act": "relu"}
    run.finish()


def test_missing_config_file_is_a_usage_error(workdir):
    with pytest.raises(UsageError, match="cannot read config file 'nope.yaml'"):
        offline(workdir, config="nope.yaml")


def test_module_config_follows_the_current_run(workdir):
    with pytest.raises(UsageError, match="before using lodestar.config"):
        lodestar.config.update({"a": 1})
    run = offline(workdir, config={"a": 1})
    assert lodestar.config is run.config
    lodestar.config.b = 2
    run.finish()
    assert repr(lodestar.config) == "<lodestar.config before init()>"
    with pytest.raises(UsageError):
        _ = lodestar.config["a"]
