"""How verify talks to a deployed endpoint: TLS, credentials read at run time, extra headers, a timeout.

Secrets are read here and only into request headers; nothing that holds one is ever printed. Every problem
found before the first request (a missing secret file, an unset variable, a CA that is not a certificate) is
reported at once, at its place in the spec.
"""
from __future__ import annotations

import base64
import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from obs.errors import Problem
from obs.model.domain import Secret
from obs.model.environments import Endpoint


@dataclass(frozen=True)
class Settings:
    """What a requests session needs; `headers` may hold credentials and is never shown."""

    verify: bool | str = True
    cert: tuple[str, str] | None = None
    server_name: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    timeout: float | None = None
    insecure: bool = False

    def session(self, session: requests.Session | None = None) -> requests.Session:
        s = session if session is not None else Session()
        s.verify = self.verify
        if self.cert is not None:
            s.cert = self.cert
        s.headers.update(self.headers)
        if self.server_name is not None:
            s.mount("https://", _ServerName(self.server_name))
        return s


LOCAL = Settings()


class Session(requests.Session):
    """A session whose own `verify` holds. requests replaces it with REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE when a
    request does not pass one, which would trust the machine's bundle instead of tls.ca_file (and check
    certificates despite tls.insecure_skip_verify). With no CA given (`verify` True), those variables still apply."""

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> dict[str, Any]:
        return super().merge_environment_settings(url, proxies, stream, self.verify if verify is None else verify,
                                                  cert)


class _ServerName(HTTPAdapter):
    """Check the certificate against a name other than the URL's host (an IP address, a tunnel)."""

    def __init__(self, name: str):
        self.name = name
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self.name
        kwargs["assert_hostname"] = self.name
        super().init_poolmanager(*args, **kwargs)


def _path(raw: str, base: Path) -> Path:
    p = Path(raw).expanduser()
    return p if p.is_absolute() else base / p


def read_secret_into(secret: Secret, base: Path, where: str, problems: list[Problem]) -> str | None:
    """The secret's value, or None with a problem located at `where` added to `problems`."""
    if secret.env is not None:
        value = os.environ.get(secret.env)
        if value is None:
            problems.append(Problem(where, f"environment variable {secret.env} is not set; export it (CI: from the "
                                           "secret store) before running obs"))
        return value
    assert secret.file is not None   # the spec gives a secret exactly one of file and env
    path = _path(secret.file, base)
    try:
        return path.read_text().strip()
    except OSError as e:
        problems.append(Problem(where, f"cannot read the secret file {path}: {e.strerror or e}"))
        return None


def _readable(raw: str, base: Path, where: str, what: str, problems: list[Problem]) -> str:
    path = _path(raw, base)
    if not os.access(path, os.R_OK) or not path.is_file():
        problems.append(Problem(where, f"cannot read the {what} {path}: "
                                       f"{'no such file' if not path.exists() else 'not a readable file'}"))
    return str(path)


def settings(ep: Endpoint, base: Path, problems: list[Problem]) -> Settings:
    """The endpoint's session settings; what cannot be read is added to `problems`, located by spec path."""
    headers: dict[str, str] = {}
    verify: bool | str = True
    cert = None
    server_name = None
    insecure = False
    if ep.tls is not None:
        t = ep.tls
        if t.ca_file is not None:
            verify = _readable(t.ca_file, base, f"{ep.tls_path}.ca_file", "CA file", problems)
            if Path(verify).is_file():
                try:
                    ssl.create_default_context(cafile=verify)
                except (ssl.SSLError, ValueError, OSError) as e:
                    problems.append(Problem(f"{ep.tls_path}.ca_file",
                                            f"{verify} holds no usable CA certificate ({e}); give a PEM bundle"))
        if t.cert_file is not None and t.key_file is not None:
            cert = (_readable(t.cert_file, base, f"{ep.tls_path}.cert_file", "client certificate", problems),
                    _readable(t.key_file, base, f"{ep.tls_path}.key_file", "client key", problems))
        server_name = t.server_name
        if t.insecure_skip_verify:
            verify, insecure = False, True
    if ep.auth is not None:
        a = ep.auth
        if a.bearer_token is not None:
            token = read_secret_into(a.bearer_token, base, f"{ep.auth_path}.bearer_token", problems)
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
        elif a.password is not None:
            password = read_secret_into(a.password, base, f"{ep.auth_path}.basic.password", problems)
            if password is not None:
                pair = f"{a.username}:{password}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    for h in ep.headers:
        where = h.spec_path or f"{ep.spec_path}.headers.{h.name}"
        value = h.value if h.secret is None else read_secret_into(h.secret, base, where, problems)
        if value is not None:
            headers[h.name] = value
    return Settings(verify, cert, server_name, headers, ep.timeout_s, insecure)


def describe_error(e: requests.RequestException) -> str:
    """A connection failure in words an operator can act on: which TLS or network step failed."""
    text = str(e)
    if isinstance(e, requests.exceptions.SSLError):
        if "certificate has expired" in text:
            return "TLS: the server's certificate has expired; renew it"
        if "Hostname mismatch" in text or "doesn't match" in text or "IP address mismatch" in text:
            return ("TLS: the server's certificate is not for this host name; fix the URL or set tls.server_name to "
                    "the name the certificate carries")
        if "unable to get local issuer" in text or "self-signed certificate" in text or "self signed" in text:
            return ("TLS: the server's certificate is not signed by a trusted CA; set tls.ca_file to the CA that "
                    "signed it")
        if "certificate required" in text or "handshake failure" in text or "unknown ca" in text:
            return "TLS: the server refused the handshake; it asks for a client certificate (tls.cert_file/key_file)"
        if "wrong version number" in text:
            return "TLS: the server does not speak TLS on this port; use http:// or the TLS port"
        return f"TLS: {text.split('(', 1)[-1].rstrip(')')[:200]}"
    for marker in ("Connection refused", "timed out", "Name or service not known", "Connection reset",
                   "No route to host", "Temporary failure in name resolution"):
        if marker in text:
            return marker.lower()
    return type(e).__name__


def describe_status(status: int) -> str | None:
    if status == 401:
        return "HTTP 401: the endpoint wants credentials, or refused these (check auth and the secret it names)"
    if status == 403:
        return "HTTP 403: the credentials were accepted but not allowed here (check auth, and the tenant header)"
    return None
