"""The streaming multipart splitter against the standard library's MIME parser."""
from __future__ import annotations

import email
import os

import pytest

from viewer.io.pacs.dicomweb import split_multipart


def _message(parts: list[bytes], boundary: str) -> bytes:
    out = b""
    for body in parts:
        out += (f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").encode() + body + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_parts_match_the_email_parser(chunk):
    boundary = "b0und4ry-xyz"
    parts = [os.urandom(n) + b"\r\n--b0und" for n in (0, 5, 300, 4000)]
    body = _message(parts, boundary)
    chunks = (body[i:i + chunk] for i in range(0, len(body), chunk))
    got = list(split_multipart(chunks, boundary.encode()))
    head = f'Content-Type: multipart/related; boundary="{boundary}"\r\n\r\n'.encode()
    oracle = [p.get_payload(decode=True) for p in
              email.message_from_bytes(head + body).get_payload()]
    assert got == oracle == parts


def test_a_cut_stream_is_an_error_not_an_end():
    from viewer.io.pacs.dicomweb import TruncatedMultipart

    body = _message([b"first", b"second"], "bb")
    cut = body[:body.index(b"second") + 3]
    got = []
    with pytest.raises(TruncatedMultipart):
        for part in split_multipart(iter([cut]), b"bb"):
            got.append(part)
    assert got == [b"first"]
