"""infra/samconfig.toml's parameters as the pinned SAM CLI parses them: PEM keys and empty values
from parameters.yaml reach CloudFormation whole (a --parameter-overrides string cuts a PEM at its
first space, and drops `Key=`).

Run with SAM's interpreter, from the repository root:
  .cache/venv-sam/bin/python -m unittest tests/py/test_sam_parameters.py
"""

import os
import shutil
import tempfile
import tomllib
import unittest

from samcli.cli.types import CfnParameterOverridesType

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUBLIC_PEM = os.path.join(ROOT, "shared/tests/keys/p256.pub.pem")


class SamParameters(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="samconfig-")
        self.addCleanup(shutil.rmtree, self.dir)
        with open(os.path.join(ROOT, "infra/samconfig.toml"), "rb") as f:
            self.overrides = tomllib.load(f)["default"]["deploy"]["parameters"]["parameter_overrides"]
        # parameters.yaml as docs/deploy.md has the operator write it from the example.
        with open(os.path.join(ROOT, "infra/parameters.example.yaml")) as f:
            example = f.read()
        with open(PUBLIC_PEM) as f:
            self.pem = f.read()
        placeholder = "  -----BEGIN PUBLIC KEY-----\n  (the lines of keys/active/public.pem)\n  -----END PUBLIC KEY-----\n"
        self.assertIn(placeholder, example)
        indented = "".join(f"  {line}\n" for line in self.pem.splitlines())
        with open(os.path.join(self.dir, "parameters.yaml"), "w") as f:
            f.write(example.replace(placeholder, indented))

    def parse(self):
        cwd = os.getcwd()
        os.chdir(self.dir)  # SAM resolves file:// against the directory it runs in (infra/)
        try:
            return CfnParameterOverridesType().convert(self.overrides, None, None)
        finally:
            os.chdir(cwd)

    def test_a_pem_key_reaches_cloudformation_whole(self):
        self.assertEqual(self.parse()["SigningKeyAPublicPem"], self.pem)

    def test_an_empty_slot_is_passed_as_an_empty_value(self):
        self.assertEqual(self.parse()["SigningKeyBPublicPem"], "")


if __name__ == "__main__":
    unittest.main()
