"""The review page's HTML (Jinja2, autoescaped): layout, sign-in, the list, and one video."""

from __future__ import annotations

import jinja2

_BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}shortvid review{% endblock %}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0;background:#f5f5f7;color:#1d1d1f}
header{display:flex;justify-content:space-between;align-items:center;padding:.6rem 1.2rem;background:#1d1d1f;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:1100px;margin:0 auto;padding:1rem 1.2rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:1rem}
.card{background:#fff;border-radius:10px;padding:.7rem;box-shadow:0 1px 3px #0002}
.card img{width:100%;aspect-ratio:9/16;object-fit:cover;border-radius:6px;background:#ddd}
.tags{color:#0066cc;font-size:.9rem}
.muted{color:#6e6e73;font-size:.9rem}
.flash{background:#e8f5e9;border:1px solid #a5d6a7;padding:.6rem;border-radius:6px}
.error{background:#ffebee;border:1px solid #ef9a9a;padding:.6rem;border-radius:6px}
.video{display:grid;grid-template-columns:minmax(200px,360px) 1fr;gap:1.5rem}
video{width:100%;aspect-ratio:9/16;background:#000;border-radius:8px}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
textarea{width:100%;min-height:4rem}
button{font-size:1rem;padding:.45rem 1.1rem;border-radius:6px;border:0;cursor:pointer}
.approve{background:#2e7d32;color:#fff}.reject{background:#c62828;color:#fff}
.badge{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.8rem;background:#eee}
.approved{background:#c8e6c9}.rejected{background:#ffcdd2}.set-aside{background:#ffe0b2}
.published{background:#bbdefb}.failed{background:#ffcdd2}
</style></head><body>
<header><a href="/">shortvid review</a>
{% if reviewer %}<form method="post" action="/logout">signed in as <strong id="reviewer">{{ reviewer }}</strong>
<input type="hidden" name="csrf_token" value="{{ csrf_token }}"> <button type="submit">Sign out</button></form>{% endif %}
</header><main>{% block main %}{% endblock %}</main></body></html>
"""

_LOGIN = """{% extends "base.html" %}{% block title %}Sign in · shortvid review{% endblock %}{% block main %}
<h1>Sign in</h1>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/login">
<label>Reviewer token <input type="password" name="token" id="token" autocomplete="current-password" required></label>
<input type="hidden" name="csrf_token" value="{{ login_csrf }}">
<button type="submit" id="sign-in">Sign in</button>
</form>
<p class="muted">Tokens come from SHORTVID_REVIEW_TOKENS on the server; your name comes with your token.</p>
{% endblock %}"""

# One video's publication: the platform, the status and, once published, the video's id and link;
# never the upload session. `approved` without a publication reads "not published".
_PUBLICATION = """{% macro publication(p, approved) -%}
{% if p %}<span class="badge {{ p.status }}">{{ p.status }}</span> on {{ p.platform }}
{%- if p.published %}: {% if p.link %}<a href="{{ p.link }}" rel="noopener noreferrer">{{ p.remote_id }}</a>{% else %}{{ p.remote_id }}{% endif %}{% endif %}
{%- if p.other_render %} <span class="muted">(another render)</span>{% endif %}
{%- elif approved %}<span class="muted">not published</span>{% endif %}
{%- endmacro %}"""

_INDEX = """{% extends "base.html" %}{% from "publication.html" import publication %}{% block main %}
<h1>Awaiting review ({{ awaiting|length }})</h1>
{% if not awaiting %}<p class="muted">No video is waiting. Run <code>shortvid run</code> to make some.</p>{% endif %}
<div class="cards">
{% for item in awaiting %}
<div class="card" data-partition="{{ item.entry.day }}|{{ item.entry.theme }}">
<a href="/videos/{{ item.entry.day }}/{{ item.entry.theme }}">
{% if item.thumbnail %}<img src="/media/{{ item.entry.day }}/{{ item.entry.theme }}.jpg" alt="thumbnail of {{ item.entry.theme }} {{ item.entry.day }}">{% endif %}
{% if item.plan %}<strong lang="{{ item.plan.language }}" dir="auto">{{ item.plan.title }}</strong>{% else %}<strong>{{ item.entry.theme }}</strong>{% endif %}</a>
<div class="muted">{{ item.entry.day }} · {{ item.entry.theme }}{% if item.plan %} · <span class="language">language {{ item.plan.language }}</span>{% endif %} · cost {{ item.cost }}</div>
{% if item.plan %}<div class="tags" lang="{{ item.plan.language }}" dir="auto">{% for tag in item.plan.hashtags %}#{{ tag }} {% endfor %}</div>{% endif %}
{% if item.latest %}<div class="muted">decision #{{ item.latest.id }} {{ item.latest.decision }} by <bdi>{{ item.latest.reviewer }}</bdi>: {% if item.set_aside %}<span class="badge set-aside">not applicable</span> {{ item.set_aside }}{% else %}not applied yet{% endif %}</div>{% endif %}
</div>
{% endfor %}
</div>
<h2>Decided</h2>
{% if not decided %}<p class="muted">Nothing decided yet.</p>{% else %}
<table><tr><th>Date</th><th>Theme</th><th>Status</th><th>Publication</th><th></th></tr>
{% for item in decided %}<tr data-partition="{{ item.entry.day }}|{{ item.entry.theme }}"><td>{{ item.entry.day }}</td><td>{{ item.entry.theme }}</td>
<td><span class="badge {{ item.entry.folder }}">{{ item.entry.folder }}</span></td>
<td class="publication">{{ publication(item.publication, item.entry.folder == "approved") }}</td>
<td><a href="/videos/{{ item.entry.day }}/{{ item.entry.theme }}">open</a></td></tr>{% endfor %}
</table>{% endif %}
{% endblock %}"""

_VIDEO = """{% extends "base.html" %}{% from "publication.html" import publication as shown_publication %}{% block title %}{{ entry.theme }} {{ entry.day }} · shortvid review{% endblock %}
{% block main %}
<p><a href="/">&larr; all videos</a></p>
<h1>{% if plan %}<span lang="{{ plan.language }}" dir="auto">{{ plan.title }}</span>{% else %}{{ entry.theme }}{% endif %} <span class="badge {{ entry.folder }}" id="status">{{ entry.status }}</span></h1>
{% if flash %}<p class="flash" role="status" id="flash">{{ flash }}</p>{% endif %}
{% if error %}<p class="error" role="alert" id="error">{{ error }}</p>{% endif %}
<div class="video">
<div>
<video id="player" controls preload="metadata" playsinline
 src="/media/{{ entry.day }}/{{ entry.theme }}.mp4"{% if thumbnail %} poster="/media/{{ entry.day }}/{{ entry.theme }}.jpg"{% endif %}></video>
<p class="muted">{{ entry.day }} · {{ entry.theme }}{% if plan %} · language <span id="language">{{ plan.language }}</span>{% endif %} · cost <span id="cost">{{ cost }}</span></p>
{% if publication or entry.folder == "approved" %}<p id="publication">Publication: {{ shown_publication(publication, entry.folder == "approved") }}</p>{% endif %}
</div>
<div>
<h2>Decision</h2>
<form method="post" action="/videos/{{ entry.day }}/{{ entry.theme }}/decision" id="decision-form">
<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
<input type="hidden" name="video_sha256" value="{{ sha256 }}">
<p>Reviewer: <strong>{{ reviewer }}</strong></p>
<label for="note">Note</label><textarea name="note" id="note" maxlength="2000" dir="auto"></textarea>
<p><button class="approve" type="submit" name="decision" value="approved" id="approve">Approve</button>
<button class="reject" type="submit" name="decision" value="rejected" id="reject">Reject</button></p>
</form>
{% if plan %}
{% set lang = plan.language %}
<h2>Script</h2>
<p><strong>Hook</strong> ({{ plan.hook_type }}): <span lang="{{ lang }}" dir="auto" id="hook">{{ plan.hook_text }}</span></p>
<p><strong>Voiceover</strong>: <span lang="{{ lang }}" dir="auto" id="voiceover">{{ plan.voiceover_script }}</span></p>
<p><strong>Call to action</strong>: <span lang="{{ lang }}" dir="auto" id="cta">{{ plan.cta_text }}</span></p>
<p class="tags" id="hashtags" lang="{{ lang }}" dir="auto">{% for tag in plan.hashtags %}#{{ tag }} {% endfor %}</p>
<p class="muted" lang="{{ lang }}" dir="auto">{{ plan.description }}</p>
<table><tr><th>#</th><th>s</th><th>Scene</th><th>Transition</th></tr>
{% for scene in plan.scenes %}<tr><td>{{ scene.number }}</td><td>{{ "%.1f"|format(scene.duration_s) }}</td><td dir="auto">{{ scene.visual_prompt }}</td><td>{{ scene.transition }}</td></tr>{% endfor %}
</table>
{% if plan.text_overlays %}<h3>Text overlays</h3><ul>{% for o in plan.text_overlays %}
<li>{{ "%.1f"|format(o.start_s) }}–{{ "%.1f"|format(o.end_s) }} s, {{ o.position }}: <span lang="{{ lang }}" dir="auto">{{ o.text }}</span></li>{% endfor %}</ul>{% endif %}
{% else %}<p class="muted">No script found for this video.</p>{% endif %}
</div></div>
<h2>History</h2>
{% if not history %}<p class="muted" id="no-history">No decision yet.</p>{% else %}
<table id="history"><tr><th>#</th><th>Decision</th><th>Reviewer</th><th>Note</th><th>Decided at (UTC)</th><th>Render</th></tr>
{% for d in history %}<tr id="decision-{{ d.id }}"><td>{{ d.id }}</td><td><span class="badge {{ d.decision }}">{{ d.decision }}</span>
{% if d.id in set_aside %}<span class="badge set-aside">not applicable</span> <span class="muted">{{ set_aside[d.id] }}</span>{% endif %}</td>
<td dir="auto">{{ d.reviewer }}</td><td dir="auto" style="white-space:pre-wrap">{{ d.note or "" }}</td><td>{{ d.decided_at.strftime("%Y-%m-%d %H:%M:%S") }}</td>
<td>{% if d.video_sha256 is none %}any{% elif d.video_sha256 == sha256 %}this render{% else %}an earlier render{% endif %}</td></tr>{% endfor %}
</table>{% endif %}
{% endblock %}"""

_MESSAGE = """{% extends "base.html" %}{% block main %}<h1>{{ heading }}</h1><p class="error">{{ message }}</p>
<p><a href="/">Back to the list</a></p>{% endblock %}"""

environment = jinja2.Environment(
    loader=jinja2.DictLoader(
        {
            "base.html": _BASE,
            "login.html": _LOGIN,
            "index.html": _INDEX,
            "video.html": _VIDEO,
            "message.html": _MESSAGE,
            "publication.html": _PUBLICATION,
        }
    ),
    autoescape=True,
)


def render(name: str, **context: object) -> str:
    """Render one page; every value is HTML-escaped."""
    context.setdefault("reviewer", None)
    context.setdefault("csrf_token", "")
    return environment.get_template(name).render(**context)
