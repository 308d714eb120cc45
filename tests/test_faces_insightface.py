"""The insightface engine's loading and plumbing, with tiny ONNX models built here (the same
inputs and outputs as SCRFD and ArcFace); packs installed with a SHA-256 manifest; a real pack
when one is installed (marker insightface_pack, skipped otherwise)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from tests.conftest import PREFIX
from video_audit.cli import main
from video_audit.faces.embedded import EmbeddedEngine
from video_audit.faces.engine import EngineError, distance
from video_audit.faces.insightface_engine import InsightfaceEngine
from video_audit.faces.packs import MANIFEST, install, list_packs, usable_pack
from video_audit.faces.select import select_engine
from video_audit.faces.settings import face_settings
from video_audit.samples.faces import images_dir
from video_audit.standard import load_profile

FS = face_settings(load_profile().section("faces"))
STRIDES = (8, 16, 32)


def tiny_scrfd(path: Path) -> Path:
    """SCRFD's contract: input 1×3×H×W; 9 outputs (scores, boxes, landmarks per stride 8/16/32,
    two anchors a cell). Here a cell scores high when its red channel is bright."""
    nodes, outputs, inits = [], [], []
    inits.append(numpy_helper.from_array(np.array([0], np.int64), "c0"))
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "c1"))
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "axis1"))
    inits.append(numpy_helper.from_array(np.array([20.0], np.float32), "gain"))
    inits.append(numpy_helper.from_array(np.array([-18.0], np.float32), "bias"))
    inits.append(numpy_helper.from_array(np.array([0.0], np.float32), "zero"))
    inits.append(numpy_helper.from_array(np.array([-1, 1], np.int64), "col"))
    inits.append(numpy_helper.from_array(np.full((1, 4), 2.0, np.float32), "dist"))
    kps = np.array([[-1, -1, 1, -1, 0, 0, -0.8, 1, 0.8, 1]], np.float32)
    inits.append(numpy_helper.from_array(kps, "kps"))
    nodes.append(helper.make_node("Slice", ["input.1", "c0", "c1", "axis1"], ["red"]))
    scores, boxes, points = [], [], []
    for s in STRIDES:
        nodes += [
            helper.make_node(
                "AveragePool", ["red"], [f"p{s}"], kernel_shape=[s, s], strides=[s, s]
            ),
            helper.make_node("Mul", [f"p{s}", "gain"], [f"g{s}"]),
            helper.make_node("Add", [f"g{s}", "bias"], [f"l{s}"]),
            helper.make_node("Sigmoid", [f"l{s}"], [f"s{s}"]),
            helper.make_node("Transpose", [f"s{s}"], [f"t{s}"], perm=[0, 2, 3, 1]),
            helper.make_node("Concat", [f"t{s}", f"t{s}"], [f"a{s}"], axis=3),
            helper.make_node("Reshape", [f"a{s}", "col"], [f"score_{s}"]),
            helper.make_node("Mul", [f"score_{s}", "zero"], [f"z{s}"]),
            helper.make_node("Add", [f"z{s}", "dist"], [f"bbox_{s}"]),
            helper.make_node("Add", [f"z{s}", "kps"], [f"kps_{s}"]),
        ]
        scores.append(helper.make_tensor_value_info(f"score_{s}", TensorProto.FLOAT, [None, 1]))
        boxes.append(helper.make_tensor_value_info(f"bbox_{s}", TensorProto.FLOAT, [None, 4]))
        points.append(helper.make_tensor_value_info(f"kps_{s}", TensorProto.FLOAT, [None, 10]))
    outputs = scores + boxes + points
    image = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, None, None])
    graph = helper.make_graph(nodes, "tiny_scrfd", [image], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def tiny_arcface(path: Path) -> Path:
    """ArcFace's contract: input N×3×112×112, output N×512 (here: the mean colour, projected)."""
    weights = np.random.default_rng(0).normal(size=(3, 512)).astype(np.float32)
    nodes = [
        helper.make_node("GlobalAveragePool", ["data"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["fc1"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_arcface",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [None, 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [None, 512])],
        [numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


@pytest.fixture
def tiny_pack(tmp_path: Path) -> Path:
    folder = tmp_path / "tinypack"
    folder.mkdir()
    tiny_scrfd(folder / "det_tiny.onnx")
    tiny_arcface(folder / "w_tiny.onnx")
    return folder


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated place for packs: $VIDEO_AUDIT_MODELS, and no ./models or ~/.insightface."""
    root = tmp_path / "models"
    monkeypatch.setenv("VIDEO_AUDIT_MODELS", str(root))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return root


def squares(size: tuple[int, int], at: list[tuple[int, int]], side: int = 8) -> np.ndarray:
    """Bright squares, one stride-8 cell each: the tiny detector's 'faces'."""
    img = np.zeros((size[1], size[0], 3), np.uint8)
    for x, y in at:
        img[y : y + side, x : x + side] = 255
    return img


def test_install_records_sha256_and_auto_picks_the_pack(tiny_pack: Path, models_dir: Path) -> None:
    assert usable_pack() is None
    assert isinstance(select_engine("auto", FS), EmbeddedEngine)
    pack = install(tiny_pack)
    assert pack.path == models_dir / "tinypack" and pack.verified and pack.problem is None
    manifest = json.loads((pack.path / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {"det_tiny.onnx", "w_tiny.onnx"}
    assert all(len(d) == 64 for d in manifest["files"].values())
    engine = select_engine("auto", FS)
    assert isinstance(engine, InsightfaceEngine) and engine.metric == "cosine"
    assert [p.name for p in list_packs()] == ["tinypack"]


def test_the_engine_runs_the_detector_and_recogniser(tiny_pack: Path) -> None:
    engine = InsightfaceEngine(tiny_pack, FS.thresholds("insightface"), det_size=640)
    frame = squares((640, 480), [(96, 96), (400, 240)])  # det_size 640: scale 1
    faces = sorted(engine.detect(frame), key=lambda f: f.box[0])
    assert len(faces) == 2
    for f, (x, y) in zip(faces, [(96, 96), (400, 240)], strict=True):
        cx, cy = (f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2
        assert abs(cx - (x + 4)) < 6 and abs(cy - (y + 4)) < 6
        assert f.box[2] - f.box[0] == pytest.approx(32, abs=2)  # 2 × stride each side
        assert f.landmarks.shape == (5, 2) and f.chip.shape == (112, 112, 3)
    tiled = engine.detect(frame, tiled=True)
    assert 2 <= len(tiled) <= 3  # the tiles find the same squares: merged, not repeated 5 times
    vectors = [engine.embed(f) for f in faces]
    assert vectors[0].shape == (512,)
    red = faces[0]
    red.chip = np.zeros_like(red.chip)
    red.chip[..., 0] = 200
    blue = faces[1]
    blue.chip = np.zeros_like(blue.chip)
    blue.chip[..., 2] = 200
    assert distance("cosine", engine.embed(red), engine.embed(red)) == pytest.approx(0, abs=1e-5)
    assert distance("cosine", engine.embed(red), engine.embed(blue)) > 0.1


def test_a_changed_model_file_is_refused(tiny_pack: Path, models_dir: Path) -> None:
    pack = install(tiny_pack)
    with (pack.path / "w_tiny.onnx").open("ab") as fh:
        fh.write(b"\x00")
    (found,) = list_packs()
    assert found.problem is not None and "SHA-256 differs" in found.problem
    assert isinstance(select_engine("auto", FS), EmbeddedEngine)  # auto falls back
    with pytest.raises(EngineError, match="SHA-256 differs"):
        select_engine("insightface", FS)
    with pytest.raises(EngineError, match="SHA-256 differs"):
        InsightfaceEngine(pack.path, FS.thresholds("insightface")).load()


def test_a_pack_missing_a_model_is_a_clear_error(tmp_path: Path) -> None:
    only_det = tmp_path / "half"
    only_det.mkdir()
    tiny_scrfd(only_det / "det.onnx")
    with pytest.raises(EngineError, match=r"no recogniser \(ArcFace\)"):
        InsightfaceEngine(only_det, FS.thresholds("insightface")).load()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.onnx").write_bytes(b"not onnx")
    with pytest.raises(EngineError, match="cannot load model"):
        InsightfaceEngine(tmp_path / "bad", FS.thresholds("insightface")).load()


def test_install_from_zip_and_bad_sources(
    tiny_pack: Path, models_dir: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "buffalo_tiny.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in tiny_pack.iterdir():
            zf.write(f, f"buffalo_tiny/{f.name}")
        zf.writestr("buffalo_tiny/README.txt", "not a model")
    pack = install(archive)
    assert pack.name == "buffalo_tiny" and pack.files == ("det_tiny.onnx", "w_tiny.onnx")
    (tmp_path / "junk.zip").write_bytes(b"PK no zip")
    with pytest.raises(EngineError, match="not a ZIP file"):
        install(tmp_path / "junk.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EngineError, match=r"holds no \.onnx"):
        install(tmp_path / "empty")
    with pytest.raises(EngineError, match="no such file"):
        install(tmp_path / "nowhere")
    assert [p.name for p in list_packs()] == ["buffalo_tiny"]  # failed installs leave nothing


def test_models_cli(tiny_pack: Path, models_dir: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["models", "list"])
    assert listed.exit_code == 0 and "embedded" in listed.output
    done = runner.invoke(main, ["models", "install", str(tiny_pack), "--name", "mine"])
    assert done.exit_code == 0 and "SHA-256" in done.output
    listed = runner.invoke(main, ["models", "list", "--lang", "en"])
    assert "mine" in listed.output and "verified" in listed.output
    assert "--engine auto → insightface (mine)" in listed.output
    in_chinese = runner.invoke(main, ["models", "list"])
    assert "已校验" in in_chinese.output and "将使用：insightface (mine)" in in_chinese.output
    bad = runner.invoke(main, ["models", "install", str(models_dir / "nothing")])
    assert bad.exit_code == 2 and "no such file" in bad.output


@pytest.mark.insightface_pack
def test_a_real_pack_finds_and_tells_apart_t1s_six_people() -> None:
    pack = usable_pack()
    if pack is None or not any(f.startswith("det_") for f in pack.files):
        pytest.skip("no real insightface pack installed (video-audit models install …)")
    engine = InsightfaceEngine(pack.path, FS.thresholds("insightface"))
    t1 = cv2.cvtColor(cv2.imread(str(images_dir() / "t1.jpg")), cv2.COLOR_BGR2RGB)  # type: ignore[arg-type]
    faces = engine.detect(t1)
    assert len(faces) == 6
    vectors = [engine.embed(f) for f in faces]
    nearest_other = min(
        distance("cosine", a, b) for i, a in enumerate(vectors) for b in vectors[i + 1 :]
    )
    assert nearest_other > engine.thresholds.accept


def test_insightface_asked_without_a_pack_is_a_one_line_error(
    models_dir: Path, tmp_path: Path
) -> None:
    cls = tmp_path / PREFIX
    (cls / "6月3日").mkdir(parents=True)
    (cls / "名册.csv").write_text("证件号,姓名,角色,照片\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(cls), "--engine", "insightface"])
    assert result.exit_code == 2
    assert "face engine: no model pack found" in result.output
    assert "Traceback" not in result.output
