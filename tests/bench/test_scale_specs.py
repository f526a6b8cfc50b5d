"""The scale benchmarks' specs (bench/generate_at_scale.py): what their options draw."""
from __future__ import annotations

import pytest

from tests.support.paths import REPO


@pytest.fixture
def scale(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    import generate_at_scale
    return generate_at_scale


def test_shuffled_settings_with_values_are_drawn_from_the_first_k_of_each(scale) -> None:
    drawn = [scale.settings(i, shuffled=True, values=2) for i in range(400)]
    assert {objective for objective, *_ in drawn} == set(scale.RICHER_OBJECTIVES[:2])
    assert {threshold for _, threshold, classic, _ in drawn if not classic} == set(scale.RICHER_THRESHOLDS[:2])


def test_shuffled_settings_without_values_draw_from_all_as_the_recorded_rows_did(scale) -> None:
    every = [scale.settings(i, shuffled=True) for i in range(400)]
    assert {objective for objective, *_ in every} == set(scale.RICHER_OBJECTIVES)
    assert {threshold for _, threshold, classic, _ in every if not classic} == set(scale.RICHER_THRESHOLDS)


def test_fewer_values_make_fewer_shapes_of_service(scale) -> None:
    from obs.generate import service_makers, stamp
    from obs.generate.common import forget
    from obs.project import load_text

    def shapes(values: int) -> int:
        model = load_text(scale.spec(200, names="realistic", shuffled=True, values=values), "obs.yaml")
        return stamp.Stamping(model, service_makers(), forget).shapes

    assert shapes(2) < shapes(4) < shapes(0)
