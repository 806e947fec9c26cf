"""Creates a Cognito user pool in moto_server (endpoint in argv[1]) with an
app client, users `bob` (group admin) and `carol`, signs both in with
USER_PASSWORD_AUTH, and prints the pool's coordinates and the tokens as JSON."""

import json
import sys

import boto3

endpoint = sys.argv[1]
idp = boto3.client(
    "cognito-idp",
    region_name="us-east-1",
    endpoint_url=endpoint,
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
pool = idp.create_user_pool(PoolName="reelgate-test")["UserPool"]["Id"]
client = idp.create_user_pool_client(
    UserPoolId=pool,
    ClientName="reelgate-web",
    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
)["UserPoolClient"]["ClientId"]
idp.create_group(UserPoolId=pool, GroupName="admin")
tokens = {}
for user in ("bob", "carol"):
    idp.admin_create_user(UserPoolId=pool, Username=user, TemporaryPassword="Temp0rary!pw", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username=user, Password="Corr3ct-horse!", Permanent=True)
    if user == "bob":
        idp.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName="admin")
    result = idp.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": "Corr3ct-horse!"},
    )["AuthenticationResult"]
    tokens[user] = {"access": result["AccessToken"], "id": result["IdToken"]}
json.dump(
    {
        "pool_id": pool,
        "client_id": client,
        "issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}",
        "jwks_url": f"{endpoint}/{pool}/.well-known/jwks.json",
        "tokens": tokens,
    },
    sys.stdout,
)
