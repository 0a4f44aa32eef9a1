"""`hqctl ca init` and `hqctl cert store|server|show`: the chain's CA and its
certificates for mTLS between the stores' agents and HQ.

    hqctl ca init --dir /etc/tillpoint-hq/ca
    hqctl cert server --dir /etc/tillpoint-hq/ca --host hq.example.internal --ip 10.8.0.1
    hqctl cert store --dir /etc/tillpoint-hq/ca --store S01
    hqctl cert user --dir /etc/tillpoint-hq/ca --user owner-s01

The CA directory (`--dir`, or `[hq] ca_dir` of --config) holds ca.pem and
ca.key; store certificates go to DIR/stores/, HQ's to DIR/server/ (or --out).
Private keys are written 0600. Nothing is overwritten without --force.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from hq_link.hqctl.main import HqctlContext
from hq_link.security import pki


def _ca_dir(ctx: HqctlContext, args: argparse.Namespace) -> Path:
    directory = args.dir or ctx.config.get("hq", {}).get("ca_dir")
    if not directory:
        raise pki.PkiError("--dir: the CA directory is required (or [hq] ca_dir in --config)")
    return Path(directory)


def _days(args: argparse.Namespace) -> int:
    if args.days <= 0:
        raise pki.PkiError(f"--days {args.days}: a positive number of days")
    return int(args.days)


def _fail(exc: Exception | str) -> int:
    print(f"hqctl: {exc}", file=sys.stderr)
    return 2


def cmd_ca_init(ctx: HqctlContext, args: argparse.Namespace) -> int:
    try:
        directory = _ca_dir(ctx, args)
        if (directory / pki.CA_KEY).exists() and not args.force:
            raise pki.PkiError(
                f"a CA exists in {directory}: a new one would invalidate every certificate "
                "the old one signed (--force replaces it)"
            )
        ca = pki.make_ca(datetime.now(UTC), name=args.name, days=_days(args))
        pki.write_issued(ca, directory / pki.CA_CERT, directory / pki.CA_KEY, overwrite=args.force)
    except pki.PkiError as exc:
        return _fail(exc)
    print(f"CA certificate: {directory / pki.CA_CERT}  (HQ's client_ca, the stores' ca_cert)")
    print(f"CA key:         {directory / pki.CA_KEY}  (0600; keep it off the network)")
    print(f"valid until {ca.cert.not_valid_after_utc:%Y-%m-%d}")
    return 0


def _issue(
    args: argparse.Namespace, directory: Path, sub: str, name: str, issue: object
) -> tuple[Path, Path, x509.Certificate]:
    out = Path(args.out) if args.out else directory / sub
    cert_path, key_path = out / f"{name}.pem", out / f"{name}.key"
    issued = issue(pki.load_ca(directory))  # type: ignore[operator]
    pki.write_issued(issued, cert_path, key_path, overwrite=args.force)
    return cert_path, key_path, issued.cert


def cmd_cert_store(ctx: HqctlContext, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    try:
        directory = _ca_dir(ctx, args)
        cert_path, key_path, cert = _issue(
            args,
            directory,
            "stores",
            args.store,
            lambda ca: pki.make_store_cert(ca, args.store, now, days=_days(args)),
        )
    except pki.PkiError as exc:
        return _fail(exc)
    print(f"store {args.store} certificate: {cert_path}")
    print(f"store {args.store} key:         {key_path}  (0600)")
    print(f"CA certificate:          {directory / pki.CA_CERT}")
    print(f"valid until {cert.not_valid_after_utc:%Y-%m-%d}; on the store, in hq_link.toml:")
    print(f'  tls_cert = "/etc/tillpoint/hq-link/{cert_path.name}"')
    print(f'  tls_key = "/etc/tillpoint/hq-link/{key_path.name}"')
    print(f'  ca_cert = "/etc/tillpoint/hq-link/{pki.CA_CERT}"')
    return 0


def cmd_cert_user(ctx: HqctlContext, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    try:
        directory = _ca_dir(ctx, args)
        cert_path, key_path, cert = _issue(
            args,
            directory,
            "users",
            args.user,
            lambda ca: pki.make_user_cert(ca, args.user, now, days=_days(args)),
        )
    except pki.PkiError as exc:
        return _fail(exc)
    print(f"user {args.user} certificate: {cert_path}")
    print(f"user {args.user} key:         {key_path}  (0600)")
    print(f"valid until {cert.not_valid_after_utc:%Y-%m-%d}; it reaches HqReportService only,")
    print("with the token of `hqctl user add` deciding which stores it reads")
    return 0


def cmd_cert_server(ctx: HqctlContext, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    hosts, ips = args.host or [], args.ip or []
    try:
        directory = _ca_dir(ctx, args)
        cert_path, key_path, cert = _issue(
            args,
            directory,
            "server",
            (hosts or ips)[0] if hosts or ips else "hq",
            lambda ca: pki.make_server_cert(ca, hosts, ips, now, days=_days(args)),
        )
    except pki.PkiError as exc:
        return _fail(exc)
    print(f"HQ certificate: {cert_path}  (for {', '.join([*hosts, *ips])})")
    print(f"HQ key:         {key_path}  (0600)")
    print(f"valid until {cert.not_valid_after_utc:%Y-%m-%d}; in hq.toml [hq]:")
    print(f'  tls_cert = "{cert_path}"')
    print(f'  tls_key = "{key_path}"')
    print(f'  client_ca = "{directory / pki.CA_CERT}"')
    return 0


def cmd_cert_show(ctx: HqctlContext, args: argparse.Namespace) -> int:
    """Subject, validity and, with --dir, whether the CA signed it."""
    try:
        cert = x509.load_pem_x509_certificate(Path(args.file).read_bytes())
    except (OSError, ValueError) as exc:
        return _fail(f"{args.file}: {exc}")
    print(f"subject:  {cert.subject.rfc4514_string()}")
    print(f"issuer:   {cert.issuer.rfc4514_string()}")
    print(f"valid:    {cert.not_valid_before_utc:%Y-%m-%d} .. {cert.not_valid_after_utc:%Y-%m-%d}")
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        print(f"names:    {', '.join(str(n.value) for n in san)}")
    except x509.ExtensionNotFound:
        pass
    directory = args.dir or ctx.config.get("hq", {}).get("ca_dir")
    if not directory:
        return 0
    try:
        ca = pki.load_ca(Path(directory))
        pki.verify_issued_by(cert, ca.cert)
    except pki.PkiError as exc:
        return _fail(exc)
    except Exception as exc:  # InvalidSignature, ValueError: not ours
        print(f"NOT signed by the CA in {directory} ({type(exc).__name__})")
        return 1
    print(f"signed by the CA in {directory}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `ca` and `cert` to hqctl."""
    ca = sub.add_parser("ca", help="the chain's certificate authority (mTLS)")
    ca_sub = ca.add_subparsers(dest="ca_cmd", required=True)
    init = ca_sub.add_parser("init", help="create the CA: key and self-signed certificate")
    init.add_argument("--dir", help="the CA directory (ca.pem, ca.key)")
    init.add_argument("--name", default="Tillpoint chain CA", help="the CA's common name")
    init.add_argument("--days", type=int, default=pki.CA_DAYS, help="validity in days")
    init.add_argument("--force", action="store_true", help="replace an existing CA")
    init.set_defaults(func=cmd_ca_init)

    cert = sub.add_parser("cert", help="certificates signed by the chain's CA")
    cert_sub = cert.add_subparsers(dest="cert_cmd", required=True)
    store = cert_sub.add_parser("store", help="a store's client certificate (CN = store id)")
    store.add_argument("--store", required=True, help="the store id, e.g. S01")
    user = cert_sub.add_parser("user", help="a person's client certificate for HQ reports")
    user.add_argument("--user", required=True, help="the HQ user id (hqctl user add --id)")
    server = cert_sub.add_parser("server", help="HQ's server certificate")
    server.add_argument("--host", action="append", help="a DNS name of HQ (repeatable)")
    server.add_argument("--ip", action="append", help="an IP address of HQ (repeatable)")
    for p, fn in ((store, cmd_cert_store), (user, cmd_cert_user), (server, cmd_cert_server)):
        p.add_argument("--dir", help="the CA directory")
        p.add_argument("--out", help="where to write (default DIR/stores or DIR/server)")
        p.add_argument("--days", type=int, default=pki.LEAF_DAYS, help="validity in days")
        p.add_argument("--force", action="store_true", help="replace existing files")
        p.set_defaults(func=fn)
    show = cert_sub.add_parser("show", help="print a certificate; with --dir, check its CA")
    show.add_argument("file")
    show.add_argument("--dir", help="the CA directory to verify against")
    show.set_defaults(func=cmd_cert_show)
