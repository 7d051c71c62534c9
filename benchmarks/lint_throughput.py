"""Throughput of ``createimage_contract.validate`` next to botocore's own parameter validation.

Run it by hand from the project root; it is not a test and pytest never collects it::

    .venv/bin/python benchmarks/lint_throughput.py [--repeat N]

It builds a fixed, deterministic corpus of 5,000 CreateImage parameter sets in boto3's shape:
half of them valid and varied, half with one fault each, cycling through the kinds of fault:

- one per ``kind: "request"`` rule of the catalogue that boto3-style parameters can express
  (all but the Action and Version rules, which botocore adds itself), the warning rules
  included; ``instance-id.missing`` and ``name.missing`` are the missing members;
- wrong JSON types at each level: a top-level member, a list for an object, an object for a
  list, a number for a string, a string for a boolean or an integer, in tags, in block device
  mappings;
- a trailing newline (Name, InstanceId); non-ASCII (an accented Name, a zero-width character
  in a tag key); a fault in the 2nd or a later tag specification, the 3rd or a later tag, the
  2nd or a later block device mapping; a missing tag Key or ResourceType.

Building it checks every entry with ``validate``, with and without lint's placeholders: each
breaks exactly the rule its kind says, so the corpus cannot silently stop breaking it.

It then times, in the same run and on the same payloads, ``validate(params)`` (every violation
collected), ``validate(params, placeholders=...)`` with lint's placeholder pattern (what ``lint``
does), and ``botocore.validate.ParamValidator().validate(params, input_shape)`` against the EC2
CreateImage input shape. Each call is timed on its own with ``time.perf_counter``, the three
taking turns on each payload, and the fastest of N rounds is kept (N=5 unless ``--repeat`` says
otherwise, after a warm-up round), which a busy, shared machine does not skew. It prints the
payloads per second of each, over the whole corpus, the valid half, and each kind of fault's
entries, with the ratios validate / botocore and lint / botocore.

The goals: a ratio of at least 3.0 over the whole corpus (``validate`` checks more than botocore
does and still reports every violation), and at least 1.5 for every kind of fault. The script
reports whether each is met, for ``validate`` and for lint's reading, and exits 0 either way.
"""

from __future__ import annotations

import argparse
import functools
import gc
import hashlib
import json
import platform
import random
import string
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore
from botocore.model import StructureShape
from botocore.session import get_session
from botocore.validate import ParamValidator

import createimage_contract
from createimage_contract import validate
from createimage_contract._lint import placeholders

SEED = 20251127
CORPUS_SIZE = 5_000
GOAL = 3.0
"""validate / botocore over the whole corpus."""
KIND_GOAL = 1.5
"""validate / botocore over the entries of each kind of fault, the lowest of them."""
VALIDATE = "validate"
LINT = "validate, lint's placeholders"
BOTOCORE = "botocore"
OVERALL = "overall"
VALID = "valid"

Params = dict[str, Any]
Corpus = list[tuple[str | None, Params]]
"""Each entry: the kind of fault it has (``None`` for a valid one) and the parameters."""
Breaker = Callable[[random.Random, Params], None]

# Boto3-style parameters cannot say these: botocore adds Action and Version to the request, and
# passing them as parameters would break parameter.unknown instead.
PROTOCOL_RULES = frozenset(
    {"action.missing", "action.unknown", "version.missing", "version.unsupported"}
)

HEX = "0123456789abcdef"
NAME_CHARS = string.ascii_letters + string.digits + "()[] ./-'@_"
TEXT_CHARS = string.ascii_letters + string.digits + " .,;:!?-_/()'\"#%&+=@éüß—"
KEY_CHARS = string.ascii_letters + string.digits + " _.:/=+-@"
VOLUME_SIZES = {
    "standard": (1, 1024),
    "gp2": (1, 16384),
    "gp3": (1, 65536),
    "io1": (4, 16384),
    "io2": (4, 65536),
    "st1": (125, 16384),
    "sc1": (125, 16384),
}


# --- valid parameter sets ---------------------------------------------------------------------


def _text(rng: random.Random, chars: str, low: int, high: int) -> str:
    return "".join(rng.choices(chars, k=rng.randint(low, high)))


