"""``campusconf help``: the project's own commands first, a line each, then Django's.

Django's own listing puts ``flush``, ``sqlflush`` and ``startproject`` beside ``demo``
and ``provision``, grouped by app; an operator looks for what CampusConf does.
"""

import textwrap

from django.core.management import get_commands, load_command_class

OURS = "campusconf."
WIDTH = 88


def summary(app: str, name: str) -> str:
    """The first sentence of a command's help: enough to choose it."""
    text = " ".join(str(load_command_class(app, name).help).split())
    first = text.split(". ")[0].rstrip(".")
    return first or "(no description)"


def overview() -> str:
    commands = get_commands()
    ours = sorted(name for name, app in commands.items() if app.startswith(OURS))
    theirs = sorted(name for name, app in commands.items() if not app.startswith(OURS))
    width = max(len(name) for name in ours) + 2
    lines = [
        "Usage: campusconf <command> [options]",
        "       campusconf help <command>    the options of one command",
        "",
        "CampusConf's commands:",
    ]
    for name in ours:
        # One line each: the rest is in `campusconf help <command>`.
        line = textwrap.shorten(summary(commands[name], name), WIDTH - width - 2, placeholder=" …")
        lines.append("  " + name.ljust(width) + line)
    lines += ["", "Django's and its libraries' commands (migrate, check, createsuperuser …):"]
    lines += textwrap.wrap(", ".join(theirs), WIDTH, initial_indent="  ", subsequent_indent="  ")
    return "\n".join(lines)
