"""The PACS server list: a TOML file in the user's config folder, shared by the GUI, the command
line and batch jobs. Secrets are never in it (see :mod:`viewer.io.pacs.secrets`).

File (``<user config dir>/SliceWise/pacs.toml``, or ``$SLICEWISE_PACS_CONFIG``)::

    [[servers]]
    name = "orthanc"
    kind = "dicomweb"                 # or "dimse"
    url = "http://127.0.0.1:8042/dicom-web"
    auth = "basic"                    # none | basic | bearer
    username = "reader"
    ca_file = ""                      # PEM bundle for https with a private CA

    [[servers]]
    name = "modality"
    kind = "dimse"
    ae_title = "ORTHANC"
    host = "127.0.0.1"
    port = 4242
    our_ae_title = "SLICEWISE"
    retrieve = "c-get"                # c-get | c-move (to our storage SCP on store_port)
    store_port = 11113
"""
from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from viewer.io.pacs.errors import PacsConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KINDS = ("dicomweb", "dimse")
AUTHS = ("none", "basic", "bearer")
ROUTES = {"dicomweb": ("wado-rs",), "dimse": ("c-get", "c-move")}
DEFAULT_AE = "SLICEWISE"
_AE = re.compile(r"^[ -~]{1,16}$")


@dataclass(frozen=True)
class PacsServer:
    """One configured server. ``timeout`` in seconds (connect and each answer)."""

    name: str
    kind: str = "dicomweb"
    url: str = ""
    ae_title: str = ""
    host: str = ""
    port: int = 0
    our_ae_title: str = DEFAULT_AE
    retrieve: str = ""
    store_port: int = 11113
    auth: str = "none"
    username: str = ""
    ca_file: str = ""
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise PacsConfigError("A PACS server needs a name.")
        if self.kind not in KINDS:
            raise PacsConfigError(f"Server {self.name!r}: kind must be one of {', '.join(KINDS)}, "
                                  f"not {self.kind!r}.")
        if self.auth not in AUTHS:
            raise PacsConfigError(f"Server {self.name!r}: auth must be one of {', '.join(AUTHS)}.")
        if not self.retrieve:
            object.__setattr__(self, "retrieve", ROUTES[self.kind][0])
        if self.retrieve not in ROUTES[self.kind]:
            raise PacsConfigError(f"Server {self.name!r}: a {self.kind} server retrieves with "
                                  f"{' or '.join(ROUTES[self.kind])}, not {self.retrieve!r}.")
        if self.kind == "dicomweb":
            if not self.url.lower().startswith(("http://", "https://")):
                raise PacsConfigError(f"Server {self.name!r}: the DICOMweb URL must start with "
                                      f"http:// or https:// (e.g. http://host:8042/dicom-web).")
        else:
            for label, ae in (("AE title", self.ae_title), ("our AE title", self.our_ae_title)):
                if not _AE.match(ae):
                    raise PacsConfigError(f"Server {self.name!r}: {label} must be 1 to 16 "
                                          f"printable characters.")
            if not self.host or not 0 < int(self.port) < 65536:
                raise PacsConfigError(f"Server {self.name!r}: a DIMSE server needs a host and "
                                      f"a port (1-65535).")
        if self.ca_file and not Path(self.ca_file).expanduser().is_file():
            raise PacsConfigError(f"Server {self.name!r}: CA file {self.ca_file} not found.")

    @property
    def address(self) -> str:
        """Where the server is, for messages (never with credentials)."""
        if self.kind == "dicomweb":
            return self.url
        return f"{self.ae_title}@{self.host}:{self.port}"


def config_path() -> Path:
    """The server list file: ``$SLICEWISE_PACS_CONFIG`` or ``<user config>/SliceWise/pacs.toml``."""
    env = os.environ.get("SLICEWISE_PACS_CONFIG")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("SliceWise", appauthor=False)) / "pacs.toml"