def _short_or_long(rng: random.Random, chars: str, low: int, high: int, short: int) -> str:
    """Mostly up to ``short`` characters, now and then up to the limit."""
    return _text(rng, chars, low, high if rng.random() < 0.1 else min(short, high))


def _instance_id(rng: random.Random) -> str:
    return "i-" + "".join(rng.choices(HEX, k=rng.choice((8, 17))))


def _tag_key(rng: random.Random) -> str:
    while True:
        key = _short_or_long(rng, KEY_CHARS, 1, 128, 24)
        if not key.lower().startswith("aws:"):
            return key


def _tag(rng: random.Random) -> Params:
    tag: Params = {"Key": _tag_key(rng)}
    if rng.random() < 0.9:
        tag["Value"] = _short_or_long(rng, KEY_CHARS, 0, 256, 32)
    return tag


def _tag_specification(rng: random.Random) -> Params:
    spec: Params = {"ResourceType": rng.choice(("image", "snapshot"))}
    if rng.random() < 0.95:
        spec["Tags"] = [_tag(rng) for _ in range(rng.randint(0, 50))]
    return spec


def _ebs(rng: random.Random) -> Params:
    ebs: Params = {}
    volume_type = rng.choice(sorted(VOLUME_SIZES)) if rng.random() < 0.8 else None
    if volume_type is not None:
        ebs["VolumeType"] = volume_type
    if rng.random() < 0.8:
        low, high = VOLUME_SIZES.get(volume_type or "gp2", (1, 16384))
        ebs["VolumeSize"] = rng.randint(low, min(high, 2048))
    if volume_type in ("io1", "io2", "gp3") and rng.random() < 0.6:
        ebs["Iops"] = rng.randint(100, 64000)
    if volume_type == "gp3" and rng.random() < 0.5:
        ebs["Throughput"] = rng.randint(125, 1000)
    if rng.random() < 0.7:
        ebs["DeleteOnTermination"] = rng.random() < 0.5
    if rng.random() < 0.4:
        ebs["Encrypted"] = True
        if rng.random() < 0.5:
            ebs["KmsKeyId"] = "alias/" + _text(rng, string.ascii_lowercase + "-", 3, 20)
    if rng.random() < 0.3:
        ebs["SnapshotId"] = "snap-" + "".join(rng.choices(HEX, k=17))
    if rng.random() < 0.05:
        ebs["EbsCardIndex"] = rng.randint(0, 1)
    return ebs


def _block_device_mapping(rng: random.Random) -> Params:
    mapping: Params = {"DeviceName": rng.choice(("/dev/sd", "/dev/xvd")) + rng.choice("bcdefghij")}
    roll = rng.random()
    if roll < 0.85:
        mapping["Ebs"] = _ebs(rng)
    elif roll < 0.95:
        mapping["NoDevice"] = ""
    else:
        mapping["VirtualName"] = f"ephemeral{rng.randint(0, 3)}"
    return mapping


def valid_params(rng: random.Random) -> Params:
    """A valid CreateImage parameter set, its optional members present or not at random."""
    params: Params = {
        "InstanceId": _instance_id(rng),
        "Name": _short_or_long(rng, NAME_CHARS, 3, 128, 40),
    }
    if rng.random() < 0.5:
        params["Description"] = _short_or_long(rng, TEXT_CHARS, 0, 255, 60)
    if rng.random() < 0.5:
        params["NoReboot"] = rng.random() < 0.5
    if rng.random() < 0.3:
        params["DryRun"] = rng.random() < 0.5
    if rng.random() < 0.3:
        params["SnapshotLocation"] = rng.choice(("regional", "local"))
    mappings = rng.randint(0, 3)
    if mappings:
        params["BlockDeviceMappings"] = [_block_device_mapping(rng) for _ in range(mappings)]
    specifications = rng.randint(0, 2)
    if specifications:
        params["TagSpecifications"] = [_tag_specification(rng) for _ in range(specifications)]
    return params


# --- one broken rule each ---------------------------------------------------------------------


