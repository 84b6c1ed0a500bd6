from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core.db import db
from app.core.i18n import current_language
from app.core.permissions import Role
from app.core.security import CONTENT_SECURITY_POLICY
from app.selfservice import queries, services
from app.selfservice.blueprint import bp
from app.selfservice.forms import FeedbackForm, SearchForm
from app.selfservice.markdown import render_markdown
from app.selfservice.models import ArticleAttachment
from app.selfservice.search import QUERY_MAX_LENGTH, get_index, snippet

RESULTS_PER_PAGE = 10


def _search_form() -> SearchForm:
    form = SearchForm(request.args)
    form.function.choices = [("", _("All functions"))] + [
        (f.slug, f.name) for f in queries.function_choices() if not f.is_first_line]
    form.lang.choices = [("", _("All languages")), ("sv", "Svenska"), ("en", "English")]
    return form


def _run_search(form: SearchForm, live: bool) -> dict:
    text = (form.q.data or "").strip()
    if not text or not form.validate():
        return {"query": text, "results": [], "total": 0, "suggestion": None, "log_id": None}
    result = get_index().search(text, limit=RESULTS_PER_PAGE, function=form.function.data or None,
                                lang=form.lang.data or None, complete_last=live, prefer_lang=current_language())
    cards = queries.result_cards([hit.article_id for hit in result.hits])
    results = [{"article": card, "snippet": snippet(card.body_text, result.stems),
                "summary": snippet(card.summary, result.stems, length=400)}
               for card in (cards.get(hit.article_id) for hit in result.hits) if card is not None]
    ask_token = (request.args.get("ask") or "")[:64] or None  # suggestions shown on the question form
    log_id = services.log_search(text, len(results), current_user, "ask" if ask_token else "live" if live else "page",
                                 ask_token, form.function.data or None)
    return {"query": text, "results": results, "total": result.total, "suggestion": result.corrected_query,
            "log_id": log_id}


@bp.get("/")
@login_required
def index():
    lang = current_language()
    popular, recent = queries.front_page_articles(6, lang)
    return render_template(
        "selfservice/index.html",
        query=request.args.get("q", ""), query_max_length=QUERY_MAX_LENGTH,  # the search box: no form object
        topics=queries.topic_links(),
        popular=popular,
        recent=recent,
        lang=lang,
        specialist_functions=current_user.functions_for(Role.SPECIALIST),
        editor_functions=current_user.functions_for(Role.EDITOR),
    )


@bp.get("/search")
@login_required
def search():
    form = _search_form()
    return render_template("selfservice/search.html", form=form, query_max_length=QUERY_MAX_LENGTH,
                           **_run_search(form, live=False))


@bp.get("/search/live")
@login_required
def live_search():
    form = _search_form()
    return render_template("selfservice/_results.html", live=True, **_run_search(form, live=True))


@bp.get("/topics/<slug>")
@login_required
def topic(slug: str):
    found = queries.get_topic(slug) or abort(404)
    if found.tag_list:  # the topic's words, searched within its function, so synonyms and inflections count
        result = get_index().search(" ".join(found.tag_list), limit=50, function=found.function.slug,
                                    prefer_lang=current_language())
        by_id = queries.articles_by_ids([hit.article_id for hit in result.hits])
        articles = [by_id[hit.article_id] for hit in result.hits if hit.article_id in by_id]
    else:
        articles = queries.function_articles(found.function_id, prefer_lang=current_language())
    return render_template("selfservice/topic.html", topic=found, articles=articles)


def _attachment_url(article, attachments):
    by_name = {a.original_name: a for a in attachments}

    def url(name: str) -> str | None:
        attachment = by_name.get(name)
        if attachment is None:
            return None
        return url_for("selfservice.attachment", slug=article.slug, attachment_id=attachment.id,
                       name=attachment.original_name)

    return url


def _render_article(found, feedback_form: FeedbackForm, status: int = 200):
    feedback = services.feedback_of(found, current_user)
    if feedback is not None and request.method == "GET":  # the earlier answer is shown chosen, ready to change
        feedback_form.helpful.data = "yes" if feedback.is_helpful else "no"
        feedback_form.comment.data = feedback.comment
    attachments = queries.attachment_links(found)
    response = current_app.make_response((render_template(
        "selfservice/article.html",
        article=found,
        attachments=attachments,
        body=render_markdown(found.body, _attachment_url(found, attachments), title=found.title),
        related=queries.related_links(found),
        translations=services.translations_of(found),
        feedback=feedback,
        feedback_form=feedback_form,
        query=request.args.get("q", ""),
        can_edit=services.can_edit(current_user, found.function.slug),
    ), status))
    if found.video_url:
        host = urlsplit(found.video_url).hostname
        response.headers["Content-Security-Policy"] = f"{CONTENT_SECURITY_POLICY}; frame-src https://{host}"
    return response


@bp.get("/articles/<slug>")
@login_required
def article(slug: str):
    found = services.get_article(slug, with_tags=False)
    if found is None or not services.can_view(current_user, found):
        abort(404)
    if found.is_published:
        services.record_view(found, current_user, request.args.get("sq", type=int))
    return _render_article(found, FeedbackForm())


@bp.post("/articles/<slug>/feedback")
@login_required
def feedback(slug: str):
    found = services.get_article(slug)
    if found is None or not found.is_published:
        abort(404)
    form = FeedbackForm()
    if form.validate_on_submit():
        services.record_feedback(found, current_user, form.helpful.data == "yes", form.comment.data or "")
        flash(_("Thank you for your answer!"), "success")
        return redirect(url_for("selfservice.article", slug=slug, _anchor="feedback"))
    return _render_article(found, form, 400)


@bp.get("/articles/<slug>/files/<int:attachment_id>/<path:name>")
@login_required
def attachment(slug: str, attachment_id: int, name: str):
    found = services.get_article(slug)
    attached = db.session.get(ArticleAttachment, attachment_id)
    if found is None or attached is None or attached.article_id != found.id or not services.can_view(
            current_user, found):
        abort(404)
    path = services.attachment_path(attached, Path(current_app.config["LOTSEN_UPLOAD_PATH"]))
    if not path.is_file():
        abort(404)
    inline = attached.kind in ("image", "video") or attached.content_type == "application/pdf"
    response = send_file(path, mimetype=attached.content_type, as_attachment=not inline,
                         download_name=attached.original_name, conditional=True,
                         max_age=3600 if found.is_published else None)
    if found.is_published:  # behind log-in: the reader's browser may keep it, shared caches may not
        response.cache_control.public = False
        response.cache_control.private = True
    else:
        response.headers["Cache-Control"] = "private, no-store"
    return response
