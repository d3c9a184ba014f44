"""The protocol state machine: plan + clock + operator commands -> stamped ``ProtocolEvent``s.

Two ways to drive it:

- **Time mode** — ``advance_to(now_ns)`` / ``tick()``: every transition due at or before ``now_ns``
  is committed and stamped with its scheduled time (step ends chain from scheduled times).
- **Frame mode** — the instruction player asks ``prepare_frame(t_next_ns)`` for what the next
  display frame must show, renders and shows it, then reports the time the frame was actually
  shown with ``on_frame_shown(t_shown_ns)``. The transitions that frame made visible are committed
  and stamped with ``t_shown_ns``: a phase change's stamp *is* the display time of the first frame
  showing it. The next step's end is ``t_shown_ns + duration``; every step is shown for at least
  one frame. With ``tolerance_ns`` = half a frame period (what the player passes) a change lands
  on the frame nearest its due time: ``|stamp - due| <= period / 2`` plus any lateness of the
  display itself; with 0 it lands on the first frame at or after it (never early).

Operator commands (``pause``, ``resume``, ``redo``, ``skip``, ``abort``) are queued with the clock
time of the call and applied at the next ``advance_to`` (at their call time) or the next frame
(at its display time). The state is saved to a :class:`ProgressStore` after every batch of
events; an engine built on an existing progress file resumes at the segment it was in, with a new
attempt, after marking the interrupted attempt invalid.
"""

from __future__ import annotations

import logging
import threading

from microexp.protocol.clock import Clock
from microexp.protocol.events import EventKind, Phase, ProtocolError, ProtocolEvent, SessionInfo
from microexp.protocol.plan import SessionPlan
from microexp.protocol.progress import Progress, ProgressStore, State
from microexp.protocol.schedule import FrameView, Step, prelude_steps, segment_steps

__all__ = ["Command", "FrameView", "ProtocolEngine", "Step", "prelude_steps", "segment_steps"]

log = logging.getLogger(__name__)
Command = str  # "pause" | "resume" | "redo" | "skip" | "abort"
_COMMANDS = ("pause", "resume", "redo", "skip", "abort")


class _State:
    """Mutable cursor; copied for look-ahead (``prepare_frame``)."""

    def __init__(self, start_block: int, attempts: dict[int, int]) -> None:
        self.started = False
        self.done = False
        self.aborted = False
        self.block = start_block  # -1 prelude, k segment, n end
        self.step = 0
        self.due_ns = 0
        self.remaining_ns: int | None = None  # set while paused
        self.perform_done = False
        self.attempts = dict(attempts)
        self.last_ns = 0

    def copy(self) -> _State:
        s = _State.__new__(_State)
        s.__dict__.update(self.__dict__)
        s.attempts = dict(self.attempts)
        return s


