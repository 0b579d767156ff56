# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project's standard tag set: built once here, used by the filters and the modules.

Tags are the identity of everything this collection creates: provision finds existing
resources by them, the inventory finds hosts by them, teardown deletes exactly what carries
the identity tags (Project + Environment + ManagedBy) and nothing else.
"""

from __future__ import annotations

import re

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_tag_filter_dict

MANAGED_BY = "shipyard.ec2_compose"
# The tags that say "this collection made it, for this project and environment".
IDENTITY_KEYS = ("Project", "Environment", "ManagedBy")
STANDARD_KEYS = (*IDENTITY_KEYS, "Owner", "Name")

# AWS limits: https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
MAX_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
ALLOWED_CHARACTERS = re.compile(r"^[\w\s+\-=._:/@]*$", re.UNICODE)


class TagError(ValueError):
    """A tag set that AWS would refuse, or that lacks what this collection needs."""


def identity_tags(project, environment):
    """The tags that select this collection's resources of one project and environment."""
    for variable, value in (("project_name", project), ("environment_name", environment)):
        if not isinstance(value, str) or not value.strip():
            raise TagError(f"{variable} must be a non-empty string, got {value!r}")
    return {"Project": project, "Environment": environment, "ManagedBy": MANAGED_BY}


def standard_tags(project, environment, owner, name=None, extra=None):
    """Identity tags + Owner + Name (`<project>-<environment>[-<name>]`) + extra tags.

    Extra tags may add keys but never override a standard one.
    """
    tags = dict(extra or {})
    clash = sorted(set(tags) & set(STANDARD_KEYS))
    if clash:
        raise TagError(f"extra_tags may not set the standard tags {', '.join(clash)}")
    tags.update(identity_tags(project, environment))
    tags["Owner"] = owner
    tags["Name"] = "-".join(part for part in (project, environment, name) if part)
    validate_tags(tags, "extra_tags with the standard tags")
    return tags


def validate_tags(tags, variable="tags"):
    """Raise TagError naming `variable` and the first tag that breaks an AWS tagging rule; return the tags."""
    if not isinstance(tags, dict):
        raise TagError(f"{variable} must be a dictionary, got {type(tags).__name__}")
    if len(tags) > MAX_TAGS:
        raise TagError(f"{variable}: {len(tags)} tags, AWS allows at most {MAX_TAGS} per resource")
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            raise TagError(f"{variable}: tag key {key!r} must be a non-empty string")
        if not isinstance(value, str):
            raise TagError(f"{variable}: tag {key}: value must be a string, got {type(value).__name__}")
        if len(key) > MAX_KEY_LENGTH:
            raise TagError(f"{variable}: tag key {key[:20]}...: {len(key)} characters, at most {MAX_KEY_LENGTH}")
        if len(value) > MAX_VALUE_LENGTH:
            raise TagError(f"{variable}: tag {key}: value of {len(value)} characters, at most {MAX_VALUE_LENGTH}")
        if key.lower().startswith("aws:"):
            raise TagError(f"{variable}: tag key {key}: the aws: prefix is reserved by AWS")
        for what, text in (("key", key), ("value", value)):
            if not ALLOWED_CHARACTERS.match(text):
                raise TagError(f"{variable}: tag {what} {text!r}: allowed are letters, digits, spaces and "
                               "+ - = . _ : / @")
    return tags


def tag_filters(tags):
    """{'Project': 'x'} -> {'tag:Project': 'x'}, the EC2 describe-filter form."""
    return ansible_dict_to_tag_filter_dict(tags)


def missing_tags(resources, required=STANDARD_KEYS):
    """The resources (summaries with a `tags` dict) that lack any of `required`, with what they lack
    (`missing`) and a `line` that says so."""
    report = []
    for resource in resources:
        lacking = [key for key in required if key not in resource.get("tags", {})]
        if lacking:
            line = f"{resource['type']} {resource['id']} {resource.get('name', '')}: missing {', '.join(lacking)}"
            report.append(dict(resource, missing=lacking, line=line))
    return report
