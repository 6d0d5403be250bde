"""Node RPC over real HTTPS: noded's handler, the TLS rules, the client.

Everything here talks over real sockets on 127.0.0.1 with real
certificates; nothing is mocked.
"""

import http.client
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest

from ganeti import backend
from ganeti import constants
from ganeti import crypto
from ganeti import errors
from ganeti import http as ghttp
from ganeti.http import client as http_client
from ganeti.http import server as http_server
from ganeti.rpc import client as rpc
from ganeti.rpc import defs
from ganeti.server import noded

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """The cluster's server.pem and an unrelated self-signed one."""
    tmp = tmp_path_factory.mktemp("certs")
    cluster = str(tmp / "server.pem")
    other = str(tmp / "other.pem")
    crypto.write_cert_and_key(cluster)
    crypto.write_cert_and_key(other)
    return cluster, other


class Noded:
    """A noded-like server: noded's handler, counting requests."""

    def __init__(self, pem, procedures=None, **kwargs):
        self.requests = []
        handler = noded.make_handler(backend.get_rpc_functions(),
                                     procedures=procedures)

        def counting(method, path, headers, body, verified):
            self.requests.append((method, path, verified))
            return handler(method, path, headers, body, verified)

        self.server = http_server.HttpServer(
            "127.0.0.1", 0, counting, ssl_params=ghttp.cluster_ssl_params(pem),
            **kwargs)
        self.port = self.server.port
        self.server.serve_in_thread()

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def server(certs):
    srv = Noded(certs[0])
    yield srv
    srv.stop()


@pytest.fixture
def runner(certs, server):
    resolver = rpc.static_resolver({
        "node1": "127.0.0.1",
        "node2": "127.0.0.1",
        "node3": "127.0.0.1",
        "offline1": ("127.0.0.1", True),
    })
    run = rpc.RpcRunner(resolver, port=server.port, cert_file=certs[0])
    yield run
    run.close()


def _pool(pem):
    return http_client.HttpClientPool(ghttp.cluster_ssl_params(pem))


def _free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_version_on_several_nodes(runner):
    results = runner.call_version(["node1", "node2"])
    assert sorted(results) == ["node1", "node2"]
    for name, res in results.items():
        assert res.fail_msg is None, res
        assert res.payload == constants.PROTOCOL_VERSION
        assert res.node == name and res.call == "version"
        assert not res.offline
        res.raise_on_failure("should not raise")


def test_call_single_and_generic_call(runner):
    res = runner.call_single("version", "node1", [])
    assert res.payload == constants.PROTOCOL_VERSION
    res = runner.call("node_info", ["node1"],
                      [[["file", "/", []]], [["fake", {}]]])["node1"]
    assert res.fail_msg is None
    boot_id, storage, hv_info = res.payload
    assert storage[0]["type"] == "file" and storage[0]["storage_size"] > 0
    assert hv_info[0]["memory_total"] > 0


def test_backend_rpcfail_becomes_fail_msg(runner):
    res = runner.call_test_delay(["node1"], -1)["node1"]
    assert res.payload is None
    assert res.fail_msg == "Negative sleep duration -1.0"
    with pytest.raises(errors.OpExecError) as exc:
        res.raise_on_failure("Delay failed")
    assert str(exc.value) == "Delay failed: Negative sleep duration -1.0"
    with pytest.raises(errors.OpPrereqError):
        res.raise_on_failure("Delay failed", prereq=True)


def test_backend_exception_is_reported_and_server_survives(runner):
    # node_info iterating over an int raises TypeError inside the backend
    res = runner.call_node_info(["node1"], 5, [])["node1"]
    assert res.fail_msg.startswith("Error while executing backend function:")
    assert runner.call_version(["node1"])["node1"].fail_msg is None


def test_parallel_calls_overlap(runner):
    start = time.time()
    results = runner.call_test_delay(["node1", "node2", "node3"], 0.6)
    elapsed = time.time() - start
    assert all(r.fail_msg is None for r in results.values()), results
    assert elapsed < 1.5, elapsed


def test_offline_node_is_answered_without_a_call(runner, server):
    before = len(server.requests)
    res = runner.call_test_delay(["offline1"], 0)["offline1"]
    assert res.offline is True
    assert res.fail_msg == "Node is marked offline"
    assert len(server.requests) == before
    # version is sent anyway, to find out whether the node is back
    res = runner.call_version(["offline1"])["offline1"]
    assert res.fail_msg is None and res.payload == constants.PROTOCOL_VERSION
    assert len(server.requests) == before + 1


def test_argument_count_checked_locally(runner):
    with pytest.raises(errors.ProgrammerError):
        runner.call_version(["node1"], 1)
    with pytest.raises(errors.ProgrammerError):
        runner.call("no_such_procedure", ["node1"], [])


