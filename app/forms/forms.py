"""WTForms classes of the digital forms. Field names are the order's JSON paths with ``__`` for ``.``
(``employee__personnummer`` is ``employee.personnummer``), so the rules' messages land beside their fields."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DecimalField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.fields import DateField, IntegerField
from wtforms.validators import Length, Optional

from app.core.forms import Form
from app.forms.validation import identity_text

OPTIONAL = [Optional()]  # the rules in validation.py decide what is required, on submit only


class OrderForm(Form):
    """What every order form has: the one-time token that makes a form sent twice one order."""

    submit_token = HiddenField(validators=[Optional(), Length(max=64, message=_l(
        "The form is out of date. Reload the page and send it again."))])


class PersonFields(OrderForm):
    employee__personnummer = StringField(
        _l("Personnummer or samordningsnummer"), validators=OPTIONAL,
        description=_l("10 or 12 digits, e.g. 19900101-1234. For someone 100 or older write + (ÅÅMMDD+NNNN)."),
        render_kw={"autocomplete": "off"})
    employee__no_identity_number = BooleanField(
        _l("The employee has no Swedish identity number yet (give the birth date; HR adds the number later)"))
    employee__birth_date = DateField(_l("Birth date (only without an identity number)"), validators=OPTIONAL)


class EmploymentContractForm(PersonFields):
    employee__first_name = StringField(_l("First name"), validators=OPTIONAL)
    employee__last_name = StringField(_l("Last name"), validators=OPTIONAL)
    employee__address = StringField(_l("Address"), validators=OPTIONAL)
    employee__email = StringField(_l("E-mail"), validators=OPTIONAL)
    position__title = StringField(_l("Title"), validators=OPTIONAL)
    position__tasks = TextAreaField(_l("Main tasks"), validators=OPTIONAL, render_kw={"rows": 3})
    position__workplace = StringField(_l("Workplace"), validators=OPTIONAL)
    position__workplace_varies = BooleanField(_l("The workplace varies, or the employee chooses it"))
    position__unit = StringField(_l("Unit"), validators=OPTIONAL)
    position__cost_centre = StringField(_l("Responsibility and cost centre (ansvar/kostnadsställe)"),
                                        validators=OPTIONAL)
    position__manager = StringField(_l("Manager"), validators=OPTIONAL)
    employment__form = SelectField(_l("Form of employment (LAS)"), validators=OPTIONAL, choices=[
        SelectChoice("", _l("Choose")), SelectChoice("tillsvidare", _l("Tillsvidareanställning (permanent)")),
        SelectChoice("provanstallning", _l("Provanställning (probation, at most 6 months)")),
        SelectChoice("sarskild_visstid", _l("Särskild visstidsanställning (fixed term)")),
        SelectChoice("vikariat", _l("Vikariat (substitute)")),
        SelectChoice("sasong", _l("Säsongsanställning (seasonal)")),
        SelectChoice("visstid_69", _l("Visstidsanställning från 69 år (fixed term, LAS 5 § 4)"))],
        validate_choice=False)
    employment__start_date = DateField(_l("Start date"), validators=OPTIONAL)
    employment__end_date = DateField(_l("End date (fixed term only)"), validators=OPTIONAL)
    employment__end_condition = StringField(
        _l("Or: the condition that ends the vikariat"), validators=OPTIONAL,
        description=_l("For a vikariat without an end date, e.g. \"until Eva Ek returns from parental leave\"."))
    employment__substitute_for = StringField(_l("Whom or what the vikariat covers"), validators=OPTIONAL)
    employment__extent_percent = IntegerField(_l("Extent (percent of full time)"), validators=OPTIONAL)
    employment__weekly_hours = DecimalField(_l("Working hours per week"), validators=OPTIONAL, places=2)
    employment__earlier_fixed_term_days = IntegerField(
        _l("Fixed-term days in the last five years that Lotsen does not know of"), validators=OPTIONAL,
        description=_l("Lotsen counts the person's earlier orders itself. Add only days it cannot know: from "
                       "before Lotsen, or employments not ordered through it."))
    pay__type = SelectField(_l("Pay"), validators=OPTIONAL, choices=[
        SelectChoice("monthly", _l("Monthly salary")), SelectChoice("hourly", _l("Hourly wage"))],
        validate_choice=False)
    pay__amount = DecimalField(_l("Amount in kronor"), validators=OPTIONAL, places=2)
    pay__supplements = TextAreaField(_l("Other pay and benefits, each listed apart"), validators=OPTIONAL,
                                     render_kw={"rows": 2})
    pay__pay_day = StringField(_l("Paid"), validators=OPTIONAL)
    pay__pay_method = StringField(_l("How the pay is paid"), validators=OPTIONAL)
    pay__collective_agreement = StringField(_l("Collective agreement"), validators=OPTIONAL)
    pay__pension = StringField(_l("Pension plan"), validators=OPTIONAL, description=_l(
        "Leave empty: AKAP-KR for those born 1986 or later, KAP-KL for those born earlier."))
    pay__pension_institution = StringField(_l("Pension institution"), validators=OPTIONAL)
    terms__notice = TextAreaField(_l("Notice periods"), validators=OPTIONAL, render_kw={"rows": 3}, description=_l(
        "Leave empty to state the periods of LAS for the chosen form of employment."))
    terms__overtime = TextAreaField(_l("Overtime and additional hours (mertid)"), validators=OPTIONAL,
                                    render_kw={"rows": 2})
    terms__schedule_notice = TextAreaField(_l("Schedule and the shortest notice of changes"), validators=OPTIONAL,
                                           render_kw={"rows": 2})
    terms__training = TextAreaField(_l("Training"), validators=OPTIONAL, render_kw={"rows": 2})
    terms__other = TextAreaField(_l("Other terms"), validators=OPTIONAL, render_kw={"rows": 3})
    files = MultipleFileField(_l("Attachments (sent with the order)"))

    DEFAULTS = {
        "pay__type": "monthly", "pay__pay_day": "Månadsvis, den 25:e varje månad",
        "pay__pay_method": "Insättning på lönekonto",
        "pay__supplements": "Ob-tillägg och andra tillägg enligt AB och gällande lokala avtal.",
        "pay__collective_agreement": "Allmänna bestämmelser (AB) med tillämpligt HÖK",
        "pay__pension_institution": "KPA Pension",
        "employment__extent_percent": 100, "employment__weekly_hours": 40,
        "terms__overtime": "Övertid och mertid får beordras när verksamheten kräver det och ersätts med pengar "
                           "eller ledig tid enligt AB.",
        "terms__schedule_notice": "Arbetstiden förläggs enligt schema. Ändringar meddelas senast två veckor "
                                  "innan de börjar gälla, om inte AB eller lokalt avtal medger annat.",
        "terms__training": "Arbetstagaren har rätt till den kompetensutveckling arbetsgivaren erbjuder och till "
                           "utbildning som behövs för arbetet, på arbetstid och utan kostnad.",
    }


class EmploymentEndForm(PersonFields):
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


def form_to_data(form: Form) -> dict[str, Any]:
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
        elif field.type == "BooleanField":
            value = bool(value)
        if field.type in ("DateField", "IntegerField", "DecimalField") and field.raw_data and value is None:
            value = field.raw_data[0]  # keep what was typed, so the rules can say what is wrong with it
        data.setdefault(section, {})[key] = value
    return data


def data_to_form(form: Form, data: dict[str, Any]) -> None:
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


def labelled(slug: str, sections, data: dict[str, Any]) -> list[tuple[object, list[tuple[object, str]]]]:
    """The order as a reader sees it: per section, each field's label and its value in the reader's language
    (choices by their label, yes/no, Swedish number formats, the identity number in its normal form)."""
    fields = _unbound_fields(FORM_CLASSES[slug])
    employee = data.get("employee") or {}
    shown = []
    for prefix, legend in sections:
        rows = []
        for name, unbound in fields.items():
            section, key = name.split("__", 1)
            if section != prefix:
                continue
            value = (data.get(section) or {}).get(key)
            if name == "employee__personnummer":
                rows.append((unbound.args[0], identity_text(employee)))
                continue
            if name in ("employee__no_identity_number", "employee__birth_date"):
                continue  # said by the identity line
            rows.append((unbound.args[0], _shown(unbound, value)))
        shown.append((legend, rows))
    return shown


def _shown(unbound, value: Any) -> str:
    if unbound.field_class is BooleanField:
        return str(_l("Yes")) if value else str(_l("No"))
    if value in (None, ""):
        return "–"
    if unbound.field_class is SelectField:
        labels = {c.value: c.label for c in unbound.kwargs.get("choices", ())}
        return str(labels.get(value, value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_decimal(value, format="#,##0.##")
    return str(value)


def field_labels(slug: str) -> dict[str, object]:
    """``{"employee.first_name": label, ...}`` of a form's fields."""
    fields = _unbound_fields(FORM_CLASSES[slug])
    return {name.replace("__", ".", 1): unbound.args[0] for name, unbound in fields.items()}


def _unbound_fields(form_class) -> dict[str, Any]:
    """A form class's order fields (``section__key``), in the order they appear on the form."""
    found = []
    for name in dir(form_class):
        unbound = getattr(form_class, name)
        if "__" in name and not name.startswith("_") and hasattr(unbound, "field_class"):
            found.append((unbound.creation_counter, name, unbound))
    return {name: unbound for _, name, unbound in sorted(found)}


def employment_form_labels() -> dict[str, object]:
    return {c.value: c.label for c in EmploymentContractForm.employment__form.kwargs["choices"] if c.value}
