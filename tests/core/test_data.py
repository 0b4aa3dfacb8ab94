"""Tests for sgd_viewer.core.data: generation, validation, CSV loading, bundled data."""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgd_viewer.core import data
from sgd_viewer.core.data import (
    DEFAULT_MAX_ROWS,
    DataError,
    Dataset,
    bundled_dataset_names,
    csv_columns,
    generate,
    load_bundled,
    load_csv,
    validate_xy,
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


# ------------------------------------------------------------------------ generate


def test_generate_same_seed_same_data() -> None:
    one, two = generate(n=200, seed=7), generate(n=200, seed=7)
    np.testing.assert_array_equal(one.x, two.x)
    np.testing.assert_array_equal(one.y, two.y)


def test_generate_different_seed_different_data() -> None:
    one, two = generate(seed=0), generate(seed=1)
    assert not np.array_equal(one.x, two.x)
    assert not np.array_equal(one.y, two.y)


def test_generate_follows_the_documented_recipe() -> None:
    # Other tools (and the lesson's code) rely on exactly this draw order.
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 20)
    y = 2.0 * x - 1.0 + 0.5 * rng.normal(0, 1, 20)
    ds = generate(n=20, a=2.0, b=-1.0, noise=0.5, seed=3)
    np.testing.assert_array_equal(ds.x, x)
    np.testing.assert_array_equal(ds.y, y)


def test_generate_statistics() -> None:
    ds = generate(n=100_000, a=3.0, b=8.0, noise=0.3, seed=0)
    slope, intercept = np.polyfit(ds.x, ds.y, 1)
    assert slope == pytest.approx(3.0, abs=0.02)
    assert intercept == pytest.approx(8.0, abs=0.01)
    residual = ds.y - (slope * ds.x + intercept)
    assert residual.std() == pytest.approx(0.3, rel=0.02)
    assert ds.x.min() >= 0.0
    assert ds.x.max() < 1.0
    assert ds.x.mean() == pytest.approx(0.5, abs=0.01)


def test_generate_zero_noise_is_exactly_on_the_line() -> None:
    ds = generate(n=10, a=-2.0, b=1.5, noise=0.0, seed=4)
    np.testing.assert_allclose(ds.y, -2.0 * ds.x + 1.5, rtol=0, atol=1e-15)


def test_generate_metadata() -> None:
    ds = generate()
    assert ds.n == 50
    assert ds.name == "generated (n=50, a=3, b=8, σ=0.3, seed 0)"
    assert (ds.true_a, ds.true_b, ds.noise, ds.seed) == (3.0, 8.0, 0.3, 0)
    assert ds.source == "generated"
    assert ds.is_generated
    assert (ds.x_label, ds.y_label) == ("x", "y")


def test_generated_arrays_are_read_only_float64() -> None:
    ds = generate(n=5)
    for arr in (ds.x, ds.y):
        assert arr.dtype == np.float64
        assert arr.ndim == 1
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1.0


def test_dataset_is_frozen() -> None:
    ds = generate(n=5)
    with pytest.raises(AttributeError):
        ds.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"n": 1}, "n must be between 2 and 10,000,000"),
        ({"n": 0}, "n must be between"),
        ({"n": DEFAULT_MAX_ROWS + 1}, "n must be between"),
        ({"n": 5.0}, "n must be an integer"),
        ({"n": True}, "n must be an integer"),
        ({"a": math.nan}, "a must be finite"),
        ({"b": math.inf}, "b must be finite"),
        ({"a": "three"}, "a must be a number"),
        ({"noise": -0.1}, "noise must be >= 0"),
        ({"noise": math.nan}, "noise must be finite"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"a": 1e200}, "values too large"),
    ],
)
def test_generate_rejects_bad_arguments(kwargs: dict, fragment: str) -> None:
    with pytest.raises(DataError) as info:
        generate(**kwargs)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


# -------------------------------------------------------------------- validate_xy


