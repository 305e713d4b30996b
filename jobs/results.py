"""What one poll run did: rows written, duplicates, and each symbol left out with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobs.failures import Failure, Rejection


@dataclass
class RunResult:
    """What one run did: rows written, duplicates skipped, and why symbols were left out.

    `settled` names the symbols a run in several transactions has already committed (or
    left out): a failure after them fails only the others, and what was written stays counted.
    """

    kind: str
    written: int = 0
    duplicates: int = 0
    rejected: dict[str, Rejection] = field(default_factory=dict)
    failed: dict[str, Failure] = field(default_factory=dict)
    seconds: float = 0.0
    settled: set[str] = field(default_factory=set)

    @property
    def all_failed(self) -> bool:
        """True when nothing at all could be fetched and stored."""
        return self.written == 0 and self.duplicates == 0 and bool(self.failed or self.rejected)

    def summary(self) -> str:
        """One log line with the counts."""
        return (
            f"{self.kind}: written={self.written} duplicates={self.duplicates} "
            f"rejected={len(self.rejected)} failed={len(self.failed)} "
            f"in {self.seconds * 1000:.0f} ms"
        )

    def report(self) -> dict[str, object]:
        """The result as JSON-able values: each reason as its text, as it is logged."""
        return {
            "written": self.written,
            "duplicates": self.duplicates,
            "rejected": {symbol: str(r) for symbol, r in self.rejected.items()},
            "failed": {symbol: str(f) for symbol, f in self.failed.items()},
            "seconds": round(self.seconds, 3),
        }
