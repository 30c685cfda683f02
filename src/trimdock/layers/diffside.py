"""Summarising one image for `trimdock diff`: the layer pass, the reclaim analysis, and every
visible file's size, origin and metadata (headers only, plus what the reclaim analysis reads)."""

from __future__ import annotations

from trimdock.image.open import open_image
from trimdock.layers.analysis import summarize
from trimdock.layers.diff import DiffSide, FileState, LayerInfo, PackageState
from trimdock.layers.overlay import K_DIR, K_FILE, K_SYMLINK, Node, Overlay
from trimdock.layers.reclaim.classify import ReclaimOptions, achievable
from trimdock.layers.reclaim.collect import ReclaimDetails, reclaim_details


def _file_states(overlay: Overlay, diff_ids: list[str]) -> dict[str, FileState]:
    states: dict[str, FileState] = {}
    stack: list[tuple[str, Node]] = [("", overlay.root)]
    while stack:
        path, node = stack.pop()
        if not node.kids:
            continue
        for name, child in node.kids.items():
            if child.e_layer < 0:
                continue
            child_path = f"{path}/{name}" if path else name
            if child.e_kind == K_DIR:
                stack.append((child_path, child))
            elif child.e_kind in (K_FILE, K_SYMLINK):
                states[child_path] = FileState(
                    child.e_nbytes, diff_ids[child.e_layer], child.e_meta
                )
    return states


def _packages(details: ReclaimDetails) -> dict[str, PackageState] | None:
    db = details.db
    if db is None:
        return None
    sizes = dict.fromkeys(db.packages, 0)
    for file in details.files:
        owner = db.owners.get(file.path)
        if owner is not None:
            sizes[owner] += file.bytes
    return {name: PackageState(pkg.version, sizes[name]) for name, pkg in db.packages.items()}


def summarize_side(
    reference: str,
    *,
    platform: str | None = None,
    verify: bool = True,
    insecure: bool = False,
    options: ReclaimOptions | None = None,
) -> DiffSide:
    with open_image(reference, platform=platform, verify=verify, insecure=insecure) as img:
        overlay = Overlay(source=img.reference)
        for layer in img.layers:
            prefetch = getattr(layer.content, "prefetch_digest", None)
            if callable(prefetch):
                prefetch()
        for layer in img.layers:
            overlay.apply(layer.content.entries())
        analysis = summarize(overlay, top=1)
        details = reclaim_details(img, overlay, options)
        diff_ids = [layer.diff_id for layer in img.layers]
        return DiffSide(
            reference=img.reference,
            size=analysis.size,
            wasted=analysis.wasted,
            layers=tuple(
                LayerInfo(layer.diff_id, figures.size, layer.instruction)
                for layer, figures in zip(img.layers, analysis.layers, strict=True)
            ),
            files=_file_states(overlay, diff_ids),
            reclaim=details.report,
            achievable=achievable(analysis.size, analysis.wasted, details.report),
            packages=_packages(details),
        )
