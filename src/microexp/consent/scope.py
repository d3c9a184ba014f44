"""A subject's consent and its scope: what may be kept (per modality) for which use.

One record per subject and session, loaded from a consent YAML file (strict: unknown or missing
keys fail), published by the protocol node as ``microexp_msgs/Consent`` next to ``SessionInfo``
and recorded in the bag. Example (``config/consent/example.yaml``)::

    version: 1
    subject_id: P01          # pseudonymous: letters, digits, '-' and '_' (never a name)
    form: ethics-2026-014 v3 # which consent form was signed (id and version)
    given_on: 2026-03-02
    valid_until: 2027-03-01  # expiry or review date
    on_expiry: review        # review: consent due for renewal | delete: no use after the date
    study: [events, grey, rgb]
    sharing: [events]
    publication: []

Bags recorded before consent scopes carry only ``SessionInfo.consent`` (a bool):
:func:`legacy_scope` reads that as study-only consent for every modality (version 0).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from microexp.errors import ConfigError, MicroexpError

__all__ = [
    "CONSENT_VERSION",
    "ConsentError",
    "ConsentScope",
    "Modality",
    "OnExpiry",
    "Use",
    "check_pseudonym",
    "legacy_scope",
    "load_consent",
    "parse_consent",
    "parse_modalities",
    "shorthand_scope",
]

CONSENT_VERSION = 1
"""Layout of the consent record this microexp writes (``microexp_msgs/Consent.version``)."""

_SUBJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_KEYS = ("version", "subject_id", "form", "given_on", "valid_until", "on_expiry",
         "study", "sharing", "publication")  # fmt: skip


class ConsentError(MicroexpError):
    """What is asked for is not covered by the subject's consent (or no consent is recorded)."""


class Modality(str, enum.Enum):
    """What a camera records of the face (``microexp_msgs/Consent`` modality names)."""

    EVENTS = "events"  # event streams (DAVIS346, EVK4)
    GREY = "grey"  # grey frames (DAVIS346 APS)
    RGB = "rgb"  # RGB video (webcam)

    @property
    def description(self) -> str:
        return {"events": "event streams", "grey": "grey frames", "rgb": "RGB video"}[self.value]


class Use(str, enum.Enum):
    """What the recorded data may be used for."""

    STUDY = "study"  # recorded, exported and used in this study, inside the lab
    SHARING = "sharing"  # shared with other researchers (``microexp export --share``)
    PUBLICATION = "publication"  # example images in publications


class OnExpiry(str, enum.Enum):
    """What ``valid_until`` means."""

    REVIEW = "review"  # consent due for review; recorded data stays usable (export warns)
    DELETE = "delete"  # consent ends: no recording or export after the date


def parse_modalities(items: Iterable[Any], *, where: str) -> frozenset[Modality]:
    """Modality names -> :class:`Modality` set; unknown names and repeats fail."""
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise ConfigError(f"{where}: expected a list of modalities, got {items!r}")
    out: list[Modality] = []
    for item in items:
        try:
            out.append(Modality(item))
        except ValueError as err:
            raise ConfigError(
                f"{where}: unknown modality {item!r}; expected some of "
                f"{[m.value for m in Modality]}"
            ) from err
    if len(set(out)) != len(out):
        raise ConfigError(f"{where}: modality repeated in {list(items)!r}")
    return frozenset(out)


def check_pseudonym(subject_id: str, *, where: str) -> None:
    """Refuse a subject id that is not a pseudonym-shaped token (a name has a space, an e-mail
    address an '@'): 1-32 letters, digits, '-' or '_', starting with a letter or digit."""
    if not _SUBJECT.match(subject_id):
        raise ConfigError(
            f"{where}: subject id {subject_id!r} is not a pseudonym: use 1-32 letters, digits, "
            "'-' or '_' starting with a letter or digit (never a name or an e-mail address)"
        )


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as err:
        raise ConfigError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from err


def _names(modalities: Iterable[Modality]) -> list[str]:
    return sorted(m.value for m in modalities)