def test_unknown_procedure_is_404(certs, server):
    status, body = _pool(certs[0]).request("127.0.0.1", server.port, "POST",
                                           "/no_such_procedure", b"[]")
    assert status == 404
    assert b"no_such_procedure" in body


def test_procedure_unknown_to_node_gives_fail_msg(certs):
    procs = dict(defs.PROCEDURES)
    del procs["get_watcher_pause"]
    srv = Noded(certs[0], procedures=procs)
    try:
        run = rpc.RpcRunner(rpc.static_resolver({}), port=srv.port,
                            cert_file=certs[0])
        res = run.call_get_watcher_pause(["127.0.0.1"])["127.0.0.1"]
        assert res.fail_msg.startswith("Error 404: Not Found"), res.fail_msg
    finally:
        srv.stop()


def test_wrong_arity_is_400(certs, server):
    pool = _pool(certs[0])
    status, body = pool.request("127.0.0.1", server.port, "POST", "/version",
                                b"[1]")
    assert status == 400
    assert b"takes 0 arguments" in body
    status, _ = pool.request("127.0.0.1", server.port, "POST", "/version",
                             b'{"a": 1}')
    assert status == 400


def test_malformed_json_is_400_and_server_keeps_serving(certs, server, runner):
    pool = _pool(certs[0])
    status, body = pool.request("127.0.0.1", server.port, "POST", "/version",
                                b"[1, ")
    assert status == 400
    assert b"not valid JSON" in body
    assert runner.call_version(["node1"])["node1"].fail_msg is None


def test_non_post_method_is_400(certs, server):
    status, body = _pool(certs[0]).request("127.0.0.1", server.port, "GET",
                                           "/version")
    assert status == 400
    assert b"not allowed" in body


def test_reply_format_is_ganeti_json(certs, server):
    status, body = _pool(certs[0]).request("127.0.0.1", server.port, "POST",
                                           "/version", b"[]")
    assert status == 200
    assert body == b"[true,%d]" % constants.PROTOCOL_VERSION


