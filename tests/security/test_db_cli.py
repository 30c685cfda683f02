"""`trimdock db update|status` against exports served from a loopback HTTP server, and `scan`
reading the cache folder it fills (no engine: crafted images)."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.security.crafted import crafted_image, dist_info
from tests.support.shared import SHARED_DATA
from tests.test_json_schemas import validate
from trimdock.cli.main import run

PYPA = SHARED_DATA / "osv" / "pypa-advisory-database" / "vulns"


def pypi_export(packages: tuple[str, ...] = ("requests", "urllib3")) -> bytes:
    """An all.zip as OSV publishes it: one JSON record per member, named by id."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for package in packages:
            for path in sorted((PYPA / package).glob("*.yaml")):
                record = yaml.safe_load(path.read_text())
                archive.writestr(f"{record['id']}.json", json.dumps(record, default=str))
    return buffer.getvalue()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", files
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "trimdock" / "osv"


def test_update_verifies_and_installs_then_scan_reads_it(
    served: tuple[str, dict[str, bytes]],
    cache: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, files = served
    export = pypi_export()
    files["/PyPI/all.zip"] = export
    assert run(["db", "update", "--url", url, "--ecosystem", "PyPI"]) == 0
    assert (cache / "PyPI" / "all.zip").read_bytes() == export
    meta = json.loads((cache / "PyPI" / "meta.json").read_text())
    records = len(zipfile.ZipFile(io.BytesIO(export)).namelist())
    assert meta["records"] == records and meta["sha256"] == hashlib.sha256(export).hexdigest()
    capsys.readouterr()
    assert run(["db", "status"]) == 0
    status = capsys.readouterr().out.split()
    assert status[status.index("PyPI") + 1 : status.index("PyPI") + 3] == [str(records), "records"]
    assert run(["db", "status", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    validate(document, "db-status.json")
    (pypi,) = document["ecosystems"]
    assert (pypi["ecosystem"], pypi["records"], pypi["bytes"]) == ("PyPI", records, len(export))
    assert pypi["sha256"] == hashlib.sha256(export).hexdigest() and 0 <= pypi["age_days"] < 1

    image = crafted_image(tmp_path / "img", [dist_info("requests", "2.19.1")])
    assert run(["scan", image, "-F", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["database"] == [str(cache)]
    ids = {row["id"] for row in document["vulnerabilities"]}
    assert {"PYSEC-2018-28", "PYSEC-2023-74"} <= ids


@pytest.mark.parametrize(
    ("body", "problem"),
    [(b"not a zip at all", "not a readable zip archive"), (None, "HTTP 404")],
)
def test_a_bad_export_leaves_the_old_database(
    served: tuple[str, dict[str, bytes]],
    cache: Path,
    body: bytes | None,
    problem: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, files = served
    files["/PyPI/all.zip"] = pypi_export(("requests",))
    assert run(["db", "update", "--url", url, "--ecosystem", "PyPI"]) == 0
    before = (cache / "PyPI" / "all.zip").read_bytes()
    capsys.readouterr()
    if body is None:
        del files["/PyPI/all.zip"]
    else:
        files["/PyPI/all.zip"] = body
    assert run(["db", "update", "--url", url, "--ecosystem", "PyPI"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trimdock: ") and problem in err and err.count("\n") == 1
    assert (cache / "PyPI" / "all.zip").read_bytes() == before
    assert sorted(p.name for p in (cache / "PyPI").iterdir()) == ["all.zip", "meta.json"]


def test_a_zip_of_non_records_is_refused(
    served: tuple[str, dict[str, bytes]], cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, files = served
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.json", json.dumps({"no": "id"}))
    files["/PyPI/all.zip"] = buffer.getvalue()
    assert run(["db", "update", "--url", url, "--ecosystem", "PyPI"]) == 2
    assert "not an OSV export" in capsys.readouterr().err
    assert not (cache / "PyPI" / "all.zip").exists()


def test_scan_without_database_says_how_to_get_one(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = crafted_image(tmp_path / "img", [dist_info("requests", "2.19.1")])
    assert run(["scan", image, "-F", "json"]) == 0
    captured = capsys.readouterr()
    assert "trimdock db update" in captured.err
    document = json.loads(captured.out)
    assert document["vulnerabilities"] is None
    assert [p["name"] for p in document["packages"]] == ["requests"]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--db", "/nonexistent/osv"], "/nonexistent/osv: no such file or directory"),
        (["--severity", "severe"], "--severity: unknown severity 'severe'"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path, args: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    image = crafted_image(tmp_path / "img", [dist_info("requests", "2.19.1")])
    assert run(["scan", image, *args]) == 2
    err = capsys.readouterr().err
    assert err == f"trimdock: {err.removeprefix('trimdock: ')}" and problem in err
    assert err.count("\n") == 1


def test_a_broken_record_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "db"
    db.mkdir()
    (db / "bad.yaml").write_text("id: [unclosed\n")
    image = crafted_image(tmp_path / "img", [dist_info("requests", "2.19.1")])
    assert run(["scan", image, "--db", str(db)]) == 2
    assert f"{db / 'bad.yaml'}: not valid YAML" in capsys.readouterr().err


def test_db_status_json_without_database(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["db", "status", "-F", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    validate(document, "db-status.json")
    assert document["ecosystems"] == [] and document["directory"] == str(cache)