def test_validate_xy_converts_and_protects() -> None:
    x_in = [1, 2, 3]
    y_in = np.array([1.0, 4.0, 9.0])
    x, y = validate_xy(x_in, y_in)
    assert x.dtype == np.float64
    assert y.dtype == np.float64
    assert not x.flags.writeable
    assert not y.flags.writeable
    y_in[0] = 100.0  # the caller's array stays theirs
    assert y[0] == 1.0


def test_dataset_copies_a_read_only_view_of_a_writable_array() -> None:
    base = np.arange(10.0)
    view = base[::2]
    view.flags.writeable = False
    ds = Dataset(x=view, y=view * 2, name="view")
    base[0] = 99.0
    assert ds.x[0] == 0.0


@pytest.mark.parametrize(
    ("x", "y", "fragment"),
    [
        ([1, 2, 3], [1, 2], "different lengths (3 and 2)"),
        ([1], [1], "has 1 point; need at least 2"),
        ([], [], "has 0 points"),
        ([1, np.nan, 3], [1, 2, 3], "x[1] is NaN"),
        ([1, 2, 3], [1, 2, -np.inf], "y[2] is infinite"),
        ([2, 2, 2], [1, 2, 3], "all x values are equal: no unique line"),
        ([1e16, 1e16 + 2, 1e16 + 4], [1, 2, 3], "all x values are equal"),
        ([1, 2, 1e300], [1, 2, 3], "values too large (|v| > 1e150)"),
        ([1, 2, 3], [1, -2e151, 3], "their squares overflow float64"),
        ([[1, 2], [3, 4]], [[1, 2], [3, 4]], "must be 1-D"),
        ([1 + 1j, 2], [1, 2], "complex"),
        (["a", "b"], [1, 2], "not numbers"),
    ],
)
def test_validate_xy_rejects(x: object, y: object, fragment: str) -> None:
    with pytest.raises(DataError) as info:
        validate_xy(x, y, name="mydata")
    message = str(info.value)
    assert message.startswith("mydata: ")
    assert fragment in message
    assert "\n" not in message


def test_validate_xy_accepts_large_offset_with_resolvable_spread() -> None:
    x, _ = validate_xy([1e6, 1e6 + 1, 1e6 + 2], [1, 2, 3])
    assert x[1] - x[0] == 1.0


def test_dataset_constructor_validates() -> None:
    with pytest.raises(DataError, match="all x values are equal"):
        Dataset(x=np.ones(3), y=np.arange(3.0), name="flat")


# ----------------------------------------------------------------------- load_csv


def test_load_csv_with_header(tmp_path: Path) -> None:
    path = write(tmp_path, "pts.csv", "speed,dist\n1,2\n2,4.5\n3,-6e-1\n")
    ds = load_csv(path)
    np.testing.assert_array_equal(ds.x, [1, 2, 3])
    np.testing.assert_array_equal(ds.y, [2, 4.5, -0.6])
    assert (ds.x_label, ds.y_label) == ("speed", "dist")
    assert ds.name == "pts.csv"
    assert ds.source == str(path)
    assert not ds.is_generated
    assert ds.true_a is None
    assert not ds.x.flags.writeable
    assert not ds.y.flags.writeable


