"""Valid CreateImage parameters, written by hand from the EC2 documentation.

An oracle independent of the schema: the limits are restated here on purpose, so that a wrong
limit in ``schema/`` makes the property tests fail instead of agreeing with itself.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789()[] ./-'@_"
VOLUME_TYPES = ["standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"]
INT32 = st.integers(-(2**31), 2**31 - 1)

text = st.text(st.characters(exclude_categories=["Cs"]))
instance_ids = st.from_regex(r"\Ai-([0-9a-f]{8}|[0-9a-f]{17})\Z")
names = st.text(NAME_CHARACTERS, min_size=3, max_size=128)
tag_keys = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=128).filter(
    lambda key: not key.lower().startswith("aws:")
)
tags = st.fixed_dictionaries(
    {"Key": tag_keys},
    optional={"Value": st.text(st.characters(exclude_categories=["Cs"]), max_size=256)},
)
tag_specifications = st.fixed_dictionaries(
    {"ResourceType": st.sampled_from(["image", "snapshot"])},
    optional={"Tags": st.lists(tags, max_size=50)},
)
ebs = st.fixed_dictionaries(
    {},
    optional={
        "DeleteOnTermination": st.booleans(),
        "Encrypted": st.booleans(),
        "Iops": INT32,
        "VolumeSize": st.integers(125, 1024),  # allowed by every volume type
        "VolumeType": st.sampled_from(VOLUME_TYPES),
        "Throughput": INT32,
        "SnapshotId": text,
        "KmsKeyId": text,
        "EbsCardIndex": INT32,
    },
)
block_device_mappings = st.fixed_dictionaries(
    {},
    optional={"DeviceName": text, "VirtualName": text, "NoDevice": text, "Ebs": ebs},
)


def valid_params() -> st.SearchStrategy[dict[str, Any]]:
    """CreateImage parameters in boto3's shape that break no rule."""
    return st.fixed_dictionaries(
        {"InstanceId": instance_ids, "Name": names},
        optional={
            "Description": st.text(st.characters(exclude_categories=["Cs"]), max_size=255),
            "NoReboot": st.booleans(),
            "DryRun": st.booleans(),
            "SnapshotLocation": st.sampled_from(["regional", "local"]),
            "BootModeOverride": st.just("uefi"),
            "TagSpecifications": st.lists(tag_specifications, max_size=3),
            "BlockDeviceMappings": st.lists(block_device_mappings, max_size=3),
        },
    )


def without_empty(value: Any) -> Any:
    """``value`` without the empty lists and structures the wire cannot carry."""
    if isinstance(value, dict):
        kept = {key: without_empty(member) for key, member in value.items()}
        return {key: member for key, member in kept.items() if member not in ({}, [])}
    if isinstance(value, list):
        return [m for m in (without_empty(member) for member in value) if m not in ({}, [])]
    return value
