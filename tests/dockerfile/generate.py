"""Seeded generator of varied, sometimes odd, Dockerfiles for differential tests and the bench."""

from __future__ import annotations

import random

FRAGMENTS: tuple[str, ...] = (
    "FROM debian:bookworm-slim AS build",
    "FROM --platform=$BUILDPLATFORM golang:1.22 AS builder",
    "FROM busybox:latest",
    "FROM scratch",
    "FROM ${BASE:-alpine}:3.19",
    "ARG VERSION=1.2.3",
    "ARG BASE",
    'ARG A="x y" B=c',
    "RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
    "    ca-certificates \\\n    && rm -rf /var/lib/apt/lists/*",
    "RUN apt-get install -y python3",
    "RUN set -eux; \\\n    # a comment inside a continuation\n    apk add --no-cache git; \\\n"
    "\n    echo done",
    "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt",
    "RUN --mount=type=secret,id=token,required=true --network=none make",
    'RUN ["/bin/sh", "-c", "echo hello"]',
    'RUN ["broken", "json"',
    "RUN <<EOF\nset -e\napt-get update\nEOF",
    "RUN <<-EOT bash\n\techo tabbed\n\tEOT",
    "RUN 3<<A cat <<'B'\none\nA\ntwo $HOME\nB",
    "COPY <<EOF /etc/app.conf\nkey=value\nEOF",
    "COPY --from=build --chown=1000:1000 --chmod=755 /out/app /usr/local/bin/app",
    "COPY --link . .",
    'COPY ["a b", "/dest/"]',
    "ADD https://example.com/x.tar.gz /tmp/",
    "ADD --checksum=sha256:abc file.tar /opt/",
    "ENV PATH=/usr/local/bin:$PATH LANG=C.UTF-8",
    "ENV LEGACY value with spaces",
    'ENV QUOTED="a \\" b" OTHER=\'single\'',
    'LABEL org.opencontainers.image.title="demo" version=1',
    "EXPOSE 8080 443/tcp",
    "WORKDIR /app",
    "USER 1000:1000",
    "VOLUME /data",
    'VOLUME ["/a", "/b"]',
    "HEALTHCHECK --interval=30s --timeout=3s CMD curl -f http://localhost/ || exit 1",
    "HEALTHCHECK NONE",
    'CMD ["app", "--serve"]',
    "CMD app --serve",
    'ENTRYPOINT ["/entrypoint.sh"]',
    'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
    "STOPSIGNAL SIGTERM",
    "MAINTAINER someone@example.com",
    "ONBUILD RUN echo triggered",
    "ONBUILD COPY --from=x . /src",
    "# a plain comment",
    "#",
    "",
    "   ",
    "  RUN   indented   spaces  ",
    "run lower case keyword",
    "RUN echo a \\ \t\n  && echo b",
    "RUN echo 'quoted \\\n still' && echo \"x\"",
    "COPY --unknown-flag=1 a b",
    "RUN -- echo dashdash",
    'RUN --opt="quoted value" echo hi',
    "EXPOSE",
    "CMD []",
    "USER",
)


def generate(seed: int, lines: int = 40, *, crlf: bool | None = None) -> str:
    """A Dockerfile of about `lines` lines built from `FRAGMENTS`."""
    rng = random.Random(seed)
    out: list[str] = []
    if rng.random() < 0.3:
        out.append("# syntax=docker/dockerfile:1")
    if rng.random() < 0.15:
        out.append("# escape=`")
    total = 0
    out.append("FROM debian:bookworm-slim AS base")
    while total < lines:
        fragment = rng.choice(FRAGMENTS)
        if (out and out[0] == "# escape=`") or "# escape=`" in out[:2]:
            fragment = fragment.replace("\\\n", "`\n")
        out.append(fragment)
        total += fragment.count("\n") + 1
    text = "\n".join(out)
    if rng.random() < 0.7:
        text += "\n"
    use_crlf = rng.random() < 0.1 if crlf is None else crlf
    if use_crlf:
        text = text.replace("\n", "\r\n")
    return text


_NOISE = ("\\", "`", '"', "'", "[", "]", "<<", "<<-", "#", "\n", "\t", " ", "=", "--", "$", "{")


def mutate(text: str, seed: int, edits: int = 3) -> str:
    """Insert or delete a few characters that matter to the parser (quotes, escapes, brackets)."""
    rng = random.Random(seed)
    chars = list(text)
    for _ in range(edits):
        if not chars:
            break
        where = rng.randrange(len(chars))
        if rng.random() < 0.3:
            del chars[where]
        else:
            chars.insert(where, rng.choice(_NOISE))
    return "".join(chars)
