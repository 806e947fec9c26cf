"""The IAM policies infra/template.yaml grants, enforced by moto's IAM simulation on loopback: each
function's role is created in moto with the template's statements, assumed through STS, and the
calls the function makes succeed while calls outside its policy are refused.

What moto checks, exactly (moto 5, core/responses.py `call_action`): the ACTION of every request
against the caller's policies, and an explicit Deny. It checks the RESOURCE only for SQS, IAM and
STS; for DynamoDB, Secrets Manager, Lambda and KMS it authorizes against the resource "*", so a
statement naming an ARN never matches there. The statements are therefore loaded with their
Resource widened to "*": this shows the template's ACTIONS are enough and nothing more is granted
by action; the resource scoping (the table, the two signing secrets in any region, the network
hint secret, the edge function) is checked by reading the template (tests/py/test_template.py), not here. Lambda's API
cannot be checked at all: with enforcement on, moto refuses every Lambda request with
SignatureDoesNotMatch, so the custom resource's Lambda calls are not covered. moto's
Secrets Manager does not call KMS, so kms:Decrypt is not exercised; `TransactWriteItems` is
authorized by AWS as the PutItem/ConditionCheckItem of each item but by moto as its own action,
so it is left out.

Run: .cache/venv/bin/python -m unittest tests/py/test_iam_moto.py
"""

import json
import logging
import os
import socket
import sys
import unittest

os.environ.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"})

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto.core.authorization import enable_iam_authentication  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cfn_yaml import load_template  # noqa: E402

RESOURCES = load_template()["Resources"]
HOME, FAR = "us-east-1", "eu-west-1"
TABLE = "reelgate-Table"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def template_statements(resource):
    """The role's statements as the template writes them (a role's inline policies, or a SAM function's)."""
    props = RESOURCES[resource]["Properties"]
    for policy in props.get("Policies", []):
        yield from policy.get("PolicyDocument", policy)["Statement"]


