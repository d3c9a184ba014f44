"""What an export may read and write of one session, by the subject's recorded consent.

A private export (``Use.STUDY``) writes the modalities the study scope allows; a shared one
(``Use.SHARING``, ``microexp export --share``) those the sharing scope allows, intersected with
what was asked for (events only by default). Both may *read* what the study allows: the lab
locates the face in frames it may keep to crop the events, without writing the frames out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from microexp.consent.scope import ConsentError, ConsentScope, Modality, Use
from microexp.dataset.config import CameraConfig

__all__ = ["ExportPolicy", "SessionPermit", "subjects_for"]


@dataclass(frozen=True, slots=True)
class SessionPermit:
    """The decision for one session: what is read, what is written, and why anything is not."""

    scope: ConsentScope
    use: Use
    read: frozenset[Modality]
    write: frozenset[Modality]
    withheld: dict[str, str]  # modality -> reason it is not written
    warnings: tuple[str, ...] = ()
    excluded: str = ""  # why nothing of the session is written ("" = it is exported)

    def reads_events(self, camera: CameraConfig) -> bool:
        return bool(camera.events_topic) and Modality.EVENTS in self.read

    def reads_frames(self, camera: CameraConfig) -> bool:
        return bool(camera.frames_topic) and Modality(camera.frames_modality) in self.read

    def keeps_frames(self, camera: CameraConfig) -> bool:
        return bool(camera.frames_topic) and Modality(camera.frames_modality) in self.write

    def record(self, *, subject: str, session: str, source: str, shared: bool) -> dict[str, Any]:
        """The entry of ``dataset.json["consent"]`` for this session (the ids the dataset uses;
        ``shared``: without the date the consent was given)."""
        scope = self.scope.with_ids(subject_id=subject, session_id=session).to_dict()
        if shared:
            del scope["given_on"]
        return {
            "subject": subject,
            "session": session,
            "source": source,
            "use": self.use.value,
            "written": sorted(m.value for m in self.write),
            "withheld": dict(sorted(self.withheld.items())),
            "scope": scope,
        }


@dataclass(frozen=True, slots=True)
class ExportPolicy:
    """``use`` and the modalities asked for; :meth:`permit` decides per session."""

    use: Use
    modalities: frozenset[Modality]
    today: dt.date

    @classmethod
    def private(
        cls, *, today: dt.date, modalities: frozenset[Modality] | None = None
    ) -> ExportPolicy:
        return cls(Use.STUDY, frozenset(Modality) if modalities is None else modalities, today)

    @classmethod
    def share(
        cls, *, today: dt.date, modalities: frozenset[Modality] | None = None
    ) -> ExportPolicy:
        asked = frozenset({Modality.EVENTS}) if modalities is None else modalities
        return cls(Use.SHARING, asked, today)

    def permit(self, scope: ConsentScope | None, *, where: str) -> SessionPermit:
        """The session's permit. :class:`ConsentError` when its data may not be used at all (no
        consent recorded, consent ended); a permit with ``excluded`` set when this export may
        not write its events (a clip needs them), e.g. no sharing consent."""
        if scope is None:
            raise ConsentError(
                f"{where}: no consent recorded (neither /microexp/consent nor SessionInfo "
                "consent=true); not exported"
            )
        ended = scope.problems(modalities=(), use=Use.STUDY, today=self.today)
        if ended:
            raise ConsentError(f"{where}: {'; '.join(ended)}; its data may not be used")
        allowed = scope.allowed(self.use)
        withheld: dict[str, str] = {}
        for m in sorted(Modality, key=lambda m: m.value):
            if m not in self.modalities:
                withheld[m.value] = "not asked for"
            elif m not in allowed:
                withheld[m.value] = f"no {self.use.value} consent" + (
                    " (recorded before consent scopes)" if scope.version == 0 else ""
                )
        write = allowed & self.modalities
        excluded = (
            ""
            if Modality.EVENTS in write
            else f"{where}: subject {scope.subject_id}: events {withheld['events']}; not exported"
        )
        warnings = (
            (f"{where}: consent review was due on {scope.valid_until}",)
            if scope.review_overdue(self.today)
            else ()
        )
        return SessionPermit(scope, self.use, scope.study, write, withheld, warnings, excluded)


def subjects_for(meta: Mapping[str, Any], *, use: Use, modalities: Iterable[Modality]) -> set[str]:
    """Subjects of a dataset (its ``dataset.json`` as ``meta``) whose every recorded session's
    consent covers ``use`` of all ``modalities`` (e.g. which may appear in published figures)."""
    want = {Modality(m).value for m in modalities}
    ok: dict[str, bool] = {}
    for entry in meta.get("consent", []):
        covered = want <= set(entry["scope"][use.value])
        ok[entry["subject"]] = ok.get(entry["subject"], True) and covered
    return {s for s, yes in ok.items() if yes}
