"""The build-context rules (TD501-TD510), shared with `trimdock lint` through RuleInfo."""

from __future__ import annotations

from trimdock.report.finding import Severity
from trimdock.report.rules import RuleInfo

LARGE_CONTEXT = RuleInfo(
    rule_id="TD501",
    title="Large build context",
    severity=Severity.WARNING,
    what="The builder receives more bytes than the configured limit on every build.",
    why="Every byte is read, archived and sent before the first instruction runs; a large "
    "context slows every build and every CI job.",
    example="A 900 MB context because datasets/ and .git/ are sent.",
    instead="Exclude what no COPY/ADD uses in .dockerignore "
    "(`trimdock context --write-dockerignore`).",
    category="size",
)
NO_DOCKERIGNORE = RuleInfo(
    rule_id="TD502",
    title="No .dockerignore",
    severity=Severity.WARNING,
    what="There is no .dockerignore while the context holds files no instruction uses, or VCS "
    "data, dependency folders (node_modules, .venv, ...) or secrets, even when a `COPY . .` "
    "takes them.",
    why="Without it the whole directory, VCS data and build outputs included, is sent.",
    example="A context with .git/, node_modules/ and docs/ but only `COPY src/ /app/`.",
    instead="Add a .dockerignore that excludes what no COPY/ADD needs.",
    category="size",
)
VCS_IN_CONTEXT = RuleInfo(
    rule_id="TD503",
    title="VCS directory in the build context",
    severity=Severity.WARNING,
    what="A .git (or .hg, .svn) directory is sent to the builder.",
    why="History is usually the largest unused part of a context, it breaks caching of "
    "`COPY . .` on every commit, and it can carry secrets that were deleted long ago.",
    example="`COPY . .` with .git/ not ignored.",
    instead="Add `.git` to .dockerignore.",
    category="size",
)
SECRET_IN_CONTEXT = RuleInfo(
    rule_id="TD504",
    title="Secret-looking file in the build context",
    severity=Severity.WARNING,
    what="A file that usually holds credentials (.env, private keys, .npmrc, credentials) is "
    "sent to the builder; error when a COPY/ADD also copies it into an image.",
    why="Anything copied into a layer can be read by whoever pulls the image, even if a later "
    "layer deletes it; the context itself may also reach remote builders.",
    example="`COPY . .` with .env and id_rsa in the directory.",
    instead="Ignore it in .dockerignore; pass secrets with `RUN --mount=type=secret`.",
    category="security",
)
PATTERN_MATCHES_NOTHING = RuleInfo(
    rule_id="TD505",
    title=".dockerignore pattern matches nothing",
    severity=Severity.INFO,
    what="A .dockerignore line matches no path of the context.",
    why="A stale or misspelt pattern hides the intent and may leave the real path unexcluded.",
    example="`nodemodules` while the directory is node_modules.",
    instead="Fix the pattern or delete the line.",
    category="correctness",
)
EXCEPTION_NO_EFFECT = RuleInfo(
    rule_id="TD506",
    title=".dockerignore exception cannot take effect",
    severity=Severity.WARNING,
    what="A `!` exception matches paths, yet removing it would not change what is sent.",
    why="The builder never looks inside an excluded directory unless an exception names it "
    "(legacy builder), a later pattern excludes the path again, or the path was never excluded.",
    example="`docs` then `!**/README.md`: the legacy builder skips docs/ entirely.",
    instead="Spell the exception with the directory prefix (`!docs/README.md`) or drop it.",
    category="correctness",
)
COPY_SOURCE_MISSING = RuleInfo(
    rule_id="TD507",
    title="COPY/ADD source not in the build context",
    severity=Severity.ERROR,
    what="A COPY/ADD source is missing, excluded by .dockerignore, or a wildcard matches nothing.",
    why="The build fails at this instruction.",
    example="`COPY config.yml /etc/app/` with `*.yml` in .dockerignore.",
    instead="Add an exception for the file or fix the path.",
    category="correctness",
)
FINAL_COPY_ALL = RuleInfo(
    rule_id="TD508",
    title="Final stage copies the whole context or whole directories",
    severity=Severity.INFO,
    what="A final-stage COPY/ADD of `.` or a directory brings every file in it into the image.",
    why="Docs, tests and tooling end up in the runtime image; the layer changes on every edit.",
    example="`COPY . .` in the final stage of a context with docs/ and tests/.",
    instead="Copy only what the application needs, explicitly.",
    category="size",
)
UNUSED_CONTEXT = RuleInfo(
    rule_id="TD509",
    title="Context holds files no instruction uses",
    severity=Severity.INFO,
    what="Files are sent to the builder that no COPY/ADD or bind mount can use.",
    why="They cost transfer time on every build and never reach an image.",
    example="A 40 MB docs/ directory sent for `COPY app/ /app/`.",
    instead="Exclude them (`trimdock context --write-dockerignore` writes a proven file).",
    category="size",
)
UNREADABLE_IN_CONTEXT = RuleInfo(
    rule_id="TD510",
    title="Unreadable file or directory in the build context",
    severity=Severity.ERROR,
    what="A path the builder would send cannot be read (permissions) or is a socket.",
    why="The docker CLI refuses the build ('no permission to read from', 'can't stat').",
    example="A root-owned 0600 file in a developer's checkout.",
    instead="Fix the permissions or exclude the path in .dockerignore.",
    category="correctness",
)

RULES: dict[str, RuleInfo] = {
    rule.rule_id: rule
    for rule in (
        LARGE_CONTEXT,
        NO_DOCKERIGNORE,
        VCS_IN_CONTEXT,
        SECRET_IN_CONTEXT,
        PATTERN_MATCHES_NOTHING,
        EXCEPTION_NO_EFFECT,
        COPY_SOURCE_MISSING,
        FINAL_COPY_ALL,
        UNUSED_CONTEXT,
        UNREADABLE_IN_CONTEXT,
    )
}
