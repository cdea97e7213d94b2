"""Deterministic demo payroll: Dutch companies, twelve processed monthly runs each, realistic journal lines.

Used by demo mode (sales demos, offline), by tests and by the benchmarks. Nothing here reads the clock or
a global random state: every company has its own `random.Random` seeded from its code and the year, so the
same call gives the same runs on every machine.

The companies carry the names of the bundled Visma sandbox's companies (the lead maps them by `code`), plus
one payroll company that has no Visma company, to show an unmapped company in the dashboard.

The payroll itself is a simplified 2026 Dutch payslip, per employee per month, all amounts in whole cents
(calculated in integer cents, so every run balances exactly):

* debit 4000 Brutolonen ("Salaris"), 4010 Vakantiegeld ("Reservering vakantiegeld": the 8% holiday allowance
  is reserved monthly, not paid out in May), 4020 Eindejaarsuitkering (December, companies whose collective
  agreement has one), 4100 Sociale lasten werkgever (Zvw, WW/AWf, WIA/Aof, Whk - each its own component),
  4150 Pensioenpremie werkgever, 4200 Reiskostenvergoeding (tax-free EUR 0,23/km commuting allowance);
  all with the employee's cost centre (PROD/VERK/ADM) and department;
* credit 1500 Te betalen loonheffing (wage tax withheld + the employer charges), 1510 Te betalen
  pensioenpremies (employer + employee part), 1520 Te betalen nettolonen, 1530 Reservering vakantiegeld;
  no cost centre (Visma allows cost centres on 4000-4200 only).

Rates are rounded approximations of the 2026 figures (tax brackets 35,75 / 37,56 / 49,50 %, general and
labour tax credits, Zvw 6,10 %, AWf 2,74 %, Aof 6,28 %, premium wage capped at EUR 6.322 a month); good enough
for a demo, not for a real payslip. Some employees are split over two cost centres (the "Percentage" of a
payroll journal report): their cost lines are split, the last part taking the remaining cents.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from core.payroll.sources import DemoPayrollSource
from core.payroll.types import JournalLine, PayrollCompanyData, PayrollRunData

__all__ = [
    "DEMO_COMPANIES",
    "DEMO_ACCOUNTS",
    "DEMO_COST_CENTERS",
    "demo_runs",
    "demo_source",
    "generate_bulk",
    "large_run",
]

# The sandbox's chart of accounts used by the demo (all active; cost centres allowed on 4000-4200).
DEMO_ACCOUNTS: dict[str, str] = {
    "1500": "Te betalen loonheffing",
    "1510": "Te betalen pensioenpremies",
    "1520": "Te betalen nettolonen",
    "1530": "Reservering vakantiegeld",
    "4000": "Brutolonen",
    "4010": "Vakantiegeld",
    "4020": "Eindejaarsuitkering",
    "4100": "Sociale lasten werkgever",
    "4150": "Pensioenpremie werkgever",
    "4200": "Reiskostenvergoeding",
}
# Cost centre code -> department name (the sandbox's active "Afdeling" items).
DEMO_COST_CENTERS: dict[str, str] = {"PROD": "Productie", "VERK": "Verkoop", "ADM": "Administratie"}


@dataclass(frozen=True)
class _Profile:
    """What differs between companies: size, pay, departments and collective-agreement rates (basis points)."""

    code: str
    name: str
    employees: int
    salary_range: tuple[int, int]  # full-time monthly gross in euros
    cost_center_weights: tuple[tuple[str, int], ...]
    pension_employer_bp: int
    pension_employee_bp: int
    pension_franchise_cents: int  # monthly
    whk_bp: int
    year_end_bonus: bool
    part_time_share: int  # percent of employees working part time


_PROFILES: tuple[_Profile, ...] = (
    _Profile("BAKKERIJ-DGK", "Bakkerij De Gouden Korst B.V.", 18, (2300, 3600),
             (("PROD", 60), ("VERK", 30), ("ADM", 10)), 1300, 650, 150_000, 160, False, 40),
    _Profile("INSTALLATIE-VDB", "Van der Berg Installatietechniek B.V.", 34, (2900, 5200),
             (("PROD", 70), ("VERK", 15), ("ADM", 15)), 1530, 700, 160_000, 190, True, 10),
    _Profile("HOVENIER-GROEN", "Hoveniersbedrijf Groen & Zonen", 9, (2400, 3800),
             (("PROD", 80), ("VERK", 10), ("ADM", 10)), 1200, 800, 155_000, 230, False, 20),
    _Profile("TRANSPORT-VISSER", "Transportbedrijf Visser B.V.", 40, (2600, 4200),
             (("PROD", 75), ("VERK", 10), ("ADM", 15)), 1410, 900, 150_000, 210, False, 15),
    _Profile("KAPSALON-KNIPPERLICHT", "Kapsalon Het Knipperlicht", 6, (2100, 2900),
             (("PROD", 80), ("VERK", 20)), 1040, 960, 140_000, 80, False, 60),
    _Profile("DRUKKERIJ-SMIT", "Drukkerij Smit & Co B.V.", 22, (2700, 4600),
             (("PROD", 60), ("VERK", 20), ("ADM", 20)), 1360, 740, 160_000, 140, True, 20),
    _Profile("ADMIN-MULDER", "Administratiekantoor Mulder V.O.F.", 5, (3000, 5600),
             (("ADM", 70), ("VERK", 30)), 1000, 500, 150_000, 90, False, 40),
    _Profile("SCHOONMAAK-FRIS", "Schoonmaakbedrijf Fris B.V.", 27, (2150, 2700),
             (("PROD", 85), ("ADM", 15)), 910, 660, 145_000, 260, False, 70),
)

DEMO_COMPANIES: list[PayrollCompanyData] = [PayrollCompanyData(code=p.code, name=p.name) for p in _PROFILES]
_BY_CODE = {p.code: p for p in _PROFILES}

_FIRST = ("Anna", "Bram", "Chantal", "Daan", "Eva", "Fleur", "Gijs", "Hanna", "Iris", "Jesse", "Kim", "Lars",
          "Lotte", "Mohamed", "Noah", "Noor", "Olivier", "Priya", "Ruben", "Sanne", "Sem", "Tessa", "Thijs",
          "Vera", "Wout", "Yara", "Zeynep", "Bas", "Femke", "Joris", "Maaike", "Stijn")
_LAST = ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit",
         "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
         "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer", "Yilmaz", "El Amrani", "Kok")

# Employer charges (basis points of the capped premium wage) and the monthly premium-wage cap.
_ZVW_BP = 610
_AWF_BP = 274
_AOF_BP = 628
_PREMIUM_WAGE_CAP_CENTS = 632_200
_HOLIDAY_BP = 800
_YEAR_END_BP = 833
_KM_RATE_CENTS = 23
_COMMUTE_DAYS_PER_YEAR = 214


@dataclass(frozen=True)
class _Employee:
    name: str
    salary_cents: int  # monthly gross for this employee (part time included), before the July raise
    split: tuple[tuple[str, int], ...]  # (cost centre, basis points of 10_000); one entry if not split
    commute_km: int
    first_period: int
    last_period: int


def _pick_weighted(rng: random.Random, weights: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weights], weights=[w[1] for w in weights])[0]


def _roster(profile: _Profile, rng: random.Random, employees: int) -> list[_Employee]:
    roster: list[_Employee] = []
    used: set[str] = set()
    for i in range(employees):
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        while name in used:
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        used.add(name)
        low, high = profile.salary_range
        full_time = rng.randrange(low * 100, high * 100 + 1, 500)  # in steps of EUR 5
        factor = rng.choice((50, 60, 80, 90)) if rng.randrange(100) < profile.part_time_share else 100
        cost_center = _pick_weighted(rng, profile.cost_center_weights)
        split: tuple[tuple[str, int], ...] = ((cost_center, 10_000),)
        others = [c for c, _ in profile.cost_center_weights if c != cost_center]
        if others and rng.randrange(6) == 0:
            share = rng.choice((5_000, 6_000, 7_000, 7_500))
            split = ((cost_center, share), (rng.choice(others), 10_000 - share))
        commute = rng.choice((0, 0, 4, 8, 12, 17, 23, 31, 42))
        first, last = 1, 12
        if i >= 3:  # the first three stay all year, so every run has people in it
            roll = rng.randrange(10)
            if roll == 0:
                first = rng.randint(2, 10)
            elif roll == 1:
                last = rng.randint(3, 11)
        roster.append(_Employee(name, full_time * factor // 100, split, commute, first, last))
    return roster


def _pct(cents: int, bp: int) -> int:
    """cents x basis points, rounded half-up to a cent (amounts here are never negative)."""
    return (cents * bp + 5_000) // 10_000


def _annual_wage_tax_cents(annual_cents: int) -> int:
    """Simplified 2026 wage tax with general and labour tax credits, per year, in cents."""
    a = annual_cents / 100
    tax = min(a, 38_883) * 0.3575 + max(0.0, min(a, 78_426) - 38_883) * 0.3756 + max(0.0, a - 78_426) * 0.4950
    general = 3_115 if a <= 29_736 else max(0.0, 3_115 - 0.06398 * (a - 29_736))
    labour = min(5_685, 0.30 * a) if a <= 45_592 else max(0.0, 5_685 - 0.0651 * (a - 45_592))
    return max(0, round((tax - general - labour) * 100))


def _payslip(profile: _Profile, emp: _Employee, period: int) -> list[tuple[str, str, int, bool]]:
    """The journal entries of one payslip: (account, component, cents, is_debit), cost lines first."""
    salary = emp.salary_cents if period < 7 else _pct(emp.salary_cents, 10_250)  # collective raise in July
    holiday = _pct(salary, _HOLIDAY_BP)
    bonus = _pct(salary * 12, _YEAR_END_BP) if profile.year_end_bonus and period == 12 else 0
    base = min(salary + bonus, _PREMIUM_WAGE_CAP_CENTS)
    pension_base = max(0, salary - profile.pension_franchise_cents)
    pension_er = _pct(pension_base, profile.pension_employer_bp)
    pension_ee = _pct(pension_base, profile.pension_employee_bp)
    travel = emp.commute_km * 2 * _KM_RATE_CENTS * _COMMUTE_DAYS_PER_YEAR // 12
    taxable = salary - pension_ee
    wage_tax = _annual_wage_tax_cents(taxable * 12) // 12
    if bonus:  # special-payment rate on the year-end bonus
        wage_tax += _pct(bonus, 3_756 if taxable * 12 < 7_842_600 else 4_950)
    charges = [
        ("Werkgeversheffing Zvw", _pct(base, _ZVW_BP)),
        ("Premie WW (AWf)", _pct(base, _AWF_BP)),
        ("Premie WIA (Aof)", _pct(base, _AOF_BP)),
        ("Premie Whk", _pct(base, profile.whk_bp)),
    ]
    net = salary + bonus + travel - wage_tax - pension_ee
    entries: list[tuple[str, str, int, bool]] = [("4000", "Salaris", salary, True),
                                                 ("4010", "Reservering vakantiegeld", holiday, True)]
    if bonus:
        entries.append(("4020", "Eindejaarsuitkering", bonus, True))
    entries += [("4100", name, cents, True) for name, cents in charges]
    entries.append(("4150", "Pensioenpremie werkgever", pension_er, True))
    if travel:
        entries.append(("4200", "Reiskostenvergoeding", travel, True))
    entries.append(("1500", "Loonheffing", wage_tax, False))
    entries += [("1500", name, cents, False) for name, cents in charges]
    entries += [("1510", "Pensioenpremie werkgever", pension_er, False),
                ("1510", "Pensioenpremie werknemer", pension_ee, False),
                ("1520", "Nettoloon", net, False),
                ("1530", "Reservering vakantiegeld", holiday, False)]
    return [e for e in entries if e[2]]


_CENT_CACHE: dict[int, Decimal] = {}


def _money(cents: int) -> Decimal:
    value = _CENT_CACHE.get(cents)
    if value is None:
        value = Decimal(cents).scaleb(-2)
        if len(_CENT_CACHE) < 200_000:
            _CENT_CACHE[cents] = value
    return value


_ZERO = Decimal("0.00")


def _lines_for(profile: _Profile, emp: _Employee, period: int) -> list[JournalLine]:
    lines: list[JournalLine] = []
    main_cc = emp.split[0][0]
    for account, component, cents, is_debit in _payslip(profile, emp, period):
        if account.startswith("4"):  # cost lines carry the cost centre, split when the employee is split
            remaining = cents
            for n, (cc, bp) in enumerate(emp.split):
                part = remaining if n == len(emp.split) - 1 else _pct(cents, bp)
                remaining -= part
                amount = _money(part)
                lines.append(JournalLine(
                    account, component, f"{component} {emp.name}",
                    amount if is_debit else _ZERO, _ZERO if is_debit else amount,
                    department=DEMO_COST_CENTERS[cc], cost_center=cc, employee=emp.name,
                    percentage=None if len(emp.split) == 1 else _money(bp),
                ))
        else:
            amount = _money(cents)
            lines.append(JournalLine(
                account, component, f"{component} {emp.name}",
                amount if is_debit else _ZERO, _ZERO if is_debit else amount,
                department=DEMO_COST_CENTERS[main_cc], employee=emp.name,
            ))
    return lines


def _aggregated_lines(profile: _Profile, roster: list[_Employee], period: int) -> list[JournalLine]:
    """One line per (account, component, cost centre) for the whole run, as a compact journal report does."""
    sums: dict[tuple[str, str, str | None, bool], int] = {}
    for emp in roster:
        if not emp.first_period <= period <= emp.last_period:
            continue
        cc = emp.split[0][0]
        for account, component, cents, is_debit in _payslip(profile, emp, period):
            key = (account, component, cc if account.startswith("4") else None, is_debit)
            sums[key] = sums.get(key, 0) + cents
    lines = []
    for (account, component, cc, is_debit), cents in sums.items():
        amount = _money(cents)
        lines.append(JournalLine(account, component, component, amount if is_debit else _ZERO,
                                 _ZERO if is_debit else amount, department=DEMO_COST_CENTERS[cc] if cc else None,
                                 cost_center=cc))
    return lines


def _processed_at(year: int, period: int) -> datetime:
    return datetime(year, period, 25, 16, 0, tzinfo=UTC)


def _runs(profile: _Profile, year: int, rng: random.Random, employees: int, periods: int) -> list[PayrollRunData]:
    roster = _roster(profile, rng, employees)
    runs = []
    for period in range(1, periods + 1):
        lines: list[JournalLine] = []
        for emp in roster:
            if emp.first_period <= period <= emp.last_period:
                lines.extend(_lines_for(profile, emp, period))
        runs.append(PayrollRunData(profile.code, year, period, 1, _processed_at(year, period), tuple(lines)))
    return runs


def demo_runs(company_code: str, year: int = 2026) -> list[PayrollRunData]:
    """The twelve processed monthly runs (periods 1..12, run 1, processed the 25th at 16:00 UTC) of a demo company.

    Raises KeyError for a code that is not in DEMO_COMPANIES.
    """
    profile = _BY_CODE[company_code]
    return _runs(profile, year, random.Random(f"demo-payroll/{company_code}/{year}"), profile.employees, 12)


def demo_source(year: int = 2026) -> DemoPayrollSource:
    """All demo companies and their runs as a PayrollSource."""
    return DemoPayrollSource(DEMO_COMPANIES, {c.code: demo_runs(c.code, year) for c in DEMO_COMPANIES})


def last_processed_period(now: datetime) -> tuple[int, int]:
    """The newest (year, month) whose demo run was processed by ``now`` (runs are processed the 25th, 16:00 UTC)."""
    year, month = now.year, now.month
    if now < _processed_at(year, month):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return year, month


def demo_window_runs(company_code: str, now: datetime) -> list[PayrollRunData]:
    """The twelve monthly runs processed by ``now``, oldest first: what a live demo shows (no run dated in the
    future). They can span two fiscal years, as real payroll does."""
    year, month = last_processed_period(now)
    earlier = [r for r in demo_runs(company_code, year - 1) if r.period > month]
    return earlier + [r for r in demo_runs(company_code, year) if r.period <= month]


def demo_window_source(now: datetime) -> DemoPayrollSource:
    """All demo companies with their twelve runs processed by ``now``."""
    return DemoPayrollSource(DEMO_COMPANIES, {c.code: demo_window_runs(c.code, now) for c in DEMO_COMPANIES})


_BULK_PREFIXES = ("Bakkerij", "Installatiebedrijf", "Hoveniersbedrijf", "Transportbedrijf", "Kapsalon",
                  "Drukkerij", "Administratiekantoor", "Schoonmaakbedrijf", "Garage", "Apotheek", "Tandartspraktijk",
                  "Aannemersbedrijf", "Restaurant", "Makelaardij", "Dierenkliniek", "Fietsenwinkel")


def generate_bulk(
    n_companies: int, runs_per_company: int, *, seed: int = 2026, year: int = 2026, employees: tuple[int, int] = (2, 6)
) -> Iterator[tuple[PayrollCompanyData, list[PayrollRunData]]]:
    """Payroll-bureau-sized data for benchmarks: `n_companies` companies with `runs_per_company` monthly runs.

    Lazy (one company at a time) and deterministic for a given seed. Companies have `employees` people
    (default 2-6) and their journal is aggregated per (account, component, cost centre), without employee
    names, as compact payroll journal reports are; that keeps 2,000 companies x 12 runs to a few seconds.
    `runs_per_company` above 12 continues into the next years (period 1 again).
    """
    rng = random.Random(f"bulk/{seed}")
    for n in range(n_companies):
        template = _PROFILES[rng.randrange(len(_PROFILES))]
        code = f"BULK-{n + 1:05d}"
        name = f"{rng.choice(_BULK_PREFIXES)} {rng.choice(_LAST).title()} {n + 1}"
        profile = _Profile(code, name, template.employees, template.salary_range, template.cost_center_weights,
                           template.pension_employer_bp, template.pension_employee_bp,
                           template.pension_franchise_cents, template.whk_bp, template.year_end_bonus,
                           template.part_time_share)
        company_rng = random.Random(f"bulk/{seed}/{code}")
        roster = _roster(profile, company_rng, company_rng.randint(*employees))
        runs: list[PayrollRunData] = []
        for i in range(runs_per_company):
            run_year, period = year + i // 12, i % 12 + 1
            lines = _aggregated_lines(profile, roster, period)
            runs.append(PayrollRunData(code, run_year, period, 1, _processed_at(run_year, period), tuple(lines)))
        yield PayrollCompanyData(code, name), runs


def large_run(n_lines: int, *, seed: int = 7, year: int = 2026, period: int = 3) -> PayrollRunData:
    """One run of a very large synthetic company with about `n_lines` lines (at least `n_lines`), for benchmarks.

    Every cost line is split over the three cost centres by percentages of 1/3 each, the way a payroll journal
    report spreads a payslip, so the amounts carry many decimals (the last part takes the exact remainder and
    the run still balances exactly). That is the case the voucher builder must round once, at the end.
    """
    rng = random.Random(f"large/{seed}")
    profile = _PROFILES[1]
    third = Decimal(1) / Decimal(3)
    ccs = ("PROD", "VERK", "ADM")
    pct = Decimal("33.3333")
    lines: list[JournalLine] = []
    i = 0
    while len(lines) < n_lines:
        i += 1
        emp = _roster(profile, rng, 1)[0]
        emp_name = f"{emp.name} {i}"
        for account, component, cents, is_debit in _payslip(profile, emp, period):
            amount = _money(cents)
            if account.startswith("4"):
                part = (amount * third).quantize(Decimal("0.000001"))
                parts = (part, part, amount - part - part)
                for cc, value in zip(ccs, parts, strict=True):
                    lines.append(JournalLine(account, component, f"{component} {emp_name}",
                                             value if is_debit else _ZERO, _ZERO if is_debit else value,
                                             department=DEMO_COST_CENTERS[cc], cost_center=cc, employee=emp_name,
                                             percentage=pct))
            else:
                lines.append(JournalLine(account, component, f"{component} {emp_name}",
                                         amount if is_debit else _ZERO, _ZERO if is_debit else amount,
                                         employee=emp_name))
    return PayrollRunData(f"LARGE-{seed}", year, period, 1, _processed_at(year, period), tuple(lines))


# Demo payroll company code -> the sandbox company it is mapped to (sandbox/seed.py COMPANIES names).
# SCHOONMAAK-FRIS has no Visma company on purpose: the dashboard shows an unmapped company.
DEMO_MAPPING: dict[str, str] = {
    "BAKKERIJ-DGK": "Bakkerij De Gouden Korst B.V.",
    "INSTALLATIE-VDB": "Van der Berg Installatietechniek B.V.",
    "HOVENIER-GROEN": "Hoveniersbedrijf Groen & Zonen",
    "TRANSPORT-VISSER": "Transportbedrijf Visser B.V.",
    "KAPSALON-KNIPPERLICHT": "Kapsalon Het Knipperlicht",
    "DRUKKERIJ-SMIT": "Drukkerij Smit & Co B.V.",
    "ADMIN-MULDER": "Administratiekantoor Mulder V.O.F.",
}
