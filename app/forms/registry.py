"""The registry of digital forms: what each form asks, its rules, who may submit it, which support function
handles it, and its document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from app.core.i18n import localized
from app.core.permissions import Role
from app.forms import validation


@dataclass(frozen=True)
class FollowUp:
    """A case the approval of an order opens for another function, due a number of working days before the
    employment's last day (0: on the last day)."""

    task: str
    function: str
    subject_sv: str
    description_sv: str
    working_days_before: int = 0


@dataclass(frozen=True)
class FormDefinition:
    slug: str
    name_sv: str
    name_en: str
    submit_role: Role
    function: str  # the support function whose queue gets the order
    validate: Callable[..., validation.Result]  # (data, today, earlier=periods) -> Result
    template: str  # the PDF template
    sections: tuple[tuple[str, object], ...]  # (data key prefix, legend) in order: the guided steps
    follow_ups: tuple[FollowUp, ...] = ()
    robot_queue: bool = False  # approved orders wait in the API's work queue for robots (RPA)
    last_day_path: str = ""  # where the order keeps the employment's last day, for the follow-ups' due dates
    rates_help: bool = True  # the case asks the requester to rate the help when it is resolved

    @property
    def name(self) -> str:
        return localized(self.name_sv, self.name_en)

    def title_for(self, data: dict, today: date | None = None) -> str:
        """The list title and case subject: the name and the identity number without its last four."""
        employee = data.get("employee") or {}
        number = validation.identity_of(employee, today or datetime.now(validation.STOCKHOLM).date())
        if number is not None:
            masked = number.masked
        elif employee.get("no_identity_number") and employee.get("birth_date"):
            masked = f"f. {str(employee['birth_date'])[:10]}"
        else:
            masked = "****"
        name = f"{employee.get('first_name', '')} {employee.get('last_name', '')}".strip() or "?"
        return f"{self.name_sv}: {name} ({masked})"[:200]  # the column's width; long names are cut


FORMS: dict[str, FormDefinition] = {
    "employment-contract": FormDefinition(
        "employment-contract", "Anställningsavtal", "Employment contract", Role.MANAGER, "hr",
        validation.validate_employment_contract, "pdf/employment_contract.html",
        (("employee", _l("Employee")), ("position", _l("Position")), ("employment", _l("Form of employment")),
         ("pay", _l("Pay, agreement and pension")), ("terms", _l("Notice and other terms"))),
        rates_help=False,
    ),
    "employment-end": FormDefinition(
        "employment-end", "Avslut av anställning", "End of employment", Role.MANAGER, "hr",
        validation.validate_employment_end, "pdf/employment_end.html",
        (("employee", _l("Employee")), ("position", _l("Position")), ("end", _l("The end of the employment"))),
        follow_ups=(
            FollowUp("it_account", "it", "Avslut: stäng konto och hämta utrustning",
                     "Anställningen upphör. Stäng användarkontot efter sista anställningsdagen och ta emot dator, "
                     "telefon och annan utrustning."),
            FollowUp("facilities_keys", "facilities", "Avslut: nycklar och passerkort",
                     "Anställningen upphör. Ta emot nycklar och passerkort och spärra behörigheterna."),
            FollowUp("payroll_final_pay", "payroll", "Avslut: slutlön och semesterersättning",
                     "Anställningen upphör. Räkna fram slutlön och semesterersättning.", working_days_before=2),
        ),
        robot_queue=True, last_day_path="end.last_day", rates_help=False,
    ),
}


def get_form(slug: str) -> FormDefinition | None:
    return FORMS.get(slug)
