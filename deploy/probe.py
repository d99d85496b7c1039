#!/usr/bin/env python3
"""Container probe: GET a URL on this container, exit 0 on a 2xx answer.

    voxa-probe http://127.0.0.1:8000/readyz --token-env VOXA_OPERATOR_TOKEN

Used by the compose health checks and the Helm chart's exec probes. /readyz
answers only to the operator token in production
(VOXA_PROTECT_OPERATOR_ENDPOINTS), and a Kubernetes httpGet probe cannot read
a header from a Secret, so the probe runs inside the container, where the
token is already in the environment. Standard library only: it starts in
~30 ms and imports nothing of voxa.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="voxa-probe")
    parser.add_argument("url")
    parser.add_argument("--token-env", help="send 'Authorization: Bearer $VAR' when VAR is set")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    request = urllib.request.Request(args.url)
    token = os.environ.get(args.token_env or "", "")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"probe {args.url}: {exc}\n")
        return 1
    if 200 <= status < 300:
        return 0
    sys.stderr.write(f"probe {args.url}: HTTP {status}\n")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
