import hashlib
import http.server
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo import index
from tests.events.conftest import device, make_event  # noqa: F401

RIR_DIR = Path(__file__).parent.parent / "data" / "rir"


@pytest.fixture(autouse=True)
def fresh_index() -> Iterator[None]:
    index.forget()
    yield
    index.forget()


@pytest.fixture
def rir_dir() -> Path:
    return RIR_DIR


def delegated(
    registry: str,
    records: list[tuple[str, str, str, str, str, str]],
    *,
    serial: str = "20240101",
    version: str = "2.3",
    extended: bool = True,
) -> bytes:
    """Build a delegated file from (cc, type, start, value, date, status)."""
    counts = Counter(record[1] for record in records)
    lines = [
        "# constructed for fwsiem tests",
        f"{version}|{registry}|{serial}|{len(records)}|19700101|{serial}|+0000",
    ]
    lines += [
        f"{registry}|*|{kind}|*|{counts[kind]}|summary"
        for kind in ("asn", "ipv4", "ipv6")
    ]
    for cc, kind, start, value, day, status in records:
        fields = [registry, cc, kind, start, value, day, status]
        if extended:
            fields.append("0A1B2C3D")
        lines.append("|".join(fields))
    return ("\n".join(lines) + "\n").encode()


def md5_text(data: bytes, name: str, layout: str = "bsd") -> str:
    digest = hashlib.md5(data).hexdigest()
    if layout == "bsd":
        return f"MD5 ({name}) = {digest}\n"
    return f"{digest}  {name}\n"


def write_registry(
    directory: Path, registry: str, data: bytes, *, layout: str = "bsd"
) -> Path:
    """Write a registry's file and its .md5 under their published names."""
    name = f"delegated-{registry}-extended-latest"
    path = directory / name
    path.write_bytes(data)
    (directory / f"{name}.md5").write_text(md5_text(data, name, layout))
    return path


# Small files per registry; the addresses are documentation and real
# allocations, the countries those registries would give.
APNIC_RECORDS = [
    ("JP", "ipv4", "1.0.16.0", "4096", "20110412", "allocated"),
    ("AU", "ipv4", "1.0.0.0", "256", "20110811", "assigned"),
    ("CN", "ipv4", "1.0.1.0", "768", "20110414", "allocated"),
    ("", "ipv4", "1.0.4.0", "1024", "", "available"),
    ("JP", "ipv6", "2001:200::", "23", "19990813", "allocated"),
    ("JP", "asn", "173", "1", "20020801", "allocated"),
]
RIPE_RECORDS = [
    ("DE", "ipv4", "2.16.0.0", "1536", "20100712", "allocated"),
    ("NL", "ipv4", "2.16.6.0", "512", "20100712", "allocated"),
    ("EU", "ipv6", "2001:600::", "32", "19990826", "allocated"),
    ("GB", "asn", "786", "1", "19930901", "assigned"),
]


class FaultyHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a directory; ``faults`` maps a path to a misbehaviour."""

    faults: dict[str, str] = {}

    def do_GET(self) -> None:
        fault = self.faults.get(self.path.lstrip("/"))
        if fault == "truncate":
            body = Path(self.directory, self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        if fault == "html":
            body = b"<!DOCTYPE html><html><body>Maintenance</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if fault == "error":
            self.send_error(503)
            return
        super().do_GET()

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def http_source(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """Serve a temporary directory on 127.0.0.1: (base URL, dir, faults)."""
    served = tmp_path / "served"
    served.mkdir()
    faults: dict[str, str] = {}
    handler = type(
        "Handler",
        (FaultyHandler,),
        {"faults": faults, "__init__": _handler_init(served)},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", served, faults
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _handler_init(directory: Path):
    def init(self, *args, **kwargs):
        FaultyHandler.__init__(self, *args, directory=str(directory), **kwargs)

    return init
