"""The book's recommended patterns must stay quiet on size and cache rules; their naive
counterparts must not. A rule that flags the recommended order teaches users the wrong thing."""

from __future__ import annotations

import pytest

from trimdock.dockerfile import parse
from trimdock.rules.engine import lint
from trimdock.rules.registry import RULES

# Dependency manifest first, fetch, then the source and the build: the order to adopt.
GOOD: dict[str, str] = {
    "maven": """\
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B dependency:go-offline
COPY . .
RUN mvn -B package -DskipTests
FROM eclipse-temurin:21-jre
COPY --from=build /src/target/app.jar /app.jar
""",
    "gradle": """\
FROM gradle:8-jdk21 AS build
WORKDIR /src
COPY build.gradle settings.gradle ./
RUN gradle dependencies --no-daemon
COPY . .
RUN gradle build --no-daemon
FROM eclipse-temurin:21-jre
COPY --from=build /src/build/libs/app.jar /app.jar
""",
    "npm": """\
FROM node:20 AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
FROM node:20-slim
COPY --from=build /app/dist /app
""",
    "yarn": """\
FROM node:20 AS build
WORKDIR /app
COPY package.json yarn.lock ./
RUN yarn install --frozen-lockfile
COPY . .
RUN yarn build
FROM node:20-slim
COPY --from=build /app/dist /app
""",
    "pip": """\
FROM python:3.12 AS build
WORKDIR /app
COPY requirements.txt .
RUN pip wheel --no-cache-dir -r requirements.txt -w /wheels
COPY . .
RUN pip wheel --no-cache-dir --no-deps . -w /wheels
FROM python:3.12-slim
COPY --from=build /wheels /wheels
""",
    "poetry": """\
FROM python:3.12 AS build
WORKDIR /app
COPY pyproject.toml poetry.lock ./
RUN poetry install --no-root
COPY . .
RUN poetry build
FROM python:3.12-slim
COPY --from=build /app/dist /dist
""",
    "go": """\
FROM golang:1.22 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app .
FROM scratch
COPY --from=build /out/app /app
""",
    "cargo": """\
FROM rust:1.78 AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
RUN cargo fetch
COPY . .
RUN cargo build --release
FROM debian:bookworm-slim
COPY --from=build /src/target/release/app /app
""",
    "cache mounts": """\
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build --mount=type=cache,target=/go/pkg/mod \\
    go build -o /out/app .
FROM scratch
COPY --from=build /out/app /app
""",
}

# The naive order: the whole source before the dependency fetch.
BAD: dict[str, tuple[str, str]] = {
    "npm": ("TD201", "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"),
    "maven": ("TD201", "FROM maven:3.9\nWORKDIR /src\nCOPY . .\nRUN mvn -B package\n"),
    "pip": (
        "TD201",
        "FROM python:3.12\nWORKDIR /a\nCOPY . .\nRUN pip install -r requirements.txt\n",
    ),
    "go": ("TD201", "FROM golang:1.22\nWORKDIR /s\nCOPY . .\nRUN go mod download\n"),
    "source before apt": (
        "TD202",
        "FROM debian:12\nCOPY src/ /src/\nRUN apt-get update && apt-get install -y curl\n",
    ),
    "source before download": (
        "TD202",
        "FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN curl -fsSLo /tmp/t.tgz https://e.x/t.tgz\n",
    ),
    "delete after a copy into /": ("TD102", "FROM debian:12\nCOPY . .\nRUN rm -rf docs\n"),
    "config before apt": (
        "TD202",
        "FROM debian:12\nCOPY app.conf /etc/app.conf\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
    ),
}

SIZE_AND_CACHE = {r.info.rule_id for r in RULES if r.info.category in ("size", "cache")}


def _ids(text: str) -> set[str]:
    return {finding.rule_id for finding in lint(parse(text))}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_recommended_pattern_has_no_size_or_cache_finding(name: str) -> None:
    assert _ids(GOOD[name]) & SIZE_AND_CACHE == set()


@pytest.mark.parametrize("name", sorted(BAD))
def test_naive_order_is_reported(name: str) -> None:
    rule, text = BAD[name]
    assert rule in _ids(text)


def test_a_global_tool_install_does_not_excuse_a_source_copy_before_the_fetch() -> None:
    text = "FROM node:20\nRUN npm install -g pnpm\nWORKDIR /a\nCOPY . .\nRUN npm ci\n"
    assert "TD201" in _ids(text)


QUIET: dict[str, tuple[str, str]] = {
    "build reads the copied tree": (
        "TD202",
        "FROM debian:12\nWORKDIR /s\nCOPY . .\n"
        "RUN apt-get update && apt-get install -y gcc && make\n",
    ),
    "install names the copied file": (
        "TD202",
        "FROM debian:12\nCOPY pkg.deb /tmp/pkg.deb\nRUN apt-get install -y /tmp/pkg.deb\n",
    ),
    "system folder removed after a copy into /": (
        "TD102",
        "FROM debian:12\nCOPY . .\nRUN rm -rf /var/lib/apt/lists/*\n",
    ),
}


@pytest.mark.parametrize("name", sorted(QUIET))
def test_precision_cases_stay_quiet(name: str) -> None:
    rule, text = QUIET[name]
    assert rule not in _ids(text)
