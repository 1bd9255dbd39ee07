"""The complaints pages: a family's own list and filing form (phone first, Arabic first); the
staff queue, overdue list, complaint page with its actions, printable reply letters; figures
(chart, CSV for the central administration); the holiday calendar the centre keeps."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.audit import services as audit
from core.csv_safety import write_rows
from core.db import session as db_session
from core.errors import DomainError, NotFound
from core.establishments.models import Establishment
from core.forms import claim, complete
from core.identity.services import has_permission
from core.portal.access import apply_errors, permission_required
from core.query_args import page_number, query_int
from core.validation import ascii_digits

from . import forms, services
from .models import Complaint, EntryKind, Status
from .permissions import APPEALS, CALENDAR, EXPORT, FIGURES, FILE

bp = Blueprint(
    "complaints",
    __name__,
    url_prefix="/complaints",
    template_folder=str(Path(__file__).parent / "templates"),
    static_folder=str(Path(__file__).parent / "static"),
)
PER_PAGE = 20
LETTER_LANGUAGES = ("ar", "fr")


# the label helpers are template globals: the same functions on every page (a context
# processor would hand them over again at each render)
for _name, _helper in {
    "complaints_status_label": services.status_label,
    "complaints_category_label": services.category_label,
    "complaints_outcome_label": services.outcome_label,
    "complaints_channel_label": services.channel_label,
    "complaints_entry_label": services.entry_label,
    "complaints_reason_label": services.reason_label,
    "complaints_level_label": services.appeal_level_label,
    "complaints_office_label": services.office_label,
    "complaints_overdue": services.is_overdue,
}.items():
    bp.add_app_template_global(_helper, _name)


def _signed_in() -> Response | None:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    return None


def _category_choices() -> list[tuple[str, str]]:
    return [(c.code, str(c.label)) for c in services.all_categories()]


# ---------------------------------------------------------------------------------------------
# A family's pages
# ---------------------------------------------------------------------------------------------


@bp.get("/mine")
def mine() -> Any:
    if (r := _signed_in()) is not None:
        return r
    if current_user.is_staff:
        return redirect(url_for("complaints.queue"))
    page = page_number(request.args.get("page"))
    rows, total = services.my_complaints(current_user, page, PER_PAGE)
    return render_template(
        "complaints/mine.html",
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        can_file=has_permission(current_user, FILE),
    )


def _uploads() -> list[services.Upload]:
    out = []
    for f in request.files.getlist("attachments"):
        if f is None or (not f.filename and not f.content_length):
            continue
        data = f.read(services.setting("COMPLAINTS_MAX_ATTACHMENT_BYTES") + 1)
        out.append(services.Upload(f.filename or "", data))
    return out


@bp.route("/new", methods=["GET", "POST"])
@permission_required(FILE)
def new() -> Any:
    staff = bool(current_user.is_staff)
    form: Any = forms.StaffComplaintForm() if staff else forms.FamilyComplaintForm()
    form.category.choices = [("", _("Choose…")), *_category_choices()]
    detainees = [] if staff else services.author_detainees(current_user)
    if not staff:
        form.detainee.choices = [
            (d.registration_number, f"{d.display_name(_lang())} · {d.registration_number}")
            for d in detainees
        ]
        if len(detainees) == 1 and not form.detainee.data:
            form.detainee.data = detainees[0].registration_number
    status = 200
    if request.method == "GET" and staff:
        form.detainee.data = ascii_digits(request.args.get("detainee") or "")[:20]
    if request.method == "POST":
        if form.validate_on_submit():
            replay = claim(form, current_user)
            if replay is not None:
                return replay
            try:
                complaint = services.file_complaint(
                    current_user,
                    category=form.category.data,
                    subject=form.subject.data,
                    body=form.body.data,
                    detainee=ascii_digits(form.detainee.data or ""),
                    confidential=bool(form.confidential.data),
                    channel=getattr(form, "channel", None) and form.channel.data,
                    uploads=_uploads(),
                )
            except DomainError as exc:
                db_session().rollback()
                apply_errors(form, exc)
                status = exc.status
            else:
                target = url_for("complaints.show", reference=complaint.reference, filed=1)
                complete(form, target)
                db_session().commit()
                return redirect(target)
        else:
            status = 422
    return (
        render_template("complaints/new.html", form=form, staff=staff, detainees=detainees),
        status,
    )


def _lang() -> str:
    from core.i18n import current_language

    return current_language()


# ---------------------------------------------------------------------------------------------
# One complaint: the page, its actions, the letter, attachments
# ---------------------------------------------------------------------------------------------


def _load(reference: str, *, audit_read: bool = False) -> Complaint:
    try:
        return services.get_complaint(reference, current_user, audit_read=audit_read)
    except NotFound:
        abort(404)


def _action_forms(c: Complaint) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if services.can_handle(current_user, c):
        s = c.status
        if s is Status.received:
            out["acknowledge"] = forms.ConfirmForm(prefix="ack")
        if s in (Status.received, Status.acknowledged):
            out["review"] = forms.ConfirmForm(prefix="rev")
        if s is Status.appealed:
            out["take_appeal"] = forms.ConfirmForm(prefix="lvl")
        if services.is_regional_reviewer(current_user, c):
            out["refer_up"] = forms.ReferUpForm(prefix="refer")
        if s in services.OPEN_STATUSES:
            out["answer"] = forms.AnswerForm(prefix="ans")
        if s in (Status.received, Status.acknowledged, Status.in_review):
            out["inadmissible"] = forms.InadmissibleForm(prefix="inad")
        if s is Status.answered:
            out["close"] = forms.CloseForm(prefix="close")
        if s not in services.FINAL_STATUSES:
            reroute = forms.RerouteForm(prefix="route")
            reroute.category.choices = _category_choices()
            out["reroute"] = reroute
            assign = forms.AssignForm(prefix="asg")
            assign.user.choices = [(str(u.id), u.full_name) for u in services.assignable_staff(c)]
            out["assign"] = assign
            named = forms.NameStaffForm(prefix="named")
            named.users.choices = [
                (str(u.id), u.full_name) for u in services.find_staff(c.establishment_id)
            ]
            out["name_staff"] = named
        out["note"] = forms.NoteForm(prefix="note")
    author = services.is_author(current_user, c)
    speaks_for = c.author_id is None and services.can_handle(current_user, c)
    if (author or speaks_for) and services.can_appeal(c):
        out["appeal"] = forms.AppealForm(prefix="appeal")
    if (author or speaks_for) and Status.withdrawn in services.TRANSITIONS[c.status]:
        out["withdraw"] = forms.WithdrawForm(prefix="wd")
    return out


def _page(c: Complaint, action_forms: dict[str, Any] | None = None, status: int = 200) -> Any:
    action_forms = action_forms or _action_forms(c)
    staff_view = services.can_handle(current_user, c) or (
        current_user.is_staff and not services.is_author(current_user, c)
    )
    return (
        render_template(
            "complaints/show.html",
            c=c,
            entries=services.visible_entries(c, current_user),
            staff_view=staff_view,
            actions=action_forms,
            appeal_until=services.appeal_deadline(c) if services.can_appeal(c) else None,
            filed=request.args.get("filed") == "1",
        ),
        status,
    )


@bp.get("/<reference>")
def show(reference: str) -> Any:
    if (r := _signed_in()) is not None:
        return r
    c = _load(reference, audit_read=True)
    db_session().commit()  # the read is audited
    return _page(c)


ACTIONS: dict[str, tuple[str, Callable[[Complaint, Any], Any]]] = {
    "acknowledge": ("ack", lambda c, f: services.acknowledge(c, current_user)),
    "review": ("rev", lambda c, f: services.start_review(c, current_user)),
    "take_appeal": ("lvl", lambda c, f: services.take_appeal(c, current_user)),
    "refer_up": ("refer", lambda c, f: services.refer_up(c, current_user, f.comment.data)),
    "answer": ("ans", lambda c, f: services.answer(c, current_user, f.body.data, f.outcome.data)),
    "close": ("close", lambda c, f: services.close(c, current_user, f.outcome.data)),
    "inadmissible": (
        "inad",
        lambda c, f: services.declare_inadmissible(c, current_user, f.reason.data, f.comment.data),
    ),
    "withdraw": ("wd", lambda c, f: services.withdraw(c, current_user, f.comment.data)),
    "appeal": ("appeal", lambda c, f: services.appeal(c, current_user, f.reason.data)),
    "note": ("note", lambda c, f: services.add_note(c, current_user, f.body.data)),
    "reroute": (
        "route",
        lambda c, f: services.reroute(c, current_user, f.category.data, f.comment.data),
    ),
    "assign": ("asg", lambda c, f: services.assign(c, current_user, f.user.data)),
    "name_staff": ("named", lambda c, f: services.name_staff(c, current_user, f.users.data)),
}
DONE = {
    "note": lambda: _("Note added."),
    "appeal": lambda: _("Your appeal was sent."),
    "withdraw": lambda: _("The complaint was withdrawn."),
    "refer_up": lambda: _("The appeal was referred to the central level."),
}


@bp.post("/<reference>/<action>")
def act(reference: str, action: str) -> Any:
    if (r := _signed_in()) is not None:
        return r
    if action not in ACTIONS:
        abort(404)
    c = _load(reference)
    action_forms = _action_forms(c)
    form = action_forms.get(action)
    if form is None:
        # not offered to this reader in this state: say why without changing anything
        if not services.can_read(current_user, c):
            abort(404)
        flash(_("This action is not possible on this complaint now."), "error")
        return _page(c, action_forms, 409)
    if not form.validate_on_submit():
        return _page(c, action_forms, 422)
    _prefix, run = ACTIONS[action]
    try:
        run(c, form)
    except DomainError as exc:
        db_session().rollback()
        c = _load(reference)
        action_forms = _action_forms(c)
        form = action_forms.get(action)
        if form is not None:
            form.process(request.form)
            apply_errors(form, exc)
        flash(str(exc.message), "error")
        return _page(c, action_forms, exc.status)
    db_session().commit()
    flash(DONE.get(action, lambda: _("Saved."))(), "success")
    return redirect(url_for("complaints.show", reference=c.reference))


@bp.get("/<reference>/letter/<lang>")
def letter(reference: str, lang: str) -> Any:
    """A printable reply letter, in Arabic or French, from the answers."""
    if (r := _signed_in()) is not None:
        return r
    if lang not in LETTER_LANGUAGES:
        abort(404)
    c = _load(reference)
    if not (services.can_handle(current_user, c) or services.is_author(current_user, c)):
        abort(404)
    answers = [e for e in c.entries if e.kind is EntryKind.answer]
    if not answers and c.status is not Status.inadmissible:
        abort(404)
    audit.record(
        "complaints.letter",
        "complaints_complaint",
        c.reference,
        establishment_id=c.establishment_id,
        summary={"lang": lang},
    )
    db_session().commit()
    with force_locale(lang):
        html = render_template(
            "complaints/letter.html",
            c=c,
            answers=answers,
            lang=lang,
            today=services.local_today(),
            appeal_days=services.setting("COMPLAINTS_APPEAL_DAYS"),
        )
    return html


@bp.get("/<reference>/files/<int:file_id>")
def attachment(reference: str, file_id: int) -> Any:
    if (r := _signed_in()) is not None:
        return r
    c = _load(reference)
    try:
        found = services.open_attachment(c, current_user, file_id)
    except NotFound:
        abort(404)
    db_session().commit()
    resp = Response(found.data, mimetype=found.content_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


# ---------------------------------------------------------------------------------------------
# Staff: the queue, the overdue list, figures
# ---------------------------------------------------------------------------------------------


def _staff_only() -> None:
    if not services.sees_complaints(current_user):
        abort(403)


def _establishments() -> list[Establishment]:
    return list(db_session().scalars(select(Establishment).order_by(Establishment.code)))


@bp.get("/")
def queue(overdue: bool = False, central: bool = False) -> Any:
    if (r := _signed_in()) is not None:
        return r
    if not current_user.is_staff:
        return redirect(url_for("complaints.mine"))
    _staff_only()
    page = page_number(request.args.get("page"))
    ests = _establishments()
    code = (request.args.get("establishment") or "")[:20]
    est = next((e for e in ests if e.code == code), None)
    status = request.args.get("status", "open")[:20]
    category = (request.args.get("category") or "")[:60]
    filters = services.QueueFilters(
        status=status if status in {"open", ""} | {s.value for s in Status} else "open",
        category=category if category in dict(_category_choices()) else "",
        establishment_id=est.id if est else None,
        overdue=overdue or request.args.get("overdue") == "1",
        central=central,
        mine=request.args.get("mine") == "1",
        q=(request.args.get("q") or "").replace("\x00", "")[:100],
    )
    rows, total = services.queue(current_user, filters, page, PER_PAGE)
    return render_template(
        "complaints/queue.html",
        rows=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        filters=filters,
        establishments=ests if len(ests) > 1 else [],
        categories=_category_choices(),
        statuses=[(s.value, services.status_label(s)) for s in Status],
        overdue_page=overdue or central,
        central_page=central,
        today=services.local_today(),
    )


@bp.get("/overdue")
def overdue() -> Any:
    return queue(overdue=True)


@bp.get("/overdue/central")
@permission_required(APPEALS)
def overdue_central() -> Any:
    """The central overdue list: complaints escalated to the central level, still open."""
    return queue(central=True)


@bp.get("/figures")
@permission_required(FIGURES)
def figures() -> Any:
    return render_template("complaints/figures.html", f=services.figures(current_user))


@bp.get("/figures.csv")
@permission_required(EXPORT)
def figures_csv() -> Any:
    f = services.figures(current_user)
    out = io.StringIO()
    writer = csv.writer(out)
    rows: list[list[Any]] = [[_("Section"), _("Item"), _("Count")]]
    rows += [[_("Category"), services.category_label(code), n] for code, n in f.by_category]
    rows += [[_("Establishment"), e.code, n] for e, n in f.by_establishment]
    rows += [[_("Status"), services.status_label(s), n] for s, n in f.by_status]
    rows += [[_("Outcome"), services.outcome_label(o), n] for o, n in f.by_outcome]
    rows += [[_("Month"), m.strftime("%Y-%m"), n] for m, n in f.months]
    rows += [
        [_("Total"), "", f.total],
        [_("Answered"), "", f.answered],
        [_("Answered on time"), "", f.answered_on_time],
        [
            _("Median answer time (days)"),
            "",
            "" if f.median_answer_days is None else f"{f.median_answer_days:.1f}",
        ],
    ]
    write_rows(writer, rows)
    audit.record("complaints.export", "complaints_figures", "", summary={"rows": len(rows) - 1})
    db_session().commit()
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="complaints-figures.csv"'},
    )


# ---------------------------------------------------------------------------------------------
# The calendar (central administration)
# ---------------------------------------------------------------------------------------------


def _calendar_page(year: int, status: int = 200, **forms_: Any) -> Any:
    holidays = services.year_holidays(year)
    proposed = year in services.proposed_years()
    package = [] if proposed else services.package_holidays(year)
    propose = forms_.get("propose") or forms.ProposeYearForm(prefix="p", data={"year": year})
    add = forms_.get("add") or forms.HolidayForm(prefix="h")
    moves = {h.id: forms.MoveHolidayForm(prefix=f"m{h.id}", data={"day": h.day}) for h in holidays}
    if "move" in forms_:
        moves[forms_["move"][0]] = forms_["move"][1]
    return (
        render_template(
            "complaints/calendar.html",
            year=year,
            holidays=holidays,
            proposed=proposed,
            package=package,
            propose=propose,
            add=add,
            moves=moves,
            remove=forms.ConfirmForm(prefix="rm"),
        ),
        status,
    )


def _year() -> int:
    """The calendar's year from the query string: 2000–2100, else a 400 (never a 500)."""
    try:
        return query_int(
            request.args.get("year"),
            default=services.local_today().year,
            minimum=CALENDAR_YEARS[0],
            maximum=CALENDAR_YEARS[1],
        )
    except ValueError:
        abort(400)


