"""dlib's ResNet read from its .dat file and run on onnxruntime gives dlib's own descriptors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from video_audit.faces.dlib_resnet import DlibResnet, build_graph
from video_audit.faces.engine import EngineError
from video_audit.samples.faces import augment, portraits


def _model() -> Path:
    import face_recognition_models as frm

    return Path(frm.face_recognition_model_location())


@pytest.fixture(scope="module")
def chips(t1: np.ndarray) -> list[np.ndarray]:
    """Aligned chips of real faces: t1.jpg's six people, portraits, an augmented copy."""
    import dlib
    import face_recognition_models as frm

    detector = dlib.get_frontal_face_detector()
    shaper = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    images = [t1, *portraits()[:3], augment(portraits()[0], blur=1.5, jpeg=30)]
    out = []
    for img in images:
        for rect in detector(img, 1):
            out.append(np.asarray(dlib.get_face_chip(img, shaper(img, rect), 150, 0.25)))
    assert len(out) >= 8
    return out


def test_descriptors_equal_dlibs_own(chips: list[np.ndarray]) -> None:
    import dlib

    reference = dlib.face_recognition_model_v1(str(_model()))
    ours = DlibResnet(_model()).descriptors(chips)
    theirs = np.array([np.asarray(reference.compute_face_descriptor(c)) for c in chips])
    assert ours.shape == (len(chips), 128)
    assert np.abs(ours - theirs).max() < 1e-4
    # and they are face descriptors: different people of t1 lie apart, a chip equals itself
    assert np.linalg.norm(ours[0] - ours[1]) > 0.4
    again = DlibResnet(_model()).descriptors(chips[:1])
    assert np.abs(again[0] - ours[0]).max() < 1e-6


def test_a_batch_gives_what_single_chips_give(chips: list[np.ndarray]) -> None:
    net = DlibResnet(_model())
    batch = net.descriptors(chips)
    single = np.array([net.descriptors([c])[0] for c in chips])
    assert np.abs(batch - single).max() < 1e-4
    assert net.descriptors([]).shape == (0, 128)


def test_a_file_that_is_not_the_network_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "dlib_face_recognition_resnet_model_v1.dat"
    bad.write_bytes(b"\x01\x01\x01\x0dloss_metric_2" + bytes(200))
    with pytest.raises(EngineError, match=r"dlib_face_recognition_resnet_model_v1\.dat"):
        build_graph(bad)
    cut = tmp_path / "cut.dat"
    cut.write_bytes(_model().read_bytes()[:5_000_000])
    with pytest.raises(EngineError, match=r"cut\.dat"):
        build_graph(cut)