def _some_ebs(rng: random.Random, params: Params) -> Params:
    """An Ebs member of ``params``, added when it has none."""
    mappings = params.setdefault("BlockDeviceMappings", [])
    with_ebs = [mapping for mapping in mappings if "Ebs" in mapping]
    if not with_ebs:
        with_ebs = [{"DeviceName": "/dev/sdk", "Ebs": _ebs(rng)}]
        mappings.append(with_ebs[0])
    ebs: Params = rng.choice(with_ebs)["Ebs"]
    return ebs


def _some_tag_specification(rng: random.Random, params: Params) -> Params:
    """A tag specification of ``params``, added when it has none."""
    specifications = params.setdefault("TagSpecifications", [])
    if not specifications:
        specifications.append(_tag_specification(rng))
    spec: Params = rng.choice(specifications)
    return spec


def _some_tag(rng: random.Random, params: Params) -> Params:
    """A tag of ``params``, added when it has none."""
    tags = _some_tag_specification(rng, params).setdefault("Tags", [])
    if not tags:
        tags.append(_tag(rng))
    tag: Params = rng.choice(tags)
    return tag


def _break_instance_id_missing(rng: random.Random, params: Params) -> None:
    del params["InstanceId"]


def _break_instance_id_malformed(rng: random.Random, params: Params) -> None:
    params["InstanceId"] = rng.choice(
        (
            "i-" + "".join(rng.choices(HEX, k=rng.choice((7, 9, 16, 18)))),
            "i-" + "".join(rng.choices(HEX.upper(), k=8)),
            "ami-" + "".join(rng.choices(HEX, k=17)),
            "i-1234567g",
            "",
        )
    )


def _break_name_missing(rng: random.Random, params: Params) -> None:
    del params["Name"]


def _break_name_length(rng: random.Random, params: Params) -> None:
    params["Name"] = (
        _text(rng, NAME_CHARS, 0, 2) if rng.random() < 0.5 else _text(rng, NAME_CHARS, 129, 300)
    )


def _break_name_charset(rng: random.Random, params: Params) -> None:
    name: str = params["Name"]
    at = rng.randrange(len(name))
    params["Name"] = name[:at] + rng.choice('!#$%&*+,:;<=>?|~"\té') + name[at + 1 :]


def _break_description_length(rng: random.Random, params: Params) -> None:
    params["Description"] = _text(rng, TEXT_CHARS, 256, 1000)


def _break_boolean_invalid(rng: random.Random, params: Params) -> None:
    value = rng.choice(("true", "false", "yes", 1, 0, None))
    if rng.random() < 0.5:
        params[rng.choice(("NoReboot", "DryRun"))] = value
    else:
        _some_ebs(rng, params)[rng.choice(("DeleteOnTermination", "Encrypted"))] = value


def _break_integer_invalid(rng: random.Random, params: Params) -> None:
    ebs = _some_ebs(rng, params)
    member = rng.choice(("Iops", "VolumeSize", "Throughput", "EbsCardIndex"))
    # A number for VolumeSize might also break ebs.volume-size-range: give it only non-numbers.
    numbers: tuple[Any, ...] = () if member == "VolumeSize" else (2**31, -(2**31) - 1, 3.5, 100.0)
    ebs[member] = rng.choice(("100", "", True, None, *numbers))


def _break_snapshot_location_invalid(rng: random.Random, params: Params) -> None:
    params["SnapshotLocation"] = rng.choice(("global", "Regional", "outpost", "", 1))


def _break_boot_mode_override_invalid(rng: random.Random, params: Params) -> None:
    params["BootModeOverride"] = rng.choice(("bios", "UEFI", "legacy-bios", "", 0))


def _break_tag_specification_resource_type(rng: random.Random, params: Params) -> None:
    spec = _some_tag_specification(rng, params)
    if rng.random() < 0.2:
        del spec["ResourceType"]
    else:
        spec["ResourceType"] = rng.choice(("instance", "volume", "Image", "ami", ""))


def _break_tag_key(rng: random.Random, params: Params) -> None:
    tag = _some_tag(rng, params)
    roll = rng.random()
    if roll < 0.2:
        del tag["Key"]
    elif roll < 0.4:
        tag["Key"] = ""
    elif roll < 0.6:
        tag["Key"] = _text(rng, KEY_CHARS, 129, 200)
    else:
        tag["Key"] = rng.choice(("aws:", "AWS:", "Aws:", "aWs:")) + _text(rng, KEY_CHARS, 0, 20)


