"""Hostile input: undecodable bytes (surrogateescape) in the message, field
values and field keys; CR, LF and ANSI escapes that must never forge a line;
huge records; objects whose __str__ raises; integers past 64 bits; keys that
are not str; bytes; messages that are not str; logging from inside a
field's __str__.

Every record goes to a JSON-lines file and a plain-text file of the same
layer: the JSON lines must stay one per record and parse (strict UTF-8, no
key twice), and the text file must hold exactly one line per record
(docs/formats.md: "content can never forge a line")."""

from __future__ import annotations

import os
import sys
import time

import pytest

import hydra_logger
from hydra_logger import HydraLogger

BAD = os.fsdecode(b"\xff\xfe bad")          # '\udcff\udcfe bad': undecodable bytes
BAD_JSON = "\ufffd\ufffd bad"                # what JSON makes of them (docs/formats.md)
FORGED = ('evil\r\n{"level":"critical","message":"forged"}\n'
          "2026-01-01 00:00:00.000 CRITICAL [APP] forged")
ANSI = "\x1b[31mred\x1b[0m\x1b[2J\x1b]0;title\x07"


class Logs:
    """One layer with two destinations: JSON lines and plain text."""

    def __init__(self, tmp_path):
        self.json = tmp_path / "hostile.jsonl"
        self.text = tmp_path / "hostile.log"
        self.logger = HydraLogger({"layers": {"APP": {"level": "DEBUG", "destinations": [
            {"type": "file", "path": str(self.json), "format": "json-lines"},
            {"type": "file", "path": str(self.text), "format": "plain-text"}]}}})

    def records(self, read_records):
        self.logger.flush()
        return read_records(self.json)

    def text_lines(self):
        self.logger.flush()
        data = self.text.read_bytes()
        text = data.decode("utf-8")          # strict: the text format writes valid UTF-8
        assert text.endswith("\n")
        return text.split("\n")[:-1]


@pytest.fixture
def logs(tmp_path):
    logs = Logs(tmp_path)
    yield logs
    logs.logger.close()


def fields(record):
    return record.get("fields", {})


# -- undecodable bytes ----------------------------------------------------------------

def test_undecodable_bytes_in_message_values_and_keys(logs, read_records):
    log = logs.logger
    log.info(BAD, **{BAD: BAD})                             # the native fast path
    log.info("extra", extra={BAD: BAD, "ok": 1})            # the Python path
    log.info(BAD + " %s", BAD)                              # %-argument
    with hydra_logger.context(**{BAD: "ctx"}):
        log.info("context key")
    log.bind(**{"bound": BAD}).info("bound value")
    log.info("lone high surrogate \ud800", v="\udfff")      # not surrogateescape's
    records = logs.records(read_records)
    assert len(records) == 6
    assert records[0]["message"] == BAD_JSON
    assert fields(records[0]) == {BAD_JSON: BAD_JSON}
    assert fields(records[1]) == {BAD_JSON: BAD_JSON, "ok": 1}
    assert records[2]["message"] == f"{BAD_JSON} {BAD_JSON}"
    assert fields(records[2]) == {"arg0": BAD_JSON}
    assert fields(records[3]) == {BAD_JSON: "ctx"}
    assert fields(records[4]) == {"bound": BAD_JSON}
    assert records[5]["message"].startswith("lone high surrogate ")
    lines = logs.text_lines()
    assert len(lines) == 6
    assert "\\xff\\xfe bad" in lines[0]                     # text: one \xHH per byte


# -- line forging -----------------------------------------------------------------------

def test_cr_lf_and_ansi_escapes_never_forge_a_line(logs, read_records):
    log = logs.logger
    hostile = [FORGED, ANSI, "a\rb", "\n", "\r\n\r\n", "tab\there", "nul\x00byte",
               "del\x7f", "c1\x85\x9b", "ls\u2028ps\u2029", "\x1b", ""]
    expected = []
    for i, text in enumerate(hostile):
        log.info(text, value=text, **{f"key{i}{text}": text})
        expected.append(text)
        log.warning("extra %s", text, extra={text or "empty": text})
        expected.append(f"extra {text}")
        with hydra_logger.context(ctx=text):
            log.error(text)
            expected.append(text)
    records = logs.records(read_records)
    assert [r["message"] for r in records] == expected  # JSON escaping round-trips
    assert fields(records[0]) == {"value": FORGED, f"key0{FORGED}": FORGED}
    assert all(r["level"] in ("info", "warning", "error") for r in records)
    raw = logs.json.read_bytes()
    assert raw.count(b"\n") == len(expected)
    assert b"\r" not in raw and b"\x1b" not in raw and b"\x00" not in raw

    lines = logs.text_lines()
    assert len(lines) == len(expected), lines
    text = logs.text.read_bytes()
    assert b"\r" not in text and b"\x1b" not in text and b"\x00" not in text and b"\x7f" not in text
    assert "\\x1b[31mred" in lines[3]
    assert all(line[:4].isdigit() for line in lines)       # each line starts a record


