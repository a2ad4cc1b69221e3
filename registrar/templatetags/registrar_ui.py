"""Presentation helpers shared by every template: badges, labels, form widgets, and the
workflow diagram (an inline SVG drawn from ``Chain.describe()``)."""

from __future__ import annotations

import datetime as dt

from django import forms, template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from registrar.approvals.chains import COMPLETED, DRAFT, RETURNED, WITHDRAWN
from registrar.roles import Role

register = template.Library()


# --- badges and labels ------------------------------------------------------------------
STATE_CLASSES = {
    DRAFT: "text-bg-secondary",
    RETURNED: "text-bg-warning",
    WITHDRAWN: "text-bg-light border",
    COMPLETED: "text-bg-success",
}
DECISION_CLASSES = {
    "submit": "text-bg-info",
    "approve": "text-bg-success",
    "reject": "text-bg-danger",
    "return": "text-bg-warning",
    "withdraw": "text-bg-secondary",
    "note": "text-bg-light border",
    "confirm": "text-bg-success",
    "accept": "text-bg-success",
    "composition": "text-bg-light border",
    "reopen": "text-bg-light border",
}
DECISION_ICONS = {
    "submit": "bi-send",
    "approve": "bi-check-lg",
    "reject": "bi-arrow-return-left",
    "return": "bi-arrow-left",
    "withdraw": "bi-x-lg",
    "note": "bi-journal-text",
    # grade sheets and station submissions (same timeline, their own decisions)
    "confirm": "bi-patch-check",
    "accept": "bi-check2-all",
    "composition": "bi-sliders",
    "reopen": "bi-unlock",
}


@register.filter
def file_name(fieldfile) -> str:
    """A stored file's own name (no folders, no random directory): ``{{ job.file|file_name }}``."""
    from registrar.files import display_name

    return display_name(fieldfile)


@register.filter
def state_class(req) -> str:
    return STATE_CLASSES.get(req.state, "text-bg-primary")


@register.simple_tag
def state_badge(req):
    """The request's state as a badge; an overdue stage is flagged in red."""
    badge = format_html('<span class="badge {}">{}</span>', state_class(req), req.get_state_label())
    if getattr(req, "is_overdue", False):
        badge += format_html(
            ' <span class="badge text-bg-danger"><i class="bi bi-alarm" aria-hidden="true"></i> {}</span>', _("Overdue")
        )
    return badge


@register.simple_tag
def decision_badge(signoff):
    return format_html(
        '<span class="badge {}"><i class="bi {}" aria-hidden="true"></i> {}</span>',
        DECISION_CLASSES.get(signoff.decision, "text-bg-light"),
        DECISION_ICONS.get(signoff.decision, "bi-dot"),
        signoff.get_decision_display(),
    )


@register.filter
def role_label(code: str):
    try:
        return Role(code).label
    except ValueError:
        return code


ACTION_BUTTONS = {
    "approve": ("btn-success", "bi-check-lg"),
    "reject": ("btn-outline-danger", "bi-arrow-return-left"),
    "send_back": ("btn-outline-warning", "bi-arrow-left"),
    "submit": ("btn-primary", "bi-send"),
    "withdraw": ("btn-outline-secondary", "bi-x-lg"),
}


@register.filter
def action_button_class(name: str) -> str:
    return ACTION_BUTTONS.get(name, ("btn-outline-primary", ""))[0]


@register.filter
def action_icon(name: str) -> str:
    return ACTION_BUTTONS.get(name, ("", "bi-lightning"))[1]


