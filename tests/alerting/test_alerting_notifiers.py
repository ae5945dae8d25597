"""Notifiers: exact payloads from render(), and send() against strict loopback platforms."""

from __future__ import annotations

import email
import json
from email import policy

import pytest
from alerting_platforms import (
    DING_TOKEN_MISSING,
    FEISHU_SIGN,
    SIGN_NOT_MATCH,
    WECOM_FREQ,
    WECOM_INVALID_KEY,
    Platform,
    SmtpSink,
)
from pydantic import TypeAdapter

from alerting.config import Channel
from alerting.notifiers import make_notifier, notifier_types
from alerting.notifiers.base import DeliveryError, Message

CHANNEL = TypeAdapter(Channel)


def channel(**options):
    return CHANNEL.validate_python(options)


MESSAGE = Message(
    kind="open",
    title="【二级故障】雪亮工程 汇聚交换机 中断, 212 路摄像机不可达",
    lines=["- **故障单**: F-20261103-0007", "- **原因**: timeout after 2 s"],
    severity="major",
    thread="F-20261103-0007",
    refs=["F-20261103-0007"],
    level=2,
    mobiles=["13800000001"],
    user_ids=[],
    at_all=False,
    key="yw-0123456789abcdef",
    starts_thread=True,
)


@pytest.fixture
def platform(request):
    started: list[Platform] = []

    def start(kind: str, secret: str | None = None, **kwargs) -> Platform:
        p = Platform(kind, secret, **kwargs).start()
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


# -- exact payloads ------------------------------------------------------------------------


def test_dingtalk_render_is_markdown_with_at_mobiles():
    notifier = make_notifier("d", channel(type="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=x"))
    assert notifier.render(MESSAGE).body == {
        "msgtype": "markdown",
        "markdown": {
            "title": "【二级故障】雪亮工程 汇聚交换机 中断, 212 路摄像机不可达",
            "text": "### 【二级故障】雪亮工程 汇聚交换机 中断, 212 路摄像机不可达\n\n"
            "- **故障单**: F-20261103-0007\n\n- **原因**: timeout after 2 s\n\n@13800000001",
        },
        "at": {"atMobiles": ["13800000001"], "atUserIds": [], "isAtAll": False},
    }


def test_dingtalk_writes_every_at_user_id_and_mobile_into_the_text():
    notifier = make_notifier("d", channel(type="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=x"))
    message = Message(**{**MESSAGE.to_dict(), "user_ids": ["zhangsan", "lisi01"]})
    body = notifier.render(message).body
    assert body["markdown"]["text"].endswith("- **原因**: timeout after 2 s\n\n@13800000001 @zhangsan @lisi01")
    assert body["at"] == {"atMobiles": ["13800000001"], "atUserIds": ["zhangsan", "lisi01"], "isAtAll": False}