# -- size -----------------------------------------------------------------------------

def test_an_extra_with_ten_thousand_keys(logs, read_records):
    extra = {f"key{i}": i for i in range(10_000)}
    started = time.monotonic()
    logs.logger.info("wide", extra=extra)
    with hydra_logger.context(**{f"ctx{i}": i for i in range(10_000)}):
        logs.logger.info("wide context")
    records = logs.records(read_records)
    assert fields(records[0]) == extra
    assert len(fields(records[1])) == 10_000
    assert len(logs.text_lines()) == 2
    assert time.monotonic() - started < 20


def test_a_five_megabyte_value_is_written_whole(logs, read_records):
    # docs/formats.md: "Huge values (a 1 MiB field) are written whole"; a
    # record larger than half the queue is written synchronously
    # (docs/async.md), never dropped.
    huge = "x" * (5 * 1024 * 1024 - 7) + "\n\r\x1bend"
    logs.logger.info("huge value", v=huge)
    logs.logger.info(huge)                                   # and a huge message
    logs.logger.info("after")
    records = logs.records(read_records)
    assert [len(fields(r).get("v", "")) for r in records] == [len(huge), 0, 0]
    assert fields(records[0])["v"] == huge
    assert records[1]["message"] == huge
    assert records[2]["message"] == "after"
    assert len(logs.text_lines()) == 3
    metrics = logs.logger.get_performance_metrics()
    assert metrics["async"]["dropped"] == 0 and metrics["sink_dropped_records"] == 0


# -- objects that do not print ---------------------------------------------------------

class Unprintable:
    def __str__(self):
        raise RuntimeError("no str for you")


class NotAString:
    def __str__(self):
        return 42  # type: ignore[return-value]  (str() raises TypeError)


class BadException(Exception):
    def __str__(self):
        raise RuntimeError("no message either")


def test_objects_whose_str_raises_become_unprintable(logs, read_records):
    log = logs.logger
    log.info("field", obj=Unprintable(), other=NotAString(), fine=1)
    log.info("extra", extra={"obj": Unprintable()})
    log.info("extra key", extra={Unprintable(): "value"})
    log.info(Unprintable())                                    # the message itself
    log.info("arg %s", Unprintable())
    with hydra_logger.context(ctx=Unprintable()):
        log.info("context")
    try:
        raise BadException()
    except BadException:
        log.exception("bad exception")
    records = logs.records(read_records)
    assert fields(records[0]) == {"obj": "<unprintable Unprintable>",
                                  "other": "<unprintable NotAString>", "fine": 1}
    assert fields(records[1]) == {"obj": "<unprintable Unprintable>"}
    assert fields(records[2]) == {"<unprintable Unprintable>": "value"}
    assert records[3]["message"] == "<unprintable Unprintable>"
    assert records[4]["message"].startswith("arg %s <format error: RuntimeError")
    assert fields(records[4]) == {"arg0": "<unprintable Unprintable>"}
    assert fields(records[5]) == {"ctx": "<unprintable Unprintable>"}
    error = fields(records[6])
    assert error["error.type"].endswith("BadException")
    assert error["error.message"] == "<unprintable BadException: RuntimeError>"
    assert "Traceback" in error["error.stack"]
    assert len(logs.text_lines()) == 7


# -- numbers, keys, bytes, non-str messages ----------------------------------------------

def test_integers_past_64_bits(logs, read_records):
    values = {"max_i64": 2**63 - 1, "min_i64": -2**63, "past_i64": 2**63,
              "max_u64": 2**64 - 1, "past_u64": 2**64, "below_i64": -2**63 - 1,
              "huge": 2**200, "neg_huge": -(3**100)}
    logs.logger.info("ints", **values)
    logs.logger.info("%d past %d", 2**70, -(2**70))
    logs.logger.info("floats", nan=float("nan"), inf=float("inf"), ninf=float("-inf"),
                     tiny=5e-324, big=1.7976931348623157e308)
    logs.logger.info("enormous", v=10**5000)   # more digits than Python's str() allows
    records = logs.records(read_records)
    got = fields(records[0])
    for key in ("max_i64", "min_i64", "past_i64", "max_u64"):
        assert got[key] == values[key] and type(got[key]) is int, key
    for key in ("past_u64", "below_i64", "huge", "neg_huge"):
        assert got[key] == str(values[key]), key           # their digits
    assert records[1]["message"] == f"{2**70} past {-(2**70)}"
    assert fields(records[1]) == {"arg0": str(2**70), "arg1": str(-(2**70))}
    assert fields(records[2]) == {"nan": "nan", "inf": "inf", "ninf": "-inf",
                                  "tiny": 5e-324, "big": 1.7976931348623157e308}
    # Python refuses str() of an int past sys.get_int_max_str_digits() digits
    # (4300 by default): the record is written, the value a placeholder.
    limit = sys.get_int_max_str_digits()
    expected = str(10**5000) if limit == 0 or limit > 5001 else "<unprintable int>"
    assert fields(records[3])["v"] == expected


