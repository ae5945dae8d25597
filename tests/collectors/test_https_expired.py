"""An expired certificate is reported as expired, whatever verification says about it.

OpenSSL names one reason for refusing a certificate: a self-signed one is "self-signed" and
never "expired", though an engineer needs both (a self-signed platform whose certificate has
lapsed breaks every browser on site). The servers here are real TLS servers on loopback with
certificates made in the test, valid only in the past.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cli.commands.probe import build_target
from collectors.http import HttpCollector

EXPIRED_DAYS_AGO = 12


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = "<html>政务服务平台 登录</html>".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _past_certificate(key: ec.EllipticCurvePrivateKey, issuer: x509.Name, issuer_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """A certificate for 127.0.0.1 valid from 100 days ago until EXPIRED_DAYS_AGO days ago."""
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=100))
        .not_valid_after(now - dt.timedelta(days=EXPIRED_DAYS_AGO, hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
        .sign(issuer_key, hashes.SHA256())
    )


def _ca(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name("yunwei test CA"))
        .issuer_name(_name("yunwei test CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=365))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _tls_server(tmp_path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Iterator[str]:
    cert_path, key_path = tmp_path / "server.pem", tmp_path / "server.key"
    cert_path.write_bytes(_pem(cert))
    key_path.write_bytes(_key_pem(key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def self_signed_expired(tmp_path: Path) -> Iterator[str]:
    key = ec.generate_private_key(ec.SECP256R1())
    yield from _tls_server(tmp_path, _past_certificate(key, _name("127.0.0.1"), key), key)


@pytest.fixture
def trusted_ca_expired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A certificate from a CA the probe trusts (SSL_CERT_FILE), expired."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _ca(ca_key)
    ca_path = tmp_path / "ca.pem"
    ca_path.write_bytes(_pem(ca))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_path))
    yield from _tls_server(tmp_path, _past_certificate(key, ca.subject, ca_key), key)


def _days_left_matches(days_left: float) -> bool:
    return -(EXPIRED_DAYS_AGO + 1) < days_left < -EXPIRED_DAYS_AGO


async def test_an_expired_self_signed_certificate_is_reported_expired_with_verification_on(self_signed_expired: str) -> None:
    url = self_signed_expired
    [sample] = await HttpCollector().collect([build_target("http", url, {"url": url, "timeout": 3})])
    assert not sample.ok
    assert sample.error == f"TLS certificate not trusted: self-signed certificate; it also expired {EXPIRED_DAYS_AGO} days ago"
    assert _days_left_matches(sample.metrics["cert_days_left"]), sample.metrics


async def test_an_expired_self_signed_certificate_with_verification_off_still_shows_the_days_past(self_signed_expired: str) -> None:
    url = self_signed_expired
    [sample] = await HttpCollector().collect([build_target("http", url, {"url": url, "verify_tls": False, "timeout": 3})])
    assert sample.ok, sample.error  # the engineer chose to accept this certificate
    assert _days_left_matches(sample.metrics["cert_days_left"]), sample.metrics


async def test_an_expired_certificate_from_a_trusted_ca_says_how_long_ago(trusted_ca_expired: str) -> None:
    url = trusted_ca_expired
    [sample] = await HttpCollector().collect([build_target("http", url, {"url": url, "timeout": 3})])
    assert not sample.ok
    assert sample.error == f"TLS certificate not trusted: certificate has expired ({EXPIRED_DAYS_AGO} days ago)"
    assert _days_left_matches(sample.metrics["cert_days_left"]), sample.metrics
