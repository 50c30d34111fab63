"""Validates recorded HTTP requests against an OpenAPI 3.0 document with openapi-core.

Used by tests/tests/contract_multipart.rs for the multipart bodies Prism cannot read
(Prism 5 takes every multipart part as a string, so Box's JSON `attributes` part is
refused as "must be object").

Usage:
    python3 validate_request.py SPEC.json REQUEST_DIR...

Each REQUEST_DIR holds `request.json` (`method`, `url`: the URL on the spec's server,
`headers`: a list of [name, value]) and `body.bin` (the body's bytes, as sent). Prints one
line per request, `ok URL` or `invalid URL: reasons`; exits 1 if any request is invalid,
2 on a usage or setup error.
"""

import json
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        from openapi_core import OpenAPI
        from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
        from werkzeug.test import EnvironBuilder
        from werkzeug.wrappers import Request
    except ImportError as error:
        print(f"openapi-core is not installed: {error}", file=sys.stderr)
        return 2
    # The spec's OAuth 2 scheme is one openapi-core does not check; requests are checked
    # for their parameters and bodies.
    warnings.filterwarnings("ignore", message="Unsupported scheme type")
    spec = json.loads(Path(argv[1]).read_text())
    openapi = OpenAPI.from_dict(spec)
    invalid = 0
    for folder in map(Path, argv[2:]):
        recorded = json.loads((folder / "request.json").read_text())
        body = (folder / "body.bin").read_bytes()
        # The URL names the host: a recorded `host` header would override it.
        headers = [(n, v) for n, v in recorded["headers"] if n.lower() != "host"]
        url = urlsplit(recorded["url"])
        environ = EnvironBuilder(
            method=recorded["method"],
            base_url=f"{url.scheme}://{url.netloc}",
            path=url.path,
            query_string=url.query,
            headers=headers,
            data=body,
        ).get_environ()
        request = WerkzeugOpenAPIRequest(Request(environ))
        try:
            openapi.validate_request(request)
        except Exception as error:  # openapi-core's errors share no public base class
            reasons = [str(error)]
            cause = error.__cause__
            while cause is not None:
                reasons.append(str(cause))
                for inner in getattr(cause, "schema_errors", []) or []:
                    reasons.append(getattr(inner, "message", str(inner)))
                cause = cause.__cause__
            unique = list(dict.fromkeys(reasons))
            print(f"invalid {recorded['url']}: {' / '.join(unique)}")
            invalid += 1
            continue
        print(f"ok {recorded['url']}")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
