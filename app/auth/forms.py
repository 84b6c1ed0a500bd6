from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.forms import Form


class LoginForm(Form):
    username = StringField(
        _l("User name"),
        validators=[DataRequired(message=_l("Enter your user name.")), Length(max=120)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password.")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this computer"))
    next = HiddenField()


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(Form):
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[
        Optional(), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid e-mail address, such as namn@kommun.se.")),
    ])
    is_active = BooleanField(_l("Account is active"))
    roles = MultiCheckboxField(_l("Roles granted in Lotsen"), choices=[])


class NewUserForm(Form):
    """A local account (a break-glass administrator, a temporary consultant) made by an administrator."""

    username = StringField(_l("User name"), validators=[
        DataRequired(message=_l("Choose a user name.")), Length(max=120),
        Regexp(r"^[a-z0-9][a-z0-9._-]*$", message=_l("Use lower-case letters a-z, digits, dots, hyphens and "
                                                   "underscores."))])
    display_name = StringField(_l("Name"), validators=[DataRequired(message=_l("Write the person's name.")),
                                                       Length(max=200)])
    email = StringField(_l("E-mail"), validators=[
        Optional(), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid e-mail address, such as namn@kommun.se.")),
    ])
    department = StringField(_l("Department"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("Password (at least 12 characters)"), validators=[
        DataRequired(message=_l("Choose a password.")),
        Length(min=12, max=200, message=_l("The password needs at least 12 characters."))])
    roles = MultiCheckboxField(_l("Roles"), choices=[])


class TokenForm(Form):
    name = StringField(_l("What the token is for"), validators=[
        DataRequired(message=_l("Say what the token is for, such as the robot's name.")), Length(max=100)])
    scopes = MultiCheckboxField(_l("What it may do"), choices=[
        SelectChoice("forms:submit", _l("Send orders through the digital forms (forms:submit)")),
        SelectChoice("cases:read", _l("Read my cases (cases:read)")),
        SelectChoice("cases:write", _l("Ask questions as me (cases:write)"))],
        validators=[DataRequired(message=_l("Choose at least one thing the token may do."))])
    days = SelectField(_l("Valid for"), choices=[
        SelectChoice("30", _l("30 days")), SelectChoice("90", _l("90 days")), SelectChoice("365", _l("1 year"))],
        default="90")
