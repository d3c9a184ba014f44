"""The consent record on the wire and at record time: ``microexp_msgs/msg/Consent`` <-> core
:class:`~microexp.consent.scope.ConsentScope`, and the check the protocol node makes before a
session starts (does the subject's consent cover every camera of the launch?)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from microexp.consent.scope import (
    ConsentError,
    ConsentScope,
    Modality,
    OnExpiry,
    Use,
    check_pseudonym,
    legacy_scope,
    load_consent,
    parse_modalities,
    shorthand_scope,
)
from microexp.errors import ConfigError

__all__ = [
    "CONSENT_TOPIC",
    "CONSENT_TYPE",
    "consent_fields",
    "parse_camera_modalities",
    "recorded_scope",
    "scope_from_msg",
    "session_consent",
]

CONSENT_TOPIC = "/microexp/consent"
CONSENT_TYPE = "microexp_msgs/msg/Consent"
_ON_EXPIRY = {OnExpiry.REVIEW: 0, OnExpiry.DELETE: 1}


def consent_fields(scope: ConsentScope) -> dict[str, Any]:
    """The fields of ``microexp_msgs/msg/Consent`` but the header (for rclpy and rosbags alike)."""
    return {
        "version": scope.version,
        "subject_id": scope.subject_id,
        "session_id": scope.session_id,
        "form": scope.form,
        "given_on": scope.given_on.isoformat() if scope.given_on else "",
        "valid_until": scope.valid_until.isoformat() if scope.valid_until else "",
        "on_expiry": _ON_EXPIRY[scope.on_expiry],
        "study_modalities": sorted(m.value for m in scope.study),
        "sharing_modalities": sorted(m.value for m in scope.sharing),
        "publication_modalities": sorted(m.value for m in scope.publication),
    }


def _msg_date(text: str, where: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise ConfigError(f"{where}: {text!r} is not a date (YYYY-MM-DD)") from err


def scope_from_msg(msg: Any, *, where: str) -> ConsentScope:
    """A ``microexp_msgs/msg/Consent`` message object as a :class:`ConsentScope`; a version this
    microexp does not know, or bad fields, raise :class:`ConfigError` naming ``where``."""
    version = int(msg.version)
    if version != 1:
        raise ConfigError(
            f"{where}: consent record version {version} is unknown to this microexp (it reads "
            "version 1); upgrade microexp to read this bag's consent"
        )
    try:
        on_expiry = next(k for k, v in _ON_EXPIRY.items() if v == int(msg.on_expiry))
    except StopIteration as err:
        raise ConfigError(f"{where}: unknown on_expiry {int(msg.on_expiry)}") from err
    return ConsentScope(
        subject_id=str(msg.subject_id),
        session_id=str(msg.session_id),
        study=parse_modalities(list(msg.study_modalities), where=f"{where}: study_modalities"),
        sharing=parse_modalities(
            list(msg.sharing_modalities), where=f"{where}: sharing_modalities"
        ),
        publication=parse_modalities(
            list(msg.publication_modalities), where=f"{where}: publication_modalities"
        ),
        form=str(msg.form),
        given_on=_msg_date(str(msg.given_on), f"{where}: given_on"),
        valid_until=_msg_date(str(msg.valid_until), f"{where}: valid_until"),
        on_expiry=on_expiry,
        version=version,
    )


def recorded_scope(*, consent_msg: Any, session_msg: Any, where: str) -> ConsentScope | None:
    """The consent a bag records: its ``Consent`` message (the last one), else, in a bag from
    before consent scopes, ``SessionInfo.consent=true`` read as :func:`legacy_scope`; None when
    neither (or ``consent=false``)."""
    if consent_msg is not None:
        return scope_from_msg(consent_msg, where=where)
    if session_msg is not None and bool(session_msg.consent):
        return legacy_scope(
            subject_id=str(session_msg.subject_id), session_id=str(session_msg.session_id)
        )
    return None


def parse_camera_modalities(items: Iterable[str], *, where: str) -> dict[str, frozenset[Modality]]:
    """``["davis:events", "davis:grey", "webcam:rgb"]`` -> ``{"davis": {EVENTS, GREY}, ...}``."""
    out: dict[str, set[Modality]] = {}
    for item in items:
        camera, sep, name = item.partition(":")
        if not sep or not camera:
            raise ConfigError(f"{where}: {item!r} is not CAMERA:MODALITY")
        out.setdefault(camera, set()).update(parse_modalities([name], where=f"{where}: {item}"))
    return {c: frozenset(m) for c, m in out.items()}


def session_consent(
    *,
    consent: bool,
    consent_file: str | Path,
    subject_id: str,
    session_id: str,
    cameras: Mapping[str, Iterable[Modality]],
    today: dt.date,
) -> ConsentScope:
    """The consent a session records, checked against the cameras of the launch.

    ``consent_file`` (a consent YAML) or the ``consent`` shorthand (study only, every modality;
    :func:`~microexp.consent.scope.shorthand_scope`), not both. Raises :class:`ConsentError`
    when there is none, when it is another subject's, when it has ended, or when it does not
    cover for the study a modality one of ``cameras`` records.
    """
    who = f"subject {subject_id!r}, session {session_id!r}"
    if consent and consent_file:
        raise ConfigError(
            f"{who}: give a consent file (consent_file) or the shorthand consent:=true, not both"
        )
    check_pseudonym(subject_id, where=who)
    if consent_file:
        loaded = load_consent(consent_file)
        if loaded.subject_id != subject_id:
            raise ConsentError(
                f"{consent_file}: consent of subject {loaded.subject_id!r}, but this session "
                f"records subject {subject_id!r}; nothing is recorded"
            )
        scope = loaded.with_ids(subject_id=subject_id, session_id=session_id)
        source = str(consent_file)
    elif consent:
        scope = shorthand_scope(subject_id=subject_id, session_id=session_id, given_on=today)
        source = "consent:=true"
    else:
        raise ConsentError(
            f"{who}: no consent recorded; the protocol does not start without the subject's "
            "consent (consent_file:=FILE, or consent:=true for study-only consent)"
        )
    recorded = frozenset(m for mods in cameras.values() for m in mods)
    problems = scope.problems(modalities=recorded, use=Use.STUDY, today=today)
    for camera, mods in sorted(cameras.items()):
        missing = frozenset(mods) - scope.study
        if missing:
            problems.append(
                f"camera {camera} records {', '.join(sorted(m.value for m in missing))}: "
                "remove it from cameras:= or record a consent that covers it"
            )
    if problems:
        raise ConsentError(
            f"{source}: the consent of {who} does not cover this launch; nothing is recorded: "
            + "; ".join(problems)
        )
    return scope
