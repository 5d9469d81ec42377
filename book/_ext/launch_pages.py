"""Launch buttons only where they lead to a notebook that runs (a Sphinx extension the book loads).

The theme puts every launch button on every notebook page. `_config.yml` names, under `launch_pages`, the pages
each button may appear on: Colab on the chapters (their first cell installs the course), Binder where `binder/`
builds the packages. Pages without a launch button lose the empty menu too.
"""

from sphinx.application import Sphinx

LAUNCH_MENU = "launch-buttons"  # the theme's label for the rocket menu


def keep_configured_buttons(
    app: Sphinx, pagename: str, templatename, context: dict, doctree
) -> None:
    """Drop the launch buttons _config.yml does not list for this page, and the menu if none is left."""
    allowed = app.config.launch_pages
    kept = []
    for group in context.get("header_buttons", []):
        if group.get("label") == LAUNCH_MENU:
            group["buttons"] = [
                button
                for button in group["buttons"]
                if pagename in allowed.get(button["text"].lower(), [])
            ]
            if not group["buttons"]:
                continue
        kept.append(group)
    context["header_buttons"] = kept


def setup(app: Sphinx) -> dict:
    app.add_config_value("launch_pages", {}, "html")
    # after the theme adds its buttons (priority 501), before the page is rendered
    app.connect("html-page-context", keep_configured_buttons, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