# --- forms ------------------------------------------------------------------------------
@register.filter
def bs(bound_field):
    """Render a bound field's widget with Bootstrap classes (and is-invalid on error)."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    if bound_field.form.is_bound and bound_field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return bound_field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def is_checkbox(bound_field) -> bool:
    return isinstance(bound_field.field.widget, forms.CheckboxInput)


# --- workflow diagram -----------------------------------------------------------------
BOX_W, GAP, MARGIN, PAD = 176, 48, 16, 10
LINE = 16


def _text_width(text: str, size: float) -> float:
    return sum(size if ord(ch) > 0x2E80 else size * 0.56 for ch in text)


def _wrap(text: str, size: float, width: float, max_lines: int = 3) -> list[str]:
    """Greedy wrap: by words for Latin text, by characters for CJK."""
    text = str(text)
    tokens: list[str] = []
    for word in text.split(" "):
        if any(ord(ch) > 0x2E80 for ch in word):
            tokens.extend(list(word))
        else:
            tokens.append(word)
    lines: list[str] = []
    current = ""
    for tok in tokens:
        sep = " " if current and not (ord(tok[0]) > 0x2E80 or ord(current[-1]) > 0x2E80) else ""
        candidate = f"{current}{sep}{tok}"
        if current and _text_width(candidate, size) > width:
            lines.append(current)
            current = tok
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def _text(x, y, lines, *, size=13, weight="normal", fill="#212529", anchor="middle"):
    tspans = format_html_join(
        "",
        '<tspan x="{}" dy="{}">{}</tspan>',
        ((x, 0 if i == 0 else round(size * 1.25, 1), line) for i, line in enumerate(lines)),
    )
    return format_html(
        '<text x="{}" y="{}" font-size="{}" font-weight="{}" fill="{}" text-anchor="{}">{}</text>',
        x,
        y,
        size,
        weight,
        fill,
        anchor,
        tspans,
    )


@register.simple_tag
def workflow_svg(desc: dict):
    """Draw a chain: draft → stages (with signer roles) → completed; dashed reject → returned,
    send-back arcs, and dotted branch arcs above (a stage's branches, and a default that skips
    ahead), each labelled with its condition. ``desc`` is ``Chain.describe()``."""
    code = desc["code"]
    stages = desc["stages"]
    position = {s["code"]: i for i, s in enumerate(stages, start=1)}
    position[COMPLETED] = len(stages) + 1
    branch_edges = []  # (from index, to index, label)
    for i, s in enumerate(stages, start=1):
        for b in s.get("branches", ()):
            branch_edges.append((i, position[b["to"]], b["label"]))
        after = position.get(s.get("next"), i + 1)
        if after != i + 1:  # a default that skips ahead
            branch_edges.append((i, after, _("otherwise") if s.get("branches") else _("approve")))
    names = {t["name"] for t in desc.get("transitions", [])}
    has_send_back = "send_back" in names or len(stages) > 1
    inner = BOX_W - 2 * PAD

    # Measure every stage box: title, rule, signer lines, deadline.
    boxes = []
    for s in stages:
        title = _wrap(s["label"], 13, inner, 2)
        signer_lines = []
        for signer in s["signers"]:
            wrapped = _wrap(signer["label"], 11.5, inner - 10, 2)
            signer_lines.extend(["· " + wrapped[0], *["  " + line for line in wrapped[1:]]])
        extra = []
        if s["all_must_sign"]:
            extra.append(_("all must sign"))
        if s.get("deadline"):
            extra.append(s["deadline"]["text"])
        if s.get("window"):
            extra.append(s["window"]["text"])
        if s["requires_data"]:
            extra.append(_("records data"))
        boxes.append({"stage": s, "title": title, "signers": signer_lines, "extra": " · ".join(extra)})
    box_h = max(
        [PAD + len(b["title"]) * LINE + 10 + len(b["signers"]) * 14 + (14 if b["extra"] else 0) + PAD for b in boxes]
        or [60]
    )
    branch_room = 52 if branch_edges else 0
    top = (58 if has_send_back else 16) + branch_room
    mid = top + box_h / 2
    term_h = 42
    n = len(stages) + 2
    width = 2 * MARGIN + n * BOX_W + (n - 1) * GAP
    bus_y = top + box_h + 34
    returned_y = bus_y - term_h / 2
    height = returned_y + term_h + 16

    def x_of(i):
        return MARGIN + i * (BOX_W + GAP)

    parts = []
    # markers
    parts.append(
        format_html(
            "<defs>"
            '<marker id="a-{0}-main" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#495057"/></marker>'
            '<marker id="a-{0}-rej" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#dc3545"/></marker>'
            '<marker id="a-{0}-back" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#d9822b"/></marker>'
            '<marker id="a-{0}-branch" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6f42c1"/></marker>'
            "</defs>",
            code,
        )
    )

    def terminal(i, label, fill, stroke, y=None):
        x = x_of(i)
        y = mid - term_h / 2 if y is None else y
        return format_html(
            '<g class="wf-terminal"><rect x="{}" y="{}" width="{}" height="{}" rx="21" fill="{}" stroke="{}" '
            'stroke-width="1.5"/>{}</g>',
            x,
            y,
            BOX_W,
            term_h,
            fill,
            stroke,
            _text(x + BOX_W / 2, y + term_h / 2 + 4.5, _wrap(label, 13, inner, 1), weight="600"),
        )

    labels = {s["code"]: s["label"] for s in desc.get("states", [])}
    parts.append(terminal(0, labels.get(DRAFT, _("Draft")), "#f1f3f5", "#6c757d"))
    parts.append(terminal(n - 1, labels.get(COMPLETED, _("Completed")), "#e8f5ec", "#198754"))

    for i, b in enumerate(boxes, start=1):
        x = x_of(i)
        y = top
        body = [
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" rx="8" fill="#eef4ff" stroke="#3d6fd6" stroke-width="1.5"/>',
                x,
                y,
                BOX_W,
                box_h,
            )
        ]
        ty = y + PAD + 12
        body.append(_text(x + BOX_W / 2, ty, b["title"], weight="600", fill="#1b3d82"))
        rule_y = y + PAD + len(b["title"]) * LINE + 2
        body.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#b7c9ef"/>', x + PAD, rule_y, x + BOX_W - PAD, rule_y
            )
        )
        if b["signers"]:
            body.append(_text(x + PAD, rule_y + 15, b["signers"], size=11.5, anchor="start", fill="#343a40"))
        if b["extra"]:
            body.append(_text(x + PAD, y + box_h - PAD, [b["extra"]], size=10, anchor="start", fill="#6c757d"))
        parts.append(
            format_html(
                '<g class="wf-stage" data-stage="{}"><title>{}</title>{}</g>',
                b["stage"]["code"],
                b["stage"]["label"],
                mark_safe("".join(body)),
            )
        )

    # main flow arrows
    for i in range(n - 1):
        x1 = x_of(i) + BOX_W
        x2 = x_of(i + 1) - 2
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#495057" stroke-width="1.6" marker-end="url(#a-{}-main)"/>',
                x1,
                mid,
                x2,
                mid,
                code,
            )
        )
        parts.append(_text((x1 + x2) / 2, mid - 7, [_("submit") if i == 0 else _("approve")], size=10, fill="#495057"))

    # send back: arcs above from each stage to the one before
    if has_send_back:
        for i in range(2, len(stages) + 1):
            x_from = x_of(i) + BOX_W / 2 - 24
            x_to = x_of(i - 1) + BOX_W / 2 + 24
            parts.append(
                format_html(
                    '<path d="M{},{} C{},{} {},{} {},{}" fill="none" stroke="#d9822b" stroke-width="1.4" '
                    'stroke-dasharray="5 4" marker-end="url(#a-{}-back)"/>',
                    x_from,
                    top,
                    x_from,
                    top - 44,
                    x_to,
                    top - 44,
                    x_to,
                    top - 1,
                    code,
                )
            )
            parts.append(_text((x_from + x_to) / 2, top - 38, [_("send back")], size=10, fill="#b4661a"))

    # branches: dotted arcs over the send-back arcs, from a stage to where its condition leads
    for k, (i, j, label) in enumerate(branch_edges):
        x_from = x_of(i) + BOX_W / 2 + 30
        x_to = x_of(j) + (BOX_W / 2 - 30 if j <= len(stages) else BOX_W / 2)
        y_to = top - 1 if j <= len(stages) else mid - term_h / 2 - 1
        lift = top - 58 - branch_room + 6 + (k % 2) * 12
        parts.append(
            format_html(
                '<path class="wf-branch" d="M{},{} C{},{} {},{} {},{}" fill="none" stroke="#6f42c1" '
                'stroke-width="1.4" stroke-dasharray="2 3" marker-end="url(#a-{}-branch)"/>',
                x_from,
                top,
                x_from,
                lift,
                x_to,
                lift,
                x_to,
                y_to,
                code,
            )
        )
        parts.append(
            _text(
                (x_from + x_to) / 2,
                lift + 14,
                _wrap(str(label), 10, abs(x_to - x_from) or BOX_W, 1),
                size=10,
                fill="#59359a",
            )
        )

    # reject: dashed drops from every stage to a bus ending at "returned"
    if stages:
        for i in range(1, len(stages) + 1):
            cx = x_of(i) + BOX_W / 2
            parts.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dc3545" stroke-width="1.4" stroke-dasharray="5 4"/>',
                    cx,
                    top + box_h,
                    cx,
                    bus_y,
                )
            )
        last = x_of(len(stages)) + BOX_W / 2
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dc3545" stroke-width="1.4" stroke-dasharray="5 4" '
                'marker-end="url(#a-{}-rej)"/>',
                last,
                bus_y,
                x_of(0) + BOX_W + 2,
                bus_y,
                code,
            )
        )
        parts.append(_text(x_of(1) + BOX_W / 2 + 8, bus_y - 6, [_("reject")], size=10, fill="#b02a37", anchor="start"))
        parts.append(terminal(0, labels.get(RETURNED, _("Returned to applicant")), "#fff4e5", "#d9822b", y=returned_y))
        # amend and resubmit: returned → draft-like applicant step
        ax = x_of(0) + BOX_W / 2
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#495057" stroke-width="1.4" '
                'marker-end="url(#a-{}-main)"/>',
                ax,
                returned_y,
                ax,
                mid + term_h / 2 + 2,
                code,
            )
        )
        parts.append(
            _text(
                ax + 6,
                (returned_y + mid + term_h / 2) / 2 + 4,
                [_("amend, resubmit")],
                size=10,
                fill="#495057",
                anchor="start",
            )
        )

    title = _("Flow of %(name)s") % {"name": desc["name"]}
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="workflow-svg" viewBox="0 0 {w} {h}" width="100%" '
        'data-max-width="{w}" data-min-width="{min_w}" role="img" aria-labelledby="wf-title-{code}" '
        "font-family=\"system-ui, -apple-system, 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif\">"
        '<title id="wf-title-{code}">{title}</title>{body}</svg>',
        w=round(width),
        h=round(height),
        min_w=round(width * 0.7),
        code=code,
        title=title,
        body=mark_safe("".join(parts)),
    )


@register.filter
def page_range(page_obj):
    """Page numbers around the current one, with ellipses (Paginator.get_elided_page_range)."""
    return page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1)


@register.filter
def chain_state_label(signoff, code: str):
    """The label of state ``code`` in the chain of ``signoff``."""
    from registrar.approvals.chains import _REGISTRY

    chain = _REGISTRY.get(signoff.chain)
    return chain.state_label(code) if chain else code


@register.filter
def signoff_data(signoff) -> list[tuple[str, object]]:
    """The data a signer recorded (fee, receipt, card number …) with the model's field labels."""
    from registrar.approvals.chains import _REGISTRY

    if not getattr(signoff, "data", None) or getattr(signoff, "decision", "") == "reassign":
        return []  # a reassignment's data is said in words by the timeline
    chain = _REGISTRY.get(signoff.chain)
    model = chain.model if chain else None
    rows = []
    for key, value in signoff.data.items():
        label = key
        if model is not None:
            try:
                label = model._meta.get_field(key).verbose_name
            except Exception:  # noqa: BLE001 - data key that is not a model field
                label = key.replace("_", " ")
        rows.append((label, value))
    return rows


