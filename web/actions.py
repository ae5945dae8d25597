"""What the console changes: fault actions, work orders, maintenance windows.

Each goes through web.data to the CLI's own functions (alerting.lifecycle, agent.windows),
done as the logged-in user, and is written to the audit trail with the address it came from.
A refused action (already acknowledged, unknown device ...) comes back as the page's error line.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from core.errors import InputError
from core.timefmt import parse_when
from web.context import USER, console


def _back(path: str, done: str = "", error: str = "") -> web.HTTPSeeOther:
    if error:
        return web.HTTPSeeOther(f"{path}?error={quote(error)}")
    return web.HTTPSeeOther(f"{path}?done={quote(done)}")


def _problem(exc: InputError) -> str:
    return "; ".join(p.message for p in exc.problems)


async def acknowledge(request: web.Request) -> web.StreamResponse:
    return await _fault_action(request, "ack")


async def resolve(request: web.Request) -> web.StreamResponse:
    return await _fault_action(request, "resolve")


async def note(request: web.Request) -> web.StreamResponse:
    return await _fault_action(request, "note")


async def _fault_action(request: web.Request, action: str) -> web.StreamResponse:
    app = console(request)
    ref = request.match_info["id"]
    form = await request.post()
    text = str(form.get("note", "")).strip()
    by = request[USER].name
    try:
        if action == "ack":
            fault = await app.run(app.data.acknowledge, ref, by, text)
        elif action == "resolve":
            fault = await app.run(app.data.resolve, ref, by, text)
        else:
            fault = await app.run(app.data.add_note, ref, text, by, form.get("close") == "1")
    except InputError as exc:
        raise _back(f"/faults/{quote(ref)}", error=_problem(exc)) from None
    closed = {"close": True} if action == "note" and form.get("close") == "1" else {}
    await app.audit(request, f"fault.{action}", fault.id, note=text or None, **closed)
    raise _back(f"/faults/{quote(fault.id)}", done=action)


async def bulk_acknowledge(request: web.Request) -> web.StreamResponse:
    app = console(request)
    form = await request.post()
    refs = [str(v) for v in form.getall("fault", [])]
    if not refs:
        raise _back("/faults", error="—")
    done, problems = await app.run(app.data.bulk_acknowledge, refs, request[USER].name)
    await app.audit(request, "fault.bulk_ack", ",".join(f.id for f in done), refused=len(problems))
    if problems:
        raise _back("/faults", error="; ".join(problems))
    raise _back("/faults", done=f"ack {len(done)}")


async def work_order(request: web.Request) -> web.StreamResponse:
    app = console(request)
    form = await request.post()
    scope = {key: (str(form.get(key, "")).strip() or None) for key in ("device", "group", "system", "unit")}
    try:
        level = int(str(form.get("level", "")))
        fault = await app.run(lambda: app.data.open_work_order(level, str(form.get("cause", "")), request[USER].name, **scope))
    except ValueError:
        raise _back("/faults", error="level: 1..4") from None
    except InputError as exc:
        raise _back("/faults", error=_problem(exc)) from None
    await app.audit(request, "fault.open", fault.id, level=fault.level, cause=fault.cause)
    raise _back(f"/faults/{quote(fault.id)}", done="open")


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", ",").replace("、", ",").split(",") if part.strip()]


async def add_window(request: web.Request) -> web.StreamResponse:
    app = console(request)
    form = await request.post()
    zone = app.inventory.agent.timezone
    targets = {key: _ids(str(form.get(key, ""))) for key in ("devices", "groups", "systems", "units")}
    try:
        start = parse_when(str(form.get("start", "")).replace("T", " "), zone)
        end = parse_when(str(form.get("end", "")).replace("T", " "), zone)
        window = await app.run(lambda: app.data.add_maintenance(str(form.get("name", "")), start, end, request[USER].name, **targets))
    except ValueError as exc:
        raise _back("/maintenance", error=str(exc)) from None
    except InputError as exc:
        raise _back("/maintenance", error=_problem(exc)) from None
    await app.audit(request, "maintenance.add", str(window.id), name=window.window.name, start=start, end=end,
                    **{k: v for k, v in targets.items() if v})
    raise _back("/maintenance", done="create")


async def end_window(request: web.Request) -> web.StreamResponse:
    app = console(request)
    try:
        window_id = int(request.match_info["id"])
        await app.run(app.data.end_maintenance, window_id, request[USER].name)
    except ValueError:
        raise web.HTTPNotFound() from None
    except InputError as exc:
        raise _back("/maintenance", error=_problem(exc)) from None
    await app.audit(request, "maintenance.end", str(window_id))
    raise _back("/maintenance", done="end")
