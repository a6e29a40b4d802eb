#!/usr/bin/env python3
"""Prints infra/template.yaml (or the file given) as JSON, CloudFormation's short tags
(`!Ref X`, `!GetAtt A.B`, `!Sub ...`, ...) turned into their long forms ({"Ref": "X"}, ...),
so tests can compare the template with what the code builds. Needs PyYAML (in .venv)."""
import json
import sys

import yaml


class Loader(yaml.SafeLoader):
    pass


def construct(loader, suffix, node):
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


Loader.add_multi_constructor("!", construct)
path = sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"
with open(path, encoding="utf-8") as f:
    json.dump(yaml.load(f, Loader=Loader), sys.stdout)
