"""``slicewise pacs echo|find|get SERVER ...``: test a connection, search, retrieve.

SERVER is a name from the server list (``pacs.toml`` in the user's config folder) or a URL:
``http(s)://[user[:password]@]host:port/dicom-web`` or ``dicom://AET@host:port``. Passwords
come from the URL, the keyring or ``SLICEWISE_PACS_PASSWORD_<NAME>``; never printed.

- ``echo``: C-ECHO or a QIDO-RS ping; exit 0 when the server answered.
- ``find``: studies matching the filters (``--study UID`` lists that study's series); exit 0
  when the search ran (even with no match), 1 on an error.
- ``get``: retrieve the matching study/series into ``--out DIR`` (default: the cache); only
  instances not already there are fetched. Exit 0 when everything arrived, 1 otherwise (what
  arrived stays; run it again to fetch the rest).
Errors: one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys

from viewer.cli.errors import CommandError


def add_pacs_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``pacs`` on the CLI's sub-parsers (called by ``viewer.cli.main.build_parser``)."""
    s = sub.add_parser("pacs", help="query and retrieve from a PACS (DICOMweb or DIMSE)")
    s.add_argument("action", choices=("echo", "find", "get"))
    s.add_argument("server", metavar="SERVER", help="configured name, http(s)://…/dicom-web "
                                                    "or dicom://AET@host:port")
    s.add_argument("--patient-name")
    s.add_argument("--patient-id")
    s.add_argument("--date", metavar="FROM-TO", help="YYYYMMDD-YYYYMMDD (open ends allowed)")
    s.add_argument("--modality")
    s.add_argument("--accession")
    s.add_argument("--description")
    s.add_argument("--study", metavar="UID")
    s.add_argument("--series", metavar="UID", action="append",
                   help="series UID (repeat for several)")
    s.add_argument("--out", metavar="DIR", help="get: folder for the files (default: the cache)")
    s.add_argument("--all", action="store_true", help="get: every matching study, not only one")
    s.add_argument("--json", action="store_true")
    return s


def _query(args: argparse.Namespace):
    from viewer.io.pacs import StudyQuery, parse_date_range

    try:
        date = parse_date_range(args.date) if args.date else ""
    except ValueError as exc:
        raise CommandError(f"--date: {exc}") from None
    return StudyQuery(patient_name=args.patient_name or "", patient_id=args.patient_id or "",
                      date=date, modality=args.modality or "", accession=args.accession or "",
                      description=args.description or "", study_uid=args.study or "",
                      series_uid=(args.series or [""])[0] if args.series and len(args.series) == 1
                      else "")


def run_pacs(args: argparse.Namespace) -> int:
    """Run the ``pacs`` command; returns the exit status (PacsError -> CommandError)."""
    from viewer.io.pacs import PacsError, open_client, resolve_server
    from viewer.io.pacs.secrets import get_secret, remember_for_session

    for name in ("pynetdicom", "dicomweb_client"):  # their errors become our one line
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        server, url_secret = resolve_server(args.server)
        if url_secret is not None:
            remember_for_session(server, url_secret)
        secret = get_secret(server)
        if server.auth != "none" and secret is None:
            from viewer.io.pacs.secrets import env_name

            raise CommandError(f"No password for {server.address}: put it in the keyring, in "
                               f"{env_name(server)}, or in the URL.")
        with open_client(server, secret) as client:
            if args.action == "echo":
                return _echo(client, args)
            if args.action == "find":
                return _find(client, args)
            return _get(client, args)
    except PacsError as exc:
        raise CommandError(str(exc)) from None


def _echo(client, args) -> int:
    text = client.echo()
    if args.json:
        print(json.dumps({"server": client.server.address, "ok": True, "message": text}))
    else:
        print(text)
    return 0


def _find(client, args) -> int:
    query = _query(args)
    studies = client.find_studies(query)
    series_of = {}
    if args.study or args.series:
        series_of = {s.study_uid: [r for r in client.find_series(s.study_uid, query)
                                   if not args.series or r.series_uid in args.series]
                     for s in studies}
    if args.json:
        out = []
        for s in studies:
            item = s.as_dict()
            if s.study_uid in series_of:
                item["series_list"] = [r.as_dict() for r in series_of[s.study_uid]]
            out.append(item)
        json.dump({"server": client.server.address, "studies": out}, sys.stdout, indent=2)
        print()
        return 0
    if not studies:
        print("No study matches.")
    for s in studies:
        print(f"{s.date or '????????'}  {'/'.join(s.modalities) or '?':6} "
              f"{s.patient.name or '(no name)'} [{s.patient.patient_id}]  "
              f"{s.description or '(no description)'}  acc {s.accession or '-'}  "
              f"{s.n_series if s.n_series is not None else '?'} series, "
              f"{s.n_instances if s.n_instances is not None else '?'} images")
        print(f"    study {s.study_uid}")
        for r in series_of.get(s.study_uid, []):
            print(f"    {r.number if r.number is not None else '-':>4} {r.modality:3} "
                  f"{r.n_instances if r.n_instances is not None else '?':>5} images  "
                  f"{r.description or '(no description)'}  series {r.series_uid}")
    return 0


def _get(client, args) -> int:
    from viewer.io.pacs import PartialRetrieveError, RetrieveCache, retrieve, run_retrieve

    query = _query(args)
    if not any((query.study_filters(), args.series)):
        raise CommandError("get needs a filter (e.g. --study UID or --patient-id ID); "
                           "it does not retrieve the whole PACS.")
    studies = client.find_studies(query)
    if not studies:
        raise CommandError("No study matches; nothing retrieved.")
    if len(studies) > 1 and not args.all:
        raise CommandError(f"{len(studies)} studies match; narrow the filters (e.g. --study UID) "
                           f"or add --all.")
    cache = RetrieveCache(args.out) if args.out else RetrieveCache()
    results, failed = [], None
    for study in studies:
        series = args.series or None
        if series is None and query.modality:
            series = [r.series_uid for r in client.find_series(study.study_uid, query)]
        last = [0.0]

        def progress(ev, last=last):
            if not args.json and sys.stderr.isatty() and ev.done - last[0] >= 1:
                last[0] = ev.done
                print(f"\r{ev.done}/{ev.total} images", end="", file=sys.stderr, flush=True)
        try:
            r = run_retrieve(retrieve(client, cache, study.study_uid, series), progress)
            results.append({"study_uid": r.study_uid, "folder": str(r.folder),
                            "series_folders": [str(f) for f in r.series_folders],
                            "total": r.total, "fetched": r.fetched, "already": r.already,
                            "missing": r.missing})
        except PartialRetrieveError as exc:
            failed = exc
            results.append({"study_uid": study.study_uid, "folder": exc.folder,
                            "received": exc.received, "missing": exc.missing,
                            "error": str(exc)})
            break
        finally:
            if not args.json and sys.stderr.isatty():
                print(file=sys.stderr)
    if args.json:
        json.dump({"server": client.server.address, "retrieved": results}, sys.stdout, indent=2)
        print()
    else:
        for r in results:
            if "error" not in r:
                print(f"{r['folder']}: {r['fetched']} fetched, {r['already']} already here, "
                      f"{r['total']} in all")
    if failed is not None:
        raise CommandError(str(failed))
    return 0
