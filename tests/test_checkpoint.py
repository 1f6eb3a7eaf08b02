"""A checkpoint is read back, or refused in our own words: never a traceback, whatever its bytes."""

import os

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.session.checkpoint import CHECKPOINT, Checkpoint, CheckpointError


def saved(folder) -> bytes:
    Checkpoint("f" * 16, 6, ["piece-0000.mp4", "piece-0001.mp4"], {"frame": torch.zeros(2, 3)},
               {"precision": "fp32"}).save(folder)
    return (folder / CHECKPOINT).read_bytes()


def test_a_checkpoint_reads_back_as_saved(tmp_path):
    saved(tmp_path)
    checkpoint = Checkpoint.load(tmp_path)
    assert (checkpoint.fingerprint, checkpoint.next_frame, checkpoint.pieces) == ("f" * 16, 6,
                                                                                  ["piece-0000.mp4", "piece-0001.mp4"])
    assert checkpoint.facts == {"precision": "fp32"} and checkpoint.loop_state["frame"].shape == (2, 3)


def refused(folder, data: bytes) -> str:
    (folder / CHECKPOINT).write_bytes(data)
    with pytest.raises(CheckpointError) as caught:
        Checkpoint.load(folder)
    return str(caught.value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=4096), st.integers(0, 4096).map(os.urandom)))
def test_random_bytes_are_a_damaged_checkpoint(tmp_path, data):
    assert refused(tmp_path, data) == f"the checkpoint {tmp_path / CHECKPOINT} is damaged"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0, 0.999), flips=st.lists(st.tuples(st.floats(0, 0.999), st.integers(1, 255)), max_size=4))
def test_a_truncated_or_bit_flipped_checkpoint_is_damaged_or_reads_as_saved(tmp_path, cut, flips):
    whole = bytearray(saved(tmp_path))
    for where, mask in flips:
        whole[int(where * len(whole))] ^= mask
    data = bytes(whole[: max(1, int(cut * len(whole)))]) if cut else bytes(whole)
    (tmp_path / CHECKPOINT).write_bytes(data)
    try:
        checkpoint = Checkpoint.load(tmp_path)
    except CheckpointError as error:
        assert str(error) == f"the checkpoint {tmp_path / CHECKPOINT} is damaged"
    else:  # a flip in bytes nobody reads (zip padding, a tensor's values) leaves a well-formed checkpoint
        assert checkpoint.well_formed()


@pytest.mark.parametrize("content", [[1, 2, 3], {"fingerprint": 3, "next_frame": 1, "pieces": [], "loop_state": {}},
                                     {"fingerprint": "x", "next_frame": -1, "pieces": [], "loop_state": {}},
                                     {"fingerprint": "x", "next_frame": 1, "pieces": [7], "loop_state": {}}])
def test_a_checkpoint_of_the_wrong_shape_is_damaged(tmp_path, content):
    torch.save(content, tmp_path / CHECKPOINT)
    with pytest.raises(CheckpointError, match="is damaged$"):
        Checkpoint.load(tmp_path)
