"""SBOM documents of an inventory: CycloneDX 1.6 JSON and SPDX 2.3 JSON, written by the
reference libraries (cyclonedx-python-lib, spdx-tools), so the documents follow their schemas.

Packages a later layer deleted are included (their bytes ship), marked with the property
`trimdock:deleted`; every component carries the layer that added it. The serial number and
document namespace derive from the image's config digest, so the same image gives the same ids.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterable
from typing import Any

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from license_expression import ExpressionError, get_spdx_licensing
from packageurl import PackageURL

from trimdock import __version__
from trimdock.image.model import Image
from trimdock.security.model import Inventory, Package

CYCLONEDX_VERSION = SchemaVersion.V1_6
_NAMESPACE = uuid.UUID("0d2c1d52-5b55-4f0f-9d0a-7b3e0c6a1f2e")


def _image_id(image: Image) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, image.config_digest or image.reference)


def _properties(package: Package) -> Iterable[Property]:
    yield Property(name="trimdock:layer", value=str(package.layer))
    yield Property(name="trimdock:path", value="/" + package.path)
    if package.deleted:
        yield Property(name="trimdock:deleted", value="true")
    if package.source_name and package.source_name != package.name:
        yield Property(name="trimdock:source-package", value=package.source_name)


def cyclonedx_json(image: Image, inventory: Inventory, *, now: dt.datetime) -> str:
    """The CycloneDX JSON document of the inventory."""
    factory = LicenseFactory()
    bom = Bom(serial_number=_image_id(image))
    bom.metadata.timestamp = now
    bom.metadata.component = Component(
        name=image.reference,
        type=ComponentType.CONTAINER,
        version=image.config_digest or None,
        bom_ref="image",
    )
    root = bom.metadata.component
    seen: set[str] = set()
    for index, package in enumerate(inventory.packages):
        ref = f"{package.purl}#{index}" if package.purl in seen else package.purl
        seen.add(package.purl)
        component = Component(
            name=package.name,
            version=package.version,
            type=ComponentType.LIBRARY,
            purl=PackageURL.from_string(package.purl),
            bom_ref=ref,
            properties=list(_properties(package)),
        )
        if package.licence:
            component.licenses.add(factory.make_from_string(package.licence))
        bom.components.add(component)
    bom.register_dependency(root, bom.components)
    outputter = make_outputter(bom, OutputFormat.JSON, CYCLONEDX_VERSION)
    return outputter.output_as_string(indent=2) + "\n"


def spdx_json(image: Image, inventory: Inventory, *, now: dt.datetime) -> str:
    """The SPDX 2.3 JSON document of the inventory (validated by spdx-tools while written)."""
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.document import CreationInfo, Document
    from spdx_tools.spdx.model.package import (
        ExternalPackageRef,
        ExternalPackageRefCategory,
    )
    from spdx_tools.spdx.model.package import Package as SpdxPackage
    from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

    licensing = get_spdx_licensing()
    creation = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=image.reference,
        document_namespace=f"https://trimdock.invalid/spdx/{_image_id(image)}",
        creators=[Actor(ActorType.TOOL, f"trimdock-{__version__}")],
        created=now.replace(microsecond=0),
    )
    image_package = SpdxPackage(
        spdx_id="SPDXRef-Image",
        name=image.reference,
        download_location=SpdxNoAssertion(),
        version=image.config_digest or None,
        files_analyzed=False,
    )
    packages = [image_package]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-Image")]
    for index, package in enumerate(inventory.packages):
        declared: Any = SpdxNoAssertion()
        if package.licence:
            try:
                declared = licensing.parse(package.licence, validate=True, strict=True)
            except ExpressionError:
                declared = SpdxNoAssertion()
        spdx_id = f"SPDXRef-Package-{index}"
        comment = f"layer {package.layer}, /{package.path}"
        if package.deleted:
            comment += ", deleted by a later layer (its bytes still ship)"
        packages.append(
            SpdxPackage(
                spdx_id=spdx_id,
                name=package.name,
                download_location=SpdxNoAssertion(),
                version=package.version,
                files_analyzed=False,
                license_declared=declared,
                comment=comment,
                external_references=[
                    ExternalPackageRef(
                        ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", package.purl
                    )
                ],
            )
        )
        relationships.append(Relationship("SPDXRef-Image", RelationshipType.CONTAINS, spdx_id))
    document = Document(creation, packages=packages, relationships=relationships)
    stream = io.StringIO()
    write_document_to_stream(document, stream, validate=True)
    return stream.getvalue().rstrip("\n") + "\n"
