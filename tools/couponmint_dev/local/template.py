"""template.yaml as data: the one source of truth the local stack and the tests build from."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_NAME = "template.yaml"


class CloudFormationLoader(yaml.SafeLoader):
    """A safe YAML loader that also understands CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...).

    Each tag becomes the long form CloudFormation itself expands it to: `!Ref X` → {"Ref": "X"},
    `!GetAtt A.B` → {"Fn::GetAtt": ["A", "B"]}, `!Sub s` → {"Fn::Sub": "s"}, `!Xyz v` → {"Fn::Xyz": v}.
    """


def _construct_short_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)


def project_root() -> Path:
    """The folder holding template.yaml (paths in it, like CodeUri, are relative to it)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / TEMPLATE_NAME).is_file():
            return folder
    raise FileNotFoundError(f"no {TEMPLATE_NAME} above {Path(__file__).parent}")


@cache
def load_template(path: Path | None = None) -> dict[str, Any]:
    """The parsed template (cached: it is read-only data; callers must not mutate it)."""
    path = path or project_root() / TEMPLATE_NAME
    with path.open(encoding="utf-8") as stream:
        return dict(yaml.load(stream, Loader=CloudFormationLoader))  # noqa: S506 - a SafeLoader subclass


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Logical id → Properties of every resource of `resource_type`, in template order."""
    return {
        logical_id: resource.get("Properties") or {}
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def function_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's Properties with Globals.Function applied underneath (the function's own values win)."""
    resource = template["Resources"].get(logical_id)
    if resource is None or resource["Type"] != "AWS::Serverless::Function":
        raise KeyError(f"{logical_id} is not an AWS::Serverless::Function in the template")
    merged = dict(template.get("Globals", {}).get("Function", {}))
    merged.update(resource.get("Properties") or {})
    return merged


def parameter_value(template: dict[str, Any], value: Any) -> Any:
    """A literal, or the Default of the template parameter a `!Ref` names."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        parameter = template.get("Parameters", {}).get(value["Ref"])
        if parameter is None or "Default" not in parameter:
            raise KeyError(f"!Ref {value['Ref']} is not a parameter with a default")
        return parameter["Default"]
    return value