def test_wecom_render_markdown_or_text_when_someone_is_at_by_mobile():
    notifier = make_notifier("w", channel(type="wecom", url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"))
    quiet = Message(**{**MESSAGE.to_dict(), "mobiles": [], "user_ids": ["zhangsan"]})
    assert notifier.render(quiet).body == {
        "msgtype": "markdown",
        "markdown": {
            "content": "**【二级故障】雪亮工程 汇聚交换机 中断, 212 路摄像机不可达**\n"
            "> **故障单**: F-20261103-0007\n> **原因**: timeout after 2 s\n<@zhangsan>"
        },
    }
    assert notifier.render(MESSAGE).body == {
        "msgtype": "text",
        "text": {
            "content": "【二级故障】雪亮工程 汇聚交换机 中断, 212 路摄像机不可达\n- 故障单: F-20261103-0007\n- 原因: timeout after 2 s",
            "mentioned_mobile_list": ["13800000001"],
        },
    }


def test_feishu_render_is_an_interactive_card():
    notifier = make_notifier("f", channel(type="feishu", url="https://open.feishu.cn/open-apis/bot/v2/hook/x"))
    message = Message(**{**MESSAGE.to_dict(), "mobiles": [], "user_ids": ["ou_abc"], "at_all": True})
    assert notifier.render(message).body == {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": "【二级故障】雪亮工程 汇聚交换机 中断, 212 路摄像机不可达"}, "template": "orange"},
            "elements": [
                {
                    "tag": "div",
                    "text": {
                        "tag": "lark_md",
                        "content": "- **故障单**: F-20261103-0007\n- **原因**: timeout after 2 s\n<at id=ou_abc></at><at id=all></at>",
                    },
                }
            ],
        },
    }


def test_webhook_and_email_render():
    hook = make_notifier("h", channel(type="webhook", url="https://itsm.example/hook"))
    payload = hook.render(MESSAGE)
    assert payload.headers == {"X-Yunwei-Message-Id": "yw-0123456789abcdef"}
    assert payload.body == {
        "kind": "open",
        "title": MESSAGE.title,
        "text": "- **故障单**: F-20261103-0007\n- **原因**: timeout after 2 s",
        "severity": "major",
        "level": 2,
        "thread": "F-20261103-0007",
        "faults": ["F-20261103-0007"],
        "mention": {"mobiles": ["13800000001"], "user_ids": [], "all": False},
        "language": "zh",
    }
    mail = make_notifier("m", channel(type="email", host="127.0.0.1", sender="yunwei@x.gov.cn", to=["boss@x.gov.cn"]))
    assert mail.render(MESSAGE).body == {
        "subject": MESSAGE.title,
        "text": f"{MESSAGE.title}\n\n- 故障单: F-20261103-0007\n- 原因: timeout after 2 s\n",
        "message_id": "<F-20261103-0007@yunwei>",
        "in_reply_to": None,
        "to": ["boss@x.gov.cn"],
        "sender": "yunwei@x.gov.cn",
    }
    recovery = Message(**{**MESSAGE.to_dict(), "kind": "resolved", "starts_thread": False, "key": "yw-r"})
    body = mail.render(recovery).body
    assert (body["message_id"], body["in_reply_to"]) == ("<F-20261103-0007.yw-r@yunwei>", "<F-20261103-0007@yunwei>")


@pytest.mark.parametrize(
    ("options", "limit"),
    [
        ({"type": "dingtalk", "url": "https://x/robot/send?access_token=t"}, 20000),
        ({"type": "wecom", "url": "https://x/send?key=k"}, 4096),
        ({"type": "feishu", "url": "https://x/hook/h"}, 20000),
    ],
)
def test_long_messages_are_cut_to_the_platform_limit(options, limit):
    notifier = make_notifier("n", channel(**options))
    lines = [f"- cam-{i:04d} 东门摄像机 {i} 离线 timeout after 2 s" for i in range(2000)]
    message = Message(**{**MESSAGE.to_dict(), "lines": lines, "mobiles": []})
    body = notifier.render(message).body
    size = len(json.dumps(body, ensure_ascii=False).encode()) if options["type"] != "wecom" else len(body["markdown"]["content"].encode())
    assert limit - 600 < size <= limit
    assert "已截断" in json.dumps(body, ensure_ascii=False)


def test_every_notifier_type_is_registered_once():
    assert notifier_types() == ["dingtalk", "email", "feishu", "webhook", "wecom"]


# -- send() against the platforms -----------------------------------------------------------


def test_dingtalk_signed_send_is_accepted_and_a_wrong_secret_gets_310000(platform):
    server = platform("dingtalk", secret="SEC0123456789abcdef")
    good = make_notifier("d", channel(type="dingtalk", url=server.url, secret="SEC0123456789abcdef"))
    payload = good.render(MESSAGE)
    assert good.send(payload) == "errcode=0 ok"
    assert server.accepted == [payload.body]
    assert set(server.requests[0].query) == {"access_token", "timestamp", "sign"}
    bad = make_notifier("d", channel(type="dingtalk", url=server.url, secret="SECwrong"))
    with pytest.raises(DeliveryError, match="errcode 310000: sign not match"):
        bad.send(payload)
    unsigned = make_notifier("d", channel(type="dingtalk", url=server.url))
    with pytest.raises(DeliveryError, match="310000"):
        unsigned.send(payload)
    stale = make_notifier("d", channel(type="dingtalk", url=server.url, secret="SEC0123456789abcdef"), clock=lambda: 1e9)
    with pytest.raises(DeliveryError, match="310000"):  # a timestamp more than an hour old
        stale.send(payload)
    wrong_token = make_notifier("d", channel(type="dingtalk", url=server.url.replace("tok-123", "nope"), secret="SEC0123456789abcdef"))
    with pytest.raises(DeliveryError, match=str(DING_TOKEN_MISSING["errcode"])):
        wrong_token.send(payload)
    assert len(server.accepted) == 1


def test_wecom_key_and_error_codes(platform):
    server = platform("wecom")
    good = make_notifier("w", channel(type="wecom", url=server.url))
    assert good.send(good.render(MESSAGE)) == "errcode=0 ok"
    assert server.accepted[0]["msgtype"] == "text"
    bad = make_notifier("w", channel(type="wecom", url=server.url.replace("tok-123", "bad-key")))
    with pytest.raises(DeliveryError, match=f"errcode {WECOM_INVALID_KEY['errcode']}: invalid webhook url"):
        bad.send(bad.render(MESSAGE))
    server.script.append(WECOM_FREQ)
    with pytest.raises(DeliveryError, match="45009") as caught:
        good.send(good.render(MESSAGE))
    assert caught.value.throttled


def test_feishu_signature_in_the_body(platform):
    server = platform("feishu", secret="feishu-secret")
    good = make_notifier("f", channel(type="feishu", url=server.url, secret="feishu-secret"))
    payload = good.render(MESSAGE)
    assert good.send(payload) == "code=0 success"
    accepted = server.accepted[0]
    assert set(accepted) == {"msg_type", "card", "timestamp", "sign"}
    bad = make_notifier("f", channel(type="feishu", url=server.url, secret="other"))
    with pytest.raises(DeliveryError, match=f"code {FEISHU_SIGN['code']}: sign match fail"):
        bad.send(payload)


def test_webhook_hmac_header(platform):
    server = platform("webhook", secret="s3cret")
    good = make_notifier("h", channel(type="webhook", url=server.url, secret="s3cret"))
    assert good.send(good.render(MESSAGE)) == "HTTP 200"
    assert server.requests[0].headers["x-yunwei-message-id"] == "yw-0123456789abcdef"
    bad = make_notifier("h", channel(type="webhook", url=server.url, secret="other"))
    with pytest.raises(DeliveryError, match="HTTP 401"):
        bad.send(bad.render(MESSAGE))


def test_http_500_timeout_and_garbage_are_delivery_errors(platform):
    server = platform("dingtalk")
    notifier = make_notifier("d", channel(type="dingtalk", url=server.url, timeout=0.5))
    payload = notifier.render(MESSAGE)
    server.script.extend(["500", ("hang", 1.5)])
    with pytest.raises(DeliveryError, match="HTTP 500"):
        notifier.send(payload)
    with pytest.raises(DeliveryError, match="no answer within 0.5 s"):
        notifier.send(payload)
    assert server.accepted == []
    dead = make_notifier("d", channel(type="dingtalk", url="http://127.0.0.1:9/robot/send?access_token=x", timeout=1))
    with pytest.raises(DeliveryError, match="refused"):
        dead.send(payload)


def test_a_secret_never_appears_in_an_error(platform):
    server = platform("dingtalk", secret="SECtopsecret")
    notifier = make_notifier("d", channel(type="dingtalk", url=server.url, secret="SECwrong-secret"))
    with pytest.raises(DeliveryError) as caught:
        notifier.send(notifier.render(MESSAGE))
    assert "SECwrong" not in str(caught.value) and "tok-123" not in str(caught.value)
    assert SIGN_NOT_MATCH["errmsg"].split(",")[0] in str(caught.value)


def test_email_threads_and_refusals():
    sink = SmtpSink()
    try:
        notifier = make_notifier("m", channel(type="email", host="127.0.0.1", port=sink.port, sender="yunwei@x.gov.cn", to=["boss@x.gov.cn"], timeout=5))
        assert notifier.send(notifier.render(MESSAGE)) == "accepted for 1 recipient(s)"
        recovery = Message(**{**MESSAGE.to_dict(), "kind": "resolved", "title": "【已恢复】雪亮工程 汇聚交换机, 持续 37 分钟", "starts_thread": False, "key": "yw-r"})
        notifier.send(notifier.render(recovery))
        first, second = (email.message_from_bytes(data, policy=policy.default) for _, _, data in sink.messages)
        assert first["Subject"] == MESSAGE.title
        assert first["Message-ID"] == "<F-20261103-0007@yunwei>"
        assert second["In-Reply-To"] == "<F-20261103-0007@yunwei>"
        assert "持续 37 分钟" in second["Subject"]
        assert "故障单: F-20261103-0007" in first.get_content()
        assert sink.messages[0][1] == ["boss@x.gov.cn"]
    finally:
        sink.stop()
    refusing = SmtpSink(refuse=True)
    try:
        notifier = make_notifier("m", channel(type="email", host="127.0.0.1", port=refusing.port, sender="a@b", to=["c@d"], timeout=5))
        with pytest.raises(DeliveryError, match="every recipient refused"):
            notifier.send(notifier.render(MESSAGE))
    finally:
        refusing.stop()


@pytest.mark.parametrize("kind", notifier_types())
def test_conformance_every_notifier_documents_a_sample_config_that_validates_and_renders(kind):
    import importlib
    import re

    import yaml

    from alerting.notifiers import NOTIFIERS

    module = importlib.import_module(NOTIFIERS[kind].__module__)
    doc = module.__doc__ or ""
    assert "Sample config::" in doc, f"{module.__name__} has no sample config"
    sample = doc.split("Sample config::", 1)[1]
    sample = re.sub(r"\$\{env:[A-Z_]+\}", "x", sample)
    channels = yaml.safe_load(sample)["channels"]
    (name, options), = channels.items()
    notifier = make_notifier(name, channel(**options))
    assert notifier.type == kind and notifier.rate_per_minute > 0
    payload = notifier.render(MESSAGE)
    assert json.loads(payload.to_json())["body"] == payload.body
    assert notifier.render(MESSAGE) == payload  # pure: same message, same payload


# -- buttons to the web console (web.public_url) ------------------------------------------------

PAGE = "https://jump.example.gov.cn:8470/faults/F-20261103-0007"
WITH_BUTTONS = Message(**{**MESSAGE.to_dict(), "mobiles": [], "actions": [("确认", f"{PAGE}#ack"), ("查看", PAGE)]})


def test_dingtalk_buttons_make_an_action_card_unless_someone_must_be_at():
    notifier = make_notifier("d", channel(type="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=x"))
    body = notifier.render(WITH_BUTTONS).body
    assert body["msgtype"] == "actionCard"
    card = body["actionCard"]
    assert card["title"] == WITH_BUTTONS.title and card["text"].startswith(f"### {WITH_BUTTONS.title}")
    assert card["btns"] == [{"title": "确认", "actionURL": f"{PAGE}#ack"}, {"title": "查看", "actionURL": PAGE}]
    at_someone = Message(**{**WITH_BUTTONS.to_dict(), "mobiles": ["13800000001"]})
    assert notifier.render(at_someone).body["msgtype"] == "markdown"  # an ActionCard cannot @: the @ wins


def test_feishu_buttons_are_card_actions():
    notifier = make_notifier("f", channel(type="feishu", url="https://open.feishu.cn/open-apis/bot/v2/hook/x"))
    elements = notifier.render(WITH_BUTTONS).body["card"]["elements"]
    [action] = [e for e in elements if e["tag"] == "action"]
    assert [(b["text"]["content"], b["url"], b["type"]) for b in action["actions"]] == [
        ("确认", f"{PAGE}#ack", "primary"), ("查看", PAGE, "default")]


def test_wecom_buttons_make_a_template_card():
    notifier = make_notifier("w", channel(type="wecom", url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"))
    body = notifier.render(WITH_BUTTONS).body
    assert body["msgtype"] == "template_card"
    card = body["template_card"]
    assert card["card_type"] == "text_notice" and card["main_title"]["title"] == WITH_BUTTONS.title[:26]
    assert card["jump_list"] == [{"type": 1, "title": "确认", "url": f"{PAGE}#ack"}, {"type": 1, "title": "查看", "url": PAGE}]
    assert card["card_action"] == {"type": 1, "url": f"{PAGE}#ack"}
    assert "F-20261103-0007" in card["sub_title_text"] and "**" not in card["sub_title_text"]
