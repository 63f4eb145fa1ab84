"""``report.html``: one self-contained page (inline style and script, no network) over the report.

Written for a reader who has never seen parity: it says what was tested and what each outcome
means, lists failures first, filters by outcome, area and text, and opens each check to show its
rule, its source and the redacted evidence with a ``curl`` line to reproduce it.

Must not: load anything from the network, or render data that did not go through
:func:`conformance.report.build_report` (which redacts).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.evidence import EvidenceDict
    from conformance.report import CheckDict, ReportDict

__all__ = ["render_html"]

_ORDER = {"failed": 0, "accepted": 1, "warning": 2, "skipped": 3, "passed": 4}
_LABEL = {
    "failed": "Failed",
    "accepted": "Accepted",
    "warning": "Warning",
    "skipped": "Skipped",
    "passed": "Passed",
}
_MEANING = {
    "failed": "breaks OpenAI clients or contradicts OpenAI's documented API: fix these first",
    "accepted": "failed, as in the baseline the run was given: known, does not fail the run",
    "warning": "legal but unusual behaviour worth knowing; does not fail the run",
    "skipped": "did not apply (a capability the target does not offer, a budget or a skip list)",
    "passed": "behaves as OpenAI documents",
}

_STYLE = """
:root{--fail:#b42318;--warn:#b54708;--skip:#667085;--pass:#067647;--line:#e4e7ec;--bg:#f9fafb;
--acc:#6941c6}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
sans-serif;color:#101828;background:#fff}header{padding:24px 32px;border-bottom:1px solid
var(--line);background:var(--bg)}h1{margin:0 0 4px;font-size:24px}h2{font-size:17px;margin:24px
0 8px}main{padding:8px 32px 48px;max-width:1200px}.meta{color:#475467}.meta code{color:#101828}
.intro{background:#eff8ff;border:1px solid #b2ddff;border-radius:8px;padding:12px 16px;margin:16px
0}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}.card{border:1px solid var(--line);
border-radius:8px;padding:10px 16px;flex:1 1 0;min-width:170px;background:#fff;cursor:pointer;text-align:left;
font:inherit}.card b{display:block;font-size:26px}.card small{color:#475467}.card.off{opacity:.4}
.failed{color:var(--fail)}.accepted{color:var(--acc)}.warning{color:var(--warn)}.skipped{color:var(--skip)}.passed{color:
var(--pass)}table.kv{border-collapse:collapse;margin:4px 0 12px}table.kv td{padding:2px 12px 2px 0;
vertical-align:top}.filters{display:flex;gap:12px;align-items:center;flex-wrap:wrap;padding:12px 0;
position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);z-index:1}
.filters input[type=search]{padding:6px 10px;border:1px solid #d0d5dd;border-radius:6px;width:280px}
select{padding:6px;border:1px solid #d0d5dd;border-radius:6px}details.check{border:1px solid
var(--line);border-left:4px solid var(--skip);border-radius:6px;margin:8px 0;background:#fff}
details.check[data-outcome=failed]{border-left-color:var(--fail)}
details.check[data-outcome=accepted]{border-left-color:var(--acc)}details.check[data-outcome=warning]
{border-left-color:var(--warn)}details.check[data-outcome=passed]{border-left-color:var(--pass)}
summary{cursor:pointer;padding:8px 12px;display:grid;grid-template-columns:90px minmax(220px,1fr)
110px 2fr;gap:12px;align-items:baseline}summary .id{font-family:ui-monospace,Menlo,Consolas,
monospace;font-size:13px;font-weight:600}summary .area{color:#475467;font-size:13px}.msg{color:
#344054;font-size:14px;overflow-wrap:anywhere}.badge{font-weight:700;font-size:13px}.body{padding:
4px 16px 16px;border-top:1px solid var(--line)}pre{background:#0c111d;color:#e4e7ec;padding:10px
12px;border-radius:6px;overflow:auto;max-height:360px;font-size:12.5px;white-space:pre-wrap;
overflow-wrap:anywhere}.result{white-space:pre-wrap;overflow-wrap:anywhere}button.copy{font:inherit;font-size:12px;padding:2px 8px;border:1px solid
#d0d5dd;border-radius:4px;background:#fff;cursor:pointer}.hidden{display:none}.count{color:#475467}
"""

_SCRIPT = """
(function(){
  const checks=[...document.querySelectorAll('details.check')];
  const search=document.getElementById('q'), area=document.getElementById('area');
  const shown=new Set(['failed','accepted','warning','skipped','passed']);
  function apply(){
    const q=search.value.trim().toLowerCase(); let n=0;
    for(const c of checks){
      const ok=shown.has(c.dataset.outcome)&&(!area.value||c.dataset.area===area.value)
        &&(!q||c.dataset.text.includes(q));
      c.classList.toggle('hidden',!ok); if(ok)n++;
    }
    document.getElementById('count').textContent=n+' of '+checks.length+' checks shown';
    for(const b of document.querySelectorAll('.card[data-outcome]'))
      b.classList.toggle('off',!shown.has(b.dataset.outcome));
  }
  for(const b of document.querySelectorAll('.card[data-outcome]'))
    b.addEventListener('click',()=>{const o=b.dataset.outcome;
      shown.has(o)?shown.delete(o):shown.add(o);apply();});
  search.addEventListener('input',apply); area.addEventListener('change',apply);
  document.getElementById('expand').addEventListener('click',()=>{
    const open=!checks.some(c=>c.open&&!c.classList.contains('hidden'));
    for(const c of checks)if(!c.classList.contains('hidden'))c.open=open;});
  // Links may preset the view: #outcome=failed,warning&area=chat&q=stream&open
  const h=new URLSearchParams(location.hash.slice(1));
  if(h.has('outcome')){shown.clear();for(const o of h.get('outcome').split(','))shown.add(o);}
  if(h.has('area'))area.value=h.get('area');
  if(h.has('q'))search.value=h.get('q');
  if(h.has('open'))for(const c of checks)c.open=true;
  for(const b of document.querySelectorAll('button.copy'))
    b.addEventListener('click',()=>{const t=document.getElementById(b.dataset.for).textContent;
      if(navigator.clipboard)navigator.clipboard.writeText(t);b.textContent='copied';});
  apply();
})();
"""


def _kv(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv">{cells}</table>'


def _headers(headers: dict[str, str]) -> str:
    return escape("\n".join(f"{k}: {v}" for k, v in headers.items()) or "(none)")


def _evidence(evidence: EvidenceDict, anchor: str) -> str:
    request = evidence["request"]
    timing = evidence["timing"]
    status = "no response" if evidence["status"] is None else str(evidence["status"])
    parts = [
        "<h4>Evidence</h4>",
        _kv(
            [
                ("request", f"<code>{escape(request['method'])} {escape(request['url'])}</code>"),
                ("status", escape(status)),
                ("timing", escape(", ".join(f"{k}={v}" for k, v in timing.items()))),
            ]
            + ([("transport error", escape(evidence["error"]))] if evidence["error"] else [])
            + (
                [("sent again", escape(f"on a fresh connection after: {evidence['retried']}"))]
                if evidence.get("retried")
                else []
            )
        ),
        "<p><b>Reproduce it</b> (set <code>PARITY_API_KEY</code> to your key first) "
        f'<button class="copy" data-for="curl-{anchor}">copy</button></p>',
        f'<pre id="curl-{anchor}">{escape(evidence["curl"])}</pre>',
        "<p><b>Request headers</b> (credentials redacted)</p>",
        f"<pre>{_headers(request['headers'])}</pre>",
    ]
    if request["body_excerpt"]:
        parts.append(f"<p><b>Request body</b></p><pre>{escape(request['body_excerpt'])}</pre>")
    parts += [
        "<p><b>Response headers</b></p>",
        f"<pre>{_headers(evidence['headers'])}</pre>",
        f"<p><b>Response body</b> ({evidence['body_bytes']} bytes; excerpt)</p>",
        f"<pre>{escape(evidence['body_excerpt']) or '(empty)'}</pre>",
    ]
    return "".join(parts)


def _headline(text: str, limit: int = 240) -> str:
    """The first line of a message, shortened for the one-line summary of a check."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    more = len(first) > limit or first != text.strip()
    return (first[:limit].rstrip() + " …") if more else first


def _check(check: CheckDict, index: int) -> str:
    outcome = check["outcome"]
    text = " ".join(
        str(check.get(k, "")) for k in ("id", "area", "endpoint", "message", "asserts", "source")
    ).lower()
    rows = [
        ("asserts", escape(check["asserts"])),
        ("source", escape(check["source"])),
        ("endpoint", f"<code>{escape(check['endpoint'])}</code>"),
        ("level", escape(check["level"])),
        ("took", f"{check['duration_s']} s"),
    ]
    if check["message"]:
        rows.insert(0, ("result", f'<div class="result">{escape(check["message"])}</div>'))
    evidence = check.get("evidence")
    body = _kv(rows) + (_evidence(evidence, str(index)) if evidence is not None else "")
    return (
        f'<details class="check" data-outcome="{outcome}" data-area="{escape(check["area"])}" '
        f'data-text="{escape(text)}"><summary>'
        f'<span class="badge {outcome}">{_LABEL[outcome]}</span>'
        f'<span class="id">{escape(check["id"])}</span>'
        f'<span class="area">{escape(check["area"])}</span>'
        f'<span class="msg">{escape(_headline(check["message"] or check["asserts"]))}</span>'
        f'</summary><div class="body">{body}</div></details>'
    )


def _limits(options: dict[str, object]) -> str:
    check, request = options.get("check_timeout"), options.get("request_timeout")
    if check is None and request is None:
        return "not recorded"
    return f"each check {check} s (--check-timeout), each request {request} s (--request-timeout)"


def _not_judged(not_judged: object) -> str:
    if not isinstance(not_judged, dict) or not not_judged.get("total"):
        return "none: every check that was not asked to be skipped was judged"
    why = not_judged.get("why") or []
    return "; ".join(str(reason) for reason in why)


def render_html(report: ReportDict) -> str:
    """The whole page as one string."""
    target = report["target"]
    summary = report["summary"]
    checks = sorted(report["checks"], key=lambda c: (_ORDER[c["outcome"]], c["area"], c["id"]))
    areas = sorted({c["area"] for c in checks})
    models = target.get("models") or {}
    assert isinstance(models, dict)
    model_rows = (
        "".join(
            f"<tr><td>{escape(str(cap))}</td><td><code>{escape(str(m))}</code></td></tr>"
            for cap, m in models.items()
        )
        or "<tr><td colspan=2>none discovered</td></tr>"
    )
    tokens = summary.get("tokens", {})
    assert isinstance(tokens, dict)
    cards = "".join(
        f'<button class="card" data-outcome="{o}" title="show or hide {o} checks">'
        f'<b class="{o}">{summary["warnings" if o == "warning" else o]}</b>'
        f"{_LABEL[o]}<br><small>{escape(_MEANING[o])}</small></button>"
        for o in ("failed", "accepted", "warning", "skipped", "passed")
        if o != "accepted" or summary.get("accepted")
    )
    verdict = (
        f'<b class="failed">{summary["failed"]} check(s) failed.</b>'
        if summary["failed"]
        else '<b class="passed">No check failed.</b>'
    )
    if summary.get("accepted"):
        verdict += f" {summary['accepted']} known failure(s) accepted from the baseline."
    options = report.get("options", {})
    not_judged = summary.get("not_judged")
    unjudged = not_judged.get("total", 0) if isinstance(not_judged, dict) else 0
    if unjudged:
        verdict += (
            f' <b class="warning">{unjudged} check(s) could not be judged</b> '
            "(skipped for a reason other than being asked to: see Run)."
        )
    notes = "".join(f"<li>{escape(note)}</li>" for note in report.get("notes", []))
    if notes:
        notes = f'<h2>Notes on the run</h2><ul class="warning">{notes}</ul>'
    area_options = "".join(f'<option value="{escape(a)}">{escape(a)}</option>' for a in areas)
    base_url = escape(str(target["base_url"]))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>parity report: {base_url}</title><style>{_STYLE}</style></head>
<body><header><h1>parity conformance report</h1>
<div class="meta">Target <code>{base_url}</code> · level <code>{escape(str(target["level"]))}</code>
· profile <code>{escape(str(target["profile"]))}</code> · run at {escape(report["generated_at"])}
· parity {escape(report["parity"]["version"])}</div></header>
<main>
<div class="intro"><p style="margin:0 0 6px">This report shows where the API at
<code>{base_url}</code> behaves differently from OpenAI's published API. Each entry below is one
<b>check</b>: a rule taken from OpenAI's API reference, its official OpenAPI specification, or a
documented behaviour of the official <code>openai</code> SDK (the <i>source</i> of each check says
which). Open an entry to see the rule, the request parity sent and what came back, with a
<code>curl</code> command that reproduces it. {verdict}</p></div>
<div class="cards">{cards}</div>
<h2>Run</h2>
{
        _kv(
            [
                ("requests made", str(summary["requests"])),
                (
                    "tokens used",
                    f"{tokens.get('total', 0)} ({tokens.get('prompt', 0)} prompt, "
                    f"{tokens.get('completion', 0)} completion)",
                ),
                ("duration", f"{summary['duration_s']} s"),
                ("request cap", escape(str(target.get("max_requests") or "none"))),
                ("time limits", escape(_limits(options))),
                ("not judged", escape(_not_judged(not_judged))),
            ]
        )
    }
{notes}<h2>Models used</h2><table class="kv">{model_rows}</table>
<h2>Checks</h2>
<div class="filters"><input type="search" id="q" placeholder="search id, endpoint, message…"
aria-label="search checks"><label>area <select id="area"><option value="">all areas</option>
{area_options}</select></label><button class="copy" id="expand">expand / collapse all</button>
<span class="count" id="count"></span>
<span class="count">click the coloured counts above to show or hide an outcome</span></div>
{"".join(_check(c, i) for i, c in enumerate(checks))}
</main>
<script>{_SCRIPT}</script></body></html>
"""