def widened(statements):
    """The statements with Resource "*" (see the module doc: moto matches these services' resources against "*")."""
    out = []
    for s in statements:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        out.append({"Effect": s["Effect"], "Action": actions, "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": out}


class TemplatePoliciesInMoto(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        cls.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        cls.moto.start()
        cls.endpoint = f"http://127.0.0.1:{cls.moto._port}"
        root = boto3.Session(region_name=HOME)
        client = lambda service, region=HOME: root.client(service, region_name=region, endpoint_url=cls.endpoint)  # noqa: E731
        for region in (HOME, FAR):  # the global table's replicas
            client("dynamodb", region).create_table(
                TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            )
        cls.signing = client("secretsmanager").create_secret(
            Name="reelgate-SigningKeyASecret-abc", SecretString="pem", AddReplicaRegions=[{"Region": FAR}]
        )["ARN"]
        cls.webhook = client("secretsmanager").create_secret(Name="reelgate-WebhookSecret-abc", SecretString="whsec")["ARN"]
        cls.hint = client("secretsmanager").create_secret(
            Name="reelgate-NetworkHintSecret-abc", SecretString=json.dumps({"key_id": "k1", "key": "k" * 64})
        )["ARN"]
        iam = client("iam")
        cls.sessions = {}
        for role, resource in (("edge", "EdgeRole"), ("api", "ApiFunction"), ("pretoken", "PreTokenFunction"), ("config", "EdgeConfigRole")):
            trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
            arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            iam.put_role_policy(RoleName=role, PolicyName="template", PolicyDocument=json.dumps(widened(template_statements(resource))))
            creds = client("sts").assume_role(RoleArn=arn, RoleSessionName=role)["Credentials"]
            cls.sessions[role] = boto3.Session(
                aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"], region_name=HOME,
            )
        role = iam.get_role(RoleName="edge")["Role"]["Arn"]
        client("lambda").create_function(
            FunctionName="reelgate-edge", Runtime="nodejs22.x", Role=role, Handler="index.handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
        )

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def client(self, role, service, region=HOME):
        return self.sessions[role].client(service, region_name=region, endpoint_url=self.endpoint)

    def allowed(self, call):
        with enable_iam_authentication():
            call()

    def refused(self, call):
        with enable_iam_authentication(), self.assertRaises(ClientError) as caught:
            call()
        # moto answers JSON-protocol services with an XML AccessDenied body, which botocore leaves unparsed.
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403, caught.exception)
        self.assertIn("is not authorized to perform", str(caught.exception))

    def test_the_moto_check_is_real_a_role_without_the_action_is_refused(self):
        # Sanity of the simulation itself: the pre-token role has no secretsmanager action at all.
        self.refused(lambda: self.client("pretoken", "secretsmanager").get_secret_value(SecretId=self.signing))

    def test_the_edge_reads_its_key_in_every_replica_region_and_batch_gets_entitlements(self):
        key = {"PK": {"S": "USER#u"}, "SK": {"S": "GRANT#demo"}}
        for region in (HOME, FAR):
            # A replica keeps the primary's name; its ARN differs in the region field only.
            replica = self.signing.replace(f":{HOME}:", f":{region}:")
            self.allowed(lambda r=region, a=replica: self.client("edge", "secretsmanager", r).get_secret_value(SecretId=a))
            self.allowed(lambda r=region: self.client("edge", "dynamodb", r).batch_get_item(RequestItems={TABLE: {"Keys": [key]}}))
        self.allowed(lambda: self.client("edge", "dynamodb").get_item(TableName=TABLE, Key=key))
        # Device leases (docs/devices.md): query, conditional put and delete of DEVICES# partitions.
        # moto does not evaluate the dynamodb:LeadingKeys condition that confines them to DEVICES#
        # keys; tests/py/test_template.py reads it from the template.
        lease = {"PK": {"S": "DEVICES#u"}, "SK": {"S": "SLOT#0"}}
        edge = lambda region=HOME: self.client("edge", "dynamodb", region)  # noqa: E731
        for region in (HOME, FAR):
            self.allowed(lambda r=region: edge(r).query(TableName=TABLE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": lease["PK"]}))
            self.allowed(lambda r=region: edge(r).put_item(TableName=TABLE, Item=lease, ConditionExpression="attribute_not_exists(PK)"))
            self.allowed(lambda r=region: edge(r).delete_item(TableName=TABLE, Key=lease))
        self.refused(lambda: edge().update_item(TableName=TABLE, Key=key, UpdateExpression="SET x = :x", ExpressionAttributeValues={":x": {"S": "1"}}))
        self.refused(lambda: edge().batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": key}}]}))
        self.refused(lambda: edge().scan(TableName=TABLE))
        self.refused(lambda: self.client("edge", "secretsmanager").put_secret_value(SecretId=self.signing, SecretString="x"))
        self.refused(lambda: self.client("edge", "secretsmanager").list_secrets())

    def test_the_api_makes_its_table_calls_and_reads_its_secrets(self):
        ddb = lambda: self.client("api", "dynamodb")  # noqa: E731
        item = {"PK": {"S": "USER#a"}, "SK": {"S": "GRANT#demo"}, "version": {"N": "1"}}
        key = {"PK": item["PK"], "SK": item["SK"]}
        self.allowed(lambda: ddb().put_item(TableName=TABLE, Item=item))
        self.allowed(lambda: ddb().get_item(TableName=TABLE, Key=key, ConsistentRead=True))
        self.allowed(lambda: ddb().batch_get_item(RequestItems={TABLE: {"Keys": [key]}}))
        self.allowed(lambda: ddb().query(TableName=TABLE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": item["PK"]}))
        self.allowed(lambda: ddb().describe_table(TableName=TABLE))
        self.allowed(lambda: ddb().delete_item(TableName=TABLE, Key=key))
        for secret in (self.webhook, self.signing):
            self.allowed(lambda s=secret: self.client("api", "secretsmanager").get_secret_value(SecretId=s))
        self.refused(lambda: ddb().scan(TableName=TABLE))
        self.refused(lambda: ddb().delete_table(TableName=TABLE))
        self.refused(lambda: self.client("api", "secretsmanager").put_secret_value(SecretId=self.webhook, SecretString="x"))

    def test_the_pre_token_trigger_only_queries(self):
        ddb = lambda: self.client("pretoken", "dynamodb")  # noqa: E731
        self.allowed(lambda: ddb().query(TableName=TABLE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "USER#u"}}))
        self.refused(lambda: ddb().get_item(TableName=TABLE, Key={"PK": {"S": "USER#u"}, "SK": {"S": "X"}}))
        self.refused(lambda: ddb().put_item(TableName=TABLE, Item={"PK": {"S": "USER#u"}, "SK": {"S": "X"}}))

    def test_the_edge_config_custom_resource_checks_replicas_and_reads_the_network_hint_key(self):
        # Its Lambda calls (GetFunction, UpdateFunctionCode, PublishVersion) cannot be checked here:
        # with IAM enforcement on, moto 5 refuses every Lambda request with SignatureDoesNotMatch.
        # That GetSecretValue names the network hint secret only (not the signing keys') is read
        # from the template by tests/py/test_template.py: moto matches it against "*".
        config = lambda service="secretsmanager": self.client("config", service)  # noqa: E731
        self.allowed(lambda: config().describe_secret(SecretId=self.signing))
        self.allowed(lambda: config().get_secret_value(SecretId=self.hint))
        self.refused(lambda: config().put_secret_value(SecretId=self.hint, SecretString="x"))
        self.refused(lambda: config().list_secrets())
        self.refused(lambda: config("dynamodb").get_item(TableName=TABLE, Key={"PK": {"S": "U"}, "SK": {"S": "X"}}))

    def test_the_edge_never_reads_the_network_hint_key_it_logs_with(self):
        # The key reaches the edge in config.json; the edge role's secret statement is the signing
        # keys' (by name in the template, tests/py/test_template.py), and by action it may not
        # write or list secrets.
        self.refused(lambda: self.client("edge", "secretsmanager").put_secret_value(SecretId=self.hint, SecretString="x"))
        self.refused(lambda: self.client("edge", "secretsmanager").describe_secret(SecretId=self.hint))


if __name__ == "__main__":
    unittest.main()