@register.filter
def unique_names(transitions) -> list[str]:
    """Transition names without repeats (describe() lists one entry per source state)."""
    return list(dict.fromkeys(t["name"] for t in transitions))


@register.filter
def transition_labels(transitions) -> list[str]:
    """What each transition is called in the UI ("Approve", "Send back to previous stage" …), once each."""
    return list(dict.fromkeys(str(t.get("label") or t["name"]) for t in transitions))


@register.filter
def stage_in(code: str, desc: dict):
    """The label of state ``code`` in the described chain ``desc`` (``Chain.describe()``)."""
    return next((s["label"] for s in desc.get("states", []) if s["code"] == code), code)


@register.filter
def doc_type_label(code: str):
    """A document type's name (``suspension_slip`` → 休学异动单); the code if it is not registered."""
    from registrar.documents.types import get_doc_type
    from registrar.exceptions import ApplicationError

    try:
        return get_doc_type(code).label
    except ApplicationError:
        return code


def _history_field(history):
    try:
        return history._meta.get_field("student").related_model._meta.get_field(history.field)
    except Exception:  # noqa: BLE001 - a history row about something that is not a Student field
        return None


@register.filter
def history_field_label(history):
    """The label of the Student field a StatusHistory row is about (``status`` → 状态)."""
    field = _history_field(history)
    return field.verbose_name if field is not None else history.field