def _break_tag_value(rng: random.Random, params: Params) -> None:
    _some_tag(rng, params)["Value"] = _text(rng, KEY_CHARS, 257, 400)


def _break_tag_limit(rng: random.Random, params: Params) -> None:
    _some_tag_specification(rng, params)["Tags"] = [_tag(rng) for _ in range(rng.randint(51, 70))]


def _break_ebs_volume_type(rng: random.Random, params: Params) -> None:
    _some_ebs(rng, params)["VolumeType"] = rng.choice(("gp4", "GP3", "io3", "magnetic", "", 2))


def _break_parameter_unknown(rng: random.Random, params: Params) -> None:
    where = rng.randrange(4)
    if where == 0:  # never url, method, headers or body: those would make it an HTTP request
        params[rng.choice(("ImageName", "Tags", "Reboot", "InstanceID", "Foo"))] = "x"
    elif where == 1:
        _some_ebs(rng, params)[rng.choice(("Size", "Iopz", "VolumeId"))] = 10
    elif where == 2:
        _some_tag_specification(rng, params)["Tag"] = []
    else:
        _some_tag(rng, params)[rng.choice(("Val", "key"))] = "x"


def _break_parameter_type(rng: random.Random, params: Params) -> None:
    where = rng.randrange(8)
    if where == 0:
        params["Name"] = rng.choice((123, None, ["web"], 1.5))
    elif where == 1:
        params["InstanceId"] = rng.choice((1234567890, ["i-12345678"]))
    elif where == 2:
        params["Description"] = rng.choice((42, {"text": "x"}))
    elif where == 3:
        params["TagSpecifications"] = rng.choice(("image", {"ResourceType": "image"}))
    elif where == 4:
        params["BlockDeviceMappings"] = {"DeviceName": "/dev/sdh"}
    elif where == 5:
        _some_tag_specification(rng, params)["Tags"] = rng.choice(("Name=web", {"Key": "k"}))
    elif where == 6:
        tags = _some_tag_specification(rng, params).setdefault("Tags", [])
        if tags:
            tags[rng.randrange(len(tags))] = "Name"  # a string where a tag belongs
        else:
            tags.append("Name")
    else:
        mapping = {"DeviceName": rng.choice((5, None)), "Ebs": rng.choice((None, "gp3"))}
        params.setdefault("BlockDeviceMappings", []).append(mapping)


def _break_ebs_unsupported_member(rng: random.Random, params: Params) -> None:
    member, value = rng.choice(
        (
            ("OutpostArn", "arn:aws:outposts:us-east-1:123456789012:outpost/op-1234567890abcdef0"),
            ("AvailabilityZone", "us-east-1a"),
            ("AvailabilityZoneId", "use1-az1"),
            ("VolumeInitializationRate", 300),
        )
    )
    _some_ebs(rng, params)[member] = value


def _break_ebs_volume_size_range(rng: random.Random, params: Params) -> None:
    ebs = _some_ebs(rng, params)
    volume_type = rng.choice(sorted(VOLUME_SIZES))
    low, high = VOLUME_SIZES[volume_type]
    ebs["VolumeType"] = volume_type
    ebs["VolumeSize"] = rng.choice(
        [size for size in (0, low - 1, high + 1, high * 4) if size < low or size > high]
    )


BREAKERS: dict[str, Breaker] = {
    "parameter.unknown": _break_parameter_unknown,
    "parameter.type": _break_parameter_type,
    "instance-id.missing": _break_instance_id_missing,
    "name.missing": _break_name_missing,
    "instance-id.malformed": _break_instance_id_malformed,
    "name.length": _break_name_length,
    "name.charset": _break_name_charset,
    "description.length": _break_description_length,
    "boolean.invalid": _break_boolean_invalid,
    "integer.invalid": _break_integer_invalid,
    "snapshot-location.invalid": _break_snapshot_location_invalid,
    "boot-mode-override.invalid": _break_boot_mode_override_invalid,
    "tag-specification.resource-type": _break_tag_specification_resource_type,
    "tag.key": _break_tag_key,
    "tag.value": _break_tag_value,
    "tag.limit": _break_tag_limit,
    "ebs.volume-type": _break_ebs_volume_type,
    "ebs.unsupported-member": _break_ebs_unsupported_member,
    "ebs.volume-size-range": _break_ebs_volume_size_range,
}


