"""Signs the cases on stdin with botocore's CloudFrontSigner, the AWS SDK
for Python's own implementation, so reelgate's signer can be compared with
it byte for byte. Input: a JSON list of cases; output: a JSON list of URLs."""

import datetime
import json
import sys

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def utc(epoch):
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)


def main():
    cases = json.load(sys.stdin)
    keys = {}
    out = []
    for case in cases:
        path = case["key_file"]
        if path not in keys:
            with open(path, "rb") as f:
                keys[path] = serialization.load_pem_private_key(f.read(), password=None)
        key = keys[path]
        signer = CloudFrontSigner(
            case["key_pair_id"],
            lambda message, key=key: key.sign(message, padding.PKCS1v15(), hashes.SHA1()),
        )
        if case["custom"]:
            policy = signer.build_policy(
                case["resource"],
                utc(case["expires"]),
                date_greater_than=utc(case["starts"]) if case["starts"] is not None else None,
                ip_address=case["ip"],
            )
            out.append(signer.generate_presigned_url(case["url"], policy=policy))
        else:
            out.append(signer.generate_presigned_url(case["url"], date_less_than=utc(case["expires"])))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
