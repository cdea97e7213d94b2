"""Drive a Visma-like HTML login (log in → choose a company → allow) the way a browser without JavaScript would.

Why: the demo seed (``python -m core demo seed``) and the tests must connect sandbox accounts without a person at a
browser. The pages are read generically — every ``<form>`` with its action, method, fields and submit buttons — so a
changed template (new wording, another field order) does not break the robot. It stops at the redirect back to the
application's ``redirect_uri`` and returns that URL unfollowed: the caller completes the authorization with it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

MAX_STEPS = 12
_ALLOW_WORDS = ("allow", "accept", "approve", "grant", "consent", "yes", "toestaan", "akkoord", "tillåt")
_DENY_WORDS = ("deny", "reject", "decline", "cancel", "refuse", "no", "weiger", "neka")


class DemoLoginError(Exception):
    """The scripted login could not finish; the message says at which page and why."""


@dataclass
class Button:
    name: str | None
    value: str
    text: str = ""

    @property
    def label(self) -> str:
        return " ".join((self.text or self.value).split())


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, type, value)
    selects: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)  # name -> [(value, text, selected)]
    radios: list[tuple[str, str, str, bool]] = field(default_factory=list)  # (name, value, label text, checked)
    buttons: list[Button] = field(default_factory=list)

    def has_type(self, kind: str) -> bool:
        return any(t == kind for _, t, _ in self.fields)

    def base_data(self) -> dict[str, str]:
        """What a browser sends without the user touching anything (no button yet)."""
        data: dict[str, str] = {}
        for name, kind, value in self.fields:
            if kind not in ("checkbox", "radio", "submit", "button", "image", "reset", "file"):
                data[name] = value
        for name, options in self.selects.items():
            chosen = next((o for o in options if o[2]), options[0] if options else None)
            if chosen is not None:
                data[name] = chosen[0]
        for name, value, _label, checked in self.radios:
            if checked:
                data[name] = value
        return data


class _PageParser(HTMLParser):
    """Forms, the title, the first <h1> and alert texts of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.title = ""
        self.h1 = ""
        self.alerts: list[str] = []
        self._form: Form | None = None
        self._capture: list[tuple[str, object]] = []  # stack of (tag, target)
        self._select: str | None = None
        self._option: list | None = None
        self._last_radio: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        self._page_part(tag, a)
        if self._form is None:
            return
        if tag == "input":
            self._input(a)
        elif tag == "button":
            if (a.get("type") or "submit").lower() == "submit":
                button = Button(a.get("name") or None, a.get("value", ""))
                self._form.buttons.append(button)
                self._capture.append(("button", button))
        elif tag == "select":
            self._select = a.get("name", "")
            self._form.selects[self._select] = []
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "", "selected" in a]

    def _page_part(self, tag: str, a: dict[str, str]) -> None:
        """A form starts, or a text worth capturing: the title, the first heading, an alert."""
        classes = a.get("class", "").split()
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=(a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif tag == "title":
            self._capture.append(("title", None))
        elif tag == "h1" and not self.h1:
            self._capture.append(("h1", None))
        elif a.get("role") == "alert" or "error" in classes or "alert" in classes:
            self._capture.append((tag, ["alert", ""]))

    def _input(self, a: dict[str, str]) -> None:
        assert self._form is not None
        kind = (a.get("type") or "text").lower()
        name = a.get("name", "")
        if kind == "radio" and name:
            self._form.radios.append((name, a.get("value", "on"), "", "checked" in a))
            self._last_radio = len(self._form.radios) - 1
        elif kind in ("submit", "image"):
            self._form.buttons.append(Button(name or None, a.get("value", ""), a.get("value", "")))
        elif name and not (kind == "checkbox" and "checked" not in a):
            self._form.fields.append((name, kind, a.get("value", "on" if kind == "checkbox" else "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
            self._last_radio = None
        elif tag == "select":
            self._select = None
        elif tag == "option" and self._option is not None and self._select is not None and self._form is not None:
            value, text, selected = self._option
            self._form.selects[self._select].append((value if value is not None else text.strip(), text.strip(),
                                                     selected))
            self._option = None
        if self._capture and self._capture[-1][0] == tag:
            _, target = self._capture.pop()
            if isinstance(target, list) and target[1].strip():
                self.alerts.append(" ".join(target[1].split()))

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option[1] += data
        for tag, target in self._capture:
            if tag == "title" and target is None:
                self.title += data
            elif tag == "h1" and target is None:
                self.h1 += data
            elif isinstance(target, Button):
                target.text += data
            elif isinstance(target, list) and target[0] == "alert":
                target[1] += data
        # Text right after a radio button (inside its label or next to it) names that radio.
        if self._form is not None and self._last_radio is not None and data.strip():
            name, value, label, checked = self._form.radios[self._last_radio]
            self._form.radios[self._last_radio] = (name, value, (label + " " + data).strip(), checked)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


@dataclass
class Page:
    url: str
    status: int
    forms: list[Form]
    title: str
    h1: str
    alerts: list[str]

    def describe(self) -> str:
        head = " ".join((self.h1 or self.title).split()) or "a page without a heading"
        alert = f": {'; '.join(self.alerts)}" if self.alerts else ""
        return f"{head} (HTTP {self.status}){alert}"


def parse_page(url: str, status: int, html: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return Page(url, status, parser.forms, " ".join(parser.title.split()), " ".join(parser.h1.split()), parser.alerts)


def _is_callback(url: str, redirect_uri: str | None, identity_netloc: str) -> bool:
    target = urlsplit(url)
    if redirect_uri:
        want = urlsplit(redirect_uri)
        return (target.scheme, target.netloc, target.path or "/") == (want.scheme, want.netloc, want.path or "/")
    return target.netloc != identity_netloc


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _company_choices(form: Form) -> list[tuple[str, str, str]]:
    """(field name, value, label) of every company a form offers: select options, radios or named buttons."""
    choices = [(name, v, t) for name, options in form.selects.items() for v, t, _ in options if v]
    choices += [(name, value, label) for name, value, label, _ in form.radios]
    choices += [(b.name, b.value, b.label) for b in form.buttons if b.name and "compan" in b.name.lower()]
    return choices


def _match_company(choices: list[tuple[str, str, str]], company: str) -> tuple[str, str] | None:
    want = _norm(company)
    for exact in (True, False):
        for name, value, label in choices:
            if _norm(value) == want or _norm(label) == want or (not exact and want in _norm(label)):
                return name, value
    return None


def _pick_decision(forms: list[Form], allow: bool) -> tuple[Form, Button] | None:
    words = _ALLOW_WORDS if allow else _DENY_WORDS
    for form in forms:
        for button in form.buttons:
            tokens = {_norm(button.value), _norm(button.label), _norm(button.name or "")}
            for token in tokens:
                if any(token == w or token.startswith(w + " ") for w in words):
                    return form, button
    return None


def _submit(http: httpx.Client, page: Page, form: Form, data: dict[str, str]) -> httpx.Response:
    url = urljoin(page.url, form.action or page.url)
    if form.method == "post":
        return http.post(url, data=data)
    return http.get(url, params=data)


# httpcore's DEBUG trace prints whole response headers; the robot's last answer is the 302 whose Location carries the
# authorization code (and Set-Cookie the sandbox login). Those loggers are the only ones that see them.
_HTTP_TRACE_LOGGERS = ("httpcore.http11", "httpcore.http2")
_SECRET_IN_TRACE = re.compile(r"((?:[?&]|\b)(?:code|session_state)=|set-cookie', b')[^&'\s]+", re.IGNORECASE)


class _HideCodes(logging.Filter):
    """Replaces authorization codes and cookies in httpcore's header traces with ``***`` (never drops a line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        hidden = _SECRET_IN_TRACE.sub(r"\1***", text)
        if hidden != text:
            record.msg, record.args = hidden, ()
        return True


def hide_codes_in_http_debug_logs() -> None:
    """Before the demo robot logs in: an httpcore DEBUG log must not show the code it brings back (idempotent)."""
    for name in _HTTP_TRACE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _HideCodes) for f in logger.filters):
            logger.addFilter(_HideCodes())


def login_and_consent(
    authorization_url: str,
    *,
    email: str,
    password: str,
    company: str | None = None,
    allow: bool = True,
    http: httpx.Client | None = None,
) -> str:
    """Log in at ``authorization_url``, choose ``company`` (name or id) if asked, Allow (or Deny) and return the
    redirect to the application (``redirect_uri?code=…&state=…``, or ``?error=access_denied`` after Deny).

    With ``company=None`` a company choice is only accepted when it offers one company. When the identity server
    skips the choice (one company, or a *default company*), the company is whatever it decided.
    """
    hide_codes_in_http_debug_logs()
    redirect_uri = (parse_qs(urlsplit(authorization_url).query).get("redirect_uri") or [None])[0]
    identity_netloc = urlsplit(authorization_url).netloc
    own = http is None
    client = http or httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0))
    try:
        response = client.get(authorization_url, follow_redirects=False)
        logged_in_once = False
        chose = False
        for _ in range(MAX_STEPS):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers.get("location", ""))
                if _is_callback(location, redirect_uri, identity_netloc):
                    return location
                response = client.get(location, follow_redirects=False)
                continue
            page = parse_page(str(response.url), response.status_code, response.text)
            login_form = next((f for f in page.forms if f.has_type("password")), None)
            if login_form is not None:
                if logged_in_once:
                    raise DemoLoginError(f"Login refused for {email}: {page.describe()}")
                response = _submit(client, page, login_form, _login_data(login_form, email, password))
                logged_in_once = True
                continue
            chooser = next((f for f in page.forms if _company_choices(f)), None)
            if chooser is not None and not chose:
                response = _submit(client, page, chooser, _choose_data(chooser, company))
                chose = True
                continue
            decision = _pick_decision(page.forms, allow)
            if decision is not None:
                form, button = decision
                data = form.base_data()
                if button.name:
                    data[button.name] = button.value
                response = _submit(client, page, form, data)
                continue
            raise DemoLoginError(f"Unexpected page at {urlsplit(page.url).path}: {page.describe()}")
        raise DemoLoginError(f"The login did not reach the application after {MAX_STEPS} pages.")
    except httpx.HTTPError as exc:
        raise DemoLoginError(f"The identity server could not be reached: {exc}") from exc
    finally:
        if own:
            client.close()


def _login_data(form: Form, email: str, password: str) -> dict[str, str]:
    data = form.base_data()
    user_field = next((n for n, t, _ in form.fields if t == "email"), None) or next(
        (n for n, t, _ in form.fields if t == "text" and any(k in n.lower() for k in ("user", "mail", "login"))),
        None,
    ) or next((n for n, t, _ in form.fields if t == "text"), None)
    if user_field is None:
        raise DemoLoginError("The login page has no field for the e-mail address.")
    data[user_field] = email
    for name, kind, _ in form.fields:
        if kind == "password":
            data[name] = password
    return data


def _choose_data(form: Form, company: str | None) -> dict[str, str]:
    choices = _company_choices(form)
    offered = ", ".join(label or value for _, value, label in choices)
    if company is None:
        if len(choices) != 1:
            raise DemoLoginError(f"The identity server asks to choose a company; name one of: {offered}.")
        picked: tuple[str, str] | None = choices[0][:2]
    else:
        picked = _match_company(choices, company)
        if picked is None:
            raise DemoLoginError(f"Company {company!r} is not offered to this user; offered: {offered}.")
    data = form.base_data()
    data[picked[0]] = picked[1]
    return data