# --- the other kinds of fault: wrong types, odd characters, later items, missing members -------


def _text_member(rng: random.Random, params: Params) -> tuple[Params, str]:
    """A string member of ``params`` or of its structures, added where needed: (owner, name)."""
    where = rng.randrange(4)
    if where == 0:
        return params, rng.choice(("Name", "InstanceId", "Description"))
    if where == 1:
        return _some_tag(rng, params), rng.choice(("Key", "Value"))
    if where == 2:
        return _some_mapping(rng, params), "DeviceName"
    return _some_ebs(rng, params), rng.choice(("SnapshotId", "KmsKeyId"))


def _some_mapping(rng: random.Random, params: Params) -> Params:
    """A block device mapping of ``params``, added when it has none."""
    mappings = params.setdefault("BlockDeviceMappings", [])
    if not mappings:
        mappings.append(_block_device_mapping(rng))
    mapping: Params = rng.choice(mappings)
    return mapping


def _at_least(items: list[Any], count: int, make: Callable[[], Any]) -> list[Any]:
    """``items`` with valid ones appended until it has ``count``."""
    while len(items) < count:
        items.append(make())
    return items


def _type_top_level_member(rng: random.Random, params: Params) -> None:
    member, value = rng.choice(
        (
            ("Name", None),
            ("Name", True),
            ("Name", 1.5),
            ("InstanceId", None),
            ("InstanceId", {"Id": "i-12345678"}),
            ("Description", False),
            ("Description", ["a", "b"]),
        )
    )
    params[member] = value


def _type_list_for_object(rng: random.Random, params: Params) -> None:
    where = rng.randrange(4)
    if where == 0:
        specifications = params.setdefault("TagSpecifications", [])
        _at_least(specifications, 1, lambda: _tag_specification(rng))
        at = rng.randrange(len(specifications))
        specifications[at] = [specifications[at]]
    elif where == 1:
        tags = _some_tag_specification(rng, params).setdefault("Tags", [])
        _at_least(tags, 1, lambda: _tag(rng))
        at = rng.randrange(len(tags))
        tags[at] = [tags[at]]
    elif where == 2:
        mappings = params.setdefault("BlockDeviceMappings", [])
        _at_least(mappings, 1, lambda: _block_device_mapping(rng))
        at = rng.randrange(len(mappings))
        mappings[at] = [mappings[at]]
    else:
        mapping = _some_mapping(rng, params)
        mapping["Ebs"] = [mapping.get("Ebs") or _ebs(rng)]


def _type_object_for_list(rng: random.Random, params: Params) -> None:
    where = rng.randrange(3)
    if where == 0:
        params["TagSpecifications"] = _tag_specification(rng)
    elif where == 1:
        _some_tag_specification(rng, params)["Tags"] = _tag(rng)
    else:
        params["BlockDeviceMappings"] = _block_device_mapping(rng)


def _type_number_for_string(rng: random.Random, params: Params) -> None:
    owner, member = _text_member(rng, params)
    owner[member] = rng.choice((0, 42, 1234567890, 2.5, -1))


def _type_string_for_boolean(rng: random.Random, params: Params) -> None:
    value = rng.choice(("true", "false", "True", "FALSE", ""))
    if rng.random() < 0.5:
        params[rng.choice(("NoReboot", "DryRun"))] = value
    else:
        _some_ebs(rng, params)[rng.choice(("DeleteOnTermination", "Encrypted"))] = value


def _type_string_for_integer(rng: random.Random, params: Params) -> None:
    member = rng.choice(("VolumeSize", "Iops", "Throughput", "EbsCardIndex"))
    _some_ebs(rng, params)[member] = rng.choice(("100", "8", "3000", " 125", "1e3"))


def _type_in_tags(rng: random.Random, params: Params) -> None:
    tags = _some_tag_specification(rng, params).setdefault("Tags", [])
    _at_least(tags, 1, lambda: _tag(rng))
    at = rng.randrange(len(tags))
    if rng.random() < 0.3:
        tags[at] = rng.choice(("Name=web", 7, None))
    else:
        tags[at][rng.choice(("Key", "Value"))] = rng.choice((7, True, None, ["x"], {"v": 1}))


