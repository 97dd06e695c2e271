#!/usr/bin/env python3
"""The independent probe of the interop matrix (standard library only; it shares no
code with hijack-harness). For one target, or every line of interop/peers, it sends
the bytes of each black-box case category and prints what came back: a readable
table (check, conforms, observation) and, with --json, the same with the evidence.

    python3 interop/probe/probe.py --all [--json FILE]
    python3 interop/probe/probe.py --peer nginx --mode proxy --protocol upgrade \\
        --address 127.0.0.1:18020 --upstream 127.0.0.1:18021 [--only GLOB]

For a proxy the probe runs its own correct upstream (upstream.py) on the upstream
address, so the harness must not be running against that proxy at the same time.
Exit status: 0 when every check ran (whatever it observed), 2 when a target could
not be reached.
"""

import argparse
import fnmatch
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from checks import Target, raw_checks  # noqa: E402
from checks_ws import websocket_checks  # noqa: E402
from tunnel import connect_checks, upgrade_checks  # noqa: E402
from upstream import Upstream  # noqa: E402

PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers")


def read_peers():
    rows = []
    with open(PEERS) as f:
        for line in f:
            fields = line.split()
            if len(fields) == 6 and not fields[0].startswith("#"):
                rows.append(normalize(fields))
    return rows


def normalize(fields):
    """A proxy line's protocol: `upgrade` (the echo token, as before), or what goes
    through it (echo, websocket, docker: an upgrade; connect)."""
    peer, mode, protocol, address, path, upstream = fields
    if mode == "proxy" and protocol == "upgrade":
        protocol = "echo"
    return [peer, mode, protocol, address, path, upstream]


def probe(target, only):
    """The checks of one target; for a proxy, its echo suite through the probe's
    correct upstream, then the tunnel checks with the scripted backend (tunnel.py)."""
    wanted = (lambda name: not only or fnmatch.fnmatch(name, only))
    checks = []
    if target.mode == "proxy" and target.protocol == "connect":
        # CONNECT, then the upgrade checks in absolute form (the proxy as a forward proxy)
        checks = connect_checks(target, target.path) + upgrade_checks(target)
        return [c for c in checks if wanted(c["check"])]
    if not (only or "").startswith("tunnel."):
        upstream = None
        if target.mode == "proxy":
            upstream = Upstream(target.upstream, target.protocol)
            target.upstream_server = upstream
        try:
            checks = websocket_checks(target) if target.protocol == "websocket" else raw_checks(target)
        finally:
            if upstream:
                upstream.stop()
                target.upstream_server = None
    if target.mode == "proxy" and (not only or only.startswith(("tunnel", "*"))):
        checks += upgrade_checks(target)
    return [c for c in checks if wanted(c["check"])]


def render(target, results, seconds):
    mark = {True: "yes", False: "NO", None: "n/a"}
    width = max(len(r["check"]) for r in results)
    lines = [f"# {target.peer} {target.mode} {target.protocol} {target.address}"
             + (f" (upstream {target.upstream})" if target.mode == "proxy" else "")
             + f"  [{seconds:.1f} s]"]
    for r in results:
        lines.append(f"{r['check']:<{width}}  {mark[r['conforms']]:<3}  {r['summary']}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--all", action="store_true", help="every line of interop/peers")
    ap.add_argument("--peer", default="peer")
    ap.add_argument("--mode", default="server", choices=["server", "proxy"])
    ap.add_argument("--protocol", default="echo")
    ap.add_argument("--address")
    ap.add_argument("--path", default="-")
    ap.add_argument("--upstream", default="-")
    ap.add_argument("--only", help="only checks whose name matches this glob")
    ap.add_argument("--json", help="write the observations and evidence here")
    args = ap.parse_args()
    if args.all:
        targets = [Target(*row) for row in read_peers()]
    elif args.address:
        targets = [Target(*normalize([args.peer, args.mode, args.protocol, args.address, args.path,
                                      args.upstream]))]
    else:
        ap.error("give --all or --address")
    report = []
    status = 0
    for t in targets:
        started = time.monotonic()
        try:
            results = probe(t, args.only)
        except OSError as e:
            print(f"# {t.peer} {t.address}: cannot probe: {e}", flush=True)
            status = 2
            continue
        seconds = time.monotonic() - started
        print(render(t, results, seconds), flush=True)
        report.append({"peer": t.peer, "mode": t.mode, "protocol": t.protocol, "address": t.address,
                       "path": t.path, "upstream": t.upstream if t.mode == "proxy" else None,
                       "seconds": round(seconds, 2), "checks": results})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=str)
    return status


if __name__ == "__main__":
    sys.exit(main())
