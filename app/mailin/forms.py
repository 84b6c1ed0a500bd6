from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.core.forms import Form
from app.core.mailbox import SECURITY
from app.mailin.models import MAIL_AUTH

SECURITY_LABELS = {"tls": _l("TLS from the start (IMAPS, usually port 993)"),
                   "starttls": _l("STARTTLS (usually port 143)"),
                   "none": _l("No encryption (only a server on this machine)")}
AUTH_LABELS = {"password": _l("User name and password"),
               "oauth2": _l("OAuth 2.0 (Exchange Online: an app registration with a client secret)")}


class MailboxForm(Form):
    address = StringField(_l("The mailbox's e-mail address"), validators=[
        DataRequired(message=_l("Write the mailbox's e-mail address.")), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid e-mail address, such as lon@kommun.se."))])
    function = SelectField(_l("New mail becomes cases of"), choices=[])
    host = StringField(_l("IMAP server"), validators=[DataRequired(message=_l("Write the IMAP server's name.")),
                                                      Length(max=200)])
    port = IntegerField(_l("Port"), default=993, validators=[
        DataRequired(message=_l("Write the port, such as 993.")),
        NumberRange(min=1, max=65535, message=_l("A port is a number from 1 to 65535."))])
    security = SelectField(_l("Encryption"), choices=[SelectChoice(k, SECURITY_LABELS[k]) for k in SECURITY])
    username = StringField(_l("User name on the server"), validators=[
        DataRequired(message=_l("Write the user name Lotsen logs in with.")), Length(max=254)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    auth = SelectField(_l("How Lotsen logs in"), choices=[SelectChoice(k, AUTH_LABELS[k]) for k in MAIL_AUTH])
    secret = PasswordField(_l("Password or client secret"), validators=[Optional(), Length(max=500)],
                           render_kw={"autocomplete": "new-password"})
    oauth_client_id = StringField(_l("OAuth 2.0 client id"), validators=[Optional(), Length(max=200)])
    oauth_tenant = StringField(_l("OAuth 2.0 tenant (Microsoft Entra ID: the directory id or domain)"),
                               validators=[Optional(), Length(max=200)])
    oauth_token_url = StringField(_l("OAuth 2.0 token address (only if not Microsoft's)"),
                                  validators=[Optional(), Length(max=500)])
    folder = StringField(_l("Folder that new mail arrives in"), default="INBOX", validators=[Length(max=200)])
    done_folder = StringField(_l("Folder that handled mail is moved to"), default="Lotsen",
                              validators=[Length(max=200)])
    is_active = BooleanField(_l("Read this mailbox"), default=True)
