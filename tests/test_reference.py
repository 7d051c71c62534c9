"""The reference implementation: the catalogue, executed; the exact XML of EC2."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from createimage_contract import rule
from createimage_contract.conformance import (
    Options,
    ReferenceService,
    TargetError,
    _child,
    run,
    serve,
)
from createimage_contract.conformance._child import Serving
from createimage_contract.conformance._targets import check_url, reference_process
from createimage_contract.conformance._transport import Transport, credentials_for
from createimage_contract.strategies import Example, breakable_rules, invalid_requests

INSTANCE = "i-0123456789abcdef0"
NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def create(service: ReferenceService, **members: str) -> tuple[int, etree._Element]:
    fields = {"Action": "CreateImage", "Version": "2016-11-15", "InstanceId": INSTANCE, **members}
    answer = service.answer("POST", "/", FORM_HEADERS, urlencode(fields).encode())
    assert answer.content_type == "text/xml;charset=UTF-8"
    assert answer.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    return answer.status, etree.fromstring(answer.body)


def describe(service: ReferenceService, **filters: str) -> list[etree._Element]:
    fields = {"Action": "DescribeImages", "Version": "2016-11-15", **filters}
    answer = service.answer("POST", "/", FORM_HEADERS, urlencode(fields).encode())
    root = etree.fromstring(answer.body)
    assert answer.status == 200 and root.tag == f"{NS}DescribeImagesResponse"
    return root.findall(f"{NS}imagesSet/{NS}item")


@pytest.fixture
def service() -> ReferenceService:
    """Unchecked: these tests are about what it reads (tests/test_auth.py: who gets in)."""
    return ReferenceService([INSTANCE], credentials=None)


def test_a_valid_request_gets_the_exact_success_body(service: ReferenceService) -> None:
    status, root = create(service, Name="nightly")
    assert status == 200 and root.tag == f"{NS}CreateImageResponse"
    assert [child.tag for child in root] == [f"{NS}requestId", f"{NS}imageId"]
    assert UUID.fullmatch(root.findtext(f"{NS}requestId") or "")
    assert re.fullmatch(r"ami-[0-9a-f]{17}", root.findtext(f"{NS}imageId") or "")


def test_an_invalid_request_gets_the_exact_error_body(service: ReferenceService) -> None:
    status, root = create(service, Name="nightly#1")
    assert status == 400 and root.tag == "Response"
    assert root.findtext("Errors/Error/Code") == "InvalidAMIName.Malformed"
    assert "name.charset" in (root.findtext("Errors/Error/Message") or "")
    assert UUID.fullmatch(root.findtext("RequestID") or "")


def test_names_are_remembered(service: ReferenceService) -> None:
    assert create(service, Name="nightly")[0] == 200
    status, root = create(service, Name="nightly")
    assert (status, root.findtext("Errors/Error/Code")) == (400, "InvalidAMIName.Duplicate")


def test_only_the_instances_it_holds_exist(service: ReferenceService) -> None:
    status, root = create(service, Name="nightly", InstanceId="i-0123456789abcdef1")
    assert (status, root.findtext("Errors/Error/Code")) == (400, "InvalidInstanceID.NotFound")


def test_dry_run_answers_412_and_creates_nothing(service: ReferenceService) -> None:
    status, root = create(service, Name="nightly", DryRun="true")
    assert (status, root.findtext("Errors/Error/Code")) == (412, "DryRunOperation")
    assert describe(service) == [] and service.images == {}
    assert create(service, Name="nightly")[0] == 200, "a DryRun does not take the name"


def test_describe_images_lists_what_was_created(service: ReferenceService) -> None:
    _, root = create(
        service,
        Name="web",
        Description="nightly build",
        **{
            "TagSpecification.1.ResourceType": "image",
            "TagSpecification.1.Tag.1.Key": "team",
            "TagSpecification.1.Tag.1.Value": "ops",
            "TagSpecification.2.ResourceType": "snapshot",
            "TagSpecification.2.Tag.1.Key": "only-on",
            "TagSpecification.2.Tag.1.Value": "snapshots",
        },
    )
    create(service, Name="other")
    image_id = root.findtext(f"{NS}imageId") or ""
    (item,) = describe(service, **{"ImageId.1": image_id})
    assert (
        item.findtext(f"{NS}name") == "web" and item.findtext(f"{NS}description") == "nightly build"
    )
    tags = {
        t.findtext(f"{NS}key"): t.findtext(f"{NS}value")
        for t in item.iterfind(f"{NS}tagSet/{NS}item")
    }
    assert tags == {"team": "ops"}, "snapshot tags are not image tags"
    (named,) = describe(service, **{"Filter.1.Name": "name", "Filter.1.Value.1": "other"})
    assert named.findtext(f"{NS}name") == "other"
    assert len(describe(service)) == 2


def test_text_xml_cannot_carry_is_replaced_not_crashed_on(service: ReferenceService) -> None:
    status, _ = create(service, Name="nightly", Description="bell \x07 and nul \x00")
    assert status == 200
    (item,) = describe(service)
    assert item.findtext(f"{NS}description") == "bell \ufffd and nul \ufffd"


def test_a_rule_with_no_exact_code_gets_its_first_documented_code(
    service: ReferenceService,
) -> None:
    status, root = create(service, Name="nightly", **{"BlockDeviceMapping.1.Ebs.OutpostArn": "arn"})
    assert (status, root.findtext("Errors/Error/Code")) == (400, "InvalidParameter")
    # A list sent as one value is a name CreateImage does not have, as correct services say.
    status, root = create(service, Name="nightly", TagSpecification="x")
    assert (status, root.findtext("Errors/Error/Code")) == (400, "UnknownParameter")
    # The first rule broken decides, though a later one has an exact code.
    status, root = create(service, Version="2016-11-16", Name="n" * 129)
    assert (status, root.findtext("Errors/Error/Code")) == (400, "InvalidParameterValue")


def test_an_unreadable_body_is_a_400(service: ReferenceService) -> None:
    answer = service.answer("POST", "/", FORM_HEADERS, b"Action=CreateImage&Name=\xff")
    assert answer.status == 400 and b"<Code>InvalidParameterValue</Code>" in answer.body


def test_concurrent_creates_of_one_name_create_one_image(service: ReferenceService) -> None:
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: create(service, Name="race")[0], range(16)))
    assert sorted(statuses) == [200] + [400] * 15 and len(service.images) == 1


@pytest.mark.parametrize("rule_id", breakable_rules(instance_id=INSTANCE))
def test_every_rule_gets_the_catalogue_answer(rule_id: str) -> None:
    service = ReferenceService([INSTANCE], credentials=None)

    @settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(invalid_requests(rule_id, instance_id=INSTANCE, unique_names=True))
    def check(example: Example) -> None:
        answer = service.answer("POST", "/", FORM_HEADERS, example.form.encode())
        root = etree.fromstring(answer.body)
        assert answer.status == (example.expect.status or 400)
        assert root.findtext("Errors/Error/Code") == (
            example.expect.code or rule(rule_id).documented_codes[0]
        )

    check()


def test_served_on_loopback_it_answers_signed_requests() -> None:
    with serve(ReferenceService([INSTANCE])) as running:
        assert running.url.startswith("http://127.0.0.1:") and running.instance_id == INSTANCE
        transport = Transport(running.url, "us-east-1", credentials_for(running.url))
        form = urlencode(
            {
                "Action": "CreateImage",
                "Version": "2016-11-15",
                "InstanceId": INSTANCE,
                "Name": "served",
            }
        )
        _, response = transport.send(form)
        transport.close()
    assert response.status == 200 and b"<imageId>ami-" in response.body
    assert response.content_type == "text/xml;charset=UTF-8"


class Counted(WSGIRequestHandler):
    """wsgiref's handler, quiet, counting the connections it serves (one request each)."""

    connections = 0

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def served_by_wsgiref(service: ReferenceService) -> Iterator[str]:
    """``service`` behind the standard library's HTTP/1.0 server: one request per connection,
    closed after each answer."""
    Counted.connections = 0
    server = make_server("127.0.0.1", 0, service.wsgi, handler_class=Counted)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_closes_every_connection_gets_the_same_run_as_one_that_keeps_them() -> None:
    """The reference behind wsgiref, which closes the connection after each answer: every
    request goes on a connection of its own, every answer is read whole and every check runs
    on it, as against the reference that keeps its connections (same service, same seed).
    Save one category: a request without a Content-Type gets one from wsgiref (its environ
    says ``text/plain`` when the request says nothing), so the service never sees it missing."""
    options = Options(max_examples=2, seed=3, exclude_rules=("header.content-type.missing",))
    kept = run(instance_id=INSTANCE, options=options)
    with served_by_wsgiref(ReferenceService([INSTANCE])) as url:
        closed = run(endpoint=url, instance_id=INSTANCE, options=options)
    assert closed.findings == {} and closed.internal_error is None and not closed.notes
    assert closed.exercised == kept.exercised
    assert {r: s.sent for r, s in closed.rules.items()} == {
        r: s.sent for r, s in kept.rules.items()
    }
    assert closed.requests == kept.requests
    assert Counted.connections == closed.requests + 1  # and the probe: does the endpoint listen


