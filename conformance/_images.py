"""The target's images: what DescribeImages lists, and removing what a run created.

A run asks DescribeImages to see that a created image is there with its name, description and
tags, and that a DryRun created nothing; whether the target answers DescribeImages at all is
probed once, with a name no image has. Off loopback, every image a run was answered with is
deregistered at the end, and the snapshots DescribeImages said it had are deleted (EC2 keeps
those after DeregisterImage, and bills them).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from createimage_contract.schema import counted, protocol_parameters, responses

from . import _xml
from ._deviation import Deviation

if TYPE_CHECKING:
    from ._transport import Response, Transport

Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class DescribedImage:
    """What DescribeImages says about one image."""

    image_id: str
    name: str | None
    description: str | None
    tags: dict[str, str]


Describe = Callable[[dict[str, str]], list[DescribedImage] | None]
"""DescribeImages with some filters (``{"image-id": ...}`` or ``{"name": ...}``); ``None`` when
the target does not answer it; raises ``Deviation`` when it answers with something else."""


def image_tags(params: dict[str, Any]) -> list[tuple[str, str]]:
    """The tags a CreateImage request (boto3-style parameters) gives its image, in order."""
    return [
        (tag.get("Key", ""), tag.get("Value", ""))
        for specification in params.get("TagSpecifications", [])
        if specification.get("ResourceType") == "image"
        for tag in specification.get("Tags", [])
    ]


def images_in(response: Response) -> list[DescribedImage]:
    """The images of a DescribeImages answer; ``Deviation`` says why it is not one."""
    root_name = responses().shapes["DescribeImagesResponse"].root
    if response.status != 200:
        raise Deviation(f"status {response.status or response.error}")
    try:
        root = _xml.parse(response.body)
    except _xml.XmlProblem as problem:
        raise Deviation(f"the body {problem}") from None
    if _xml.local_name(root) != root_name:
        raise Deviation(f"the root element is {_xml.local_name(root)}, not {root_name}")
    return [
        DescribedImage(
            _xml.path_text(item, "imageId") or "",
            _xml.path_text(item, "name"),
            _xml.path_text(item, "description"),
            {
                _xml.path_text(tag, "key") or "": _xml.path_text(tag, "value") or ""
                for tag in _xml.children(_xml.child(item, "tagSet"), "item")
            },
        )
        for item in _xml.children(_xml.child(root, "imagesSet"), "item")
    ]


@dataclass(frozen=True)
class _Describes:
    """What the probe learned of the target's DescribeImages."""

    answers: bool
    ignores_filters: str | None = None
    """Why its answers cannot be trusted, when a filter was ignored."""


@dataclass(frozen=True)
class Removal:
    """What removing one image did: for the image and each of its snapshots, ``None`` when it
    was removed, else why it was not."""

    image_id: str
    image: str | None
    snapshots: dict[str, str | None] = field(default_factory=dict)


class TargetImages:
    """The images of one target, through its DescribeImages, DeregisterImage and
    DeleteSnapshot; ``requests`` counts what it sent."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._describes: _Describes | None = None
        self.requests = 0

    def describe(self, filters: dict[str, str]) -> list[DescribedImage] | None:
        """DescribeImages by ``image-id`` or ``name``; ``None`` when the target does not answer
        DescribeImages at all, ``Deviation`` when it answers with something else than images,
        or ignores its filters."""
        describes = self._answers_describe()
        if not describes.answers:
            return None
        if describes.ignores_filters:
            raise Deviation(describes.ignores_filters)
        pairs: Pairs = []
        if "image-id" in filters:
            pairs.append(("ImageId.1", filters["image-id"]))
        if "name" in filters:
            pairs += [("Filter.1.Name", "name"), ("Filter.1.Value.1", filters["name"])]
        try:
            return images_in(self._send("DescribeImages", pairs))
        except Deviation as problem:
            raise Deviation(f"DescribeImages did not answer with images: {problem}") from None

    def remove(self, image_id: str) -> Removal:
        """Deregister ``image_id``, then delete the snapshots DescribeImages said it had."""
        snapshots = self._snapshots_of(image_id)
        removal = Removal(image_id, self._remove("DeregisterImage", "ImageId", image_id))
        if removal.image is None:
            for snapshot_id in snapshots:
                why_not = self._remove("DeleteSnapshot", "SnapshotId", snapshot_id)
                removal.snapshots[snapshot_id] = why_not
        return removal

    def _answers_describe(self) -> _Describes:
        """Asked once per run."""
        if self._describes is None:
            self._describes = self._probe_describe()
        return self._describes

    def _probe_describe(self) -> _Describes:
        """A name no image has: a target that answers DescribeImages lists no image for it. One
        that lists some ignores its filters, which is a finding, not a reason to skip."""
        probe = "createimage-contract-probe-" + str(uuid.uuid4())
        answer = self._send(
            "DescribeImages", [("Filter.1.Name", "name"), ("Filter.1.Value.1", probe)]
        )
        try:
            listed = images_in(answer)
        except Deviation:
            return _Describes(answers=False)
        if not listed:
            return _Describes(answers=True)
        images = counted(len(listed), "image")
        return _Describes(True, f"DescribeImages ignores its filters: name={probe} listed {images}")

    def _snapshots_of(self, image_id: str) -> list[str]:
        response = self._send("DescribeImages", [("ImageId.1", image_id)])
        try:
            root = _xml.parse(response.body) if response.status == 200 else None
        except _xml.XmlProblem:
            return []
        return [
            snapshot.text
            for snapshot in (root.iter() if root is not None else [])
            if isinstance(snapshot.tag, str)
            and _xml.local_name(snapshot) == "snapshotId"
            and snapshot.text
        ]

    def _remove(self, action: str, member: str, resource_id: str) -> str | None:
        """``None`` when ``action`` removed ``resource_id``; else why not."""
        response = self._send(action, [(member, resource_id)])
        if response.status == 200:
            return None
        return response.error or f"{response.status} {_xml.error_code(response.body) or ''}"

    def _send(self, action: str, pairs: Pairs) -> Response:
        protocol = [("Action", action), ("Version", protocol_parameters()["Version"])]
        _, response = self._transport.send(urlencode(protocol + pairs))
        self.requests += 1
        return response
