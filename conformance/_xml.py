"""The XML of EC2 answers: read hardened, written as EC2 writes it.

Every answer is untrusted. The parser loads no DTD, expands no entity, touches no network and
refuses huge trees; a document that declares a DOCTYPE is not parsed at all, because the only
reason to send one to a client is to make it do something it should not. An HTML page (a
server's error page, with its ``<!DOCTYPE html>``) is not parsed either, and is named as what it
is: called a DTD, it would read like an attack.
"""

from __future__ import annotations

import re
from functools import cache

from lxml import etree

from createimage_contract.schema import ResponsePath, responses

from ._deviation import Deviation

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
)

Element = etree._Element


class XmlProblem(Deviation):
    """An answer that is not acceptable XML: not well-formed, or carrying a DTD. Only these
    are the target's; anything else the parser raises is a bug of ours, and goes through."""


_WIDE_ENCODINGS = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_DTD = "declares a DOCTYPE (a DTD); not followed"
_HTML = "is an HTML page, not XML"
# An HTML document type, alone: no internal subset, which would make it a DTD like any other.
_HTML_DOCTYPE = re.compile(
    rb"""\A(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<!DOCTYPE\s+html"""
    rb"""(?:\s+(?:PUBLIC|SYSTEM)(?:\s*(?:"[^"]*"|'[^']*')){1,2})?\s*>""",
    re.IGNORECASE | re.DOTALL,
)


def parse(body: bytes) -> Element:
    if _HTML_DOCTYPE.match(body):
        raise XmlProblem(_HTML)
    if _declares_doctype(body):
        raise XmlProblem(_DTD)
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as error:
        raise XmlProblem(f"is not well-formed XML ({' '.join(str(error.msg).split())})") from None
    if root.getroottree().docinfo.internalDTD is not None:  # a DOCTYPE the search missed
        raise XmlProblem(_DTD)
    return root


def _declares_doctype(body: bytes) -> bool:
    """Whether ``body`` declares a DOCTYPE, in UTF-8 or in a UTF-16/32 that hides it from a
    byte search (so that the parser never even reads the DTD)."""
    if _DOCTYPE.search(body):
        return True
    if b"\x00" not in body[:4]:
        return False
    return any(
        "<!doctype" in body[: 1 << 16].decode(encoding, errors="ignore").lower()
        for encoding in _WIDE_ENCODINGS
    )


def local_name(element: Element) -> str:
    tag = element.tag
    if isinstance(tag, str):  # "{namespace}name" or "name": read, not parsed into a QName
        return tag.rpartition("}")[2]
    return etree.QName(element).localname


def namespace(element: Element) -> str | None:
    tag = element.tag
    if isinstance(tag, str):
        return tag[1:].partition("}")[0] if tag.startswith("{") else None
    return etree.QName(element).namespace


def child(element: Element | None, name: str) -> Element | None:
    """The first child with local name ``name``, in any namespace."""
    if element is None:
        return None
    for candidate in element:
        if isinstance(candidate.tag, str) and local_name(candidate) == name:
            return candidate
    return None


def path_text(element: Element | None, *names: str) -> str | None:
    """The text at a path of local names (``None`` when an element is missing)."""
    for name in names:
        element = child(element, name)
    if element is None:
        return None
    return element.text or ""


def children(element: Element | None, name: str) -> list[Element]:
    if element is None:
        return []
    return [c for c in element if isinstance(c.tag, str) and local_name(c) == name]


def error_code(answer: bytes | Element | None) -> str | None:
    """The EC2 error code of an answer (its body, or its parsed root): the text at the code's
    path in ``ErrorResponse``; ``None`` when the answer has none there, or is not XML."""
    if isinstance(answer, bytes):
        try:
            answer = parse(answer)
        except XmlProblem:
            return None
    return path_text(answer, *_code_path())


@cache
def _code_path() -> ResponsePath:
    """Where ``responses.schema.json`` puts the code: ``Errors/Error/Code``."""
    error = responses().shapes["ErrorResponse"]
    (path,) = [r.path for r in error.requirements if r.path[-1] == "Code"]
    return path


def build(root: str, ns: str | None, *children_: Element) -> Element:
    if ns is None:
        element = etree.Element(root)
    else:  # None is lxml's key for the default namespace; lxml-stubs do not know it
        element = etree.Element(f"{{{ns}}}{root}", nsmap={None: ns})  # type: ignore[dict-item]
    element.extend(children_)
    return element


# Characters XML 1.0 cannot carry at all, escaped or not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """``text`` with the characters XML cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def leaf(name: str, text: str, ns: str | None = None) -> Element:
    element = etree.Element(f"{{{ns}}}{name}" if ns else name)
    element.text = xml_safe(text)
    return element


def node(name: str, ns: str | None, *children_: Element) -> Element:
    element = etree.Element(f"{{{ns}}}{name}" if ns else name)
    element.extend(children_)
    return element


DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def serialize(element: Element) -> bytes:
    """The document as EC2 writes it: the declaration in double quotes, then the element."""
    return DECLARATION + etree.tostring(element, encoding="UTF-8")
