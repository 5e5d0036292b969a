"""Register, log in, log out, the account page with API tokens, and registering a maker organisation."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from opendesign.accounts import AccountError, audit, authenticate, create_token, register, revoke_token
from opendesign.errors import ManifestError, OpenDesignError
from opendesign.models import ApiToken, AuditEvent, Design

from .. import ledger_pages
from ..adapters import makers as maker_accounts
from ..auth import current_user, log_in, log_out, login_required
from ..db import get_session
from ..errors import status_for
from ..forms import LoginForm, MakerForm, PostForm, RegisterForm, TokenForm

bp = Blueprint("account", __name__, url_prefix="/account")
blueprints = [bp]


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so ``?next=`` cannot redirect off the site."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("account.index")


def _add_service_errors(form, exc: AccountError) -> None:
    for name, reasons in exc.by_field().items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + reasons
        else:
            form.form_errors.extend(reasons)


@bp.route("/register", methods=["GET", "POST"])
def register_view():
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        try:
            user = register(db, form.username.data, form.email.data, form.password.data)
        except AccountError as exc:
            db.rollback()
            _add_service_errors(form, exc)
        else:
            log_in(user)
            db.commit()
            flash(f"Welcome, {user.username}. Your account is ready.", "success")
            return redirect(url_for("account.index"))
    if request.method == "POST":
        status = 422
    return render_template("account/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        user = authenticate(db, form.login.data, form.password.data)
        if user is not None:
            log_in(user)
            db.commit()
            flash(f"Logged in as {user.username}.", "success")
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append("wrong username/e-mail or password")
    if request.method == "POST":
        status = 422
    return render_template("account/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = PostForm()
    if form.validate_on_submit():
        log_out()
        get_session().commit()
        flash("Logged out.", "info")
    return redirect(url_for("catalogue.home"))


@bp.get("")
@login_required
def index():
    return _account_page(TokenForm(formdata=None), new_token=None)


def _account_page(form: TokenForm, new_token: str | None, status: int = 200):
    db = get_session()
    user = current_user()
    tokens = list(db.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())))
    designs = list(db.scalars(select(Design).where(Design.owner_id == user.id).order_by(Design.slug)))
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.user_id == user.id)
                             .order_by(AuditEvent.id.desc()).limit(20)))
    return render_template("account/index.html", user=user, tokens=tokens, designs=designs, events=events,
                           makers=maker_accounts.makers_of(db, user), form=form, revoke_form=PostForm(),
                           new_token=new_token, parameter_sets=_parameter_sets(db, user),
                           **ledger_pages.account_context(db, user)), status


def _parameter_sets(db, user) -> list[dict]:
    from opendesign.presets.saved import sets_of_user

    from ..presets_page import saved_set_row

    return [saved_set_row(s, user) for s in sets_of_user(db, user)]


@bp.post("/tokens")
@login_required
def create_token_view():
    form = TokenForm()
    if not form.validate_on_submit():
        return _account_page(form, None, 422)
    db = get_session()
    try:
        token, plain = create_token(db, current_user(), form.name.data, form.scopes.data)
    except AccountError as exc:
        db.rollback()
        _add_service_errors(form, exc)
        return _account_page(form, None, 422)
    audit.record(db, "token.create", audit.OK, target=token.name, user=current_user(), token=token,
                 detail={"scopes": token.scopes}, remote_addr=request.remote_addr)
    db.commit()
    # Shown on this response only: the page is not cached and the token is never stored in plain.
    response = _account_page(TokenForm(formdata=None), plain)
    return response[0], 201, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token_view(token_id: int):
    form = PostForm()
    if not form.validate_on_submit():
        return redirect(url_for("account.index"))
    db = get_session()
    token = revoke_token(db, current_user(), token_id)
    audit.record(db, "token.revoke", audit.OK, target=token.name, user=current_user(), token=token,
                 remote_addr=request.remote_addr)
    db.commit()
    flash(f"Token “{token.name}” revoked.", "info")
    return redirect(url_for("account.index"))


@bp.route("/makers/new", methods=["GET", "POST"])
@login_required
def register_maker():
    """Register a maker organisation owned by the logged-in user."""
    from .designs import record_refusal
    from .makers import add_field_errors

    form = MakerForm()
    if request.method == "GET":
        return render_template("account/maker_new.html", form=form)
    db = get_session()
    raw = form.raw()  # CSRFProtect checked the token; the maker-file schema checks the fields
    try:
        maker = maker_accounts.register_maker(db, current_user(), raw)
    except OpenDesignError as exc:
        record_refusal("maker.register", raw["slug"], exc)
        if not isinstance(exc, ManifestError):
            raise
        add_field_errors(form, exc)
        return render_template("account/maker_new.html", form=form), status_for(exc)
    audit.record(db, "maker.register", audit.OK, target=maker.slug, user=current_user(),
                 detail={"via": "web"}, remote_addr=request.remote_addr)
    db.commit()
    flash(f"Registered {maker.name}. Record what you produce and what you give back below.", "success")
    return redirect(url_for("makers.show", slug=maker.slug))
