"""The Stability tab: the selected run's map with its (lr, knob) marked, a
click setting them, and a map for each kind of optimizer."""

from __future__ import annotations

import math

import pytest


def _show_tab(window) -> None:
    window.curve_tabs.setCurrentWidget(window.stability_tab)
    assert window.stability_view.isVisible()


def test_the_tab_shows_the_selected_runs_map_and_point(window):
    window.apply_config(window.session.run.config.with_changes(
        optimizer="momentum", lr=0.2, hyperparameters={"momentum": 0.7}))  # fmt: skip
    _show_tab(window)
    view = window.stability_view
    assert view._map is not None
    assert view._map.optimizer == "momentum"
    assert window.stability._marker == (0.2, 0.7)


def test_a_click_sets_the_runs_lr_and_momentum(window):
    _show_tab(window)  # plain SGD: the (lr, momentum) map at momentum 0
    assert window.stability._marker == (0.01, 0.0)
    window.stability_view.picked.emit(0.05, 0.5)
    config = window.session.run.config
    assert (config.optimizer, config.lr) == ("momentum", 0.05)
    assert config.hyperparameters["momentum"] == pytest.approx(0.5)
    assert window.controls.config() == config
    assert window.stability._marker == (0.05, 0.5)


def test_adaptive_optimizers_get_the_empirical_map(window):
    window.apply_config(window.session.run.config.with_changes(
        optimizer="adam", lr=0.1))  # fmt: skip
    _show_tab(window)
    assert window.stability_view._map.optimizer == "adam"
    assert window.stability._marker == (0.1, 0.9)  # lr and β1
    window.stability_view.picked.emit(0.3, 0.8)
    config = window.session.run.config
    assert config.lr == 0.3
    assert config.hyperparameters["beta1"] == pytest.approx(0.8)


def test_an_optimizer_without_a_map_says_so(window):
    window.apply_config(window.session.run.config.with_changes(
        optimizer="lbfgs", lr=0.5))  # fmt: skip
    _show_tab(window)
    assert "covers SGD" in window.stability_view._title.full_text
    assert window.stability._marker is None or math.isnan(window.stability._marker[1])


def test_nothing_is_computed_while_the_tab_is_hidden(window):
    window.apply_config(window.session.run.config.with_changes(lr=0.03))
    assert window.stability._key is None
