"""The editors' pages: articles, attachments, revisions, synonyms and what readers do not find."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import escape

from app.auth.services import list_functions
from app.core.db import db
from app.core.forms import ConfirmForm
from app.core.permissions import Role, role_required
from app.core.transactions import return_to
from app.core.uploads import UploadRejected
from app.selfservice import queries, services
from app.selfservice.blueprint import bp
from app.selfservice.forms import ArticleForm, AttachmentForm, SynonymsForm
from app.selfservice.markdown import render_markdown
from app.selfservice.models import Article, ArticleAttachment
from app.selfservice.synonyms import SynonymError, replace_synonyms, synonyms_as_text

editor_required = role_required(Role.EDITOR, Role.ADMIN)


def _function_choices() -> list[tuple[str, str]]:
    allowed = services.editable_function_slugs(current_user)
    return [(f.slug, f.name) for f in list_functions() if allowed is None or f.slug in allowed]


def _editable_article(article_id: int):
    article = db.get_or_404(Article, article_id)
    if not services.can_edit(current_user, article.function.slug):
        abort(403)
    return article


def _article_data(form: ArticleForm) -> services.ArticleData:
    return services.ArticleData(
        title=form.title.data or "", slug=form.slug.data or services.slugify(form.title.data or ""),
        summary=form.summary.data or "", body=form.body.data or "", lang=form.lang.data,
        function=form.function.data, tags=(form.tags.data or "").split(","), status=form.status.data,
        review_date=form.review_date.data, video_url=(form.video_url.data or "").strip() or None,
        translation_of=(form.translation_of.data or "").strip() or None,
    )


def _save_article(form: ArticleForm, article=None):
    """Validate, then preview or save. Returns a redirect after a save, else None (the form shows errors)."""
    if not form.validate_on_submit():
        return None
    if form.function.data not in dict(form.function.choices):
        form.function.errors.append(_("You cannot write articles for that support function."))
        return None
    if request.form.get("action") == "preview":
        return None
    data = _article_data(form)
    hosts = current_app.config["LOTSEN_VIDEO_HOSTS"]
    try:
        if article is None:
            article = services.create_article(data, current_user, hosts)
        else:
            services.update_article(article, data, current_user, form.note.data or "", hosts)
    except services.ArticleError as exc:
        getattr(form, exc.field or "title").errors.append(str(exc))
        return None
    flash(_("The article is saved."), "success")
    return redirect(url_for("selfservice.edit_article", article_id=article.id))


@bp.get("/editor/articles")
@editor_required
def editor_articles():
    status = request.args.get("status") or None
    text = request.args.get("q", "")
    return render_template(
        "selfservice/editor/articles.html",
        articles=queries.editor_articles(services.editable_function_slugs(current_user), status, text),
        status=status, text=text,
    )


@bp.route("/editor/articles/new", methods=["GET", "POST"])
@editor_required
def new_article():
    form = ArticleForm()
    form.function.choices = _function_choices()
    if not form.function.choices:
        abort(403)
    done = _save_article(form)
    if done:
        return done
    preview = render_markdown(form.body.data or "") if request.form.get("action") == "preview" else None
    return render_template("selfservice/editor/edit.html", form=form, article=None, preview=preview,
                           attachment_form=None), 400 if form.errors else 200


@bp.route("/editor/articles/<int:article_id>", methods=["GET", "POST"])
@editor_required
def edit_article(article_id: int):
    article = _editable_article(article_id)
    form = ArticleForm(obj=article) if request.method == "GET" else ArticleForm()
    form.function.choices = _function_choices()
    if request.method == "GET":
        form.function.data = article.function.slug
        form.tags.data = ", ".join(article.tags)
        others = services.translations_of(article)
        form.translation_of.data = others[0].slug if others else ""
    done = _save_article(form, article)
    if done:
        return done
    preview = render_markdown(form.body.data or "") if request.form.get("action") == "preview" else None
    return render_template("selfservice/editor/edit.html", form=form, article=article, preview=preview,
                           attachment_form=AttachmentForm(), delete_form=ConfirmForm()), 400 if form.errors else 200


@bp.post("/editor/articles/<int:article_id>/attachments")
@editor_required
def upload_attachment(article_id: int):
    article = _editable_article(article_id)
    return_to(url_for("selfservice.edit_article", article_id=article.id, _anchor="attachments"))
    form = AttachmentForm()
    if form.validate_on_submit():
        limit = current_app.config["LOTSEN_MAX_UPLOAD_MB"] * 1024 * 1024
        try:
            added = services.add_attachment(article, form.file.data.filename or "", form.file.data.stream,
                                            current_user, Path(current_app.config["LOTSEN_UPLOAD_PATH"]), limit)
        except UploadRejected as exc:
            raise UploadRejected(_("The file was not uploaded: %(reason)s.", reason=str(exc))) from exc
        else:
            flash(_("Uploaded %(name)s. Link to it in the text as attachment:%(name)s", name=added.original_name),
                  "success")
    else:
        flash(_("Choose a file to upload."), "error")
    return redirect(url_for("selfservice.edit_article", article_id=article.id, _anchor="attachments"))


@bp.post("/editor/articles/<int:article_id>/attachments/<int:attachment_id>/delete")
@editor_required
def delete_attachment(article_id: int, attachment_id: int):
    article = _editable_article(article_id)
    attached = db.session.get(ArticleAttachment, attachment_id)
    if attached is None or attached.article_id != article.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        services.delete_attachment(attached, Path(current_app.config["LOTSEN_UPLOAD_PATH"]))
        flash(_("Removed %(name)s.", name=attached.original_name), "success")
    return redirect(url_for("selfservice.edit_article", article_id=article.id, _anchor="attachments"))


@bp.get("/editor/articles/<int:article_id>/history")
@editor_required
def article_history(article_id: int):
    article = _editable_article(article_id)
    number = request.args.get("revision", type=int)
    shown = queries.revision(article, number) if number else None
    return render_template("selfservice/editor/history.html", article=article, shown=shown,
                           shown_body=render_markdown(shown.body) if shown else None)


@bp.route("/editor/synonyms", methods=["GET", "POST"])
@editor_required
def synonyms():
    form = SynonymsForm()
    if request.method == "GET":
        form.synonyms.data = synonyms_as_text()
    elif form.validate_on_submit():
        try:
            count = replace_synonyms(form.synonyms.data or "", current_user)
        except SynonymError as exc:
            form.synonyms.errors.append(
                _("Line %(line)s: write at least two phrases separated by '=', each at most 100 characters.",
                  line=exc.line))
        else:
            flash(_("Saved %(count)s synonym groups. Search uses them at once.", count=count), "success")
            return redirect(url_for("selfservice.synonyms"))
    return render_template("selfservice/editor/synonyms.html", form=form), 400 if form.errors else 200


@bp.get("/editor/insights")
@login_required
def insights():
    """The statistics moved to the reports (``/reports/self-service``); old links and bookmarks go there."""
    return redirect(url_for("reports.self_service"), 301)


WIDGET_KINDS = ("search", "articles", "ask", "my-cases", "notices")


@bp.get("/editor/widgets")
@editor_required
def widgets():
    kind = request.args.get("kind", "search")
    kind = kind if kind in WIDGET_KINDS else "search"
    options = {name: request.args.get(name, "").strip() for name in ("lang", "function", "tag", "sort", "accent")}
    attributes = " ".join(f'data-lotsen-{name}="{escape(value)}"' for name, value in options.items() if value)
    snippet = (f'<script src="{url_for("widgets.embed", _external=True)}" async></script>\n'
               f'<div data-lotsen-widget="{kind}"{" " + attributes if attributes else ""}></div>')
    preview = url_for("widgets.frame", kind=kind, **{k: v for k, v in options.items() if v})
    return render_template("selfservice/editor/widgets.html", kinds=WIDGET_KINDS, kind=kind, options=options,
                           snippet=snippet, preview=preview, functions=list_functions(),
                           origins=current_app.config["LOTSEN_WIDGET_ORIGINS"])