def test_load_csv_without_header(tmp_path: Path) -> None:
    ds = load_csv(write(tmp_path, "raw.csv", "1,2\n3,4\n5,7\n"))
    np.testing.assert_array_equal(ds.x, [1, 3, 5])
    np.testing.assert_array_equal(ds.y, [2, 4, 7])
    assert (ds.x_label, ds.y_label) == ("x", "y")


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,10,100\n2,20,200\n3,30,301\n", "comma"),
        ("a;b;c\n1;10;100\n2;20;200\n3;30;301\n", "semicolon"),
        ("a\tb\tc\n1\t10\t100\n2\t20\t200\n3\t30\t301\n", "tab"),
        ("a   b  c\n1  10   100\n 2 20 200\n3\t30  301\n", "whitespace"),
        ("a, b, c\n1, 10, 100\n2, 20, 200\n3, 30, 301\n", "comma-space"),
    ],
)
def test_load_csv_delimiters_and_column_choice(
    tmp_path: Path, text: str, delimiter: str
) -> None:
    path = write(tmp_path, f"{delimiter}.csv", text)
    assert csv_columns(path) == ["a", "b", "c"]
    default = load_csv(path)
    np.testing.assert_array_equal(default.x, [1, 2, 3])
    np.testing.assert_array_equal(default.y, [10, 20, 30])
    by_name = load_csv(path, x="c", y="a")
    np.testing.assert_array_equal(by_name.x, [100, 200, 301])
    np.testing.assert_array_equal(by_name.y, [1, 2, 3])
    assert (by_name.x_label, by_name.y_label) == ("c", "a")
    by_index = load_csv(path, x=2, y=1)
    np.testing.assert_array_equal(by_index.x, [100, 200, 301])
    np.testing.assert_array_equal(by_index.y, [10, 20, 30])


def test_load_csv_only_x_given_takes_the_next_numeric_column(tmp_path: Path) -> None:
    path = write(tmp_path, "three.csv", "a,b,c\n1,10,100\n2,20,200\n3,30,301\n")
    ds = load_csv(path, x="b")
    np.testing.assert_array_equal(ds.x, [10, 20, 30])
    np.testing.assert_array_equal(ds.y, [1, 2, 3])
    ds = load_csv(path, y="a")
    np.testing.assert_array_equal(ds.x, [10, 20, 30])


def test_load_csv_skips_text_columns_by_default(tmp_path: Path) -> None:
    path = write(tmp_path, "named.csv", "name,h,w\nann,1.5,50\nbob,1.8,80\n")
    ds = load_csv(path)
    assert (ds.x_label, ds.y_label) == ("h", "w")
    np.testing.assert_array_equal(ds.y, [50, 80])


def test_load_csv_names_without_header(tmp_path: Path) -> None:
    path = write(tmp_path, "nohead.txt", "1 10 100\n2 20 200\n3 30 301\n")
    names = csv_columns(path)
    assert names == ["column 0", "column 1", "column 2"]
    ds = load_csv(path, x=names[2], y=names[0])
    np.testing.assert_array_equal(ds.x, [100, 200, 301])
    ds = load_csv(path, x="2", y="1")  # digit strings, as from a command line
    np.testing.assert_array_equal(ds.y, [10, 20, 30])


def test_load_csv_column_name_is_case_insensitive_fallback(tmp_path: Path) -> None:
    path = write(tmp_path, "case.csv", "Speed,Dist\n1,2\n2,3\n")
    assert load_csv(path, x="dist", y="speed").x_label == "Dist"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"x": "nope"}, "no column named 'nope'; columns are: a, b, c"),
        ({"x": 3}, "x column index 3 is out of range"),
        ({"y": -1}, "y column index -1 is out of range"),
        ({"x": "a", "y": 0}, "x and y are the same column"),
        ({"x": 1.5}, "x column must be a name or an index"),
    ],
)
def test_load_csv_bad_column_choice(
    tmp_path: Path, kwargs: dict, fragment: str
) -> None:
    path = write(tmp_path, "cols.csv", "a,b,c\n1,10,100\n2,20,200\n")
    with pytest.raises(DataError) as info:
        load_csv(path, **kwargs)
    assert str(info.value).startswith(str(path))
    assert fragment in str(info.value)


def test_load_csv_bom_comments_blank_lines_crlf(tmp_path: Path) -> None:
    text = (
        "\ufeff# exported\r\n\r\n  x , y \r\n# mid comment\r\n1,2\r\n\r\n  \r\n3,4\r\n"
    )
    path = write(tmp_path, "bom.csv", text)
    ds = load_csv(path)
    assert (ds.x_label, ds.y_label) == ("x", "y")
    np.testing.assert_array_equal(ds.x, [1, 3])
    np.testing.assert_array_equal(ds.y, [2, 4])


