"""A bearer-token service on loopback for the `auth: token` registry of the tests.

It does what Docker's token services do (distribution's docs/spec/auth/token.md): a GET on the
realm with `service`, `scope` (repeatable) and optional basic credentials returns
`{"token", "access_token", "expires_in", "issued_at"}`. The token is a JWT signed RS256 by a key
whose self-signed certificate is the registry's `rootcertbundle`. Distribution 2.8 accepts a
signing key named by an `x5c` chain or by a `kid` equal to the libtrust key id of a trusted
certificate's public key (SHA-256 of its DER SubjectPublicKeyInfo, first 240 bits, base32,
groups of four joined by ':'), which is what this service puts in the header.

The registry allows 60 s of clock skew past `exp` (token.Leeway), so a token meant to die after
`lifetime` seconds gets `exp = now + lifetime - 60`: tests see expiry without waiting a minute.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

SERVICE = "trimdock-test-registry"
ISSUER = "trimdock-test-token-issuer"
REGISTRY_LEEWAY = 60  # seconds distribution accepts a token past its `exp`


@dataclass(frozen=True)
class TokenRequest:
    user: str | None  # None: anonymous
    scopes: tuple[str, ...]


@dataclass
class TokenService:
    """`users`: name -> password. `allowed(user, repository)` decides access (default: any
    authenticated user, every repository). `lifetime`: seconds the registry accepts a token;
    `advertised`: the `expires_in` told to the client (None: the lifetime, honestly)."""

    users: dict[str, str]
    certificate: Path  # the registry's rootcertbundle
    url: str = ""  # the realm, set once serving
    lifetime: int = 300
    advertised: int | None = None
    allowed: Callable[[str | None, str], bool] = lambda user, repository: user is not None
    requests: list[TokenRequest] = field(default_factory=list)
    _key: rsa.RSAPrivateKey | None = None

    def registry_config(self) -> str:
        """The `auth:` section of the registry's config.yml."""
        return (
            "auth:\n  token:\n"
            f"    realm: {self.url}\n    service: {SERVICE}\n    issuer: {ISSUER}\n"
            f"    rootcertbundle: {self.certificate}\n"
        )

    def rotate_key(self) -> None:
        """Sign with a new key from now on, one the registry's bundle does not hold."""
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def token(self, user: str | None, scopes: tuple[str, ...]) -> str:
        assert self._key is not None
        now = int(time.time())
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            repository, _, actions = rest.rpartition(":")
            if kind != "repository" or not self.allowed(user, repository):
                continue
            granted = sorted(set(actions.split(",")) & {"pull", "push"})
            access.append({"type": kind, "name": repository, "actions": granted})
        header = {"typ": "JWT", "alg": "RS256", "kid": libtrust_key_id(self._key.public_key())}
        claims = {
            "iss": ISSUER,
            "sub": user or "",
            "aud": SERVICE,
            "exp": now + self.lifetime - REGISTRY_LEEWAY,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signed = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self._key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signed}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(key: rsa.RSAPublicKey) -> str:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(text[i : i + 4] for i in range(0, len(text), 4))


def _self_signed(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trimdock test token issuer")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@contextlib.contextmanager
def token_service(folder: Path, users: dict[str, str]) -> Iterator[TokenService]:
    """Serve tokens on a free loopback port; the certificate is written into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = folder / "token-issuer.pem"
    certificate.write_bytes(_self_signed(key))
    service = TokenService(users=users, certificate=certificate, _key=key)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path != "/token" or query.get("service") != [SERVICE]:
                self._answer(400, {"details": "unknown service"})
                return
            user: str | None = None
            header = self.headers.get("Authorization", "")
            if header:
                scheme, _, encoded = header.partition(" ")
                name, _, password = base64.b64decode(encoded).decode().partition(":")
                if scheme.lower() != "basic" or service.users.get(name) != password:
                    self._answer(401, {"details": "incorrect username or password"})
                    return
                user = name
            scopes = tuple(query.get("scope", []))
            service.requests.append(TokenRequest(user, scopes))
            token = service.token(user, scopes)
            expires = service.lifetime if service.advertised is None else service.advertised
            self._answer(
                200,
                {
                    "token": token,
                    "access_token": token,
                    "expires_in": expires,
                    "issued_at": datetime.datetime.now(datetime.UTC).isoformat(),
                },
            )

        def _answer(self, status: int, document: dict[str, object]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet in test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.url = f"http://127.0.0.1:{server.server_address[1]}/token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
