"""Logs for an operations team: JSON lines, phone numbers and secrets masked, request ids."""

import json
import logging

from config import logs


def test_it_masks_phone_numbers_and_secrets():
    text = "SMS to +447700900123 from 07700 900456, token=sby_abc123 password: hunter2"
    masked = logs.mask(text)
    assert "447700900123" not in masked and "900456" not in masked
    assert "••••123" in masked and "••••456" in masked
    assert "sby_abc123" not in masked and "hunter2" not in masked
    assert logs.mask("incident 42 at 03:12, step 3 of 6") == "incident 42 at 03:12, step 3 of 6"


def record(message, *args, **extra):
    made = logging.LogRecord("callouts.test", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_it_writes_one_json_object_a_line_with_the_number_masked():
    line = record("answer to %s queued", "+447700900123", reference="WSX-TANGO-27")
    logs.MaskingFilter().filter(line)
    written = json.loads(logs.JsonFormatter().format(line))
    assert written["level"] == "WARNING"
    assert written["message"] == "answer to ••••123 queued"
    assert written["reference"] == "WSX-TANGO-27"
    assert written["time"].endswith("+00:00")


def test_every_response_carries_a_request_id_that_its_log_lines_carry(client, db):
    response = client.get("/login/", HTTP_X_REQUEST_ID="lb-7f3a")
    assert response["X-Request-ID"] == "lb-7f3a"
    made_up = client.get("/login/", HTTP_X_REQUEST_ID="<not an id>")["X-Request-ID"]
    assert made_up != "<not an id>" and len(made_up) == 16