def _type_in_block_device_mappings(rng: random.Random, params: Params) -> None:
    mapping = _some_mapping(rng, params)
    member, value = rng.choice(
        (
            ("DeviceName", 5),
            ("DeviceName", None),
            ("VirtualName", ["ephemeral0"]),
            ("NoDevice", False),
            ("Ebs", "gp3"),
            ("Ebs", 100),
        )
    )
    if rng.random() < 0.3:
        _some_ebs(rng, params)["SnapshotId"] = rng.choice((12345, None, ["snap-1"]))
    else:
        mapping[member] = value


def _newline_name(rng: random.Random, params: Params) -> None:
    params["Name"] = params["Name"][:127] + "\n"


def _newline_instance_id(rng: random.Random, params: Params) -> None:
    params["InstanceId"] += "\n"


def _non_ascii_name(rng: random.Random, params: Params) -> None:
    name: str = params["Name"]
    at = rng.randrange(len(name))
    params["Name"] = name[:at] + rng.choice(("é", "É", "ü", "\u2013", "™")) + name[at + 1 :]


ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def _non_ascii_tag_key(rng: random.Random, params: Params) -> None:
    tag = _some_tag(rng, params)
    invisible = rng.choice(ZERO_WIDTH)
    if rng.random() < 0.5:  # reserved whatever follows the prefix
        tag["Key"] = rng.choice(("aws:", "AWS:")) + invisible + _text(rng, KEY_CHARS, 1, 20)
    else:  # 128 characters as it looks, 129 as it is
        key = _text(rng, KEY_CHARS, 128, 128)
        at = rng.randrange(129)
        tag["Key"] = key[:at] + invisible + key[at:]


def _later_tag_specification(rng: random.Random, params: Params) -> None:
    specifications = params.setdefault("TagSpecifications", [])
    _at_least(specifications, 2, lambda: _tag_specification(rng))
    spec = specifications[rng.randrange(1, len(specifications))]
    spec["ResourceType"] = rng.choice(("instance", "volume", "Image", ""))


def _later_tag(rng: random.Random, params: Params) -> None:
    specifications = params.setdefault("TagSpecifications", [])
    _at_least(specifications, 1, lambda: _tag_specification(rng))
    tags = rng.choice(specifications).setdefault("Tags", [])
    _at_least(tags, 3, lambda: _tag(rng))
    tag = tags[rng.randrange(2, len(tags))]
    tag["Key"] = rng.choice(("", "aws:" + _text(rng, KEY_CHARS, 1, 10), "x" * 129))


def _later_block_device_mapping(rng: random.Random, params: Params) -> None:
    mappings = params.setdefault("BlockDeviceMappings", [])
    _at_least(mappings, 2, lambda: _block_device_mapping(rng))
    at = rng.randrange(1, len(mappings))
    ebs = {k: v for k, v in _ebs(rng).items() if k not in ("VolumeType", "VolumeSize")}
    ebs["VolumeType"] = rng.choice(("gp4", "GP3", "io3", "magnetic"))
    mappings[at] = {"DeviceName": mappings[at]["DeviceName"], "Ebs": ebs}


def _missing_tag_key(rng: random.Random, params: Params) -> None:
    del _some_tag(rng, params)["Key"]


def _missing_resource_type(rng: random.Random, params: Params) -> None:
    _some_tag_specification(rng, params).pop("ResourceType", None)


@dataclass(frozen=True)
class Kind:
    """A kind of fault: what it is called in the report, the one rule it breaks, and how."""

    name: str
    rule: str
    breaker: Breaker