def load_servers(path: str | Path | None = None) -> list[PacsServer]:
    """The configured servers (empty when the file does not exist)."""
    path = Path(path) if path is not None else config_path()
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PacsConfigError(f"The PACS server list {path} could not be read: {exc}") from exc
    known = {f.name for f in fields(PacsServer)}
    servers = []
    for i, item in enumerate(data.get("servers", [])):
        if not isinstance(item, dict):
            raise PacsConfigError(f"{path}: entry {i + 1} of [[servers]] is not a table.")
        extra = sorted(set(item) - known)
        if "password" in item or "token" in item:
            raise PacsConfigError(f"{path}: server {item.get('name', i + 1)!r} has a password "
                                  f"or token in the file; remove it (secrets go in the keyring).")
        if extra:
            raise PacsConfigError(f"{path}: server {item.get('name', i + 1)!r}: unknown "
                                  f"key(s) {', '.join(extra)}.")
        servers.append(PacsServer(**item))
    names = [s.name for s in servers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise PacsConfigError(f"{path}: server name(s) used twice: {', '.join(dupes)}.")
    return servers


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # JSON escapes are valid TOML escapes


def save_servers(servers: list[PacsServer], path: str | Path | None = None) -> Path:
    """Write the server list (atomically; no secrets: :class:`PacsServer` holds none)."""
    path = Path(path) if path is not None else config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# SliceWise PACS servers. Passwords and tokens live in the OS keyring, never here.",
             ""]
    defaults = {f.name: f.default for f in fields(PacsServer)}
    for server in servers:
        lines.append("[[servers]]")
        for key, value in asdict(server).items():
            if key == "name" or value != defaults.get(key) or key == "kind":
                lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, path)
    return path


def server_from_url(text: str) -> tuple[PacsServer, str | None]:
    """A server from ``http(s)://[user[:password]@]host:port/path`` (DICOMweb) or
    ``dicom://AET@host:port`` (DIMSE; ``?via=c-move&ae=OURS&store_port=N`` optional).

    Returns the server (no credentials inside) and the password given in the URL, if any."""
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        raise PacsConfigError(f"The port in {strip_credentials(text)} is not a number.") from None
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise PacsConfigError(f"No host in {strip_credentials(text)}.")
        user = unquote(parts.username) if parts.username else ""
        password = unquote(parts.password) if parts.password is not None else None
        url = strip_credentials(text).rstrip("/")
        server = PacsServer(name=url, kind="dicomweb", url=url,
                            auth="basic" if user else "none", username=user)
        return server, password
    if scheme == "dicom":
        if not parts.hostname or not parts.username or port is None:
            raise PacsConfigError(f"Write a DIMSE server as dicom://AET@host:port, not {text}.")
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        server = PacsServer(name=text, kind="dimse", ae_title=unquote(parts.username),
                            host=parts.hostname, port=port,
                            retrieve=query.get("via", "c-get"),
                            our_ae_title=query.get("ae", DEFAULT_AE),
                            store_port=int(query.get("store_port", 11113)))
        return server, None
    raise PacsConfigError(f"{text!r} is neither a configured server nor a URL "
                          f"(http(s)://host:port/dicom-web or dicom://AET@host:port).")


def strip_credentials(url: str) -> str:
    """``url`` without ``user:password@`` (for messages and logs)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def resolve_server(name_or_url: str, path: str | Path | None = None
                   ) -> tuple[PacsServer, str | None]:
    """A configured server by name, or one described by a URL (see :func:`server_from_url`).
    Returns the server and a password given in the URL (None otherwise)."""
    for server in load_servers(path):
        if server.name == name_or_url:
            return server, None
    if "://" in name_or_url:
        return server_from_url(name_or_url)
    names = ", ".join(s.name for s in load_servers(path))
    known = f"configured: {names}" if names else f"none configured in {path or config_path()}"
    raise PacsConfigError(f"No PACS server named {name_or_url!r} ({known}); give a configured "
                          f"name or a URL (http(s)://host:port/dicom-web or dicom://AET@host:port).")


def with_changes(server: PacsServer, **changes: object) -> PacsServer:
    """A copy of ``server`` with some fields changed (validated again)."""
    return replace(server, **changes)
