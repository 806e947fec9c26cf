"""CloudFormation custom resource: configures and publishes the Lambda@Edge function.

Lambda@Edge has no environment variables, and the pool, client, key and
secret ids are made by the stack, so the edge's config.json can only be
written after they exist. This resource writes it into the edge bundle,
replaces the function's code with the result and publishes the version the
distribution uses (its `VersionArn`).

The bundle comes from this function's own package (`bundle/`, written by
scripts/build-edge next to this file) rather than from the edge function's
deployed code: what is published is exactly what was built, and the
template passes this function's published version (`BundleVersion`) as a
property, so any new bundle (code or config) changes the properties and
publishes a new edge version. The edge function's own code (`$LATEST`
until this resource runs) carries a placeholder config that refuses every
viewer (infra/edge-placeholder.json).

The network hint key (`network_hint`, shared/src/network_hint.rs) comes from
the `NetworkHintSecretArn` secret, `{"key_id", "key"}`, and is written into
config.json beside the JWKS; the `NetworkHintKeyId` property must name the
secret's key id, so a rotation (a new id) re-runs this resource and a key is
never published under another key's id. The key never appears in a reply, a
log line or an error message.

Requests: Create and Update publish; Delete does nothing (a version
replicated by Lambda@Edge can only be deleted once CloudFront lets go of
it, hours later: docs/deploy.md, teardown).
"""

import base64
import hashlib
import json
import os
import re
import urllib.request

import boto3

from bundle_zip import bundle_zip, directory_files
from cfn_response import respond
from config_url import check_url

BUNDLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bundle")
# Fields only a local (development) config may carry.
DEVELOPMENT_FIELDS = ("allow_public_test_keys", "private_key_pem")
# The edge's rules for `network_hint` (shared/src/config/fields.rs: NetworkHintKeyId, NetworkHintSecret).
HINT_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
HINT_KEY_BYTES = range(32, 257)


class ConfigError(ValueError):
    """The Config property cannot be deployed; the message names the field."""


def handler(event, context):
    status, data, reason = "SUCCESS", {}, "ok"
    physical = event.get("PhysicalResourceId") or event["LogicalResourceId"]
    try:
        if event["RequestType"] in ("Create", "Update"):
            arn = publish(event["ResourceProperties"], boto3.Session())
            data, physical = {"VersionArn": arn}, arn
    except Exception as error:  # every failure is reported to CloudFormation, never left to time out
        status, reason = "FAILED", f"{type(error).__name__}: {error}"[:1000]
    respond(event, context, status, data, physical, reason)


def publish(props, session):
    """Writes the configured bundle into `props["FunctionName"]` and publishes it; returns the version ARN."""
    name = props["FunctionName"]
    config = deployable_config(props["Config"])
    check_replicas(config, session)
    hint = network_hint(props, session)
    if hint is not None:
        config["network_hint"] = hint
    config["jwks"] = fetch_jwks(config["jwks_url"])
    code = configured_bundle(config)
    lam = session.client("lambda")
    lam.update_function_code(FunctionName=name, ZipFile=code)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    version = lam.publish_version(
        FunctionName=name,
        # Publish exactly the code written above, even if another update raced it.
        CodeSha256=base64.b64encode(hashlib.sha256(code).digest()).decode(),
        Description=f"reelgate edge, bundle {props.get('BundleVersion', '?')}"[:256],
    )
    return version["FunctionArn"]


def deployable_config(text):
    """Parses the Config property and refuses what must never reach viewers."""
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"Config is not JSON: {error}") from None
    # Before anything is fetched from them: the edge's own URL rule (config_url.py).
    for field in ("issuer", "jwks_url", "resource_base"):
        if field != "resource_base" or config.get(field) is not None:
            check_url(field, config.get(field))
    if "network_hint" in config:
        raise ConfigError(
            "Config field network_hint must not be set: the key comes from NetworkHintSecretArn "
            "(an inline key would sit in the stack's template)"
        )
    slots = signing_slots(config)
    for field in DEVELOPMENT_FIELDS:
        if config.get(field):
            raise ConfigError(f"Config field {field} is for local use only")
        for name, slot in slots:
            if slot.get(field):
                raise ConfigError(f"Config field {name}.{field} is for local use only")
    for name, slot in slots:
        if not slot.get("private_key_secret_arn"):
            raise ConfigError(f"Config field {name}.private_key_secret_arn is empty")
        if slot.get("key_pair_id", "NONE") == "NONE":
            raise ConfigError(f"Config field {name}.key_pair_id is empty: the signing slot holds no public key")
    regions = (config.get("table") or {}).get("replica_regions") or []
    home = config["signing"]["private_key_secret_arn"].split(":")[3]
    if not regions or regions[0] != home:
        raise ConfigError(f"Config field table.replica_regions must start with the home region {home}")
    return config


