"""`python -m hq_link.hq [--config hq.toml] [--listen ADDR] [--database URL]
[--tls-cert F --tls-key F --client-ca F | --insecure]`.

Config file (TOML): `[hq] listen = "0.0.0.0:50061"`, `database =
"postgresql+psycopg://tillpoint@/tillpoint_hq"` (or "sqlite:///var/hq.db" for a
demo), and mTLS: `tls_cert`, `tls_key` (HQ's certificate, `hqctl cert server`)
and `client_ca` (the chain's CA, `hqctl ca init`: every store certificate must
chain to it). Plaintext only when asked for: `insecure = true` or `--insecure`
(the demo's `make hq`). Environment overrides: TILLPOINT_HQ_LISTEN,
TILLPOINT_HQ_DATABASE, TILLPOINT_HQ_TLS_CERT, TILLPOINT_HQ_TLS_KEY,
TILLPOINT_HQ_CLIENT_CA, TILLPOINT_HQ_INSECURE=1.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import threading
import tomllib
from pathlib import Path

from hq_link.hq.server import build_server
from hq_link.security.tls import ServerTls, TlsConfigError

DEFAULT_LISTEN = "127.0.0.1:50061"
DEFAULT_DATABASE = "sqlite:///var/hq.db"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hq_link.hq", description="Tillpoint HQ server")
    p.add_argument("--config", help="TOML file with an [hq] section")
    p.add_argument("--listen", help=f"host:port (default {DEFAULT_LISTEN})")
    p.add_argument("--database", help=f"SQLAlchemy URL (default {DEFAULT_DATABASE})")
    p.add_argument("--tls-cert", help="HQ's certificate (PEM)")
    p.add_argument("--tls-key", help="HQ's private key (PEM)")
    p.add_argument("--client-ca", help="the chain's CA (PEM) that store certificates chain to")
    p.add_argument("--insecure", action="store_true", help="plaintext, no mTLS (demo only)")
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    section: dict = {}
    if args.config:
        try:
            section = tomllib.loads(Path(args.config).read_text(encoding="utf-8")).get("hq", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            print(f"hq: config {args.config}: {exc}", file=sys.stderr)
            return 2
    listen = (
        args.listen
        or os.environ.get("TILLPOINT_HQ_LISTEN")
        or section.get("listen")
        or DEFAULT_LISTEN
    )
    database = (
        args.database
        or os.environ.get("TILLPOINT_HQ_DATABASE")
        or section.get("database")
        or DEFAULT_DATABASE
    )
    try:
        tls = server_tls(args, section, os.environ)
    except TlsConfigError as exc:
        print(f"hq: {exc}", file=sys.stderr)
        return 2
    if database.startswith("sqlite:///") and not database.startswith("sqlite:////"):
        Path(database.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        server = build_server(database, listen, tls=tls)
    except TlsConfigError as exc:
        print(f"hq: {exc}", file=sys.stderr)
        return 2
    if tls is None:
        logging.getLogger("hq_link.hq").warning(
            "plaintext, no mTLS: any client may write as any store (demo only)"
        )
    # Each batch parses thousands of JSON objects that live until it commits:
    # with the default thresholds the cyclic GC ran every few hundred of them,
    # rescanning the young batch and the server's own objects (about a sixth of
    # ingest's CPU). Start-up objects are frozen out of it and it runs less often.
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    server.start()
    # Tests and operators wait for this line.
    print(f"hq listening on {server.address}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=5.0)
    return 0


def server_tls(
    args: argparse.Namespace, section: dict, env: os._Environ[str] | dict[str, str]
) -> ServerTls | None:
    """mTLS files from flags, then environment, then [hq]; None only when plaintext
    was asked for. Half a configuration is an error, never a silent fallback."""
    insecure = (
        args.insecure
        or env.get("TILLPOINT_HQ_INSECURE", "") in ("1", "true", "yes")
        or section.get("insecure") is True
    )
    files = {}
    for key in ("tls_cert", "tls_key", "client_ca"):
        value = getattr(args, key) or env.get(f"TILLPOINT_HQ_{key.upper()}") or section.get(key)
        if value:
            files[key] = Path(value)
    if insecure:
        if files:
            raise TlsConfigError(
                f"both insecure and TLS files ({', '.join(sorted(files))}): choose one"
            )
        return None
    missing = [k for k in ("tls_cert", "tls_key", "client_ca") if k not in files]
    if missing:
        raise TlsConfigError(
            f"[hq] {', '.join(missing)} not set: mTLS needs tls_cert, tls_key and client_ca "
            "(`hqctl ca init`, `hqctl cert server`); --insecure serves plaintext (demo only)"
        )
    for key, path in files.items():
        if not path.is_file():
            raise TlsConfigError(f"[hq] {key} {path}: no such file")
    return ServerTls(cert=files["tls_cert"], key=files["tls_key"], client_ca=files["client_ca"])


if __name__ == "__main__":
    sys.exit(main())
