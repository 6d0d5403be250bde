"""LUXI framing and the master daemon's LUXI server over a real socket."""

import socket
import threading

import pytest

from ganeti import constants
from ganeti import errors
from ganeti import luxi
from ganeti import opcodes
from ganeti.jqueue import JobQueue
from ganeti.jqueue.store import QueueStore
from ganeti.server import masterd


def test_request_framing_roundtrip():
    data = luxi.format_request("SubmitJob", [[{"OP_ID": "OP_TEST_DELAY"}]])
    assert data.endswith(b"\x03")
    method, args, version = luxi.parse_request(data[:-1])
    assert method == "SubmitJob"
    assert args == [[{"OP_ID": "OP_TEST_DELAY"}]]
    assert version == constants.LUXI_VERSION


def test_response_raises_encoded_error():
    data = luxi.format_response(False, ["OpPrereqError",
                                        ["Instance 'x' not known",
                                         "unknown_entity"]])
    with pytest.raises(errors.OpPrereqError) as err:
        luxi.parse_response(data[:-1])
    assert err.value.args == ("Instance 'x' not known", "unknown_entity")
    assert luxi.parse_response(luxi.format_response(True, 5)[:-1]) == 5


@pytest.mark.parametrize("bad", [b"not json", b"[1,2]", b'{"method": 1}',
                                 b'{"method": "X", "args": {}}'])
def test_malformed_requests(bad):
    with pytest.raises(luxi.ProtocolError):
        luxi.parse_request(bad)


def _processor(op, callbacks):
    callbacks.notify_start()
    if op.duration <= 0:
        raise errors.OpPrereqError("Duration must be greater than zero")
    callbacks.feedback("slept")
    return True


@pytest.fixture
def server(tmp_path):
    queue = JobQueue(QueueStore(str(tmp_path / "queue")), _processor,
                     workers=2)
    queue.open()
    queue.start()
    services = masterd.MasterServices(None, queue, None)
    address = str(tmp_path / "sock")
    srv = masterd.LuxiServer(address, masterd._methods(services))
    stop = threading.Event()
    thread = threading.Thread(target=srv.serve, args=(stop,), daemon=True)
    thread.start()
    yield address
    stop.set()
    thread.join(5)
    queue.stop()


def test_submit_and_wait_over_socket(server):
    client = luxi.Client(server)
    job_id = client.submit_job([opcodes.OpTestDelay(duration=0.01)])
    info = None
    serial = 0
    while True:
        result = client.wait_for_job_change(job_id, ["status"], info, serial)
        info, log = result
        if log:
            serial = log[-1][0]
            assert log[-1][3] == "slept"
        if info[0] in constants.JOBS_FINALIZED:
            break
    assert info == ["success"]
    assert client.query_jobs([job_id, 99], ["id", "status"]) == \
        [[job_id, "success"], None]


def test_failed_job_result(server):
    client = luxi.Client(server)
    job_id = client.submit_job([opcodes.OpTestDelay(duration=0.0)])
    while client.query_jobs([job_id], ["status"])[0][0] not in \
            constants.JOBS_FINALIZED:
        pass
    status, result = client.query_jobs([job_id], ["status", "opresult"])[0]
    assert status == "error"
    assert result == [["OpPrereqError", ["Duration must be greater than"
                                         " zero"]]]


def test_bad_input_keeps_server_alive(server):
    raw = socket.socket(socket.AF_UNIX)
    raw.connect(server)
    raw.sendall(b"garbage\x03")
    reply = raw.recv(65536)
    assert b'"success":false' in reply
    raw.close()
    client = luxi.Client(server)
    with pytest.raises(errors.LuxiError):
        client.call_method("NoSuchMethod", [])
    with pytest.raises(errors.LuxiError):
        client.call_method("SubmitJob", [])
    with pytest.raises(errors.OpPrereqError):
        client.submit_job([{"OP_ID": "OP_TEST_DELAY", "duration": "x"}])
    with pytest.raises(errors.OpPrereqError):
        client.submit_job([{"OP_ID": "OP_TEST_DELAY"}])
    # still serving
    assert client.submit_job([opcodes.OpTestDelay(duration=0.01)]) >= 1
    assert client.cancel_job(1234) == [False, "Job 1234 not found"]
