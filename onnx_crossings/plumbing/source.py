"""The course's own code shown in a chapter, read from its source file so the page cannot drift from it."""

import inspect
import textwrap

from IPython.display import Code, display


def source_of(*objects) -> str:
    """The source code of functions, methods or classes, one after another, dedented, as their files have it."""
    sources = [textwrap.dedent(inspect.getsource(item)).rstrip() for item in objects]
    return "\n\n\n".join(sources) + "\n"


def show_source(*objects) -> None:
    """Display the source code of functions, methods or classes, highlighted."""
    display(Code(source_of(*objects), language="python"))
