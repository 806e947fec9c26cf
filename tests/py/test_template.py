"""Least privilege and exposure in infra/template.yaml, read as CloudFormation reads it (the
findings of issue 13 that live in the template). `scripts/lint-infra` checks the template's
form; these check what it grants.

Run: .cache/venv/bin/python -m unittest tests/py/test_template.py
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cfn_yaml import load_template  # noqa: E402

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def statements(resource):
    """Every IAM statement of a role or a SAM function's inline policies."""
    props = RESOURCES[resource]["Properties"]
    for policy in props.get("Policies", []):
        document = policy.get("PolicyDocument", policy)
        yield from document.get("Statement", [])


def as_list(value):
    return value if isinstance(value, list) else [value]


class Template(unittest.TestCase):
    def test_no_dynamodb_action_is_granted_on_every_resource(self):
        for name, resource in RESOURCES.items():
            if resource["Type"] not in ("AWS::IAM::Role", "AWS::Serverless::Function"):
                continue
            for statement in statements(name):
                actions = as_list(statement["Action"])
                if any(a.startswith("dynamodb:") for a in actions):
                    self.assertNotIn("*", as_list(statement["Resource"]), f"{name}: {actions}")

    def test_the_edge_reads_exactly_its_two_signing_key_secrets_in_any_region(self):
        [statement] = [s for s in statements("EdgeRole") if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
        resources = statement["Resource"]
        self.assertEqual(len(resources), 2)
        for resource, secret in zip(resources, ["SigningKeyASecret", "SigningKeyBSecret"]):
            pattern, variables = resource["Fn::Sub"]
            # Only the region is a wildcard; the name is the secret's full name, random suffix included.
            self.assertTrue(pattern.endswith(":secret:${Name}"), pattern)
            self.assertEqual(pattern.count("*"), 1, pattern)
            self.assertIn(":secretsmanager:*:", pattern)
            self.assertEqual(variables["Name"], {"Fn::Select": [6, {"Fn::Split": [":", {"Ref": secret}]}]})

    def test_only_the_edge_config_reads_the_network_hint_key_and_decrypts_nothing_else(self):
        secret = {"Ref": "NetworkHintSecret"}
        readers = [
            (name, s) for name, r in RESOURCES.items() if r["Type"] in ("AWS::IAM::Role", "AWS::Serverless::Function")
            for s in statements(name) if secret in as_list(s["Resource"])
        ]
        self.assertEqual([name for name, _ in readers], ["EdgeConfigRole"])
        read = [s for _, s in readers if as_list(s["Action"]) == ["secretsmanager:GetSecretValue"]]
        self.assertEqual([s["Resource"] for s in read], [secret])
        # kms:Decrypt on the shared key, only through Secrets Manager and only for this secret.
        [decrypt] = [s for s in statements("EdgeConfigRole") if "kms:Decrypt" in as_list(s["Action"])]
        self.assertEqual(decrypt["Condition"]["StringEquals"]["kms:EncryptionContext:SecretARN"], secret)
        self.assertEqual(decrypt["Condition"]["StringEquals"]["kms:ViaService"],
                         {"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"})
        # No other secret's value: the signing keys are only described (their replicas checked).
        for statement in statements("EdgeConfigRole"):
            if "secretsmanager:GetSecretValue" in as_list(statement["Action"]):
                self.assertEqual(statement["Resource"], secret)

    def test_the_network_hint_key_is_generated_with_its_id_and_reaches_the_edge_only_by_secret(self):
        generate = RESOURCES["NetworkHintSecret"]["Properties"]["GenerateSecretString"]
        # The id is in the generated value, so a new NetworkHintKeyId regenerates the key under it.
        self.assertEqual(generate["SecretStringTemplate"], {"Fn::Sub": '{"key_id": "${NetworkHintKeyId}"}'})
        self.assertEqual(generate["GenerateStringKey"], "key")
        self.assertTrue(32 <= generate["PasswordLength"] <= 256)
        self.assertEqual(RESOURCES["NetworkHintSecret"]["Properties"]["KmsKeyId"], {"Ref": "SecretsKey"})
        props = RESOURCES["EdgeConfig"]["Properties"]
        self.assertEqual(props["NetworkHintSecretArn"],
                         {"Fn::If": ["HasNetworkHints", {"Ref": "NetworkHintSecret"}, {"Ref": "AWS::NoValue"}]})
        self.assertEqual(props["NetworkHintKeyId"],
                         {"Fn::If": ["HasNetworkHints", {"Ref": "NetworkHintKeyId"}, {"Ref": "AWS::NoValue"}]})
        self.assertNotIn("network_hint", str(props["Config"]))
        # The parameter takes exactly the ids the edge accepts (shared NetworkHintKeyId), or "" (off).
        parameter = TEMPLATE["Parameters"]["NetworkHintKeyId"]
        self.assertEqual(parameter["AllowedPattern"], "^[A-Za-z0-9_-]{0,16}$")
        self.assertIn("NetworkHintSecretArn", TEMPLATE["Outputs"])

    def test_the_edge_writes_only_device_lease_partitions(self):
        writes = [s for s in statements("EdgeRole")
                  if {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"} & set(as_list(s["Action"]))]
        self.assertEqual(len(writes), 1)
        [statement] = writes
        self.assertEqual(statement["Condition"], {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["DEVICES#*"]}})

    def test_cloudwatch_uses_the_key_only_for_this_accounts_alarms(self):
        policy = RESOURCES["SecretsKey"]["Properties"]["KeyPolicy"]["Statement"]
        services = [s for s in policy if "Service" in s["Principal"]]
        self.assertTrue(services)
        for statement in services:
            self.assertEqual(
                statement.get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount"),
                {"Ref": "AWS::AccountId"},
                statement["Sid"],
            )

    def test_the_execute_api_endpoint_is_off_whenever_cloudfront_reaches_the_api_by_domain(self):
        api = RESOURCES["HttpApi"]["Properties"]
        self.assertEqual(api["DisableExecuteApiEndpoint"], {"Fn::If": ["HasApiDomain", True, False]})
        origins = RESOURCES["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
        [origin] = [o for o in origins if o["Id"] == "api"]
        condition, with_domain, _ = origin["DomainName"]["Fn::If"]
        self.assertEqual((condition, with_domain), ("HasApiDomain", {"Ref": "ApiDomainName"}))
        self.assertEqual(RESOURCES["ApiDomainMapping"]["Condition"], "HasApiDomain")

    def test_the_edges_signing_key_secrets_replicate_to_the_tables_replica_regions(self):
        table = [r for r in RESOURCES["Table"]["Properties"]["Replicas"] if not (isinstance(r, dict) and "Fn::If" in r)]
        self.assertEqual(table[0]["Region"], {"Ref": "AWS::Region"})
        for secret in ("SigningKeyASecret", "SigningKeyBSecret"):
            replicas = RESOURCES[secret]["Properties"]["ReplicaRegions"]
            self.assertEqual(
                [r["Fn::If"][:2] for r in replicas],
                [["HasReplica2", {"Region": {"Ref": "ReplicaRegion2"}}], ["HasReplica3", {"Region": {"Ref": "ReplicaRegion3"}}]],
            )

    def test_every_name_an_operator_needs_is_an_output(self):
        for name in ("EdgeFunctionName", "DistributionId", "ApiEndpoint", "Issuer", "JwksUrl", "PublicUrl",
                     "UserPoolId", "UserPoolClientId", "TableName", "EdgeReadRegions", "DashboardName"):
            self.assertIn(name, TEMPLATE["Outputs"])


if __name__ == "__main__":
    unittest.main()
