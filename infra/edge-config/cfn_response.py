"""The reply a CloudFormation custom resource owes CloudFormation (the `cfnresponse` module exists
only for inline code): a PUT of this JSON to the request's pre-signed ResponseURL."""

import json
import urllib.request


def respond(event, context, status, data, physical, reason):
    """The custom-resource reply: a PUT of this JSON to the pre-signed ResponseURL."""
    body = json.dumps({
        "Status": status,
        "Reason": f"{reason} (log stream {getattr(context, 'log_stream_name', '?')})",
        "PhysicalResourceId": physical,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data,
    }).encode()
    request = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=30):  # nosec B310: CloudFormation's pre-signed https URL
        pass
