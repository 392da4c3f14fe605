"""``lodestar import csv|tensorboard|mlflow`` on small files made here."""
# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lodestar import cli, history, wal
from sdk_support import workdir  # noqa: F401


@pytest.fixture
def offline_env(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LODESTAR_MODE", "offline")
    monkeypatch.setenv("LODESTAR_DIR", str(workdir / "out"))
    return workdir


def _imported(work: Path) -> dict[str, dict]:
    """Every imported run by name: start, rows by step, summary, finish."""
    found = {}
    for path in (work / "out" / "lodestar").glob("offline-run-*/*.wal"):
        header, events = wal.read_all(path)
        start = events[0].run_start
        rows: dict[int, dict] = {}
        summary: dict = {}
        for event in events:
            if event.HasField("history"):
                for step, _, _, values in history.decode_batch(event.history):
                    rows.setdefault(step, {}).update(values)
            if event.HasField("summary"):
                summary.update(json.loads(event.summary.set_json))
        [finish] = [e.finish for e in events if e.HasField("finish")]
        found[start.name] = {"project": header.project, "start": start,
                             "config": json.loads(start.config_json),
                             "rows": rows, "summary": summary, "finish": finish}
    return found


# ---- csv ---------------------------------------------------------------------


def test_csv_rows_become_runs_with_list_cells_as_history(offline_env, capsys):
    path = offline_env / "experiments.csv"
    path.write_text(
        "Experiment,lr,layers,optimizer,acc,loss\n"
        'base,0.1,2,adam,0.91,"[0.9, 0.5, 0.25]"\n'
        'wide,0.01,4,sgd,0.95,"[1.0, 0.6]"\n'
    )
    status = cli.main(["import", "csv", str(path), "--project", "P",
                       "--name-col", "Experiment",
                       "--config-cols", "lr,layers,optimizer",
                       "--summary-cols", "acc", "--metric-cols", "loss"])
    assert status == 0
    runs = _imported(offline_env)
    assert sorted(runs) == ["base", "wide"]
    base = runs["base"]
    assert base["project"] == "P"
    assert base["config"] == {"lr": 0.1, "layers": 2, "optimizer": "adam"}
    assert base["rows"] == {0: {"loss": 0.9}, 1: {"loss": 0.5}, 2: {"loss": 0.25}}
    assert base["summary"]["acc"] == 0.91
    assert runs["wide"]["rows"] == {0: {"loss": 1.0}, 1: {"loss": 0.6}}
    assert capsys.readouterr().out.count("imported ") == 2


def test_csv_unnamed_columns_go_to_config(offline_env):
    path = offline_env / "e.csv"
    path.write_text("name,seed,score\nr1,3,0.5\n")
    assert cli.main(["import", "csv", str(path), "--project", "P",
                     "--name-col", "name", "--metric-cols", "score"]) == 0
    [run] = _imported(offline_env).values()
    assert run["config"] == {"seed": 3}
    assert run["rows"] == {0: {"score": 0.5}}


def test_csv_missing_column_is_a_clear_error(offline_env, capsys):
    path = offline_env / "e.csv"
    path.write_text("a,b\n1,2\n")
    status = cli.main(["import", "csv", str(path), "--project", "P",
                       "--metric-cols", "loss"])
    assert status == 1
    message = f"{path} has no column 'loss'; its columns are a, b"
    assert message in capsys.readouterr().err


# ---- tensorboard -------------------------------------------------------------


def _tensor_scalar(tag: str, value: float):
    """A scalar the way TF2's tf.summary.scalar writes it: a float tensor."""
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto

    metadata = SummaryMetadata(
        plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    tensor = TensorProto(dtype=1, float_val=[value])
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])


def _tensorboard_logs(root: Path) -> None:
    np = pytest.importorskip("numpy")
    tensorboardX = pytest.importorskip("tensorboardX")
    with tensorboardX.SummaryWriter(str(root / "train")) as writer:
        for step in range(3):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.file_writer.add_summary(_tensor_scalar("acc", 0.25 * step), step)
        image = np.zeros((3, 4, 5), dtype=np.uint8)
        image[0] = 255
        writer.add_image("sample", image, 2)
    with tensorboardX.SummaryWriter(str(root / "eval")) as writer:
        writer.add_scalar("loss", 0.75, 10)


