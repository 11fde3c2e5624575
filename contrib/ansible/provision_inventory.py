#!/usr/bin/env python3
"""Ansible dynamic inventory of a provision appliance's systems.

Point Ansible at this file:

    export PROVISION_SERVER=https://provision.example:8443 PROVISION_TOKEN=...
    ansible-inventory -i provision_inventory.py --graph
    ansible-playbook -i provision_inventory.py -l role_lvs site.yml

It answers --list and --host NAME as Ansible's inventory scripts do, with
what GET /api/v1/inventory answers (`provision inventory` prints the same):
groups by profile, image, site, subnet and state (profile_web, state_installed,
...), and each host's vars: ansible_host (its IP) and provision_* (docs/ansible.md).
Python 3's standard library only.

Environment:
  PROVISION_SERVER      the appliance's API URL (default http://127.0.0.1:8080)
  PROVISION_TOKEN       an API token (the read-only one is enough); else
  PROVISION_TOKEN_FILE  a file holding one; else /var/lib/provision/token,
                        then provision-data/token, as the CLI looks
  PROVISION_CA          for https: a PEM file of certificates to trust, or
                        sha256:HEX, the fingerprint `provision serve` printed
  PROVISION_GROUP_BY    settings to group by too, comma-separated (role,rack):
                        groups role_lvs, rack_a12, ...
"""

import argparse
import hashlib
import http.client
import json
import os
import ssl
import sys
import urllib.parse

TOKEN_FILES = ["/var/lib/provision/token", "provision-data/token"]
TIMEOUT = 120  # seconds, as the CLI waits for an answer


class Failure(Exception):
    """What went wrong, said to the operator on stderr."""


def token():
    """The API token: $PROVISION_TOKEN, else the first token file found."""
    if os.environ.get("PROVISION_TOKEN"):
        return os.environ["PROVISION_TOKEN"].strip()
    files = [os.environ["PROVISION_TOKEN_FILE"]] if os.environ.get("PROVISION_TOKEN_FILE") else TOKEN_FILES
    for name in files:
        try:
            with open(name, encoding="utf-8") as f:
                tok = f.read(1 << 16).strip()
            if tok:
                return tok
        except OSError as e:
            if "PROVISION_TOKEN_FILE" in os.environ:
                raise Failure(f"PROVISION_TOKEN_FILE {name}: {e.strerror}") from e
    raise Failure("no API token: set PROVISION_TOKEN or PROVISION_TOKEN_FILE (looked in " + ", ".join(files) + ")")


def connect(server):
    """An open connection to server; an https one checked against $PROVISION_CA first."""
    url = urllib.parse.urlsplit(server if "://" in server else "http://" + server)
    if url.scheme == "http":
        return http.client.HTTPConnection(url.hostname, url.port or 80, timeout=TIMEOUT), url.path
    if url.scheme != "https":
        raise Failure(f"PROVISION_SERVER {server}: want an http:// or https:// URL")
    ca = os.environ.get("PROVISION_CA", "")
    pin = ca.lower().removeprefix("sha256:").replace(":", "") if ca.lower().startswith("sha256:") else ""
    try:
        ctx = ssl.create_default_context(cafile=ca if ca and not pin else None)
    except (OSError, ValueError) as e:
        raise Failure(f"PROVISION_CA {ca}: {e}") from e
    if pin:  # the pin replaces the name and chain checks, as the CLI's --ca does
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    conn = http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=TIMEOUT, context=ctx)
    conn.connect()
    if pin:
        got = hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()
        if got != pin:
            conn.close()
            raise Failure(f"{server}: the certificate is sha256:{got}, not the pinned sha256:{pin}")
    return conn, url.path


def inventory(query):
    """GET /api/v1/inventory?query, decoded."""
    server = os.environ.get("PROVISION_SERVER") or "http://127.0.0.1:8080"
    tok = token()  # before connecting: a missing token is the likelier mistake
    try:
        conn, base = connect(server)
        path = base.rstrip("/") + "/api/v1/inventory"
        if query:
            path += "?" + urllib.parse.urlencode(query, doseq=True)
        conn.request("GET", path, headers={"Authorization": "Bearer " + tok, "Accept": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
    except (OSError, http.client.HTTPException) as e:
        raise Failure(f"cannot reach the server at {server}: {e}") from e
    if resp.status != 200:
        try:
            msg = json.loads(body)["error"]
        except (ValueError, KeyError, TypeError):
            msg = body[:200].decode("utf-8", "replace")
        raise Failure(f"{server}: {resp.status} {msg}")
    try:
        return json.loads(body)
    except ValueError as e:
        raise Failure(f"{server}: not an inventory: {e}") from e


def main(argv):
    p = argparse.ArgumentParser(description="Ansible dynamic inventory of a provision appliance (see the module's docstring).")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--list", action="store_true", help="every group and every host's vars")
    g.add_argument("--host", metavar="NAME", help="one host's vars")
    args = p.parse_args(argv)
    if args.host is not None:
        out = inventory({"host": args.host})
    else:
        keys = [k.strip() for k in os.environ.get("PROVISION_GROUP_BY", "").split(",") if k.strip()]
        out = inventory({"group_by": keys} if keys else {})
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Failure as e:
        print(f"provision_inventory: {e}", file=sys.stderr)
        sys.exit(1)