def test_load_csv_cr_line_endings_and_no_final_newline(tmp_path: Path) -> None:
    ds = load_csv(write(tmp_path, "mac.csv", "x,y\r1,2\r3,4"))
    np.testing.assert_array_equal(ds.y, [2, 4])


def test_load_csv_quoted_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", '"speed, mph","dist"\n"1","2"\n"3","4"\n')
    assert csv_columns(path) == ["speed, mph", "dist"]
    ds = load_csv(path, x="speed, mph")
    np.testing.assert_array_equal(ds.x, [1, 3])


def test_load_csv_latin1_header_falls_back(tmp_path: Path) -> None:
    path = write(
        tmp_path, "l1.csv", "température;pression\n1;2\n2;3\n".encode("latin-1")
    )
    ds = load_csv(path)
    assert ds.x_label == "température"
    np.testing.assert_array_equal(ds.y, [2, 3])


def test_load_csv_accepts_pathlike_and_str(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "1,2\n2,3\n")
    assert load_csv(str(path)).n == load_csv(path).n == 2


@pytest.mark.parametrize("chunk", [7, 1000, 65536])
def test_line_numbers_survive_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # Small read chunks so lines, CRLFs and comments straddle chunk boundaries.
    monkeypatch.setattr(data, "_CHUNK_BYTES", chunk)
    rows = ["x,y"]
    for i in range(20_000):
        if i % 1000 == 0:
            rows.extend(["# checkpoint", ""])
        rows.append(f"{i},{2 * i + 1}")
    good = write(tmp_path, "big.csv", "\r\n".join(rows) + "\r\n")
    assert good.stat().st_size > 3 * chunk
    ds = load_csv(good)
    assert ds.n == 20_000
    np.testing.assert_array_equal(ds.x, np.arange(20_000))
    np.testing.assert_array_equal(ds.y, 2 * ds.x + 1)

    bad_index = 19_123
    line = bad_index + 2 + 2 * (bad_index // 1000 + 1)  # header, comments, blanks
    assert rows[line - 1] == f"{bad_index},{2 * bad_index + 1}"
    rows[line - 1] = f"{bad_index},oops"
    bad = write(tmp_path, "bigbad.csv", "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=rf"line {line}, column 'y' .*'oops'"):
        load_csv(bad)
    rows[line - 1] = f"{bad_index},nan"
    nan = write(tmp_path, "bignan.csv", "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=rf"line {line}, column 'y' .*NaN"):
        load_csv(nan)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-1e150, 1e150, allow_nan=False),
            st.floats(-1e150, 1e150, allow_nan=False),
        ),
        min_size=2,
        max_size=30,
    ),
    st.sampled_from([",", ";", "\t", " "]),
)
def test_load_csv_round_trips_exactly(
    points: list[tuple[float, float]], delimiter: str
) -> None:
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    text = "".join(f"{a!r}{delimiter}{b!r}\n" for a, b in points)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "round.csv"
        path.write_text(text, encoding="utf-8")
        if np.ptp(x) <= 64 * np.finfo(np.float64).eps * np.abs(x).max():
            with pytest.raises(DataError, match="all x values are equal"):
                load_csv(path)
            return
        ds = load_csv(path)
    np.testing.assert_array_equal(ds.x, x)
    np.testing.assert_array_equal(ds.y, y)


def test_load_csv_million_rows(tmp_path: Path) -> None:
    ds0 = generate(n=1_000_000, seed=5)
    lines = map("{!r},{!r}".format, ds0.x.tolist(), ds0.y.tolist())
    path = write(tmp_path, "million.csv", "x,y\n" + "\n".join(lines) + "\n")
    ds = load_csv(path)
    np.testing.assert_array_equal(ds.x, ds0.x)
    np.testing.assert_array_equal(ds.y, ds0.y)


# ------------------------------------------------------------------------ bundled