def test_tensorboard_scalars_and_images_become_runs(offline_env):
    logs = offline_env / "logs"
    _tensorboard_logs(logs)
    assert cli.main(["import", "tensorboard", str(logs), "--project", "tb"]) == 0
    runs = _imported(offline_env)
    assert sorted(runs) == ["eval", "train"]
    train = runs["train"]["rows"]
    assert {step: {k: v for k, v in row.items() if k != "sample"}
            for step, row in train.items()} == {
        0: {"loss": 1.0, "acc": 0.0},
        1: {"loss": 0.5, "acc": 0.25},
        2: {"loss": pytest.approx(1 / 3), "acc": 0.5},
    }
    image = json.loads(train[2]["sample"]) if isinstance(
        train[2]["sample"], str) else train[2]["sample"]
    assert (image["_type"], image["width"], image["height"]) == ("image-file", 5, 4)
    assert runs["eval"]["rows"] == {10: {"loss": 0.75}}


def test_tensorboard_without_event_files_is_a_clear_error(offline_env, capsys):
    (offline_env / "empty").mkdir()
    assert cli.main(["import", "tensorboard", str(offline_env / "empty")]) == 1
    assert "holds no TensorBoard event file" in capsys.readouterr().err


# ---- mlflow ------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _mlflow_store(root: Path) -> None:
    """MLflow's documented file-store layout, written by hand."""
    _write(root / "1" / "meta.yaml", "experiment_id: '1'\nname: vision\n"
           "lifecycle_stage: active\nartifact_location: file:///x\n")
    run = root / "1" / "a1b2c3"
    _write(run / "meta.yaml", "run_id: a1b2c3\nrun_name: resnet-run\n"
           "experiment_id: '1'\nstatus: 3\nstart_time: 1700000000000\n"
           "end_time: 1700000100000\nlifecycle_stage: active\n")
    _write(run / "params" / "lr", "0.001")
    _write(run / "params" / "model" / "depth", "50")
    _write(run / "params" / "optimizer", "adam")
    _write(run / "metrics" / "loss", "1700000000001 0.9 0\n1700000000002 0.7 1\n"
           "1700000000003 0.4 2\n")
    _write(run / "metrics" / "val" / "acc", "1700000000004 0.8 2\n")
    _write(run / "tags" / "mlflow.runName", "resnet-run")
    _write(run / "tags" / "mlflow.note.content", "a note")
    _write(run / "tags" / "team", "perception")
    failed = root / "1" / "d4e5f6"
    _write(failed / "meta.yaml", "run_id: d4e5f6\nrun_name: broken\nstatus: 4\n"
           "lifecycle_stage: active\n")
    _write(failed / "metrics" / "loss", "1700000000001 2.5 0\n")
    deleted = root / "1" / "0000aa"
    _write(deleted / "meta.yaml", "run_id: 0000aa\nrun_name: gone\nstatus: 3\n"
           "lifecycle_stage: deleted\n")
    _write(root / ".trash" / "README", "")


def test_mlflow_runs_become_runs_of_their_experiment(offline_env):
    store = offline_env / "mlruns"
    _mlflow_store(store)
    assert cli.main(["import", "mlflow", str(store)]) == 0
    runs = _imported(offline_env)
    assert sorted(runs) == ["broken", "resnet-run"]
    run = runs["resnet-run"]
    assert run["project"] == "vision"
    assert run["config"] == {"lr": 0.001, "model/depth": 50, "optimizer": "adam"}
    assert run["rows"] == {0: {"loss": 0.9}, 1: {"loss": 0.7},
                           2: {"loss": 0.4, "val/acc": 0.8}}
    assert (run["start"].notes, list(run["start"].tags)) == ("a note",
                                                              ["team=perception"])
    assert run["finish"].exit_code == 0
    assert runs["broken"]["finish"].exit_code == 1


def test_mlflow_needs_a_tracking_folder(offline_env, capsys):
    (offline_env / "nothing").mkdir()
    assert cli.main(["import", "mlflow", str(offline_env / "nothing")]) == 1
    assert "is not an MLflow tracking folder" in capsys.readouterr().err