@register.filter
def history_value(history, value):
    """A recorded old/new value shown with its choice label when the field has choices."""
    field = _history_field(history)
    if field is not None and field.choices and value:
        return dict(field.flatchoices).get(value, value)
    return value


@register.filter
def history_request_url(history) -> str:
    """The page of the request that made a StatusHistory change, when it names a known chain."""
    from django.urls import reverse

    from registrar.approvals.chains import _REGISTRY

    if history.request_type in _REGISTRY and history.request_id:
        return reverse("approvals:detail", args=[history.request_type, history.request_id])
    return ""


@register.filter
def request_type_label(code: str) -> str:
    """A stored chain code as people read it: its seed code (``suspension`` → U1), else as stored."""
    from registrar.approvals.chains import _REGISTRY

    chain = _REGISTRY.get(code)
    return (chain.seed_code or chain.code) if chain else code


# --- the inbox's rows -------------------------------------------------------------------
# One work item: a table row on wide screens, a card on phones (static/registrar/css/inbox.css). The
# only place this markup lives. Written as format strings filled per row (every value escaped) rather
# than a template included per row: the page shows 25 of them and the template engine's per-variable
# work was most of the inbox's time (bench/README.md, inbox_scale.py).
INBOX_ROW = (
    '<tr class="inbox-card{overdue_row}" data-request="{key}">'
    '<td class="inbox-card-check-cell">{check}</td>'
    '<td class="inbox-card-what"><a href="{url}" class="fw-semibold">{name}</a>'
    ' <span class="text-body-secondary">#{pk}</span>{title}</td>'
    '<td class="inbox-card-who">{who}</td>'
    '<td class="small inbox-card-wide">{where}</td>'
    '<td class="inbox-card-stage">{badge}</td>'
    '<td class="small inbox-card-wide">{since}<div class="text-body-secondary">{waiting}</div></td>'
    '<td class="small inbox-card-due{overdue_due}"><span class="inbox-card-label">{due_label}: </span>{due}</td>'
    '<td class="text-end inbox-card-actions">{approve}'
    ' <a class="btn btn-sm btn-primary" href="{url}">{handle}</a></td></tr>\n'
)
INBOX_TITLE = '<div class="small text-body-secondary">{}</div>'
INBOX_WHO = '<span class="fw-semibold">{}</span><div class="small text-body-secondary">{}</div>'
INBOX_WHERE = '{}<div class="text-body-secondary">{}</div>'
INBOX_CHECK = (
    '<input class="form-check-input inbox-card-check" type="checkbox" name="ids" value="{pk}" form="batch-{number}"'
    ' aria-label="{select} {name} #{pk}">'
)
INBOX_APPROVE = (
    '<form method="post" action="{batch_url}" data-once>{csrf}<input type="hidden" name="chain" value="{kind}">'
    '<input type="hidden" name="stage" value="{stage}"><input type="hidden" name="ids" value="{pk}">'
    '<input type="hidden" name="next" value="{here}">'
    '<button type="submit" class="btn btn-sm btn-success inbox-approve">{approve}</button></form>'
)


