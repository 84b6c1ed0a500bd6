"""The registry of digital forms: what each form asks, its rules, who may submit it, which support function
handles it, and its document."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from app.core.i18n import localized
from app.core.permissions import Role
from app.forms import validation


@dataclass(frozen=True)
class FormDefinition:
    slug: str
    name_sv: str
    name_en: str
    submit_role: Role
    function: str  # the support function whose queue gets the order
    validate: Callable[[dict, date | None], validation.Result]
    template: str  # the PDF template
    sections: tuple[tuple[str, object], ...]  # (data key prefix, legend) in order: the guided steps

    @property
    def name(self) -> str:
        return localized(self.name_sv, self.name_en)

    def title_for(self, data: dict) -> str:
        employee = data.get("employee") or {}
        pnr = employee.get("personnummer") or ""
        try:
            masked = validation.mask_personnummer(validation.parse_personnummer(pnr)[0])
        except ValueError:
            masked = "****"
        name = f"{employee.get('first_name', '')} {employee.get('last_name', '')}".strip() or "?"
        return f"{self.name_sv}: {name} ({masked})"[:200]  # the column's width; long names are cut


FORMS: dict[str, FormDefinition] = {
    "employment-contract": FormDefinition(
        "employment-contract", "Anställningsavtal", "Employment contract", Role.MANAGER, "hr",
        validation.validate_employment_contract, "pdf/employment_contract.html",
        (("employee", _l("Employee")), ("position", _l("Position")), ("employment", _l("Form of employment")),
         ("pay", _l("Pay, agreement and pension")), ("terms", _l("Notice and other terms"))),
    ),
    "employment-end": FormDefinition(
        "employment-end", "Avslut av anställning", "End of employment", Role.MANAGER, "hr",
        validation.validate_employment_end, "pdf/employment_end.html",
        (("employee", _l("Employee")), ("position", _l("Position")), ("end", _l("The end of the employment"))),
    ),
}


def get_form(slug: str) -> FormDefinition | None:
    return FORMS.get(slug)
