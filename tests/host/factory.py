"""Hand-built `HostState`s for the pure accounting and planning tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trimdock.host.model import Container, HostState, Image, Layer, Volume, chain_ids

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def diff(name: str) -> str:
    return "sha256:" + name.encode().hex().ljust(64, "0")[:64]


class StateBuilder:
    def __init__(self) -> None:
        self.images: list[Image] = []
        self.layers: dict[str, Layer] = {}
        self.containers: list[Container] = []
        self.volumes: list[Volume] = []

    def image(
        self,
        name: str,
        layers: list[tuple[str, int]],
        *,
        tags: tuple[str, ...] = (),
        parent: str | None = None,
        age_days: float = 0,
        labels: dict[str, str] | None = None,
    ) -> str:
        diffs = [diff(layer) for layer, _ in layers]
        chain = chain_ids(diffs)
        for chain_id, diff_id, (_, size) in zip(chain, diffs, layers, strict=True):
            self.layers[chain_id] = Layer(chain_id, diff_id, size, chain_id[7:19])
        image_id = "sha256:" + name.encode().hex().ljust(64, "f")[:64]
        self.images.append(
            Image(
                id=image_id,
                tags=tags,
                parent=parent,
                created=NOW - timedelta(days=age_days),
                chain=chain,
                size=sum(size for _, size in layers),
                labels=labels or {},
            )
        )
        return image_id

    def container(
        self,
        name: str,
        image_id: str,
        *,
        state: str = "exited",
        stopped_days: float = 1,
        size_rw: int = 0,
        log_size: int = 0,
        volumes: tuple[str, ...] = (),
    ) -> Container:
        container = Container(
            id=name.encode().hex().ljust(64, "0")[:64],
            name=name,
            image_id=image_id,
            state=state,
            created=NOW - timedelta(days=stopped_days + 1),
            finished=None if state == "running" else NOW - timedelta(days=stopped_days),
            size_rw=size_rw,
            log_path=None,
            log_size=log_size,
            volumes=volumes,
        )
        self.containers.append(container)
        return container

    def volume(self, name: str, size: int) -> None:
        self.volumes.append(Volume(name, "local", size, NOW, None))

    def build(self) -> HostState:
        return HostState(
            taken_at=NOW,
            engine_version="test",
            data_root="/nonexistent",
            driver="overlay2",
            images=tuple(self.images),
            layers=dict(self.layers),
            containers=tuple(self.containers),
            volumes=tuple(self.volumes),
        )


def family() -> tuple[StateBuilder, dict[str, str]]:
    """base <- common (intermediate) <- app:v1, v2, v3; other:1 on base; a dangling image."""
    b = StateBuilder()
    ids: dict[str, str] = {}
    base = [("base", 1000)]
    ids["base"] = b.image("base", base, tags=("base:latest",), age_days=100)
    common = [*base, ("common", 500)]
    ids["common"] = b.image("common", common, parent=ids["base"], age_days=30)
    for n, (size, age) in enumerate([(100, 30), (200, 20), (300, 10)], start=1):
        ids[f"v{n}"] = b.image(
            f"v{n}",
            [*common, (f"v{n}", size)],
            tags=(f"app:v{n}",),
            parent=ids["common"],
            age_days=age,
        )
    ids["other"] = b.image(
        "other", [*base, ("other", 4000)], tags=("other:1",), parent=ids["base"], age_days=50
    )
    ids["dangling"] = b.image("dangling", [*base, ("old", 70)], parent=ids["base"], age_days=40)
    return b, ids