def _local(value, fmt: str) -> str:
    """``value|date:fmt`` for the formats the inbox uses (digits only): in the current time zone."""
    from django.utils import timezone

    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime(fmt)


@register.simple_tag(takes_context=True)
def inbox_rows(context, groups):
    """Every row of the inbox page, group by group (``selectors.inbox_page_rows``,
    ``views._inbox_groups``): student, request, stage, dates, a checkbox for batch approval and
    one approve button where the item allows it."""
    from django.utils.html import escape
    from django.utils.timesince import timesince

    token = context.get("csrf_token")
    csrf = (
        format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
        if token and token != "NOTPROVIDED"
        else ""
    )
    batch_url, here = escape(context.get("batch_url", "")), escape(context.get("here", ""))
    select, due_label, approve, handle = (
        escape(_("Select")),
        escape(_("Due")),
        escape(_("Approve")),
        escape(_("Handle")),
    )
    out = []
    for number, group in enumerate(groups, start=1):
        for r in group["rows"]:
            name, pk, s = escape(r.name), int(r.pk), r.student
            if s is not None:
                who = INBOX_WHO.format(escape(s.name), escape(s.student_number))
                where = INBOX_WHERE.format(escape(s.college.name), escape(s.klass.name))
            else:
                who, where = "—", escape(r.detail)
            quick = r.quick
            out.append(
                INBOX_ROW.format(
                    overdue_row=" row-overdue table-danger" if r.is_overdue else "",
                    key=escape(r.key),
                    check=INBOX_CHECK.format(pk=pk, number=number, select=select, name=name)
                    if quick and group["batchable"]
                    else "",
                    url=escape(r.url),
                    name=name,
                    pk=pk,
                    title=INBOX_TITLE.format(escape(r.title)) if r.title else "",
                    who=who,
                    where=where,
                    badge=state_badge(r),
                    since=_local(r.stage_entered_at, "%Y-%m-%d %H:%M") if r.stage_entered_at else "",
                    waiting=escape(timesince(r.stage_entered_at)) if r.stage_entered_at else "",
                    overdue_due=" text-overdue" if r.is_overdue else "",
                    due_label=due_label,
                    due=_local(r.stage_due_at, "%Y-%m-%d") if r.stage_due_at else "—",
                    approve=INBOX_APPROVE.format(
                        batch_url=batch_url,
                        csrf=csrf,
                        kind=escape(r.kind),
                        stage=escape(r.state),
                        pk=pk,
                        here=here,
                        approve=approve,
                    )
                    if quick and r.is_request
                    else "",
                    handle=handle,
                )
            )
    return mark_safe("".join(out))  # every value above is escaped or a SafeString
