from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.core.forms import Form, KeyedSelect
from app.core.text import is_one_line

RATING_CHOICES = [SelectChoice(str(n), str(n)) for n in range(1, 6)]


def one_line(form, field) -> None:
    """A subject or title is one line: no line breaks or other control characters (they end up in mail
    headers)."""
    if field.data and not is_one_line(field.data):
        raise ValidationError(_l("Write it on one line, without line breaks or special characters."))


EXPIRED_FORM = _l("The form is out of date. Reload the page and send it again.")


class AskForm(Form):
    category = SelectField(_l("What is it about?"), choices=[], validators=[Optional()])
    subject = StringField(_l("Subject"), validators=[DataRequired(message=_l("Write a short subject.")),
                                                     Length(max=200), one_line])
    description = TextAreaField(_l("Describe your question"), validators=[
        DataRequired(message=_l("Describe what you need help with.")), Length(max=20_000)], render_kw={"rows": 8})
    files = MultipleFileField(_l("Attachments (optional)"))
    on_behalf_of = StringField(_l("On behalf of a colleague (name or user name, optional)"),
                               validators=[Optional(), Length(max=120)],
                               render_kw={"list": "people-options", "autocomplete": "off"})
    submit_token = HiddenField(validators=[Optional(), Length(max=64, message=EXPIRED_FORM)])


class ReplyForm(Form):
    body = TextAreaField(_l("Message"), validators=[DataRequired(message=_l("Write a message.")),
                                                    Length(max=20_000)], render_kw={"rows": 6})
    files = MultipleFileField(_l("Attachments (optional)"))
    article = SelectField(_l("Link to an article (optional)"), choices=[], validators=[Optional()],
                          validate_choice=False)
    internal = BooleanField(_l("Internal note (not shown to the requester)"))
    then_wait = BooleanField(_l("Wait for the requester's answer"))


class RateForm(Form):
    rating = RadioField(_l("How satisfied are you with the help? (1 = not at all, 5 = very)"),
                        choices=RATING_CHOICES, validators=[DataRequired(message=_l("Choose 1 to 5."))])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=2000)],
                            render_kw={"rows": 3})


class ActionForm(Form):
    """Small case actions posted from the case page; each uses only the fields it needs. The services check
    the chosen values, with messages that say what is wrong."""

    status = SelectField(_l("Status"), choices=[], validators=[Optional()], validate_choice=False)
    priority = SelectField(_l("Priority"), choices=[], validators=[Optional()], validate_choice=False)
    assignee = SelectField(_l("Assigned to"), choices=[], validators=[Optional()], validate_choice=False)
    function = SelectField(_l("Move to"), choices=[], validators=[Optional()], validate_choice=False)
    reason = StringField(_l("Why?"), validators=[Optional(), Length(max=500)])
    target = StringField(_l("Duplicate of case number"), validators=[Optional(), Length(max=20)])


class WorkForm(Form):
    """Everything a specialist does on a case in one submit: a reply or an internal note, and any change of
    assignee, status, priority or support function. Only what changed is applied; the services check it."""

    body = TextAreaField(_l("Message"), validators=[Optional(), Length(max=20_000)], render_kw={"rows": 8})
    internal = BooleanField(_l("Internal note (not shown to the requester)"))
    article = SelectField(_l("Link to an article (optional)"), choices=[], validators=[Optional()],
                          validate_choice=False, widget=KeyedSelect())
    files = MultipleFileField(_l("Attachments (optional)"))
    then_wait = BooleanField(_l("Wait for the requester's answer"))
    assignee = SelectField(_l("Assigned to"), choices=[], validators=[Optional()], validate_choice=False)
    status = SelectField(_l("Status"), choices=[], validators=[Optional()], validate_choice=False)
    priority = SelectField(_l("Priority"), choices=[], validators=[Optional()], validate_choice=False)
    function = SelectField(_l("Move to another function"), choices=[], validators=[Optional()],
                           validate_choice=False)
    category = SelectField(_l("Category there"), choices=[], validators=[Optional()], validate_choice=False)
    reason = StringField(_l("Why it moves"), validators=[Optional(), Length(max=500)])
    seen = HiddenField(validators=[Optional()])  # the last entry of the timeline the writer had in front of them
    confirm = HiddenField(validators=[Optional()])  # "send anyway" after a colleague's reply came in between
    loaded = HiddenField(validators=[Optional(), Length(max=300)])  # status|priority|assignee as the page showed


class NotificationSettingsForm(Form):
    """By e-mail at once, in a daily summary, or only in Lotsen, per kind (labels set from the kinds)."""

    new_case = SelectField(choices=[])
    assigned = SelectField(choices=[])
    requester_reply = SelectField(choices=[])
    mail_trouble = SelectField(choices=[])
    sla_warning = SelectField(choices=[])
    forwarded_resolved = SelectField(choices=[])


class RegisterForm(Form):
    requester = StringField(_l("Who contacted you"), validators=[
        DataRequired(message=_l("Enter the name, user name or e-mail of the person who contacted you.")),
        Length(max=120)], render_kw={"list": "people-options", "autocomplete": "off"})
    channel = SelectField(_l("Contact by"), choices=[])
    function = SelectField(_l("Support function"), choices=[])
    subject = StringField(_l("Subject"), validators=[DataRequired(message=_l("Write a short subject.")),
                                                     Length(max=200), one_line])
    description = TextAreaField(_l("What was it about?"), validators=[
        DataRequired(message=_l("Describe what you need help with.")), Length(max=20_000)], render_kw={"rows": 6})


class CannedForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("Write a title.")), Length(max=120)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(message=_l("Write a text.")), Length(max=10_000)],
                         render_kw={"rows": 6})


class RoutingTestForm(Form):
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("Question"), validators=[DataRequired(message=_l("Paste a question to test.")),
                                                     Length(max=20_000)], render_kw={"rows": 5})


class RoutingRuleForm(Form):
    phrase = StringField(_l("Word or phrase"), validators=[DataRequired(message=_l("Write a word or phrase.")),
                                                           Length(max=200)])
    function = SelectField(_l("Send to"), choices=[])
    priority = IntegerField(_l("Priority (higher wins)"), default=0,
                            validators=[Optional(), NumberRange(min=-100, max=100)])


class NoticeForm(Form):
    title = StringField(_l("Headline of the notice"), validators=[DataRequired(message=_l("Write a title.")),
                                                                  Length(max=200),
                                                  one_line])
    body = TextAreaField(_l("More information (optional)"), validators=[Optional(), Length(max=2000)],
                         render_kw={"rows": 3})
    hours = SelectField(_l("Show for"), choices=[
        SelectChoice("4", _l("4 hours")), SelectChoice("24", _l("1 day")), SelectChoice("72", _l("3 days")),
        SelectChoice("168", _l("1 week"))])