@dataclass(frozen=True, slots=True)
class ConsentScope:
    """One subject's consent for one session (``microexp_msgs/msg/Consent``).

    ``version`` 0 marks a scope derived from a pre-scope bag's ``SessionInfo.consent`` (and
    from nothing else); ``valid_until`` is None when no date was stated (legacy, shorthand).
    """

    subject_id: str
    study: frozenset[Modality]
    sharing: frozenset[Modality] = frozenset()
    publication: frozenset[Modality] = frozenset()
    session_id: str = ""
    form: str = ""
    given_on: dt.date | None = None
    valid_until: dt.date | None = None
    on_expiry: OnExpiry = OnExpiry.REVIEW
    version: int = CONSENT_VERSION

    def __post_init__(self) -> None:
        where = f"consent of subject {self.subject_id!r}"
        if self.version not in (0, CONSENT_VERSION):
            raise ConfigError(
                f"{where}: consent record version {self.version} is unknown to this microexp "
                f"(it reads 0 and {CONSENT_VERSION}); upgrade microexp"
            )
        for use, mods in ((Use.SHARING, self.sharing), (Use.PUBLICATION, self.publication)):
            beyond = mods - self.study
            if beyond:
                raise ConfigError(
                    f"{where}: {use.value} covers {_names(beyond)} which the study does not; "
                    "only what may be kept for the study can be shared or published"
                )
        if self.given_on and self.valid_until and self.valid_until < self.given_on:
            raise ConfigError(
                f"{where}: valid_until {self.valid_until} is before given_on {self.given_on}"
            )

    def allowed(self, use: Use) -> frozenset[Modality]:
        """The modalities this consent covers for ``use``."""
        return {Use.STUDY: self.study, Use.SHARING: self.sharing}.get(use, self.publication)

    def expired(self, today: dt.date) -> bool:
        """True once ``valid_until`` has passed (whatever ``on_expiry`` says)."""
        return self.valid_until is not None and today > self.valid_until

    def problems(self, *, modalities: Iterable[Modality], use: Use, today: dt.date) -> list[str]:
        """Why this consent does not allow ``use`` of ``modalities`` on ``today`` (empty: it
        does). An overdue review is not a problem (see :meth:`review_overdue`)."""
        out = []
        missing = frozenset(modalities) - self.allowed(use)
        if missing:
            what = ", ".join(Modality(m).description for m in _names(missing))
            out.append(f"no consent for {what} ({use.value})")
        if self.on_expiry is OnExpiry.DELETE and self.expired(today):
            out.append(f"consent ended on {self.valid_until} (on_expiry: delete)")
        return out

    def review_overdue(self, today: dt.date) -> bool:
        return self.on_expiry is OnExpiry.REVIEW and self.expired(today)

    def with_ids(self, *, subject_id: str, session_id: str) -> ConsentScope:
        """This scope for another (e.g. re-keyed) subject and session id."""
        return ConsentScope(
            subject_id=subject_id,
            study=self.study,
            sharing=self.sharing,
            publication=self.publication,
            session_id=session_id,
            form=self.form,
            given_on=self.given_on,
            valid_until=self.valid_until,
            on_expiry=self.on_expiry,
            version=self.version,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (dates ISO, modality lists sorted); the keys of the YAML file plus
        ``session_id``."""
        return {
            "version": self.version,
            "subject_id": self.subject_id,
            "session_id": self.session_id,
            "form": self.form,
            "given_on": self.given_on.isoformat() if self.given_on else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "on_expiry": self.on_expiry.value,
            "study": _names(self.study),
            "sharing": _names(self.sharing),
            "publication": _names(self.publication),
        }

    def describe(self) -> str:
        """One human-readable paragraph (``microexp inspect``)."""
        if self.version == 0:
            head = (
                f"subject {self.subject_id}: recorded before consent scopes "
                "(SessionInfo.consent=true only); read as study-only consent for every modality"
            )
        else:
            date = (
                f", valid until {self.valid_until} ({self.on_expiry.value})"
                if self.valid_until
                else ", no expiry or review date"
            )
            given = f", given {self.given_on}" if self.given_on else ""
            head = f"subject {self.subject_id}, form {self.form!r}{given}{date}"

        def lst(m: frozenset[Modality]) -> str:
            return ", ".join(_names(m)) or "none"

        return (
            f"{head}\n  study: {lst(self.study)}; sharing: {lst(self.sharing)}; "
            f"publication: {lst(self.publication)}"
        )


def parse_consent(data: Any, *, where: str) -> ConsentScope:
    """A consent record from a YAML mapping (every key of the module docstring, no others)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping of {list(_KEYS)}, got {data!r}")
    unknown = sorted(set(data) - set(_KEYS))
    missing = [k for k in _KEYS if k not in data]
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown} (known: {list(_KEYS)})")
    if missing:
        raise ConfigError(f"{where}: missing key(s) {missing}")
    if data["version"] != CONSENT_VERSION or isinstance(data["version"], bool):
        raise ConfigError(
            f"{where}: version {data['version']!r}; this microexp writes consent records of "
            f"version {CONSENT_VERSION}"
        )
    for key in ("subject_id", "form"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise ConfigError(f"{where}: {key} must be a non-empty string, got {data[key]!r}")
    check_pseudonym(data["subject_id"], where=where)
    try:
        on_expiry = OnExpiry(data["on_expiry"])
    except ValueError as err:
        raise ConfigError(
            f"{where}: on_expiry {data['on_expiry']!r}; expected review or delete"
        ) from err
    study = parse_modalities(data["study"] or [], where=f"{where}: study")
    if not study:
        raise ConfigError(
            f"{where}: study is empty: without consent for the study nothing is recorded"
        )
    sharing = parse_modalities(data["sharing"] or [], where=f"{where}: sharing")
    publication = parse_modalities(data["publication"] or [], where=f"{where}: publication")
    given_on = _date(data["given_on"], f"{where}: given_on")
    valid_until = _date(data["valid_until"], f"{where}: valid_until")
    try:
        return ConsentScope(
            subject_id=data["subject_id"],
            study=study,
            sharing=sharing,
            publication=publication,
            form=data["form"].strip(),
            given_on=given_on,
            valid_until=valid_until,
            on_expiry=on_expiry,
        )
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from err


def load_consent(path: Path | str) -> ConsentScope:
    """The consent record in the YAML file ``path``; errors name the file and the key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the consent file: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from err
    return parse_consent(data, where=str(path))


def shorthand_scope(*, subject_id: str, session_id: str, given_on: dt.date) -> ConsentScope:
    """What ``consent:=true`` (no consent file) stands for: this study only, every modality, no
    sharing, no publication, no expiry or review date."""
    return ConsentScope(
        subject_id=subject_id,
        session_id=session_id,
        study=frozenset(Modality),
        form="consent:=true (launch shorthand: study only, every modality)",
        given_on=given_on,
    )


def legacy_scope(*, subject_id: str, session_id: str) -> ConsentScope:
    """A pre-scope bag's ``SessionInfo.consent=true``: study-only, every modality (version 0)."""
    return ConsentScope(
        subject_id=subject_id,
        session_id=session_id,
        study=frozenset(Modality),
        form="SessionInfo.consent (recorded before consent scopes)",
        version=0,
    )
