"""CloudFormation custom resource: the edge's log group in every region, with a retention.

Lambda@Edge writes a function's logs to `/aws/lambda/us-east-1.<name>` in whichever region ran
it, creating the group on first use with no retention: such groups would keep every line forever,
out of reach of the stack. This resource creates the group in every region enabled for the
account (the regions Lambda@Edge can run in) and sets RetentionInDays on it; Lambda@Edge then
writes into it. Update re-applies the retention (and covers regions enabled since). Delete leaves
the groups: lines still arrive until CloudFront has let go of every replica (docs/deploy.md,
teardown, deletes them).
"""

import boto3

from cfn_response import respond


def handler(event, context):
    status, data, reason = "SUCCESS", {}, "ok"
    physical = event.get("PhysicalResourceId") or f"edge-logs-{event['ResourceProperties']['FunctionName']}"
    try:
        if event["RequestType"] in ("Create", "Update"):
            regions = apply(event["ResourceProperties"], boto3.Session())
            data = {"Regions": ",".join(regions)}
    except Exception as error:  # every failure is reported to CloudFormation, never left to time out
        status, reason = "FAILED", f"{type(error).__name__}: {error}"[:1000]
    respond(event, context, status, data, physical, reason)


def apply(props, session):
    """Creates the edge's log group with the retention in every enabled region; returns the regions."""
    group = f"/aws/lambda/us-east-1.{props['FunctionName']}"
    days = int(props["RetentionInDays"])
    regions = sorted(r["RegionName"] for r in session.client("ec2").describe_regions()["Regions"])
    for region in regions:
        logs = session.client("logs", region_name=region)
        try:
            logs.create_log_group(logGroupName=group)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        logs.put_retention_policy(logGroupName=group, retentionInDays=days)
    return regions