class ProtocolEngine:
    """Runs one session of a plan. Long-lived; not reusable after the session ended."""

    def __init__(
        self,
        plan: SessionPlan,
        session: SessionInfo,
        *,
        clock: Clock,
        progress: ProgressStore | None = None,
    ) -> None:
        if not session.consent:
            raise ProtocolError(
                f"session {session.session_id!r} of subject {session.subject_id!r}: no consent "
                "recorded; the protocol does not start without the subject's consent"
            )
        self.plan = plan
        self.session = session
        self.clock = clock
        self._store = progress
        self._prelude = prelude_steps(plan)
        self._seg_steps = segment_steps(plan)
        self._n = len(plan.segments)
        self._lock = threading.Lock()
        self._queue: list[tuple[Command, int]] = []
        self._prepared: tuple[int, list[tuple[Command, int]]] | None = None
        self._events_total = 0
        self._resume_from: int | None = None
        self._resume_state = ""
        attempts: dict[int, int] = {}
        if progress is not None and progress.exists():
            p = progress.load()
            self._check_progress(p)
            attempts, self._events_total = dict(p.attempts), p.events
            self._resume_from, self._resume_state = p.position, p.state
        self._s = _State(-1, attempts)
        self.history: list[ProtocolEvent] = []

    def _check_progress(self, p: Progress) -> None:
        where = f"{self._store.path if self._store else ''}"
        if p.plan_digest != self.plan.digest:
            raise ProtocolError(f"{where}: progress of plan {p.plan_name!r} with another content")
        if p.session_id != self.session.session_id or p.subject_id != self.session.subject_id:
            raise ProtocolError(
                f"{where}: progress of session {p.session_id!r} / subject {p.subject_id!r}, "
                f"not {self.session.session_id!r} / {self.session.subject_id!r}"
            )
        if p.state == "complete":
            raise ProtocolError(f"{where}: session {p.session_id!r} is already complete")

    # ---- state --------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self._s.done

    @property
    def paused(self) -> bool:
        return self._s.remaining_ns is not None

    @property
    def position(self) -> int:
        """-1 in the session prelude, else the index of the current segment (n when done)."""
        return self._s.block

    def _steps(self, block: int) -> tuple[Step, ...]:
        return self._prelude if block < 0 else self._seg_steps

    # ---- commands -----------------------------------------------------------------------
    def command(self, name: Command) -> None:
        """Queue an operator command; raises :class:`ProtocolError` if it cannot apply now."""
        if name not in _COMMANDS:
            raise ProtocolError(f"unknown command {name!r} (known: {', '.join(_COMMANDS)})")
        s = self._s
        if not s.started or s.done:
            raise ProtocolError(f"{name}: the session is {'over' if s.done else 'not started'}")
        if name == "pause" and self.paused:
            raise ProtocolError("pause: already paused")
        if name == "resume" and not self.paused:
            raise ProtocolError("resume: not paused")
        if name == "redo" and s.block < 0:
            raise ProtocolError("redo: no segment has started yet")
        with self._lock:
            self._queue.append((name, self.clock.now_ns()))

    def pause(self) -> None:
        self.command("pause")

    def resume(self) -> None:
        self.command("resume")

    def redo(self) -> None:
        self.command("redo")

    def skip(self) -> None:
        self.command("skip")

    def abort(self) -> None:
        self.command("abort")

    # ---- driving ------------------------------------------------------------------------
    def tick(self) -> list[ProtocolEvent]:
        return self.advance_to(self.clock.now_ns())

    def advance_to(self, now_ns: int) -> list[ProtocolEvent]:
        """Time mode: commit what is due by ``now_ns``, each stamped with its scheduled time."""
        with self._lock:
            cmds, self._queue = self._queue, []
        events = self._advance(self._s, now_ns, None, cmds)
        return self._commit(events)

    def prepare_frame(self, t_ns: int, *, tolerance_ns: int = 0) -> FrameView:
        """Frame mode: what the frame to be shown at about ``t_ns`` shows (commits nothing).

        Steps due by ``t_ns + tolerance_ns`` end in this frame: the player passes half a frame
        period, so a change lands on the frame nearest its due time."""
        with self._lock:
            cmds = (self._prepared[1] if self._prepared else []) + self._queue
            self._queue = []
        until = t_ns + max(tolerance_ns, 0)
        self._prepared = (until, cmds)
        look = self._s.copy()
        self._advance(look, until, t_ns, list(cmds))
        return self._view(look, t_ns)

    def on_frame_shown(self, t_shown_ns: int) -> list[ProtocolEvent]:
        """Frame mode: the prepared frame was shown at ``t_shown_ns``; returns its events."""
        if self._prepared is None:
            raise ProtocolError("on_frame_shown without prepare_frame")
        t_ns, cmds = self._prepared
        self._prepared = None
        # which transitions: those due by the prepared time (what the frame shows); their stamp:
        # the reported display time (kept monotonic)
        stamp = max(t_shown_ns, self._s.last_ns)
        return self._commit(self._advance(self._s, t_ns, stamp, cmds))

    def _view(self, s: _State, t_ns: int) -> FrameView:
        seg = self.plan.segments[s.block] if 0 <= s.block < self._n else None
        step = None
        steps = self._steps(s.block)
        if s.started and not s.done and s.step < len(steps):
            step = steps[s.step]
        dur = step.duration_ns if step else 0
        left = s.remaining_ns if s.remaining_ns is not None else max(s.due_ns - t_ns, 0)
        return FrameView(
            t_ns=t_ns,
            started=s.started,
            finished=s.done,
            paused=s.remaining_ns is not None,
            phase=step.phase if step else Phase.NONE,
            segment=seg,
            attempt=s.attempts.get(s.block, 0) if seg else 0,
            elapsed_ns=min(max(dur - left, 0), dur),
            step_duration_ns=dur,
            flash=step.flash if step and s.remaining_ns is None else 0,
        )

    def _commit(self, events: list[ProtocolEvent]) -> list[ProtocolEvent]:
        if events:
            self.history.extend(events)
            self._events_total += len(events)
            if self._store is not None:
                s = self._s
                state: State = "aborted" if s.aborted else "complete" if s.done else "running"
                self._store.save(
                    Progress(
                        plan_name=self.plan.name,
                        plan_digest=self.plan.digest,
                        session_id=self.session.session_id,
                        subject_id=self.session.subject_id,
                        state=state,
                        position=s.block,
                        attempts=dict(s.attempts),
                        events=self._events_total,
                        updated_ns=events[-1].stamp_ns,
                    )
                )
        return events

    # ---- the machine --------------------------------------------------------------------
    def _advance(
        self, s: _State, until_ns: int, frame_ns: int | None, cmds: list[tuple[Command, int]]
    ) -> list[ProtocolEvent]:
        out: list[ProtocolEvent] = []
        m = _Machine(self, s, out, frame_ns)
        if not s.started:
            m.start(until_ns if frame_ns is None else frame_ns)
        while not s.done:
            cmd_t = cmds[0][1] if cmds else None
            if frame_ns is not None and cmd_t is not None:
                cmd_t = until_ns  # a frame shows every command queued before it was prepared
            # in frame mode a step entered by this frame is shown by it: at most one step ends
            # per frame and every step is on screen for at least one frame
            running = s.remaining_ns is None and not m.entered_step
            if running and s.due_ns <= until_ns and (cmd_t is None or s.due_ns <= cmd_t):
                m.finish_step(s.due_ns)
            elif cmd_t is not None and cmd_t <= until_ns:
                name, _ = cmds.pop(0)
                m.apply(name, max(cmd_t, s.last_ns))
            else:
                break
        return out


