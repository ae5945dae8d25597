"""RTSP collector against a real GStreamer RTSP server on loopback, and against broken peers."""

from __future__ import annotations

import asyncio
import time

import pytest
from peers import free_port
from video_helpers import LoopbackServer, make_target, probe_once

from collectors._httpauth import Challenge, digest_authorization, parse_challenges, pick
from collectors.rtsp import sdp_media

USER, PASSWORD = "admin", "Cam#2026"


async def test_open_camera_describes_its_stream(gst_rtsp) -> None:
    port = gst_rtsp("none")
    sample = await probe_once("rtsp", make_target("rtsp", "127.0.0.1", port=port, path="/stream"))
    assert sample.ok, sample.error
    assert sample.metrics["status"] == 200
    assert sample.info["media"] == "video"
    assert sample.info["codecs"] == "JPEG"
    assert sample.info["server"] == "GStreamer RTSP server"
    assert 0 < sample.metrics["rtt_seconds"] < 1
    assert "auth_failed" not in sample.metrics  # no credentials configured: nothing to judge


async def test_digest_with_right_credentials_is_alive(gst_rtsp) -> None:
    port = gst_rtsp("digest", USER, PASSWORD)
    target = make_target("rtsp", "127.0.0.1", port=port, path="/stream", username=USER, password=PASSWORD)
    sample = await probe_once("rtsp", target)
    assert sample.ok, sample.error
    assert sample.info["auth"] == "digest"
    assert sample.metrics["status"] == 200
    assert sample.metrics["auth_failed"] == 0
    assert sample.info["media"] == "video"


async def test_digest_with_wrong_password_is_a_credentials_fault(gst_rtsp) -> None:
    port = gst_rtsp("digest", USER, PASSWORD)
    target = make_target("rtsp", "127.0.0.1", port=port, path="/stream", username=USER, password="wrong")
    sample = await probe_once("rtsp", target)
    assert not sample.ok
    assert sample.error is not None and sample.error.startswith("credentials wrong")
    assert sample.metrics["auth_failed"] == 1
    assert sample.metrics["status"] == 401
    assert "wrong" not in repr(sample.info) and PASSWORD not in repr(sample.to_dict())


async def test_401_without_credentials_still_proves_the_service_alive(gst_rtsp) -> None:
    port = gst_rtsp("digest", USER, PASSWORD)
    sample = await probe_once("rtsp", make_target("rtsp", "127.0.0.1", port=port, path="/stream"))
    assert sample.ok, sample.error
    assert sample.metrics["status"] == 401
    assert sample.info["auth"] == "required"