def signing_slots(config):
    """The key slots the edge loads, by config field: `signing`, and `signing.next` when staged."""
    signing = config.get("signing") or {}
    return [("signing", signing)] + ([("signing.next", signing["next"])] if signing.get("next") else [])


def check_replicas(config, session):
    """Every region the edge reads its signing keys from must hold a replica of each key's secret
    (ARCHITECTURE §12): refuse the deploy rather than 503 in the edge locations reading there."""
    regions = config["table"]["replica_regions"]
    for field, slot in signing_slots(config):
        arn = slot["private_key_secret_arn"]
        home = arn.split(":")[3]
        secret = session.client("secretsmanager", region_name=home).describe_secret(SecretId=arn)
        # InProgress counts: CloudFormation may run this seconds after creating the replicas.
        replicas = {r["Region"] for r in secret.get("ReplicationStatus", []) if r.get("Status") != "Failed"}
        missing = [r for r in regions if r != home and r not in replicas]
        if missing:
            raise ConfigError(
                f"Config field {field}.private_key_secret_arn: the secret has no replica in {', '.join(missing)}, "
                "where the edge reads it (table.replica_regions)"
            )


def network_hint(props, session):
    """The edge config's `network_hint` from the NetworkHintSecretArn secret, or None without one
    (hints off). Refuses a secret whose key id is not NetworkHintKeyId, naming the parameter; no
    message ever carries the key, or a key id that fails its pattern (it could be a misplaced key)."""
    arn = props.get("NetworkHintSecretArn")
    if not arn:
        return None
    region = arn.split(":")[3]
    text = session.client("secretsmanager", region_name=region).get_secret_value(SecretId=arn)["SecretString"]
    shape = 'NetworkHintSecretArn: the secret must be JSON {"key_id": "<1-16 of A-Z a-z 0-9 _ ->", "key": "<32-256 bytes>"}'
    try:
        value = json.loads(text)
    except ValueError:
        raise ConfigError(shape) from None
    if not isinstance(value, dict):
        raise ConfigError(shape)
    key_id, key = value.get("key_id"), value.get("key")
    if not isinstance(key_id, str) or not HINT_KEY_ID.fullmatch(key_id):
        raise ConfigError(f"{shape}: its key_id is not")
    try:
        size = len(key.encode()) if isinstance(key, str) else 0
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"), which JSON can spell and UTF-8 cannot
        size = 0
    if size not in HINT_KEY_BYTES:
        raise ConfigError(f"{shape}: its key is not")
    expected = props.get("NetworkHintKeyId", "")
    if key_id != expected:
        raise ConfigError(
            f"NetworkHintKeyId is {expected!r} but NetworkHintSecretArn holds key_id {key_id!r}: a key is only "
            "published under its own id (docs/operations.md, rotating the network hint key)"
        )
    return {"key_id": key_id, "key": key}


def fetch_jwks(url):
    """The user pool's signing keys, baked in so a cold container needs no fetch."""
    # nosec B310: `url` passed check_url (https, or http to a loopback host) in deployable_config.
    with urllib.request.urlopen(url, timeout=10) as response:  # nosec B310
        jwks = json.loads(response.read())
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ConfigError(f"JWKS at {url} holds no keys")
    return jwks


def configured_bundle(config):
    """The packaged bundle with `config` as its config.json, byte-for-byte reproducible."""
    files = [(name, data) for name, data in directory_files(BUNDLE_DIR) if name != "config.json"]
    files.append(("config.json", json.dumps(config, sort_keys=True).encode()))
    return bundle_zip(files)