def test_bundled_names() -> None:
    names = bundled_dataset_names()
    assert names == sorted(names)
    for expected in ("anscombe-1", "anscombe-2", "anscombe-3", "anscombe-4", "cars"):
        assert expected in names
    assert "forbes" in names


def test_every_bundled_dataset_has_provenance() -> None:
    folder = resources.files("sgd_viewer.resources") / "datasets"
    for name in bundled_dataset_names():
        note = (folder / f"{name}.md").read_text(encoding="utf-8")
        lowered = note.lower()
        assert "source" in lowered, name
        assert "license" in lowered, name
        assert "check" in lowered, name  # each note states how the data was verified


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_anscombe_quartet_statistics(k: int) -> None:
    ds = load_bundled(f"anscombe-{k}")
    assert ds.n == 11
    assert ds.name == f"anscombe-{k}"
    assert ds.source == f"bundled:anscombe-{k}"
    assert (ds.x_label, ds.y_label) == ("x", "y")
    assert ds.x.mean() == pytest.approx(9.0)
    assert round(ds.y.mean(), 2) == 7.50
    slope, intercept = np.polyfit(ds.x, ds.y, 1)
    assert round(slope, 2) == 0.50
    assert round(intercept, 2) == pytest.approx(3.00, abs=0.005)
    assert ds.x.var(ddof=1) == pytest.approx(11.0)
    assert np.corrcoef(ds.x, ds.y)[0, 1] == pytest.approx(0.816, abs=0.001)


def test_cars_matches_published_fit() -> None:
    ds = load_bundled("cars")
    assert ds.n == 50
    assert (ds.x_label, ds.y_label) == ("speed", "dist")
    slope, intercept = np.polyfit(ds.x, ds.y, 1)
    assert intercept == pytest.approx(-17.5791, abs=1e-4)
    assert slope == pytest.approx(3.9324, abs=1e-4)
    assert ds.x.mean() == pytest.approx(15.4)
    assert ds.y.mean() == pytest.approx(42.98)


def test_forbes_matches_published_fit() -> None:
    ds = load_bundled("forbes")
    assert ds.n == 17
    slope, intercept = np.polyfit(ds.x, ds.y, 1)
    assert intercept == pytest.approx(-81.06, abs=0.005)
    assert slope == pytest.approx(0.5229, abs=5e-5)
    assert ds.x[11] == 204.6
    assert ds.y[11] == 26.57


def test_load_bundled_choose_columns() -> None:
    ds = load_bundled("cars", x="dist", y="speed")
    assert (ds.x_label, ds.y_label) == ("dist", "speed")


def test_load_bundled_unknown_name_lists_available() -> None:
    with pytest.raises(DataError) as info:
        load_bundled("no-such-data")
    message = str(info.value)
    assert message.startswith("no-such-data: ")
    assert "anscombe-1" in message
    assert "cars" in message
    with pytest.raises(DataError):
        load_bundled("../anscombe-1")


def test_bundled_access_goes_through_importlib_resources(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Works from a wheel or zip: no reliance on the repository layout or on pip.
    calls: list[str] = []
    real = resources.files

    def spy(package: str):  # type: ignore[no-untyped-def]
        calls.append(package)
        return real(package)

    monkeypatch.setattr(data.resources, "files", spy)
    assert load_bundled("anscombe-1").n == 11
    assert calls
    assert set(calls) == {"sgd_viewer.resources"}


def test_core_data_imports_no_qt_or_torch() -> None:
    code = (
        "import sys, sgd_viewer.core.data\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'PySide6', 'pyqtgraph') or m.startswith('sgd_viewer.gui')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_csv_columns_of_a_header_only_file(tmp_path: Path) -> None:
    # The chooser may show the columns; loading then explains there are no rows.
    path = write(tmp_path, "head.csv", "# units: s, m\ntime;distance\n")
    assert csv_columns(path) == ["time", "distance"]
    with pytest.raises(DataError, match="no data rows"):
        load_csv(path)
