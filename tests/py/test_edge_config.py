"""The edge's custom resource (infra/edge-config/edge_config.py), as scripts/build-edge packages it
(dist/edge-config), run against moto's Lambda control plane on loopback: CloudFormation's
Create/Update requests, the reply PUT to a loopback ResponseURL, the pool's JWKS from a loopback
URL. The published code is read back from moto and its config.json checked by the bundle's own
validator (edge-auth/js/check-config.mjs).

Run: .cache/venv/bin/python -m unittest tests/py/test_edge_config.py (after scripts/build-edge);
scripts/test runs it after building the bundle.
"""

import importlib.util
import io
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE = os.path.join(ROOT, "dist", "edge-config")
PLACEHOLDER = os.path.join(ROOT, "dist", "edge-lambda")
ACCOUNT, REGION, FUNCTION = "123456789012", "us-east-1", "reelgate-EdgeFunction-test"

os.environ.update({
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "MOTO_ALLOW_NONEXISTENT_REGION": "false",
})

import boto3  # noqa: E402  (after the environment it reads)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cfn_yaml import load_template  # noqa: E402
from moto.awslambda.models import lambda_backends  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Loopback(BaseHTTPRequestHandler):
    """The pool's JWKS (GET /jwks.json) and CloudFormation's ResponseURL (PUT /response/<id>)."""

    jwks = {"keys": [{"kid": "pool-1", "kty": "RSA", "alg": "RS256", "use": "sig", "e": "AQAB",
                      "n": "qh08ThxoC-G56-nUmNql-YbGT4vUxc_vJMwHtYu-nLsp51hwcX2WXyFCk7YjpS4jSX3S-Ok0nzae6j4L6wlg2d_s"}]}
    replies = {}

    def do_GET(self):
        body = json.dumps(self.jwks).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        self.replies[self.path] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def load_package(directory, name, handler_file="edge_config.py"):
    """Imports a handler file from a package directory, as Lambda does (the package on sys.path)."""
    sys.path.insert(0, directory)
    try:
        spec = importlib.util.spec_from_file_location(name, os.path.join(directory, handler_file))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(directory)


class Context:
    log_stream_name = "test-stream"


