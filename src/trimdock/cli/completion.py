"""Shell completion values: local image names and rule ids (bash, zsh and fish via typer).

Completion runs on every Tab press, so it must answer fast and never print an error: an engine
that does not answer within a second gives no image names, not a stack trace in the prompt.
"""

from __future__ import annotations

from trimdock.errors import TrimdockError

# The transports an image argument accepts besides a local name (docs/sources.md).
TRANSPORTS = ("docker-daemon:", "docker-archive:", "oci:", "oci-archive:")
_COMPLETION_SECONDS = 1.0


def complete_images(incomplete: str) -> list[str]:
    if any(incomplete.startswith(t) for t in TRANSPORTS[1:]):
        return []  # a path: the shell's own file completion does better
    names = [t for t in TRANSPORTS if t.startswith(incomplete)]
    try:
        from trimdock.host.engine import Engine

        tags = Engine.connect(budget=_COMPLETION_SECONDS).tags()
    except (TrimdockError, OSError):
        return names
    prefix = "docker-daemon:" if incomplete.startswith("docker-daemon:") else ""
    wanted = incomplete.removeprefix(prefix)
    return names + [prefix + tag for tag in tags if tag.startswith(wanted)]


def complete_rule_ids(incomplete: str) -> list[str]:
    from trimdock.context.rules import RULES as CONTEXT_RULES
    from trimdock.rules.peers import WITHOUT_EQUIVALENT
    from trimdock.rules.registry import BY_PEER, RULE_INFOS
    from trimdock.runtime.check_rules import CHECK_RULES
    from trimdock.runtime.compose.rules import COMPOSE_RULES

    ids = sorted(
        {*RULE_INFOS, *CONTEXT_RULES, *COMPOSE_RULES, *CHECK_RULES, *BY_PEER, *WITHOUT_EQUIVALENT}
    )
    wanted = incomplete.upper()
    return [rule_id for rule_id in ids if rule_id.startswith(wanted)]
