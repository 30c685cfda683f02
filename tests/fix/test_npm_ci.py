"""TD122's fix (`npm install` -> `npm ci`) verified with a real npm: Debian's nodejs and npm in
a base built here (cached by its content hash), a project whose only dependency is a local
`file:` folder so `npm ci` needs no registry, and the lock written by npm itself."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.support.engine import build_image, docker, image_exists
from trimdock.fix.apply import fix_text
from trimdock.fix.verify import verify

pytestmark = pytest.mark.usefixtures("engine")

# Debian's own node and npm: about 90 s to build on a loaded 2-core machine, once (cached).
BASE = (
    "FROM debian:bookworm-slim\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \\\n"
    "    && rm -rf /var/lib/apt/lists/*\n"
)

DOCKERFILE = """\
FROM {base}
WORKDIR /app
# manifests first: the install layer is reused while they do not change
COPY package.json package-lock.json ./
COPY greet ./greet
RUN npm install --omit=dev --no-audit --no-fund \\
    && npm cache clean --force
COPY index.js ./
USER 65534:65534
CMD ["node", "index.js"]
"""


@pytest.fixture(scope="module")
def npm_base(tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("npm-base")
    (context / "Dockerfile").write_text(BASE)
    return build_image("fix-npm-base", context)


def _project(root: Path, base: str) -> None:
    (root / "package.json").write_text(
        json.dumps(
            {"name": "app", "version": "1.0.0", "private": True,
             "dependencies": {"greet": "file:greet"}},
            indent=2,
        )
        + "\n"
    )  # fmt: skip
    (root / "greet").mkdir()
    (root / "greet" / "package.json").write_text(
        '{"name": "greet", "version": "1.0.0", "main": "index.js"}\n'
    )
    (root / "greet" / "index.js").write_text("module.exports = (n) => `hello ${n}`;\n")
    (root / "index.js").write_text("console.log(require('greet')('npm'));\n")
    # The lock as npm writes it (no registry: the one dependency is a local folder).
    docker(
        "run", "--rm", "--network", "none", "-v", f"{root}:/app", "-w", "/app", base,
        "npm", "install", "--package-lock-only", "--offline", "--no-audit", "--no-fund",
    )  # fmt: skip
    (root / "Dockerfile").write_text(DOCKERFILE.format(base=base))


def test_npm_ci_verified_with_the_same_content(tmp_path: Path, npm_base: str) -> None:
    _project(tmp_path, npm_base)
    lock = json.loads((tmp_path / "package-lock.json").read_text())
    assert "node_modules/greet" in lock["packages"]
    text = (tmp_path / "Dockerfile").read_text()
    outcome = fix_text(text, str(tmp_path / "Dockerfile"), unsafe=True)
    assert [a.rule_id for a in outcome.applied] == ["TD122"]
    assert "RUN npm ci --omit=dev --no-audit --no-fund \\\n" in outcome.text
    digest = hashlib.sha256(outcome.text.encode()).hexdigest()[:12]
    tag = f"trimdock-test/fix-npm-ci:{digest}"
    try:
        result = verify(tmp_path, outcome, tag=tag, keep_images=True)
        assert result.failure is None and result.comparison is not None
        assert result.after is not None
        assert result.accepted, result.comparison.unexpected
        comparison = result.comparison
        # the same content: only npm's debug logs differ (named after the time of each run)
        logs = "/root/.npm/_logs/"
        assert comparison.lost and all(p.startswith(logs) for p in comparison.lost)
        assert all(p.startswith(logs) for p in comparison.added)
        assert comparison.changed == ()
        before, after = result.before.filesystem, result.after.filesystem

        def modules(paths: dict[str, int]) -> dict[str, int]:
            return {p: s for p, s in paths.items() if p.startswith("/app/node_modules/")}

        assert "/app/node_modules/greet" in modules(after.paths)
        assert modules(after.paths) == modules(before.paths)
        # the oracle: both images run the app the same way
        assert docker("run", "--rm", f"{tag}-after").strip() == "hello npm"
        assert docker("run", "--rm", f"{tag}-before").strip() == "hello npm"
    finally:
        for name in ("after", "before", "after-rebuild", "before-rebuild"):
            if image_exists(f"{tag}-{name}"):
                docker("rmi", f"{tag}-{name}")
