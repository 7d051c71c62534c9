"""Throughput of ``createimage_contract.validate`` next to botocore's own parameter validation.

Run it by hand from the project root; it is not a test and pytest never collects it::

    .venv/bin/python benchmarks/lint_throughput.py [--repeat N]

It builds a fixed, deterministic corpus of 5,000 CreateImage parameter sets in boto3's shape:
half of them valid and varied, half breaking exactly one rule each, cycling through the
``kind: "request"`` rules of the catalogue that boto3-style parameters can express (all but the
Action and Version rules, which botocore adds itself), the warning rules included. Building it
checks every entry with ``validate``, so the corpus cannot silently stop breaking its rule.

It then times, in the same run, ``createimage_contract.validate(params)`` (every violation
collected) and ``botocore.validate.ParamValidator().validate(params, input_shape)`` against the
EC2 CreateImage input shape over the same corpus: one warm-up pass each, then the best of N
passes (N=5 unless ``--repeat`` says otherwise), timed with ``time.perf_counter``. It prints
payloads per second for each and the ratio validate / botocore.

The goal is a ratio of at least 2.0: ``validate`` checks more than botocore does and should
still be at least twice as fast. The script reports whether the goal is met and exits 0 either
way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import string
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import botocore
from botocore.model import StructureShape
from botocore.session import get_session
from botocore.validate import ParamValidator

import createimage_contract
from createimage_contract import validate

SEED = 20251127
CORPUS_SIZE = 5_000
GOAL = 2.0

Params = dict[str, Any]
Corpus = list[tuple[str | None, Params]]
"""Each entry: the rule it breaks (``None`` for a valid one) and the parameters."""
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


def build_corpus(size: int = CORPUS_SIZE, seed: int = SEED) -> Corpus:
    """``size`` parameter sets, valid and invalid alternately, each checked with ``validate``."""
    rng = random.Random(seed)
    cycle = expressible_rules()
    corpus: Corpus = []
    for index in range(size):
        params = valid_params(rng)
        broken: str | None = None
        if index % 2:
            broken = cycle[(index // 2) % len(cycle)]
            BREAKERS[broken](rng, params)
        found = {violation.rule for violation in validate(params)}
        expected = set() if broken is None else {broken}
        if found != expected:
            raise AssertionError(
                f"corpus entry {index} should break {sorted(expected) or 'no rule'}, "
                f"but breaks {sorted(found) or 'none'}: {params!r}"
            )
        corpus.append((broken, params))
    return corpus


def digest(corpus: Corpus) -> str:
    """A short fingerprint of the corpus, to tell whether two runs timed the same payloads."""
    text = json.dumps(corpus, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# --- timing -----------------------------------------------------------------------------------


def best_times(passes: dict[str, Callable[[], None]], repeat: int) -> dict[str, float]:
    """The best wall time of each pass over ``repeat`` rounds, after one warm-up round.

    The passes alternate within each round, so a slow moment of the machine hits them alike.
    """
    for run in passes.values():
        run()
    best = dict.fromkeys(passes, float("inf"))
    for _ in range(repeat):
        for name, run in passes.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def create_image_input_shape() -> StructureShape:
    """The input shape of the EC2 CreateImage operation in botocore's bundled model."""
    model = get_session().get_service_model("ec2").operation_model("CreateImage")
    if model.input_shape is None:
        raise AssertionError("botocore's EC2 model has no input shape for CreateImage")
    return model.input_shape


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed passes per validator, best kept (default 5)"
    )
    args = parser.parse_args(argv)
    repeat: int = args.repeat
    if repeat < 1:
        parser.error("--repeat must be at least 1")

    corpus = build_corpus()
    payloads = [params for _, params in corpus]
    input_shape = create_image_input_shape()
    validator = ParamValidator()

    def run_validate() -> None:
        for params in payloads:
            validate(params)

    def run_botocore() -> None:
        for params in payloads:
            validator.validate(params, input_shape)

    validate_name = "createimage_contract.validate"
    botocore_name = "botocore ParamValidator.validate"
    best = best_times({validate_name: run_validate, botocore_name: run_botocore}, repeat)

    broken = Counter(rule for rule, _ in corpus if rule is not None)
    flagged_by_validate = sum(1 for params in payloads if validate(params))
    flagged_by_botocore = sum(
        validator.validate(params, input_shape).has_errors() for params in payloads
    )
    version: str = botocore.__version__
    print(f"Python {platform.python_version()} ({platform.python_implementation()})")
    print(f"botocore {version}")
    print(
        f"corpus: {len(corpus):,} parameter sets, seed {SEED}: {len(corpus) - broken.total():,} "
        f"valid, {broken.total():,} breaking one rule each ({len(broken)} rules, "
        f"{min(broken.values())}-{max(broken.values())} entries per rule), "
        f"digest {digest(corpus)}"
    )
    print(
        f"flagged: validate {flagged_by_validate:,} (errors and warnings), "
        f"botocore {flagged_by_botocore:,}"
    )
    print(f"timing: best of {repeat} passes over the corpus, after one warm-up pass each")
    rates = {name: len(payloads) / seconds for name, seconds in best.items()}
    for name, seconds in best.items():
        print(f"  {name:<34} {seconds * 1000:9.1f} ms  {rates[name]:>10,.0f} payloads/s")
    ratio = rates[validate_name] / rates[botocore_name]
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"ratio validate / botocore: {ratio:.2f} (goal >= {GOAL:.1f}: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