def _raw_tls_request(port, cert=None):
    """Send a request with a hand-made TLS client; returns what came back."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert)
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    with ctx.wrap_socket(raw) as sock:
        sock.sendall(b"POST /version HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 2\r\n\r\n[]")
        return sock.recv(4096)


@pytest.mark.parametrize("use_other_cert", [False, True],
                         ids=["no-client-cert", "foreign-client-cert"])
def test_client_without_cluster_cert_is_refused(certs, server, runner,
                                                use_other_cert):
    before = len(server.requests)
    cert = certs[1] if use_other_cert else None
    try:
        data = _raw_tls_request(server.port, cert)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        data = b""
    assert data == b""
    assert len(server.requests) == before
    # ... and the server still serves real clients
    assert runner.call_version(["node1"])["node1"].fail_msg is None


def test_server_with_foreign_cert_is_refused_by_client(certs):
    srv = Noded(certs[1])  # a node of another cluster
    try:
        run = rpc.RpcRunner(rpc.static_resolver({}), port=srv.port,
                            cert_file=certs[0])
        res = run.call_version(["127.0.0.1"])["127.0.0.1"]
        assert res.fail_msg.startswith("Node is unreachable:"), res.fail_msg
        assert srv.requests == []
    finally:
        srv.stop()


def test_unreachable_node(certs):
    run = rpc.RpcRunner(rpc.static_resolver({}), port=_free_port(),
                        cert_file=certs[0])
    res = run.call_version(["127.0.0.1"])["127.0.0.1"]
    assert res.fail_msg.startswith("Node is unreachable:"), res.fail_msg
    assert "refused" in res.fail_msg


def test_keepalive_connection_reused_and_survives_idle_close(certs):
    srv = Noded(certs[0], idle_timeout=0.5)
    try:
        pool = _pool(certs[0])
        for _ in range(3):
            assert pool.request("127.0.0.1", srv.port, "POST", "/version",
                                b"[]")[0] == 200
        assert len(pool._idle[("127.0.0.1", srv.port)]) == 1
        time.sleep(1.0)  # the server drops the idle connection
        assert pool.request("127.0.0.1", srv.port, "POST", "/version",
                            b"[]")[0] == 200
    finally:
        srv.stop()


def _plain_server(max_body):
    def echo(method, path, headers, body, verified):
        return 200, {}, body
    srv = http_server.HttpServer("127.0.0.1", 0, echo, max_body=max_body)
    srv.serve_in_thread()
    return srv


def test_body_limits_413_and_411():
    srv = _plain_server(max_body=100)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        conn.request("POST", "/x", body=b"a" * 50)
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"a" * 50)
        conn.request("POST", "/x", body=b"a" * 101)
        assert conn.getresponse().status == 413
        conn.close()
        sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 411")
        sock.close()
    finally:
        srv.shutdown()


def test_content_codec_roundtrip():
    small = b"hello\n"
    assert rpc.encode_content(small) == [constants.RPC_ENCODING_NONE,
                                         "hello\n"]
    big = b"x" * 5000
    enc = rpc.encode_content(big)
    assert enc[0] == constants.RPC_ENCODING_ZLIB_BASE64
    assert len(enc[1]) < 200
    binary = bytes(range(256))
    for data in (small, big, binary, b""):
        assert rpc.decode_content(rpc.encode_content(data)) == data


def test_upload_file_args(tmp_path):
    path = tmp_path / "f"
    path.write_text("data")
    os.chmod(str(path), 0o640)
    args = rpc.upload_file_args(str(path))
    assert len(args) == len(defs.PROCEDURES["upload_file"].args)
    assert args[0] == str(path)
    assert rpc.decode_content(args[1]) == b"data"
    assert args[2] == 0o640


def test_every_implemented_procedure_is_declared():
    table = backend.get_rpc_functions()
    undeclared = sorted(set(table) - set(defs.PROCEDURES))
    assert undeclared == []


def test_ssconf_resolver(tmp_path, monkeypatch):
    from ganeti import pathutils
    monkeypatch.setattr(pathutils, "DATA_DIR", str(tmp_path))
    (tmp_path / "ssconf_node_primary_ips").write_text(
        "node1 198.51.100.11\nnode2 198.51.100.12\n")
    (tmp_path / "ssconf_offline_nodes").write_text("node2\n")
    resolve = rpc.ssconf_resolver()
    assert resolve(["node1", "node2"]) == [
        ("node1", "198.51.100.11", False), ("node2", "198.51.100.12", True)]


def test_config_resolver():
    from ganeti import objects

    class Cfg:
        def get_all_nodes_info(self):
            return {"u1": objects.Node(name="node1", uuid="u1",
                                       primary_ip="198.51.100.11",
                                       offline=False),
                    "u2": objects.Node(name="node2", uuid="u2",
                                       primary_ip="198.51.100.12",
                                       offline=True)}

    resolve = rpc.config_resolver(Cfg())
    assert resolve(["node1", "u2"]) == [("node1", "198.51.100.11", False),
                                        ("u2", "198.51.100.12", True)]


LOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: "
                         r"ganeti-noded pid=\d+ INFO ")


def test_noded_daemon_lifecycle_with_daemon_util(tmp_path, certs):
    """daemon-util starts a detached noded, which serves, then stops it."""
    root = str(tmp_path)
    data_dir = os.path.join(root, "var/lib/ganeti")
    os.makedirs(data_dir)
    with open(certs[0], "rb") as src:
        pem = os.path.join(data_dir, "server.pem")
        with open(pem, "wb") as dst:
            dst.write(src.read())
    port = _free_port()
    env = dict(os.environ, GANETI_ROOTDIR=root, PYTHONPATH=TOP,
               NODED_ARGS="-b 127.0.0.1 -p %d" % port,
               PATH=os.path.dirname(sys.executable) + ":" +
               os.path.join(TOP, "daemons") + ":" + os.environ["PATH"])
    util = os.path.join(TOP, "daemons", "daemon-util")
    pid_file = os.path.join(root, "var/run/ganeti/ganeti-noded.pid")
    try:
        subprocess.run([util, "start", "ganeti-noded"], env=env, check=True,
                       timeout=60)
        assert os.path.exists(pid_file)
        assert subprocess.run([util, "check", "ganeti-noded"],
                              env=env).returncode == 0
        run = rpc.RpcRunner(rpc.static_resolver({}), port=port, cert_file=pem)
        res = run.call_version(["127.0.0.1"])["127.0.0.1"]
        assert res.payload == constants.PROTOCOL_VERSION, res
        # a second start is a no-op
        subprocess.run([util, "start", "ganeti-noded"], env=env, check=True,
                       timeout=60)
    finally:
        subprocess.run([util, "stop", "ganeti-noded"], env=env, timeout=60)
    assert not os.path.exists(pid_file)
    assert subprocess.run([util, "check", "ganeti-noded"],
                          env=env).returncode == 1
    log = open(os.path.join(root, "var/log/ganeti/node-daemon.log")).read()
    lines = log.splitlines()
    assert lines and LOG_LINE_RE.match(lines[0]), lines[:1]
    assert "shutting down" in log


def test_noded_refuses_to_start_without_cert(tmp_path):
    env = dict(os.environ, GANETI_ROOTDIR=str(tmp_path), PYTHONPATH=TOP)
    proc = subprocess.run([sys.executable,
                           os.path.join(TOP, "daemons", "ganeti-noded"), "-f"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == constants.EXIT_NOTCLUSTER
    assert "server.pem" in proc.stderr


def test_many_threads_share_one_runner(runner):
    errors_seen = []

    def worker():
        for _ in range(5):
            res = runner.call_version(["node1", "node2"])
            errors_seen.extend(r.fail_msg for r in res.values() if r.fail_msg)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors_seen == []
