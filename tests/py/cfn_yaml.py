"""infra/template.yaml as data: CloudFormation's short-form intrinsics (`!Ref X`, `!Sub [...]`)
read as their long form ({"Ref": "X"}, {"Fn::Sub": [...]}), as CloudFormation reads them."""

import os

import yaml

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "infra", "template.yaml")


class _Loader(yaml.SafeLoader):
    pass


def _intrinsic(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _intrinsic)


def load_template(path=TEMPLATE):
    with open(path) as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506: a SafeLoader subclass
