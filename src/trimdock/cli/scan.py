"""`trimdock scan IMAGE`: inventory (SBOM), known vulnerabilities, attack surface, secrets."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import typer

from trimdock.cli.common import (
    ConfigOption,
    NoColorOption,
    OutputOption,
    OutputOptions,
    QuietOption,
    deliver,
)
from trimdock.cli.completion import complete_images
from trimdock.image.open import open_image
from trimdock.report.output import OutputFormat, emit
from trimdock.security.render import render_scan, scan_json
from trimdock.security.sbom import cyclonedx_json, spdx_json
from trimdock.security.scanner import scan_image


class SbomFormat(StrEnum):
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)


def scan(
    image: Annotated[
        str,
        typer.Argument(
            help="NAME[:TAG] (local engine), docker-daemon:NAME, docker-archive:FILE, "
            "oci:DIR[:TAG], oci-archive:FILE, or a path to an archive.",
            show_default=False,
            autocompletion=complete_images,
        ),
    ],
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform",
            help="Platform to pick from a multi-platform index: os/arch or os/arch/variant.",
        ),
    ] = None,
    format: Annotated[
        OutputFormat,
        typer.Option("--format", "-F", help="Report format.", case_sensitive=False),
    ] = OutputFormat.TEXT,
    output: OutputOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    config: ConfigOption = None,
    sbom: Annotated[
        SbomFormat | None,
        typer.Option(
            "--sbom",
            help="Write the inventory as an SBOM (CycloneDX 1.6 or SPDX 2.3 JSON) instead "
            "of the report.",
            case_sensitive=False,
        ),
    ] = None,
    no_verify: Annotated[
        bool,
        typer.Option("--no-verify", help="Skip the layer digest checks (trusted archives only)."),
    ] = False,
) -> None:
    """Inventory (SBOM), known vulnerabilities (offline), attack surface and secrets.

    Exit codes: 0 pass, 1 the [scan.policy] gate failed, 2 bad input.
    """
    options = OutputOptions(format, output, no_color, quiet)
    del config  # read by the policy gate
    with open_image(image, platform=platform, verify=not no_verify) as img:
        result = scan_image(img)
    if sbom is not None:
        now = dt.datetime.now(dt.UTC)
        writer = cyclonedx_json if sbom is SbomFormat.CYCLONEDX else spdx_json
        document = writer(result.image, result.inventory, now=now)
        if not (quiet and output is None):
            emit(document, output)
        return
    deliver(
        options,
        json_data=lambda: scan_json(result),
        render_text=lambda console: render_scan(console, result),
    )
