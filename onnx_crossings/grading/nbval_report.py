"""nbval's JUnit report, read with limits: which cells did not pass, and why."""

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

MAX_REPORT_BYTES = 5_000_000
# nbval colours its messages, escaped or not in the XML
COLOUR = re.compile(r"(\x1b|#x1B)\[[0-9;]*m")


class UnreadableReport(ValueError):
    """nbval wrote no report, or one too large or malformed to read."""


def failed_cells(report: Path) -> dict[str, str]:
    """nbval's number of each cell that failed or raised (as text) and nbval's message about it."""
    if not report.is_file() or report.is_symlink():
        raise UnreadableReport("nbval wrote no readable report")
    if report.stat().st_size > MAX_REPORT_BYTES:
        raise UnreadableReport("nbval's report is too large to read")
    try:
        cases = list(ElementTree.parse(report).iter("testcase"))
    except ElementTree.ParseError:
        raise UnreadableReport("nbval's report is not readable") from None
    failed = {}
    for case in cases:
        problem = next(iter(case), None)
        if problem is not None and problem.tag in ("failure", "error"):
            cell = str(case.get("name", "")).removeprefix("Cell ")
            failed[cell] = COLOUR.sub(
                "", str(problem.get("message") or problem.text or problem.tag)
            )
    return failed