CALENDAR_YEARS = (2000, 2100)


@bp.get("/calendar")
@permission_required(CALENDAR)
def calendar() -> Any:
    return _calendar_page(_year())


@bp.post("/calendar/propose")
@permission_required(CALENDAR)
def calendar_propose() -> Any:
    form = forms.ProposeYearForm(prefix="p")
    if not form.validate_on_submit():
        return _calendar_page(_year(), 422, propose=form)
    added = services.propose_year(int(form.year.data), current_user)
    db_session().commit()
    flash(
        ngettext(
            "%(num)d holiday proposed from the national calendar.",
            "%(num)d holidays proposed from the national calendar.",
            added,
        ),
        "success",
    )
    return redirect(url_for("complaints.calendar", year=form.year.data))


@bp.post("/calendar/add")
@permission_required(CALENDAR)
def calendar_add() -> Any:
    form = forms.HolidayForm(prefix="h")
    year = _year()
    if not form.validate_on_submit():
        return _calendar_page(year, 422, add=form)
    try:
        h = services.add_holiday(
            form.day.data,
            {
                "name_ar": form.name_ar.data,
                "name_fr": form.name_fr.data,
                "name_en": form.name_en.data,
            },
            current_user,
        )
    except DomainError as exc:
        db_session().rollback()
        apply_errors(form, exc)
        return _calendar_page(year, exc.status, add=form)
    db_session().commit()
    flash(_("Holiday added."), "success")
    return redirect(url_for("complaints.calendar", year=h.day.year))


@bp.post("/calendar/<int:holiday_id>/move")
@permission_required(CALENDAR)
def calendar_move(holiday_id: int) -> Any:
    form = forms.MoveHolidayForm(prefix=f"m{holiday_id}")
    year = _year()
    if not form.validate_on_submit():
        return _calendar_page(year, 422, move=(holiday_id, form))
    try:
        h = services.move_holiday(holiday_id, form.day.data, current_user)
    except DomainError as exc:
        db_session().rollback()
        if exc.status == 404:
            abort(404)
        apply_errors(form, exc)
        return _calendar_page(year, exc.status, move=(holiday_id, form))
    db_session().commit()
    flash(_("Date corrected."), "success")
    return redirect(url_for("complaints.calendar", year=h.day.year))


@bp.post("/calendar/<int:holiday_id>/remove")
@permission_required(CALENDAR)
def calendar_remove(holiday_id: int) -> Any:
    form = forms.ConfirmForm(prefix="rm")
    if not form.validate_on_submit():
        abort(400)
    try:
        services.remove_holiday(holiday_id, current_user)
    except NotFound:
        abort(404)
    db_session().commit()
    flash(_("Holiday removed."), "success")
    return redirect(url_for("complaints.calendar", year=_year()))
