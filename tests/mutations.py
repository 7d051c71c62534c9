"""Requests near the valid ones: one or a few changes to valid parameters, at any depth."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st
from params_by_hand import valid_params

Path = tuple[str | int, ...]

# Values near the documented limits, so that edits reach the length, pattern and range rules.
near_limits = st.sampled_from(
    [
        "ab",
        "a" * 128,
        "a" * 129,
        "x" * 256,
        "x" * 257,
        "aws:k",
        "AWS:",
        "",
        "#",
        "i-0a1b2c3",
        "true",
        "gp4",
        "io2",
        "image",
        "instance",
        "Regional",
        2**31,
        -(2**31) - 1,
        0,
        124,
        16385,
        1.5,
    ]
)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=140)
    | near_limits,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
member_names = st.sampled_from(
    [
        "Name",
        "InstanceId",
        "Tags",
        "Key",
        "Value",
        "Ebs",
        "VolumeSize",
        "VolumeType",
        "Foo",
        "DryRun",
    ]
)


def _paths(value: Any, path: Path = ()) -> list[Path]:
    found = [path]
    if isinstance(value, dict):
        for key, member in value.items():
            found += _paths(member, (*path, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            found += _paths(member, (*path, index))
    return found


def _parent(root: Any, path: Path) -> Any:
    for step in path[:-1]:
        root = root[step]
    return root


@st.composite
def mutated_params(draw: st.DrawFn) -> Any:
    """Valid parameters with one to three random edits: replace, delete or add a member."""
    params = copy.deepcopy(draw(valid_params()))
    for _ in range(draw(st.integers(1, 3))):
        top_level: list[Path] = [(name,) for name in params]
        path = draw(st.sampled_from(_paths(params)) | st.sampled_from(top_level or [()]))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            if action == "add":
                params[draw(member_names)] = draw(json_values)
            continue
        parent = _parent(params, path)
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(member_names)] = draw(json_values)
    return params
