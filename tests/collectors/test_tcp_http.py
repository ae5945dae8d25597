"""TCP and HTTP collectors against servers the tests start on loopback."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cli.commands.probe import build_target
from cli.main import main
from collectors.http import HttpCollector
from collectors.tcp import TcpCollector


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/broken":
            body, status = "数据库连接失败".encode(), 500
        else:
            body, status = "<html>政务服务平台 登录</html>".encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(server: ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_port() -> Iterator[int]:
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), _Handler))


def _certificate(tmp_path: Path, days: float) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def https_port(tmp_path: Path) -> Iterator[int]:
    cert, key = _certificate(tmp_path, days=5)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from _serve(server)


async def test_tcp_tells_refused_from_timeout_and_measures_connect_time() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    open_port = listener.getsockname()[1]
    # A listener with a full accept queue drops SYNs: connecting times out (no RST).
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    full_port = full.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", full_port))
        fillers.append(filler)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    targets = [
        build_target("tcp", "127.0.0.1", {"port": open_port, "timeout": 1}),
        build_target("tcp", "127.0.0.1", {"port": closed_port, "timeout": 1}),
        build_target("tcp", "127.0.0.1", {"port": full_port, "timeout": 0.5}),
    ]
    samples = await TcpCollector().collect(targets)
    ok, refused, timeout = samples
    assert ok.ok and 0 < ok.metrics["connect_seconds"] < 1
    assert not refused.ok and refused.error == f"connection refused (port {closed_port})"
    assert not timeout.ok and timeout.error.startswith("timeout after 0.5 s")
    for sock in (listener, full, *fillers):
        sock.close()


async def test_http_status_latency_and_keyword(http_port: int) -> None:
    base = f"http://127.0.0.1:{http_port}"
    targets = [
        build_target("http", base, {"url": f"{base}/", "keyword": "登录"}),
        build_target("http", base, {"url": f"{base}/", "keyword": "维护中"}),
        build_target("http", base, {"url": f"{base}/broken"}),
    ]
    good, no_keyword, broken = await HttpCollector().collect(targets)
    assert good.ok and good.metrics["status"] == 200 and good.metrics["rtt_seconds"] > 0
    assert not no_keyword.ok and "keyword '维护中' not found" in no_keyword.error
    assert not broken.ok and broken.error == "HTTP 500 Internal Server Error"


async def test_https_reports_certificate_days_left(https_port: int) -> None:
    url = f"https://127.0.0.1:{https_port}/"
    trusted, untrusted = await HttpCollector().collect(
        [build_target("http", url, {"url": url, "verify_tls": False}), build_target("http", url, {"url": url})]
    )
    assert trusted.ok
    assert 4.9 < trusted.metrics["cert_days_left"] <= 5.0
    assert not untrusted.ok and "TLS certificate not trusted" in untrusted.error


async def test_garbage_answer_is_an_error_sample_not_an_exception() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def answer_garbage() -> None:
        conn, _ = server.accept()
        conn.recv(1024)
        conn.sendall(b"\x00\x01garbage\r\n\r\n")
        conn.close()

    threading.Thread(target=answer_garbage, daemon=True).start()
    url = f"http://127.0.0.1:{port}/"
    [sample] = await HttpCollector().collect([build_target("http", url, {"url": url, "timeout": 2})])
    assert not sample.ok and "not an HTTP answer" in sample.error
    server.close()


def test_probe_command_prints_the_result(http_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "http", f"http://127.0.0.1:{http_port}/", "--keyword", "登录"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"http://127.0.0.1:{http_port}/: UP")
    assert "status" in out and "200" in out
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert main(["probe", "tcp", "127.0.0.1", "--port", str(port)]) == 1
    assert "DOWN (connection refused" in capsys.readouterr().out
    assert main(["probe", "tcp", "127.0.0.1", "-o", f"port={port}"]) == 1  # the generic option works too
    assert "DOWN (connection refused" in capsys.readouterr().out
    assert main(["probe", "tcp", "127.0.0.1", "--port", "1", "-o", "timeout=-1"]) == 2
    assert "timeout" in capsys.readouterr().err
    assert main(["probe", "tcp", "127.0.0.1"]) == 2
    assert capsys.readouterr().err.strip() == "yunwei: command line: port: required (-o port=VALUE)"
    assert main(["probe", "tcp", "127.0.0.1", "--port", "1", "-o", "colour=red"]) == 2
    assert "colour: unknown option for tcp" in capsys.readouterr().err


class _GbkHandler(BaseHTTPRequestHandler):
    """A government portal as many still are: GBK, declared in the header or only in a <meta>."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        page = "<html><head>{meta}</head><body>统一身份认证 登录</body></html>"
        if self.path == "/header":
            body, content_type = page.format(meta="").encode("gbk"), "text/html; charset=GBK"
        elif self.path == "/meta":
            body, content_type = page.format(meta='<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("gbk"), "text/html"
        elif self.path == "/host":
            body, content_type = self.headers["Host"].encode(), "text/plain"
        else:
            body, content_type = page.format(meta="").encode("gbk"), "text/html"  # nothing declared
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


async def test_a_gbk_page_is_decoded_by_its_charset_before_the_keyword_is_looked_for() -> None:
    for port in _serve(ThreadingHTTPServer(("127.0.0.1", 0), _GbkHandler)):
        base = f"http://127.0.0.1:{port}"
        paths = ("/header", "/meta", "/undeclared")
        samples = await HttpCollector().collect([build_target("http", base, {"url": base + p, "keyword": "登录"}) for p in paths])
        assert [(s.ok, s.error) for s in samples] == [(True, None)] * 3


async def test_the_host_header_of_an_ipv6_literal_is_bracketed() -> None:
    try:
        server = _V6Server(("::1", 0), _GbkHandler)
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")
    for port in _serve(server):
        url = f"http://[::1]:{port}/host"
        [sample] = await HttpCollector().collect([build_target("http", url, {"url": url, "keyword": f"[::1]:{port}"})])
        assert sample.ok, sample.error


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_probe_takes_host_colon_port_and_bracketed_ipv6(family: int, capsys: pytest.CaptureFixture[str]) -> None:
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    try:
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.bind((host, 0))
    except OSError as exc:
        pytest.skip(f"no {host} loopback: {exc}")
    listener.listen()
    port = listener.getsockname()[1]
    target = f"{host}:{port}" if family == socket.AF_INET else f"[{host}]:{port}"
    try:
        assert main(["probe", "tcp", target]) == 0
        assert capsys.readouterr().out.startswith(f"{target}: UP")
        assert main(["probe", "tcp", target, "--port", str(port + 1 if port < 65535 else 1)]) == 2
        assert f"{target!r} says port {port}" in capsys.readouterr().err
        assert main(["probe", "tcp", f"{host}:99999" if family == socket.AF_INET else "[::1]x"]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    finally:
        listener.close()