OTHER_KINDS = (
    Kind("type: top-level member", "parameter.type", _type_top_level_member),
    Kind("type: list for an object", "parameter.type", _type_list_for_object),
    Kind("type: object for a list", "parameter.type", _type_object_for_list),
    Kind("type: number for a string", "parameter.type", _type_number_for_string),
    Kind("type: string for a boolean", "boolean.invalid", _type_string_for_boolean),
    Kind("type: string for an integer", "integer.invalid", _type_string_for_integer),
    Kind("type: in tags", "parameter.type", _type_in_tags),
    Kind("type: in block device mappings", "parameter.type", _type_in_block_device_mappings),
    Kind("newline: end of Name", "name.charset", _newline_name),
    Kind("newline: end of InstanceId", "instance-id.malformed", _newline_instance_id),
    Kind("non-ASCII: Name", "name.charset", _non_ascii_name),
    Kind("non-ASCII: zero-width in a tag key", "tag.key", _non_ascii_tag_key),
    Kind(
        "later item: 2nd+ tag specification",
        "tag-specification.resource-type",
        _later_tag_specification,
    ),
    Kind("later item: 3rd+ tag", "tag.key", _later_tag),
    Kind("later item: 2nd+ block device mapping", "ebs.volume-type", _later_block_device_mapping),
    Kind("missing: tag Key", "tag.key", _missing_tag_key),
    Kind("missing: ResourceType", "tag-specification.resource-type", _missing_resource_type),
)
"""Beyond one kind per rule: faults a rule's own breaker makes rarely or never. InstanceId and
Name missing are the kinds of their rules (``instance-id.missing``, ``name.missing``)."""


def expressible_rules() -> list[str]:
    """The request rules boto3-style parameters can break, in catalogue order."""
    request_rules = [
        rule.id
        for rule in createimage_contract.rules().values()
        if rule.kind == "request" and rule.id not in PROTOCOL_RULES
    ]
    missing = set(request_rules) - set(BREAKERS)
    stale = set(BREAKERS) - set(request_rules)
    if missing or stale:  # not an assert: it must hold under python -O too
        raise AssertionError(
            f"the corpus is out of date with the catalogue: no breaker for {sorted(missing)}, "
            f"breakers for rules no longer in it: {sorted(stale)}"
        )
    return request_rules


def kinds() -> list[Kind]:
    """Every kind of fault of the invalid half: one per rule, then the others."""
    return [Kind(rule, rule, BREAKERS[rule]) for rule in expressible_rules()] + list(OTHER_KINDS)


