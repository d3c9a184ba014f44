"""Which recorded bags hold a subject: ``microexp dataset withdraw --bags DIR``.

A bag belongs to a subject when the consent record (``microexp_msgs/Consent``) or the session
info inside it names the subject, or, in a bag with neither, its protocol events do; the file
name is never trusted. Bags that cannot be read are listed apart, so nothing is missed quietly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from microexp.bagio.reader import open_bag
from microexp.consent.record import CONSENT_TYPE
from microexp.errors import MicroexpError

__all__ = ["SubjectBags", "find_subject_bags"]

SESSION_INFO = "microexp_msgs/msg/SessionInfo"
PROTOCOL_EVENT = "microexp_msgs/msg/ProtocolEvent"
_BAG_FILES = (".mcap", ".db3")


@dataclass
class SubjectBags:
    """Bags of the subject (with what named them), and bags that could not be read."""

    matches: list[tuple[Path, str]] = field(default_factory=list)  # (bag, "consent" | ...)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    scanned: int = 0


def _candidates(root: Path) -> Iterator[Path]:
    """Bag folders (with metadata.yaml) and bare .mcap/.db3 files outside them, under ``root``."""
    if (root / "metadata.yaml").is_file() or root.suffix in _BAG_FILES:
        yield root
        return
    if not root.is_dir():
        return
    for child in sorted(root.iterdir()):
        yield from _candidates(child)


def _subjects(path: Path) -> tuple[set[str], str]:
    """Subject ids the bag's consent / session info (else protocol) names, and which it was."""
    with open_bag(path) as reader:
        by_type: dict[str, list[str]] = {}
        for name, info in reader.topics.items():
            by_type.setdefault(info.msgtype, []).append(name)
        for msgtype, what in ((CONSENT_TYPE, "consent"), (SESSION_INFO, "session info"),
                              (PROTOCOL_EVENT, "protocol events")):  # fmt: skip
            topics = by_type.get(msgtype, [])
            if not topics:
                continue
            found = {
                str(reader.deserialize(raw).subject_id) for raw in reader.messages(topics=topics)
            }
            found.discard("")
            if found:
                return found, what
    return set(), ""


def find_subject_bags(subject: str, roots: Iterable[Path]) -> SubjectBags:
    """Scan ``roots`` (folders or bags) for bags of ``subject``."""
    out = SubjectBags()
    for root in roots:
        root = Path(root)
        if not root.exists():
            out.unreadable.append((root, "does not exist"))
            continue
        for bag in _candidates(root):
            out.scanned += 1
            try:
                subjects, what = _subjects(bag)
            except MicroexpError as err:
                out.unreadable.append((bag, str(err)))
                continue
            except Exception as err:  # a corrupt file raises assorted errors
                out.unreadable.append((bag, f"{type(err).__name__}: {err}"))
                continue
            if subject in subjects:
                out.matches.append((bag, what))
    return out
