"""Lost-message counting from sequence numbers (``EventPacket.seq``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SeqGapCounter"]


@dataclass
class SeqGapCounter:
    """Counts messages missing between consecutive ``seq`` values of one topic.

    A jump forward by ``k > 1`` counts ``k - 1`` lost messages; a repeated or smaller ``seq`` is a
    publisher restart (counted in ``restarts``, never as loss). Long-lived: one per topic.
    """

    last: int | None = None
    lost: int = 0
    received: int = 0
    restarts: int = 0

    def observe(self, seq: int) -> int:
        """Record ``seq``; returns the number of messages lost just before it."""
        self.received += 1
        gap = 0
        if self.last is not None:
            if seq > self.last:
                gap = seq - self.last - 1
            else:
                self.restarts += 1
        self.lost += gap
        self.last = seq
        return gap

    def reset(self) -> None:
        self.last = None
        self.lost = self.received = self.restarts = 0