def build_corpus(size: int = CORPUS_SIZE, seed: int = SEED) -> Corpus:
    """``size`` parameter sets, valid and invalid alternately, each checked with ``validate``
    (with and without lint's placeholders: the corpus holds none, so both must agree)."""
    rng = random.Random(seed)
    cycle = kinds()
    lint_placeholders = placeholders()
    corpus: Corpus = []
    for index in range(size):
        params = valid_params(rng)
        kind: Kind | None = None
        if index % 2:
            kind = cycle[(index // 2) % len(cycle)]
            kind.breaker(rng, params)
        violations = validate(params)
        found = {violation.rule for violation in violations}
        expected = set() if kind is None else {kind.rule}
        if found != expected or validate(params, placeholders=lint_placeholders) != violations:
            raise AssertionError(
                f"corpus entry {index} ({kind.name if kind else 'valid'}) should break "
                f"{sorted(expected) or 'no rule'}, but breaks {sorted(found) or 'none'} "
                f"(or breaks other rules where placeholders are read): {params!r}"
            )
        corpus.append((kind.name if kind else None, params))
    return corpus


def digest(corpus: Corpus) -> str:
    """A short fingerprint of the corpus, to tell whether two runs timed the same payloads."""
    text = json.dumps(corpus, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# --- timing -----------------------------------------------------------------------------------


def fastest_times(
    payloads: list[Params], checks: dict[str, Callable[[Params], object]], repeat: int
) -> dict[str, list[float]]:
    """The fastest of ``repeat`` timings of each check on each payload, after a warm-up round.

    Each call is timed on its own, the checks taking turns on each payload (the first to
    touch a payload pays for bringing it into the cache, so which goes first rotates), and only
    its fastest time is kept: a shared, busy machine slows some calls down, never speeds one up,
    so this is what the work costs, alike for every check. The garbage collector is off while
    timing, as ``timeit`` has it.
    """
    clock = time.perf_counter
    fastest = {name: [float("inf")] * len(payloads) for name in checks}
    turns = list(checks.items())
    collecting = gc.isenabled()
    gc.disable()
    try:
        for round_number in range(repeat + 1):
            for index, params in enumerate(payloads):
                first = (index + round_number) % len(turns)
                for name, check in turns[first:] + turns[:first]:
                    start = clock()
                    check(params)
                    elapsed = clock() - start
                    if round_number and elapsed < fastest[name][index]:  # 0 is the warm-up
                        fastest[name][index] = elapsed
    finally:
        if collecting:
            gc.enable()
    return fastest


def create_image_input_shape() -> StructureShape:
    """The input shape of the EC2 CreateImage operation in botocore's bundled model."""
    model = get_session().get_service_model("ec2").operation_model("CreateImage")
    if model.input_shape is None:
        raise AssertionError("botocore's EC2 model has no input shape for CreateImage")
    return model.input_shape


def _verdict(ratio: float, goal: float) -> str:
    return f"{ratio:.2f} (goal >= {goal:.1f}: {'met' if ratio >= goal else 'NOT met'})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--repeat", type=int, default=5, help="timings of each call, fastest kept (default 5)"
    )
    args = parser.parse_args(argv)
    repeat: int = args.repeat
    if repeat < 1:
        parser.error("--repeat must be at least 1")

    corpus = build_corpus()
    payloads = [params for _, params in corpus]
    input_shape = create_image_input_shape()
    validator = ParamValidator()
    checks: dict[str, Callable[[Params], object]] = {
        VALIDATE: validate,
        LINT: functools.partial(validate, placeholders=placeholders()),
        BOTOCORE: functools.partial(validator.validate, shape=input_shape),
    }
    fastest = fastest_times(payloads, checks, repeat)

    flagged_by_validate = sum(1 for params in payloads if validate(params))
    flagged_by_botocore = sum(
        validator.validate(params, input_shape).has_errors() for params in payloads
    )
    version: str = botocore.__version__
    print(f"Python {platform.python_version()} ({platform.python_implementation()})")
    print(f"botocore {version}")
    broken = Counter(kind for kind, _ in corpus if kind is not None)
    print(
        f"corpus: {len(corpus):,} parameter sets, seed {SEED}: {len(corpus) - broken.total():,} "
        f"valid, {broken.total():,} with one fault each ({len(broken)} kinds of fault, "
        f"{min(broken.values())}-{max(broken.values())} entries per kind), "
        f"digest {digest(corpus)}"
    )
    print(
        f"flagged: validate {flagged_by_validate:,} (errors and warnings), "
        f"botocore {flagged_by_botocore:,}"
    )
    print(
        f"timing: each call on its own, fastest of {repeat} after a warm-up round; "
        "payloads/s = entries / the sum of their fastest times"
    )
    report(corpus, fastest)
    return 0


def report(corpus: Corpus, fastest: dict[str, list[float]]) -> None:
    """Payloads per second and the ratios to botocore of each group, then the goals."""
    groups: dict[str, list[int]] = {OVERALL: list(range(len(corpus))), VALID: []}
    for index, (kind, _) in enumerate(corpus):
        groups.setdefault(kind or VALID, []).append(index)
    print(
        f"  {'group':<40} {'n':>5} {'validate/s':>11} {'lint/s':>9} {'botocore/s':>11} "
        f"{'ratio':>6} {'lint':>6}   (ratio: validate / botocore; lint: lint / botocore)"
    )
    ratios: dict[str, tuple[float, float]] = {}
    for group, members in groups.items():
        rate = {name: len(members) / sum(fastest[name][i] for i in members) for name in fastest}
        ratios[group] = (rate[VALIDATE] / rate[BOTOCORE], rate[LINT] / rate[BOTOCORE])
        print(
            f"  {group:<40} {len(members):>5,} {rate[VALIDATE]:>11,.0f} {rate[LINT]:>9,.0f} "
            f"{rate[BOTOCORE]:>11,.0f} {ratios[group][0]:>6.2f} {ratios[group][1]:>6.2f}"
        )
    kinds = [group for group in groups if group not in (OVERALL, VALID)]
    for index, label in ((0, "validate"), (1, "validate with lint's placeholders")):
        print(f"ratio {label} / botocore, overall: {_verdict(ratios[OVERALL][index], GOAL)}")
        worst = min(kinds, key=lambda kind: ratios[kind][index])
        print(
            f"  lowest ratio of a kind of fault: {worst}, "
            f"{_verdict(ratios[worst][index], KIND_GOAL)}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