class _Machine:
    """One pass of the state machine over a state; emits into ``out``."""

    def __init__(
        self, eng: ProtocolEngine, s: _State, out: list[ProtocolEvent], frame_ns: int | None
    ) -> None:
        self.e, self.s, self.out, self.frame_ns = eng, s, out, frame_ns
        self.entered_step = False

    def _t(self, t: int) -> int:
        return t if self.frame_ns is None else self.frame_ns

    def emit(
        self,
        kind: EventKind,
        t: int,
        *,
        phase: Phase = Phase.NONE,
        valid: bool = True,
        detail: str = "",
        session_level: bool = False,
    ) -> None:
        s = self.s
        seg = None if session_level or s.block < 0 else self.e.plan.segments[s.block]
        self.s.last_ns = t
        self.out.append(
            ProtocolEvent(
                kind=kind,
                phase=phase,
                stamp_ns=t,
                session_id=self.e.session.session_id,
                subject_id=self.e.session.subject_id,
                segment_index=seg.index if seg else 0,
                attempt=s.attempts.get(s.block, 0) if seg else 0,
                label=seg.label if seg else "",
                au_numbers=seg.au_numbers if seg else (),
                valid=valid,
                detail=detail,
            )
        )

    def start(self, t: int) -> None:
        s, e = self.s, self.e
        s.started = True
        resume = e._resume_from
        detail = f"plan={e.plan.name}"
        if resume is not None:
            detail += f" resume_at={resume}"
        self.emit(EventKind.SESSION_START, t, detail=detail, session_level=True)
        if (
            resume is not None
            and e._resume_state == "running"
            and 0 <= resume < e._n
            and s.attempts.get(resume, 0) > 0
        ):
            s.block = resume
            self.emit(EventKind.ATTEMPT_INVALID, t, valid=False, detail="interrupted")
        s.block = -1
        self._enter_block(-1, t)

    def _enter_block(self, block: int, t: int) -> None:
        s, e = self.s, self.e
        if block < 0 and not e._prelude:
            block = self._next_after_prelude_block()
        s.block, s.step, s.perform_done, s.remaining_ns = block, 0, False, None
        if block >= e._n:
            s.done = True
            self.emit(EventKind.SESSION_END, t, detail="complete", session_level=True)
            return
        if block >= 0:
            s.attempts[block] = s.attempts.get(block, 0) + 1
            self.emit(
                EventKind.SEGMENT_START,
                t,
                phase=e._seg_steps[0].phase,
                detail=e.plan.segments[block].run,
            )
        self._enter_step(0, t)

    def _enter_step(self, i: int, t: int) -> None:
        s = self.s
        steps = self.e._steps(s.block)
        step = steps[i]
        s.step = i
        s.due_ns = t + step.duration_ns
        self.entered_step = self.frame_ns is not None
        if i == 0 or steps[i - 1].phase != step.phase:
            self.emit(EventKind.PHASE, t, phase=step.phase, detail=step.phase.name.lower())
        if step.flash:
            where = "session" if s.block < 0 else "segment"
            self.emit(
                EventKind.SYNC_FLASH,
                t,
                phase=Phase.SYNC,
                detail=f"{where} flash {step.flash}/{step.flashes}",
                session_level=s.block < 0,
            )

    def finish_step(self, due_ns: int) -> None:
        s = self.s
        t = self._t(due_ns)
        steps = self.e._steps(s.block)
        if steps[s.step].phase == Phase.PERFORM:
            s.perform_done = True
        if s.step + 1 < len(steps):
            self._enter_step(s.step + 1, t)
            return
        if s.block >= 0:
            self.emit(EventKind.SEGMENT_END, t, detail="complete")
            self._enter_block(s.block + 1, t)
        else:
            self._enter_block(self._next_after_prelude_block(), t)

    def _next_after_prelude_block(self) -> int:
        resume = self.e._resume_from
        return resume if resume is not None and resume >= 0 else 0

    def apply(self, name: Command, t0: int) -> None:
        s, e = self.s, self.e
        t = self._t(t0)
        phase = e._steps(s.block)[s.step].phase if s.block < e._n else Phase.NONE
        if name == "pause":
            if s.remaining_ns is not None:
                return
            s.remaining_ns = max(s.due_ns - t, 0)
            self.emit(EventKind.COMMAND, t, phase=phase, detail="pause")
            self.emit(EventKind.PHASE, t, phase=Phase.PAUSED, detail="paused")
        elif name == "resume":
            if s.remaining_ns is None:
                return
            s.due_ns, s.remaining_ns = t + s.remaining_ns, None
            self.emit(EventKind.COMMAND, t, phase=phase, detail="resume")
            self.emit(EventKind.PHASE, t, phase=phase, detail="resume")
        elif name in ("redo", "skip", "abort"):
            self.emit(EventKind.COMMAND, t, phase=phase, detail=name)
            if s.block >= 0:
                valid = name != "redo" and s.perform_done
                if not valid:
                    self.emit(EventKind.ATTEMPT_INVALID, t, phase=phase, valid=False, detail=name)
                self.emit(EventKind.SEGMENT_END, t, valid=valid, detail=name)
            if name == "abort":
                s.aborted = s.done = True
                if s.block >= 0 and s.perform_done:
                    s.block += 1
                self.emit(EventKind.SESSION_END, t, detail="aborted", session_level=True)
            elif name == "redo":
                self._enter_block(s.block, t)
            else:
                self._enter_block(
                    s.block + 1 if s.block >= 0 else self._next_after_prelude_block(), t
                )
