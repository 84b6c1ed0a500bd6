"""WTForms classes of the digital forms. Field names are the order's JSON paths with ``__`` for ``.``
(``employee__personnummer`` is ``employee.personnummer``), so the rules' messages land beside their fields."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DecimalField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.fields import DateField, IntegerField
from wtforms.validators import Length, Optional

OPTIONAL = [Optional()]  # the rules in validation.py decide what is required, on submit only


class OrderForm(FlaskForm):
    """What every order form has: the one-time token that makes a form sent twice one order."""

    submit_token = HiddenField(validators=[Optional(), Length(max=64, message=_l(
        "The form is out of date. Reload the page and send it again."))])


class EmploymentContractForm(OrderForm):
    employee__personnummer = StringField(_l("Personnummer or samordningsnummer"), validators=OPTIONAL,
                                         render_kw={"autocomplete": "off", "inputmode": "numeric"})
    employee__first_name = StringField(_l("First name"), validators=OPTIONAL)
    employee__last_name = StringField(_l("Last name"), validators=OPTIONAL)
    employee__address = StringField(_l("Address"), validators=OPTIONAL)
    employee__email = StringField(_l("E-mail"), validators=OPTIONAL)
    position__title = StringField(_l("Title"), validators=OPTIONAL)
    position__tasks = TextAreaField(_l("Main tasks"), validators=OPTIONAL, render_kw={"rows": 3})
    position__workplace = StringField(_l("Workplace"), validators=OPTIONAL)
    position__unit = StringField(_l("Unit"), validators=OPTIONAL)
    position__cost_centre = StringField(_l("Responsibility and cost centre (ansvar/kostnadsställe)"),
                                        validators=OPTIONAL)
    position__manager = StringField(_l("Manager"), validators=OPTIONAL)
    employment__form = SelectField(_l("Form of employment (LAS)"), validators=OPTIONAL, choices=[
        SelectChoice("", _l("Choose")), SelectChoice("tillsvidare", _l("Tillsvidareanställning (permanent)")),
        SelectChoice("provanstallning", _l("Provanställning (probation, at most 6 months)")),
        SelectChoice("sarskild_visstid", _l("Särskild visstidsanställning (fixed term)")),
        SelectChoice("vikariat", _l("Vikariat (substitute)")),
        SelectChoice("sasong", _l("Säsongsanställning (seasonal)"))], validate_choice=False)
    employment__start_date = DateField(_l("Start date"), validators=OPTIONAL)
    employment__end_date = DateField(_l("End date (fixed term only)"), validators=OPTIONAL)
    employment__substitute_for = StringField(_l("Whom or what the vikariat covers"), validators=OPTIONAL)
    employment__extent_percent = IntegerField(_l("Extent (percent of full time)"), validators=OPTIONAL)
    employment__weekly_hours = DecimalField(_l("Working hours per week"), validators=OPTIONAL, places=2)
    employment__earlier_fixed_term_days = IntegerField(
        _l("Earlier fixed-term days at the municipality in the last five years"), validators=OPTIONAL)
    pay__type = SelectField(_l("Pay"), validators=OPTIONAL, choices=[
        SelectChoice("monthly", _l("Monthly salary")), SelectChoice("hourly", _l("Hourly wage"))],
        validate_choice=False)
    pay__amount = DecimalField(_l("Amount in kronor"), validators=OPTIONAL, places=2)
    pay__pay_day = StringField(_l("Paid"), validators=OPTIONAL)
    pay__collective_agreement = StringField(_l("Collective agreement"), validators=OPTIONAL)
    pay__pension = StringField(_l("Pension scheme"), validators=OPTIONAL)
    terms__notice = TextAreaField(_l("Notice"), validators=OPTIONAL, render_kw={"rows": 2})
    terms__other = TextAreaField(_l("Other terms"), validators=OPTIONAL, render_kw={"rows": 3})
    files = MultipleFileField(_l("Attachments (sent with the order)"))

    DEFAULTS = {"pay__type": "monthly", "pay__pay_day": "Den 25:e varje månad",
                "pay__collective_agreement": "Allmänna bestämmelser (AB) med tillämpligt HÖK",
                "pay__pension": "AKAP-KR", "employment__extent_percent": 100, "employment__weekly_hours": 40,
                "terms__notice": "Enligt AB och LAS."}


class EmploymentEndForm(OrderForm):
    employee__personnummer = StringField(_l("Personnummer or samordningsnummer"), validators=OPTIONAL)
    employee__first_name = StringField(_l("First name"), validators=OPTIONAL)
    employee__last_name = StringField(_l("Last name"), validators=OPTIONAL)
    position__title = StringField(_l("Title"), validators=OPTIONAL)
    position__unit = StringField(_l("Unit"), validators=OPTIONAL)
    position__manager = StringField(_l("Manager"), validators=OPTIONAL)
    end__reason = SelectField(_l("Why the employment ends"), validators=OPTIONAL, choices=[
        SelectChoice("", _l("Choose")), SelectChoice("own_resignation", _l("The employee resigns")),
        SelectChoice("employer_notice", _l("Notice from the employer")), SelectChoice("retirement", _l("Retirement")),
        SelectChoice("fixed_term_ends", _l("The fixed term ends")), SelectChoice("agreement", _l("By agreement"))],
        validate_choice=False)
    end__notice_date = DateField(_l("Notice given on"), validators=OPTIONAL)
    end__last_day = DateField(_l("Last day of employment"), validators=OPTIONAL)
    end__comment = TextAreaField(_l("Comment"), validators=OPTIONAL, render_kw={"rows": 3})
    files = MultipleFileField(_l("Attachments (sent with the order)"))

    DEFAULTS: dict[str, Any] = {}


FORM_CLASSES = {"employment-contract": EmploymentContractForm, "employment-end": EmploymentEndForm}


def form_to_data(form: FlaskForm) -> dict[str, Any]:
    """The order's JSON shape from the form's fields (dates as ISO strings, numbers as numbers)."""
    data: dict[str, Any] = {}
    for field in form:
        if "__" not in field.name:
            continue
        section, key = field.name.split("__", 1)
        value = field.data
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif value is not None and field.type == "DecimalField":
            value = float(value)
        elif isinstance(value, str):
            value = value.strip()
        if field.type in ("DateField", "IntegerField", "DecimalField") and field.raw_data and value is None:
            value = field.raw_data[0]  # keep what was typed, so the rules can say what is wrong with it
        data.setdefault(section, {})[key] = value
    return data


def data_to_form(form: FlaskForm, data: dict[str, Any]) -> None:
    for field in form:
        if "__" not in field.name:
            continue
        section, key = field.name.split("__", 1)
        value = (data.get(section) or {}).get(key)
        if field.type == "DateField" and isinstance(value, str) and value:
            try:
                value = date.fromisoformat(value)
            except ValueError:
                field.raw_data = [value]
                continue
        field.data = value


def field_name(path: str) -> str:
    return path.replace(".", "__")
