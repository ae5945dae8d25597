"""A GStreamer RTSP server for the tests, run with Debian's /usr/bin/python3 (python3-gi).

Usage: gst_rtsp_server.py PORT [none|basic|digest] [USER PASSWORD]

Serves ``/stream`` (a live JPEG test pattern) on 127.0.0.1:PORT; with ``basic`` or ``digest``
only USER/PASSWORD may DESCRIBE it. Prints ``ready`` once listening.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

LAUNCH = "( videotestsrc is-live=1 ! video/x-raw,format=I420,width=320,height=240 ! jpegenc ! rtpjpegpay name=pay0 )"


def main() -> None:
    port = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "none"
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(LAUNCH)
    factory.set_shared(True)
    if mode in ("basic", "digest"):
        user, password = sys.argv[3], sys.argv[4]
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "user")
        if mode == "basic":
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        else:
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            auth.add_digest(user, password, token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_role("user")
        permissions.add_permission_for_role("user", "media.factory.access", True)
        permissions.add_permission_for_role("user", "media.factory.construct", True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory("/stream", factory)
    server.attach(None)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