class EdgeConfigCustomResource(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(os.path.join(PACKAGE, "edge_config.py")):
            raise FileNotFoundError("dist/edge-config is missing: run scripts/build-edge first")
        # moto's request log would drown a failure's output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        cls.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        cls.moto.start()
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{cls.moto._port}"
        cls.http = ThreadingHTTPServer(("127.0.0.1", 0), Loopback)
        threading.Thread(target=cls.http.serve_forever, daemon=True).start()
        cls.base = f"http://127.0.0.1:{cls.http.server_port}"
        cls.tmp = tempfile.mkdtemp(prefix="edge-config-")
        cls.lam = boto3.client("lambda")
        role = boto3.client("iam").create_role(
            RoleName="edge", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )["Role"]["Arn"]
        # The edge function as CloudFormation creates it: the placeholder bundle.
        cls.lam.create_function(
            FunctionName=FUNCTION, Runtime="nodejs22.x", Role=role, Handler="index.handler",
            Code={"ZipFile": zip_dir(PLACEHOLDER)}, Publish=False,
        )
        # The signing secret as the template makes it: replicated to the table's other replica regions.
        secrets = boto3.client("secretsmanager")
        cls.secret = secrets.create_secret(
            Name="reelgate-SigningKeyASecret-abc", SecretString="pem",
            AddReplicaRegions=[{"Region": "eu-west-1"}, {"Region": "ap-southeast-1"}],
        )["ARN"]
        cls.unreplicated = secrets.create_secret(Name="reelgate-SigningKeyBSecret-abc", SecretString="pem")["ARN"]
        # The network hint key as the template generates it: {"key_id", "key"}, in the home region only.
        cls.hint_key = os.urandom(32).hex()
        cls.hint_secret = secrets.create_secret(
            Name="reelgate-NetworkHintSecret-abc", SecretString=json.dumps({"key_id": "k1", "key": cls.hint_key}),
        )["ARN"]
        cls.package = load_package(PACKAGE, "edge_config_built")
        # The same package with different edge code: what a new build of the bundle ships.
        changed = os.path.join(cls.tmp, "changed")
        shutil.copytree(PACKAGE, changed)
        with open(os.path.join(changed, "bundle", "index.mjs"), "a") as f:
            f.write("\n// a new build\n")
        cls.changed_package = load_package(changed, "edge_config_changed")

    @classmethod
    def tearDownClass(cls):
        cls.http.shutdown()
        cls.moto.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def config(self, **overrides):
        config = {
            "issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test",
            "jwks_url": f"{self.base}/jwks.json",
            "client_ids": ["client"],
            "token_use": "access",
            "signing": {"key_pair_id": "K2TEST", "private_key_secret_arn": self.secret, "hash": "sha1"},
            "cookie": {"ttl_seconds": 300, "same_site": "Lax", "bind_client_ip": False},
            "resource_base": "https://d111111abcdef8.cloudfront.net",
            "table": {"name": "reelgate-Table", "replica_regions": [REGION, "eu-west-1", "ap-southeast-1"]},
        }
        config.update(overrides)
        return config

    def run_request(self, package, request_type, config, bundle_version="1", **properties):
        """One CloudFormation request to the custom resource (`properties` added to its
        ResourceProperties); returns its reply."""
        request_id = f"req-{os.urandom(4).hex()}"
        event = {
            "RequestType": request_type,
            "ResponseURL": f"{self.base}/response/{request_id}",
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/reelgate/1",
            "RequestId": request_id,
            "LogicalResourceId": "EdgeConfig",
            "ResourceType": "Custom::ReelgateEdgeConfig",
            "ResourceProperties": {
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:config",
                "FunctionName": FUNCTION,
                "BundleVersion": bundle_version,
                "Config": json.dumps(config),
                **properties,
            },
        }
        if request_type != "Create":
            event["PhysicalResourceId"] = "previous"
        package.handler(event, Context())
        return Loopback.replies[f"/response/{request_id}"]

    def published_zip(self, version_arn):
        """The code moto holds for a published version, as the zip it was published as."""
        version = version_arn.rsplit(":", 1)[1]
        return zipfile.ZipFile(io.BytesIO(lambda_backends[ACCOUNT][REGION].get_function(FUNCTION, version).code_bytes))

    def published(self, version_arn):
        """The code moto holds for a published version, unzipped into a directory."""
        directory = tempfile.mkdtemp(dir=self.tmp)
        with self.published_zip(version_arn) as z:
            z.extractall(directory)
        return directory

    def check_config(self, directory, mode):
        """The bundle's own validator (check-config.mjs) on a published config; it must pass."""
        check = subprocess.run(
            ["node", os.path.join(ROOT, "edge-auth/js/check-config.mjs"), directory, mode],
            capture_output=True, text=True, check=False,
        )
        self.assertEqual(check.returncode, 0, check.stderr)
        return check

    def check_as_deployed(self, directory, config):
        """The deployment rules on `config`, with the JWKS URL the template writes (the pool's
        https URL) in place of this test's loopback server, the only loopback thing in it."""
        with open(os.path.join(directory, "config.json"), "w") as f:
            json.dump({**config, "jwks_url": f"{config['issuer']}/.well-known/jwks.json"}, f)
        return self.check_config(directory, "--deploy")

    def versions(self):
        return [v["Version"] for v in self.lam.list_versions_by_function(FunctionName=FUNCTION)["Versions"]]

    def test_a_new_bundle_with_the_same_config_publishes_a_new_version(self):
        first = self.run_request(self.package, "Create", self.config(), bundle_version="1")
        self.assertEqual(first["Status"], "SUCCESS", first["Reason"])
        second = self.run_request(self.changed_package, "Update", self.config(), bundle_version="2")
        self.assertEqual(second["Status"], "SUCCESS", second["Reason"])
        self.assertNotEqual(first["Data"]["VersionArn"], second["Data"]["VersionArn"])
        with open(os.path.join(self.published(second["Data"]["VersionArn"]), "index.mjs")) as f:
            self.assertTrue(f.read().endswith("// a new build\n"))
        self.assertEqual(second["PhysicalResourceId"], second["Data"]["VersionArn"])

    def test_the_published_config_passes_the_validator_and_is_not_a_development_config(self):
        reply = self.run_request(self.package, "Create", self.config())
        self.assertEqual(reply["Status"], "SUCCESS", reply["Reason"])
        directory = self.published(reply["Data"]["VersionArn"])
        self.check_config(directory, "--dev")
        with open(os.path.join(directory, "config.json")) as f:
            config = json.load(f)
        self.check_as_deployed(directory, config)
        self.assertNotIn("allow_public_test_keys", config)
        self.assertNotIn("private_key_pem", config["signing"])
        self.assertEqual(config["jwks"], Loopback.jwks)
        self.assertEqual(config["signing"]["private_key_secret_arn"], self.secret)

    def test_the_published_code_is_compressed_as_the_measured_zip(self):
        # docs/benchmarks.md reports dist/edge-auth.zip against its size budget; the code this
        # resource publishes must be packed the same way, entry for entry, or the figure is not
        # what is deployed.
        reply = self.run_request(self.package, "Create", self.config())
        self.assertEqual(reply["Status"], "SUCCESS", reply["Reason"])
        with zipfile.ZipFile(os.path.join(ROOT, "dist/edge-auth.zip")) as z:
            measured = {i.filename: i for i in z.infolist()}
        with self.published_zip(reply["Data"]["VersionArn"]) as z:
            deployed = {i.filename: i for i in z.infolist()}
        self.assertEqual(sorted(deployed), sorted(measured))
        for name in ("index.mjs", "signing-key.mjs", "reelgate_edge.wasm"):
            self.assertEqual(deployed[name].CRC, measured[name].CRC, name)
            self.assertEqual(
                (deployed[name].compress_type, deployed[name].compress_size),
                (measured[name].compress_type, measured[name].compress_size),
                name,
            )

    def test_a_development_config_is_refused_naming_the_field(self):
        before = self.versions()
        config = self.config(allow_public_test_keys=True)
        reply = self.run_request(self.package, "Update", config)
        self.assertEqual(reply["Status"], "FAILED")
        self.assertIn("allow_public_test_keys", reply["Reason"])
        self.assertEqual(self.versions(), before)

    def test_an_inline_private_key_is_refused_naming_the_field(self):
        signing = {"key_pair_id": "K2TEST", "private_key_pem": "-----BEGIN PRIVATE KEY-----", "hash": "sha1"}
        reply = self.run_request(self.package, "Update", self.config(signing=signing))
        self.assertEqual(reply["Status"], "FAILED")
        self.assertIn("private_key_pem", reply["Reason"])
        self.assertNotIn("BEGIN PRIVATE KEY", reply["Reason"])

    def test_a_jwks_url_the_edge_would_refuse_is_refused_before_it_is_fetched(self):
        before = self.versions()
        for url in (f"http://127.0.0.1.evil.com:{self.http.server_port}/jwks.json",
                    f"http://localhost@127.0.0.1:{self.http.server_port}/jwks.json", "file:///etc/passwd"):
            reply = self.run_request(self.package, "Update", self.config(jwks_url=url))
            self.assertEqual(reply["Status"], "FAILED", url)
            self.assertIn("Config field jwks_url", reply["Reason"])
            self.assertNotIn("evil", reply["Reason"])
        self.assertEqual(self.versions(), before)

    def test_a_replica_list_not_starting_with_the_home_region_is_refused(self):
        table = {"name": "reelgate-Table", "replica_regions": ["eu-west-1", REGION]}
        reply = self.run_request(self.package, "Update", self.config(table=table))
        self.assertEqual(reply["Status"], "FAILED")
        self.assertIn("table.replica_regions", reply["Reason"])

    def test_a_signing_secret_without_a_replica_where_the_edge_reads_is_refused(self):
        before = self.versions()
        signing = {"key_pair_id": "K2TEST", "private_key_secret_arn": self.unreplicated, "hash": "sha1"}
        reply = self.run_request(self.package, "Update", self.config(signing=signing))
        self.assertEqual(reply["Status"], "FAILED")
        self.assertIn("no replica in eu-west-1, ap-southeast-1", reply["Reason"])
        self.assertEqual(self.versions(), before)

    def published_config(self, reply):
        with open(os.path.join(self.published(reply["Data"]["VersionArn"]), "config.json")) as f:
            return json.load(f)

    def put_hint_secret(self, value):
        boto3.client("secretsmanager").put_secret_value(SecretId=self.hint_secret, SecretString=value)

    def test_the_network_hint_key_comes_from_its_secret_and_passes_the_deploy_rules(self):
        self.put_hint_secret(json.dumps({"key_id": "k1", "key": self.hint_key}))
        reply = self.run_request(self.package, "Update", self.config(),
                                 NetworkHintSecretArn=self.hint_secret, NetworkHintKeyId="k1")
        self.assertEqual(reply["Status"], "SUCCESS", reply["Reason"])
        self.assertNotIn(self.hint_key, json.dumps(reply))
        directory = self.published(reply["Data"]["VersionArn"])
        with open(os.path.join(directory, "config.json")) as f:
            config = json.load(f)
        self.assertEqual(config["network_hint"], {"key_id": "k1", "key": self.hint_key})
        check = self.check_as_deployed(directory, config)
        self.assertNotIn(self.hint_key, check.stdout + check.stderr)

    def test_without_the_secret_property_the_edge_logs_no_hint(self):
        reply = self.run_request(self.package, "Update", self.config())
        self.assertEqual(reply["Status"], "SUCCESS", reply["Reason"])
        self.assertNotIn("network_hint", self.published_config(reply))

    def test_a_rotation_publishes_the_new_key_under_its_new_id(self):
        self.put_hint_secret(json.dumps({"key_id": "k1", "key": self.hint_key}))
        before = self.run_request(self.package, "Update", self.config(),
                                  NetworkHintSecretArn=self.hint_secret, NetworkHintKeyId="k1")
        self.assertEqual(before["Status"], "SUCCESS", before["Reason"])
        # What a new NetworkHintKeyId makes CloudFormation do: a new value under the new id.
        new_key = os.urandom(32).hex()
        self.put_hint_secret(json.dumps({"key_id": "2027-01", "key": new_key}))
        after = self.run_request(self.package, "Update", self.config(),
                                 NetworkHintSecretArn=self.hint_secret, NetworkHintKeyId="2027-01")
        self.assertEqual(after["Status"], "SUCCESS", after["Reason"])
        self.assertNotEqual(before["Data"]["VersionArn"], after["Data"]["VersionArn"])
        self.assertEqual(self.published_config(after)["network_hint"], {"key_id": "2027-01", "key": new_key})
        self.assertEqual(self.published_config(before)["network_hint"], {"key_id": "k1", "key": self.hint_key})

    def test_a_key_under_another_id_than_the_parameter_is_refused_naming_it(self):
        # A value put by hand under a new id while the stack still says k1 (or the reverse): publishing
        # it under k1 would make one network's old and new hints look like two networks under one id.
        new_key = os.urandom(32).hex()
        self.put_hint_secret(json.dumps({"key_id": "2027-02", "key": new_key}))
        before = self.versions()
        reply = self.run_request(self.package, "Update", self.config(),
                                 NetworkHintSecretArn=self.hint_secret, NetworkHintKeyId="k1")
        self.assertEqual(reply["Status"], "FAILED")
        self.assertIn("NetworkHintKeyId is 'k1' but NetworkHintSecretArn holds key_id '2027-02'", reply["Reason"])
        self.assertNotIn(new_key, json.dumps(reply))
        self.assertEqual(self.versions(), before)

    def test_a_malformed_hint_secret_is_refused_without_showing_it(self):
        before = self.versions()
        key = os.urandom(32).hex()
        for value, why in (
            (key, "is not JSON"),
            (json.dumps([key]), "not an object"),
            (json.dumps({"key_id": "k1", "key": "short"}), "key too short"),
            (json.dumps({"key_id": "k1", "key": "x" * 257}), "key too long"),
            (json.dumps({"key_id": "k1"}), "no key"),
            (json.dumps({"key_id": "k1", "key": "\ud800" * 40}), "key not UTF-8"),
            # The key pasted into key_id: the message must not echo it.
            (json.dumps({"key_id": key, "key": key}), "key_id not an id"),
            (json.dumps({"key_id": "", "key": key}), "empty key_id"),
        ):
            self.put_hint_secret(value)
            reply = self.run_request(self.package, "Update", self.config(),
                                     NetworkHintSecretArn=self.hint_secret, NetworkHintKeyId="k1")
            self.assertEqual(reply["Status"], "FAILED", why)
            self.assertIn("NetworkHintSecretArn: the secret must be JSON", reply["Reason"], why)
            self.assertNotIn(key, json.dumps(reply), why)
            self.assertNotIn("short", reply["Reason"], why)
        self.assertEqual(self.versions(), before)

    def test_an_inline_network_hint_is_refused(self):
        key = os.urandom(32).hex()
        reply = self.run_request(self.package, "Update", self.config(network_hint={"key_id": "k1", "key": key}))
        self.assertEqual(reply["Status"], "FAILED")
        self.assertIn("Config field network_hint", reply["Reason"])
        self.assertNotIn(key, reply["Reason"])

    def test_delete_succeeds_and_keeps_every_version(self):
        created = self.run_request(self.package, "Create", self.config())
        before = self.versions()
        reply = self.run_request(self.package, "Delete", self.config())
        self.assertEqual(reply["Status"], "SUCCESS", reply["Reason"])
        self.assertEqual(self.versions(), before)
        self.assertIn(created["Data"]["VersionArn"].rsplit(":", 1)[1], before)


class EdgeLogsCustomResource(unittest.TestCase):
    """infra/edge-config/edge_logs.py against moto's EC2 and CloudWatch Logs in every region."""

    @classmethod
    def setUpClass(cls):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        cls.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        cls.moto.start()
        cls.endpoint = f"http://127.0.0.1:{cls.moto._port}"
        cls.logs_module = load_package(PACKAGE, "edge_logs_built", "edge_logs.py")

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def session(self):
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        return boto3.Session(region_name=REGION)

    def group(self, region, name):
        logs = self.session().client("logs", region_name=region)
        return [g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name]

    def test_every_enabled_region_gets_the_group_with_the_retention(self):
        regions = self.logs_module.apply({"FunctionName": "stack-edge", "RetentionInDays": "30"}, self.session())
        enabled = [r["RegionName"] for r in self.session().client("ec2").describe_regions()["Regions"]]
        self.assertEqual(sorted(enabled), regions)
        for region in ("us-east-1", "us-east-2", "eu-central-1", "ap-northeast-1", "sa-east-1", "me-central-1"):
            self.assertIn(region, regions)
            group = self.group(region, "/aws/lambda/us-east-1.stack-edge")
            self.assertEqual([g.get("retentionInDays") for g in group], [30], region)

    def test_a_group_lambda_edge_already_made_gets_the_retention(self):
        self.session().client("logs", region_name="eu-west-2").create_log_group(logGroupName="/aws/lambda/us-east-1.old-edge")
        self.logs_module.apply({"FunctionName": "old-edge", "RetentionInDays": "7"}, self.session())
        self.assertEqual([g.get("retentionInDays") for g in self.group("eu-west-2", "/aws/lambda/us-east-1.old-edge")], [7])


class TheTemplateRerunsTheCustomResourceForEveryBundle(unittest.TestCase):
    def test_bundle_version_is_the_config_functions_own_published_version(self):
        resources = load_template()["Resources"]
        function = resources["EdgeConfigFunction"]["Properties"]
        self.assertTrue(function["AutoPublishAlias"])
        self.assertEqual(resources["EdgeConfig"]["Properties"]["BundleVersion"], {"Ref": "EdgeConfigFunction.Version"})

    def test_sam_build_builds_the_edge_functions_from_source(self):
        # infra/edge-build/Makefile runs scripts/build-edge in the repository root; scripts/test
        # runs `sam build` and checks what it made.
        resources = load_template()["Resources"]
        for name in ("EdgeFunction", "EdgeConfigFunction", "EdgeLogsFunction"):
            self.assertEqual(resources[name]["Properties"]["CodeUri"], "edge-build", name)
            self.assertEqual(resources[name]["Metadata"]["BuildMethod"], "makefile", name)
            self.assertEqual(resources[name]["Metadata"]["WorkingDirectory"], "../", name)
            self.assertNotIn("SkipBuild", resources[name]["Metadata"], name)


def zip_dir(directory):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(os.listdir(directory)):
            z.write(os.path.join(directory, name), name)
    return out.getvalue()


if __name__ == "__main__":
    unittest.main()
