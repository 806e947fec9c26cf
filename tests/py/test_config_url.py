"""The custom resource's URL rule (infra/edge-config/config_url.py) against the Rust one it copies
(`HttpsUrl::parse`, shared/src/config/fields.rs), run in the bundle's own WebAssembly core as
edge-auth/js/check-config.mjs runs it: for each URL below, used as the config's `jwks_url`, both
accept it or both refuse it with the same problem.

Run: .cache/venv/bin/python -m unittest tests/py/test_config_url.py (after scripts/build-edge);
scripts/test runs it after building the bundle.
"""

import json
import os
import subprocess
import sys
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "infra", "edge-config"))
from config_url import UrlError, check_url  # noqa: E402

WASM = os.path.join(ROOT, "dist", "edge-auth", "reelgate_edge.wasm")
DEV_CONFIG = os.path.join(ROOT, "edge-auth", "config.dev.json")
HELPERS = os.path.join(ROOT, "tests", "js", "helpers.mjs")

ACCEPTED = [
    "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc/.well-known/jwks.json",
    "https://example.com",
    "https://example.com:8443/keys",
    "http://127.0.0.1:8080/idp/.well-known/jwks.json",
    "http://127.1.2.3/jwks.json",
    "http://localhost:3000/jwks.json",
    "http://[::1]:9000/jwks.json",
    "https://[2001:db8::1]/jwks.json",
    "https://203.0.113.9/jwks.json",
    "https://a-b.example.com/x~y/z@w:v!$&'()+,;=",
    "https://example.com:+8443/keys",
]
REFUSED = [
    # The issue-13 findings: the host is what a parser reads, not a prefix of the text.
    "http://127.0.0.1.evil.com/jwks.json",
    "http://localhost@evil.com/jwks.json",
    "http://localhost.evil.com/jwks.json",
    "http://user:pw@127.0.0.1/jwks.json",
    "http://example.com/jwks.json",
    "http://203.0.113.9/jwks.json",
    "http://[2001:db8::1]/jwks.json",
    "http://[::ffff:127.0.0.1]/jwks.json",
    "http://[::1%25eth0]/jwks.json",
    "http://[::1%eth0]/jwks.json",
    "http://127.1/jwks.json",
    "http://0177.0.0.1/jwks.json",
    "http://127.0.0.01/jwks.json",
    "http://127.0.0.256/jwks.json",
    "http://2130706433/jwks.json",
    "http://LOCALHOST/jwks.json",
    "https://Example.com/jwks.json",
    "http://%6cocalhost/jwks.json",
    "http://localhost\\@evil.com/jwks.json",
    "file:///etc/passwd",
    "ftp://example.com/jwks.json",
    "HTTPS://example.com/jwks.json",
    "https://",
    "example.com/jwks.json",
    "https://example.com:443/jwks.json",
    "http://127.0.0.1:80/jwks.json",
    "https://example.com:0/jwks.json",
    "https://example.com:08443/jwks.json",
    "https://example.com:65536/jwks.json",
    "https://example.com:/jwks.json",
    "https://example.com:1_0/jwks.json",
    "https://example.com: 8443/jwks.json",
    "https://example.com/jwks.json?x=1",
    "https://example.com/jwks.json#x",
    "https://example.com/a/../jwks.json",
    "https://example.com/./jwks.json",
    "https://example.com/jw%6Bs.json",
    "https://example.com/jwks.json ",
    "https://exa_mple.com/jwks.json",
    "https://-example.com/jwks.json",
    "https://example-.com/jwks.json",
    "https://example..com/jwks.json",
    "https://example.com./jwks.json",
    "https://" + "a" * 64 + ".com/jwks.json",
    "https://" + ".".join(["a" * 63] * 4) + "/jwks.json",
    "https://exämple.com/jwks.json",
    "https://example.com/jwks\u00e9.json",
    "https://[::1/jwks.json",
    "https://[zz::1]/jwks.json",
]


def python_verdict(url):
    try:
        check_url("jwks_url", url)
        return None
    except UrlError as error:
        return str(error).removeprefix("Config field jwks_url ")


def rust_verdicts(urls):
    """Each URL as the dev config's jwks_url, through the core's `init` (the edge's config types)."""
    script = r"""
    import { readFileSync } from "node:fs";
    import { randomBytes } from "node:crypto";
    const [helpers, wasm, configPath, urlsJson] = process.argv.slice(1);
    const { coreInit } = await import(helpers);
    const base = JSON.parse(readFileSync(configPath, "utf8"));
    const verdicts = [];
    for (const url of JSON.parse(urlsJson)) {
      // A fresh instance per URL: init's state never carries over.
      const message = { config: JSON.stringify({ ...base, jwks_url: url }), region: "us-east-1", hash_key: randomBytes(16).toString("hex"), deploy: false };
      verdicts.push((await coreInit(message, wasm)).error ?? null);
    }
    process.stdout.write(JSON.stringify(verdicts));
    """
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script, HELPERS, WASM, DEV_CONFIG, json.dumps(urls)],
        capture_output=True, text=True, check=True,
    )
    return [None if e is None else e.removeprefix("config field `jwks_url`: ") for e in json.loads(out.stdout)]


class ConfigUrl(unittest.TestCase):
    def test_the_issue_13_urls_are_refused(self):
        for url in ("http://127.0.0.1.evil.com", "http://localhost@evil", "file:///etc/passwd"):
            with self.assertRaises(UrlError, msg=url):
                check_url("jwks_url", url)

    def test_the_values_are_never_echoed(self):
        with self.assertRaises(UrlError) as caught:
            check_url("jwks_url", "http://secret-token@127.0.0.1/")
        self.assertNotIn("secret-token", str(caught.exception))

    def test_python_and_the_edges_rust_validator_agree_url_by_url(self):
        if not os.path.isfile(WASM):
            raise FileNotFoundError("dist/edge-auth is missing: run scripts/build-edge first")
        urls = ACCEPTED + REFUSED
        rust = rust_verdicts(urls)
        for url, rust_problem in zip(urls, rust):
            with self.subTest(url=url):
                self.assertEqual(python_verdict(url), rust_problem)
                self.assertEqual(rust_problem is None, url in ACCEPTED)


if __name__ == "__main__":
    unittest.main()