def test_probe_command_reads_the_password_from_the_named_variable(
    gst_rtsp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    port = gst_rtsp("digest", USER, PASSWORD)
    url = f"rtsp://127.0.0.1:{port}/stream"
    monkeypatch.setenv("CAM_PW", PASSWORD)
    assert main(["probe", "rtsp", url, "--username", USER, "--password-env", "CAM_PW"]) == 0
    assert "UP" in capsys.readouterr().out
    # a variable that is not set is a mistake on the command line, not a camera with wrong credentials
    monkeypatch.delenv("CAM_PW")
    assert main(["probe", "rtsp", url, "--username", USER, "--password-env", "CAM_PW"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == "yunwei: command line: --password-env: environment variable 'CAM_PW' is not set"


async def test_basic_auth_right_and_wrong(gst_rtsp) -> None:
    port = gst_rtsp("basic", USER, PASSWORD)
    right = make_target("rtsp", "127.0.0.1", port=port, path="/stream", username=USER, password=PASSWORD)
    wrong = make_target("rtsp", "127.0.0.1", port=port, path="/stream", username=USER, password="nope")
    good, bad = await asyncio.gather(probe_once("rtsp", right), probe_once("rtsp", wrong))
    assert good.ok and good.info["auth"] == "basic" and good.metrics["status"] == 200
    assert not bad.ok and bad.metrics["auth_failed"] == 1


async def test_basic_refused_when_cleartext_is_not_allowed(gst_rtsp) -> None:
    port = gst_rtsp("basic", USER, PASSWORD)
    target = make_target(
        "rtsp", "127.0.0.1", port=port, path="/stream", username=USER, password=PASSWORD, allow_basic=False
    )
    sample = await probe_once("rtsp", target)
    assert not sample.ok
    assert "only Basic" in (sample.error or "")


async def test_credentials_in_the_url_are_used(gst_rtsp) -> None:
    port = gst_rtsp("digest", USER, PASSWORD)
    url = f"rtsp://{USER}:Cam%232026@127.0.0.1:{port}/stream"
    sample = await probe_once("rtsp", make_target("rtsp", url, url=url))
    assert sample.ok, sample.error
    assert sample.info["auth"] == "digest"


async def test_unknown_stream_path_is_an_error_with_the_status(gst_rtsp) -> None:
    port = gst_rtsp("none")
    sample = await probe_once("rtsp", make_target("rtsp", "127.0.0.1", port=port, path="/nothing-here"))
    assert not sample.ok
    assert sample.metrics["status"] == 404
    assert sample.error == "DESCRIBE answered 404 Not Found"


async def test_many_cameras_in_one_round(gst_rtsp) -> None:
    port = gst_rtsp("digest", USER, PASSWORD)
    from collectors.rtsp import RtspCollector

    targets = [
        make_target("rtsp", "127.0.0.1", port=port, path="/stream", username=USER, password=PASSWORD if i % 5 else "bad")
        for i in range(40)
    ]
    targets = [type(t)(device=t.device.model_copy(update={"id": f"cam-{i}"}), probe=t.probe) for i, t in enumerate(targets)]
    samples = await RtspCollector().collect(targets)
    assert len(samples) == 40
    by_device = {s.device: s for s in samples}
    assert sum(s.ok for s in samples) == 32
    assert all(by_device[f"cam-{i}"].metrics["auth_failed"] == 1 for i in range(0, 40, 5))


async def test_closed_port_is_refused() -> None:
    port = free_port()
    sample = await probe_once("rtsp", make_target("rtsp", "127.0.0.1", port=port, timeout=2))
    assert not sample.ok
    assert sample.error == f"connection refused (port {port})"


async def test_server_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    async with LoopbackServer(silent) as server:
        clock = time.monotonic()
        sample = await probe_once("rtsp", make_target("rtsp", "127.0.0.1", port=server.port, timeout=0.5))
        elapsed = time.monotonic() - clock
    assert not sample.ok
    assert sample.error == f"timeout after 0.5 s (no RTSP answer, port {server.port})"
    assert 0.4 < elapsed < 1.5


async def test_garbage_answer_is_named() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    async with LoopbackServer(garbage) as server:
        sample = await probe_once("rtsp", make_target("rtsp", "127.0.0.1", port=server.port, timeout=2))
    assert not sample.ok
    assert sample.error == "not an RTSP answer: 'SSH-2.0-OpenSSH_9.2p1 Debian-2'"


async def test_binary_garbage_and_early_close() -> None:
    async def binary(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n")

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()

    async with LoopbackServer(binary) as one, LoopbackServer(hang_up) as two:
        first = await probe_once("rtsp", make_target("rtsp", "127.0.0.1", port=one.port, timeout=2))
        second = await probe_once("rtsp", make_target("rtsp", "127.0.0.1", port=two.port, timeout=2))
    assert not first.ok and first.error is not None and first.error.startswith("not an RTSP answer")
    assert not second.ok and second.error == "connection closed without an answer"


@pytest.mark.parametrize("credentials_in", ["options", "url"])
async def test_camera_that_hangs_up_after_401_is_asked_again_on_a_new_connection(credentials_in: str) -> None:
    """Some camera firmwares close the connection with their 401; the probe reconnects.

    Credentials given in the URL's user info are used but never sent in a request line.
    """
    seen: list[str] = []
    request_lines: list[str] = []

    async def camera(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = []
            while (line := (await reader.readline()).decode()) not in ("\r\n", ""):
                head.append(line.strip())
            if not head:
                return
            request_lines.append(head[0])
            seen.append(head[0].split(" ")[0] + (" +auth" if any(h.startswith("Authorization:") for h in head) else ""))
            cseq = next(h for h in head if h.startswith("CSeq:"))
            if head[0].startswith("OPTIONS"):
                writer.write(f"RTSP/1.0 200 OK\r\n{cseq}\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n".encode())
            elif any(h.startswith("Authorization: Digest") for h in head):
                sdp = b"v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\nm=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
                writer.write(
                    f"RTSP/1.0 200 OK\r\n{cseq}\r\nContent-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n".encode()
                    + sdp
                )
            else:
                writer.write(
                    f'RTSP/1.0 401 Unauthorized\r\n{cseq}\r\nWWW-Authenticate: Digest realm="IP Camera(C6473)", '
                    f'nonce="5a4f2b7e", stale="FALSE"\r\nWWW-Authenticate: Basic realm="IP Camera(C6473)"\r\n\r\n'.encode()
                )
                await writer.drain()
                return  # hang up
            await writer.drain()

    async with LoopbackServer(camera) as server:
        if credentials_in == "options":
            target = make_target("rtsp", "127.0.0.1", port=server.port, username=USER, password=PASSWORD, timeout=2)
        else:
            url = f"rtsp://{USER}:Cam%232026@127.0.0.1:{server.port}/Streaming/Channels/101"
            target = make_target("rtsp", url, url=url, timeout=2)
        sample = await probe_once("rtsp", target)
        assert server.connections == 2
    assert sample.ok, sample.error
    assert seen == ["OPTIONS", "DESCRIBE", "DESCRIBE +auth"]
    assert sample.info["media"] == "video,audio"
    assert sample.info["codecs"] == "H265,PCMA"
    assert sample.info["auth"] == "digest"  # Digest chosen over the Basic also offered
    assert not any("Cam" in line or USER in line for line in request_lines)
    if credentials_in == "url":
        assert request_lines[0] == f"OPTIONS rtsp://127.0.0.1:{server.port}/Streaming/Channels/101 RTSP/1.0"


def test_digest_matches_rfc_2617_example() -> None:
    challenge = Challenge(
        "digest",
        {"realm": "testrealm@host.com", "qop": "auth,auth-int", "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093", "opaque": "5ccc069c403ebaf9f0171e9517f40e41"},
    )
    header = digest_authorization(challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", cnonce="0a4f113b")
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert "qop=auth" in header and "nc=00000001" in header and 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header


def test_challenges_parsed_and_strongest_picked() -> None:
    challenges = parse_challenges(
        ['Basic realm="cam"', 'Digest realm="cam, inc", nonce="abc", algorithm=MD5', 'Digest realm="cam", nonce="x", algorithm=SHA-256']
    )
    assert [c.scheme for c in challenges] == ["basic", "digest", "digest"]
    assert challenges[1].realm == "cam, inc"
    chosen = pick(challenges)
    assert chosen is not None and chosen.params["algorithm"] == "SHA-256"
    assert pick([challenges[0]], allow_basic=False) is None


def test_sdp_media_kinds() -> None:
    kinds, codecs = sdp_media(
        b"v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        b"m=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\n"
    )
    assert kinds == ["video", "audio", "application"]
    assert codecs == ["H264", "PCMU", "vnd.onvif.metadata"]
