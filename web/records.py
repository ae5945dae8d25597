"""记录与报表: file a visit/inspection/backup/scan/document record (with an optional evidence file)
and download the month's report of any contract in any format.

Evidence is kept under the data directory by its SHA-256 and only ever served as a download
(``Content-Disposition: attachment``, ``application/octet-stream``, ``nosniff``), never inline.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from aiohttp import web

from core.errors import InputError
from core.timefmt import parse_when
from web.context import USER, console

KINDS = ("visit", "inspection", "backup", "scan", "document")
FORMATS = {"json": "application/json", "xlsx": "application/octet-stream", "html": "application/octet-stream",
           "docx": "application/octet-stream"}
MAX_EVIDENCE = 20 * 1024 * 1024
PERIOD = re.compile(r"^\d{4}(-\d{2}|-Q[1-4]|-H[12])?$")


async def records_page(request: web.Request) -> web.StreamResponse:
    app = console(request)
    records = await app.run(app.data.recent_records)
    return app.render(request, "records.html", records=records, kinds=KINDS, formats=list(FORMATS),
                      contracts=app.data.contract_names(), inventory=app.inventory,
                      done=request.query.get("done", ""), error=request.query.get("error", ""))


async def add_record(request: web.Request) -> web.StreamResponse:
    app = console(request)
    form = await request.post()
    kind = str(form.get("kind", ""))
    text = {key: str(form.get(key, "")).strip() for key in ("unit", "system", "device", "note", "result", "document", "at")}
    fields: dict[str, object] = {"note": text["note"] or None, "result": text["result"] or None}
    if kind == "document":
        fields["document"] = text["document"] or None
    upload = form.get("evidence")
    try:
        if kind not in KINDS:
            raise InputError.single("record", f"kind {kind!r}: one of {', '.join(KINDS)}")
        at = parse_when(text["at"].replace("T", " "), app.inventory.agent.timezone) if text["at"] else None
        if isinstance(upload, web.FileField) and upload.filename:
            data = upload.file.read(MAX_EVIDENCE + 1)
            if len(data) > MAX_EVIDENCE:
                raise InputError.single("record", f"the evidence file is larger than {MAX_EVIDENCE // 1024 // 1024} MB")
            path, digest = await app.run(app.data.keep_evidence, upload.filename, data)
            fields.update(evidence=path, evidence_sha256=digest)
        uid, changed = await app.run(lambda: app.data.add_record(kind, text["unit"], request[USER].name, text["system"],
                                                                 text["device"], fields, at))
    except ValueError as exc:
        raise web.HTTPSeeOther(f"/records?error={quote(str(exc))}") from None
    except InputError as exc:
        raise web.HTTPSeeOther(f"/records?error={quote('; '.join(p.message for p in exc.problems))}") from None
    await app.audit(request, "record.add", uid, kind=kind, evidence=fields.get("evidence_sha256"))
    raise web.HTTPSeeOther(f"/records?done={quote(kind if changed else kind + ' (unchanged)')}")


async def evidence(request: web.Request) -> web.StreamResponse:
    app = console(request)
    found = await app.run(app.data.evidence_file, request.match_info["sha"])
    if found is None:
        raise web.HTTPNotFound(text="no such evidence")
    return web.FileResponse(found, headers={
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.name)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
    })


async def report(request: web.Request) -> web.StreamResponse:
    app = console(request)
    contract, period, fmt = (request.query.get(k, "") for k in ("contract", "period", "format"))
    if fmt not in FORMATS or contract not in app.data.contract_names() or not PERIOD.match(period):
        raise web.HTTPSeeOther(f"/records?error={quote('contract, period (2026-11) and format')}")
    try:
        data, summary = await app.run(app.data.report, contract, period, fmt)
    except InputError as exc:
        raise web.HTTPSeeOther(f"/records?error={quote('; '.join(p.message for p in exc.problems))}") from None
    await app.audit(request, "report.download", contract, period=period, format=fmt)
    name = f"{contract}-{period}.{fmt}"
    return web.Response(body=data, headers={
        "Content-Type": FORMATS[fmt], "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "X-Report-Summary": quote(summary),
    })