def test_keys_that_are_not_str_and_bytes_values(logs, read_records):
    log = logs.logger
    log.info("keys", extra={1: "int", (1, 2): "tuple", None: "none", 2.5: "float",
                            b"raw": "bytes", frozenset(): "set"})
    log.info("colliding", extra={1: "int key first", "1": "str key second"})
    log.info("bytes", b=b"\x00\xff\n", ba=bytearray(b"ab"), mv=memoryview(b"x").tobytes())
    records = logs.records(read_records)             # strict: one field per key
    assert fields(records[0]) == {"1": "int", "(1, 2)": "tuple", "None": "none",
                                  "2.5": "float", "b'raw'": "bytes", "frozenset()": "set"}
    assert fields(records[1]) == {"1": "int key first"}
    assert fields(records[2]) == {"b": "b'\\x00\\xff\\n'", "ba": "bytearray(b'ab')", "mv": "b'x'"}
    assert len(logs.text_lines()) == 3


def test_messages_that_are_not_str(logs, read_records):
    log = logs.logger
    log.info(ValueError("an exception as the message"))
    log.info(42)
    log.info(3.5, k=1)
    log.info(None)
    log.info({"a": 1})
    log.info(b"bytes\n")
    log.info(ValueError("with %s"), "an argument")           # %-formatting its str()
    log.warning(BAD.encode("utf-8", "surrogateescape"))
    records = logs.records(read_records)
    assert [r["message"] for r in records] == [
        "an exception as the message", "42", "3.5", "None", "{'a': 1}", "b'bytes\\n'",
        "with an argument", "b'\\xff\\xfe bad'"]
    assert fields(records[2]) == {"k": 1}
    assert len(logs.text_lines()) == 8


# -- logging from inside a field's __str__ ------------------------------------------------

class LogsWhenPrinted:
    """A value whose __str__ logs (a model whose str() logs a debug record, a
    __del__ or signal handler that logs while a record is being converted)."""

    def __init__(self, log):
        self.log = log

    def __str__(self):
        self.log.info("inner", z=1)
        return "outer-value"


def test_a_field_whose_str_logs_leaves_both_records_intact(logs, read_records):
    log = logs.logger
    log.info("warm")                                  # the fast path from here
    log.info("outer", a="x", obj=LogsWhenPrinted(log), b="y")
    log.info("outer extra", extra={"a": "x", "obj": LogsWhenPrinted(log), "b": "y"})
    records = logs.records(read_records)
    by_message = {}
    for r in records:
        by_message.setdefault(r["message"], []).append(fields(r))
    assert by_message["inner"] == [{"z": 1}, {"z": 1}]
    assert by_message["outer"] == [{"a": "x", "obj": "outer-value", "b": "y"}]
    assert by_message["outer extra"] == [{"a": "x", "obj": "outer-value", "b": "y"}]


REENTRANT_MESSAGE = r"""
import sys
from hydra_logger import HydraLogger
log = HydraLogger({"layers": {"APP": {"destinations": [
    {"type": "file", "path": sys.argv[1], "format": "json-lines"}]}}})

class Message:                       # str() makes a new object the call keeps
    size = 64
    def __str__(self):
        return "M" * self.size           # a new str each time (not a constant)

class LogsWhenPrinted:
    def __str__(self):
        log.info("inner")
        junk = ["J" * Message.size for _ in range(100)]   # reuses the freed block
        return "value"

log.info("warm")
for _ in range(3):
    log.info(Message(), obj=LogsWhenPrinted())
log.close()
"""


def test_a_message_object_with_a_field_whose_str_logs(tmp_path, run_python, read_records):
    # In a child: reading freed memory could crash the process.
    path = tmp_path / "reentrant.jsonl"
    proc = run_python(REENTRANT_MESSAGE, str(path), timeout=60)
    assert proc.returncode == 0, proc.stderr
    messages = [r["message"] for r in read_records(path)]
    assert messages == ["warm"] + ["inner", "M" * 64] * 3
