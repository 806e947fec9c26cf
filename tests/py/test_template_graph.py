"""infra/template.yaml after SAM's transform (the pinned samtranslator, as `sam deploy` submits it):
the resources' dependency graph has no cycle, and the API takes the distribution's domain in the
same deploy (no PublicBaseUrl second pass). cfn-lint does not see a cycle that runs through a
SAM-generated API body, so this walks the graph itself.

Run with SAM's interpreter, from the repository root:
  .cache/venv-sam/bin/python -m unittest tests/py/test_template_graph.py
"""

import os
import re
import unittest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samcli.yamlhelper import yaml_parse  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "infra", "template.yaml")


class _NoManagedPolicies:
    def load(self):
        return {}


def transformed(text):
    template = yaml_parse(text)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"  # what `sam package` puts there
    return transform(template, {"AWS::Region": "us-east-1"}, _NoManagedPolicies())


def references(node, found):
    """Every resource a value names: Ref, Fn::GetAtt and ${...} in Fn::Sub."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value.split(".")[0])
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub":
                pattern = value if isinstance(value, str) else value[0]
                found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", pattern))
                references(value, found)
            else:
                references(value, found)
    elif isinstance(node, list):
        for value in node:
            references(value, found)
    return found


def dependency_graph(template):
    resources = template["Resources"]
    graph = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn", [])
        names = references(resource.get("Properties", {}), set()) | set(depends if isinstance(depends, list) else [depends])
        graph[name] = {n for n in names if n in resources}
    return graph


def find_cycle(graph):
    """A list of resources forming a cycle, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path + [node, nxt]
            if nxt not in state and (cycle := visit(nxt, path + [node])):
                return cycle
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node, [])):
            return cycle
    return None


class TemplateGraph(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(TEMPLATE) as f:
            cls.text = f.read()
        cls.template = transformed(cls.text)

    def test_no_dependency_cycle(self):
        self.assertIsNone(find_cycle(dependency_graph(self.template)))

    def test_the_walk_finds_the_cycle_the_old_wiring_had(self):
        # The API's routes as function events make the API depend on the function; the function
        # taking the distribution's domain then closes Distribution -> HttpApi -> ApiFunction.
        events = """      Events:
        Api:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Path: /api/other
            Method: GET
"""
        text = self.text.replace("""
  # What the function's HttpApi events would have granted""", events + """
  # What the function's HttpApi events would have granted""", 1)
        self.assertNotEqual(text, self.text)
        cycle = find_cycle(dependency_graph(transformed(text)))
        self.assertIsNotNone(cycle)
        self.assertTrue({"HttpApi", "ApiFunction", "Distribution"} <= set(cycle), cycle)

    def test_the_api_names_the_distributions_domain_in_the_same_deploy(self):
        self.assertNotIn("PublicBaseUrl", self.template["Parameters"])
        api = self.template["Resources"]["ApiFunction"]["Properties"]
        condition, with_domain, without = api["Environment"]["Variables"]["REELGATE_RESOURCE_BASE"]["Fn::If"]
        self.assertEqual((condition, with_domain), ("HasDomain", {"Fn::Sub": "https://${DomainName}"}))
        self.assertEqual(without, {"Fn::Sub": "https://${Distribution.DomainName}"})

    def test_every_route_but_the_webhooks_has_the_jwt_authorizer_and_invokes_the_api_function(self):
        resources = self.template["Resources"]
        body = resources["HttpApi"]["Properties"]["Body"]
        name = resources["ApiFunction"]["Properties"]["FunctionName"]["Fn::Sub"]
        for path, method, security in (
            ("/api/{proxy+}", "x-amazon-apigateway-any-method", [{"Cognito": []}]),
            ("/api/webhooks/{provider}", "post", None),
        ):
            route = body["paths"][path][method]
            self.assertEqual(route.get("security"), security, path)
            uri = route["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            self.assertTrue(uri.endswith(f":function:{name}/invocations"), uri)
        authorizer = body["components"]["securitySchemes"]["Cognito"]["x-amazon-apigateway-authorizer"]
        self.assertEqual(authorizer["type"], "jwt")
        permission = resources["ApiInvokePermission"]["Properties"]
        self.assertEqual((permission["FunctionName"], permission["Principal"]), ({"Ref": "ApiFunction"}, "apigateway.amazonaws.com"))


if __name__ == "__main__":
    unittest.main()
