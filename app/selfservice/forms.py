from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, RadioField, SearchField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.core.forms import Form
from app.selfservice.search import QUERY_MAX_LENGTH


class SearchForm(Form):
    class Meta:
        csrf = False  # a GET form: searching changes nothing

    # written out in _search_box.html (the start page shows the box without building this form)
    q = SearchField(_l("Search"), validators=[Optional(), Length(max=QUERY_MAX_LENGTH)])
    # "" (all) when not chosen: without a default the empty value is checked against the choices and refused (a
    # message translated and thrown away on every search) before Optional() clears it
    function = SelectField(_l("Support function"), choices=[], default="", validators=[Optional()])
    lang = SelectField(_l("Language"), choices=[], default="", validators=[Optional()])


class FeedbackForm(Form):
    helpful = RadioField(_l("Did this help?"), choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
                         validators=[DataRequired(message=_l("Choose yes or no."))])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=2000)],
                            render_kw={"rows": 3})


class ArticleForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("A title is required.")), Length(max=300)])
    slug = StringField(_l("Address (slug)"), validators=[
        Optional(), Length(max=100),
        Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
               message=_l("Use lower-case letters a-z, digits and hyphens in the address.")),
    ])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})
    body = TextAreaField(_l("Text (Markdown)"), validators=[Optional(), Length(max=200_000)],
                         render_kw={"rows": 18})
    function = SelectField(_l("Support function"), choices=[])
    lang = SelectField(_l("Language"), choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")])
    tags = StringField(_l("Tags (comma-separated)"), validators=[Optional(), Length(max=1000)])
    status = SelectField(_l("Status"), choices=[SelectChoice("draft", _l("Draft")),
                                                 SelectChoice("published", _l("Published")),
                                                 SelectChoice("archived", _l("Archived"))])
    review_date = DateField(_l("Review by"), validators=[Optional()],
                            render_kw={"placeholder": "ÅÅÅÅ-MM-DD"})
    video_url = StringField(_l("Video link (optional)"), validators=[Optional(), Length(max=500)])
    translation_of = StringField(_l("Translation of (address of the article in the other language)"),
                                 validators=[Optional(), Length(max=120)])
    note = StringField(_l("What did you change? (optional)"), validators=[Optional(), Length(max=300)])


class AttachmentForm(Form):
    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file to upload."))])


class SynonymsForm(Form):
    synonyms = TextAreaField(_l("Synonyms, one group a line"), validators=[Optional(), Length(max=100_000)],
                             render_kw={"rows": 20})