def refuses(url: str) -> bool:
    try:
        socket.create_connection(check_url(url), timeout=1).close()
    except OSError:
        return True
    return False


def test_a_run_serves_it_from_a_process_of_its_own_that_ends_with_the_run() -> None:
    with reference_process(Serving(instance_id=INSTANCE)) as (url, held):
        assert url.startswith("http://127.0.0.1:") and held == INSTANCE
        form = urlencode({"Action": "CreateImage", "Version": "2016-11-15", "InstanceId": INSTANCE})
        with closing(Transport(url, "us-east-1", credentials_for(url))) as transport:
            _, response = transport.send(form + "&Name=apart")
            _, again = transport.send(form + "&Name=apart")
    assert response.status == 200 and b"<imageId>ami-" in response.body
    assert again.status == 400 and b"<Code>InvalidAMIName.Duplicate</Code>" in again.body
    assert refuses(url)


def test_its_process_ends_when_the_run_s_process_dies() -> None:
    """No server outlives its run, even a run killed with no chance to stop it."""
    script = (
        "import time\n"
        "from createimage_contract.conformance._targets import reference_process\n"
        "with reference_process(None) as (url, _):\n"
        "    print(url, flush=True)\n"
        "    time.sleep(60)\n"
    )
    runner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert runner.stdout is not None
    url = runner.stdout.readline().strip()
    assert not refuses(url)
    runner.kill()
    runner.wait()
    runner.stdout.close()
    deadline = time.monotonic() + 10
    while not refuses(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert refuses(url)


def test_a_reference_that_cannot_start_is_one_line_of_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_child, "MODULE", "createimage_contract.no_such_module")
    with pytest.raises(TargetError) as raised, reference_process(None):
        pass
    message = str(raised.value)
    assert message.startswith("the reference implementation did not start: ")
    assert "No module named createimage_contract.no_such_module" in message
    assert "\n" not in message
