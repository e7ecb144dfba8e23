"""Checks of a campaign's SMS text, template variables and audience.

Each check returns a list of error messages, empty when the input is valid. Every message
names the bad value and the fix, so that the compose form, the admin form, the
API and the launch can show it as it is.
"""

import difflib
import json
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from messaging.content import CONTACT_FIELDS, CONTACT_PREFIX

from .audience import AudienceFilter
from .models import Campaign, Contact, Template

# A merge field in single braces, or a WhatsApp-style variable in double braces. Whatever
# brace is left outside these matches has no partner and would be sent as typed.
BRACED = re.compile(r"\{\{([^{}]*)\}\}|\{([^{}]*)\}")
MERGE_FIELDS_IN_WORDS = ", ".join(f"{{{name}}}" for name in CONTACT_FIELDS)
VARIABLE_SOURCES = tuple(f"{CONTACT_PREFIX}{name}" for name in CONTACT_FIELDS)


def _closest(value: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(value.lower(), list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


# SMS text


def sms_text_errors(text: str) -> list[str]:
    """Check the merge fields and braces of an SMS text against what sms_text() fills in."""
    unknown: list[str] = []
    doubled: list[str] = []
    stray: list[str] = []
    end = 0
    for match in BRACED.finditer(text):
        stray += _stray_braces(text, end, match.start())
        end = match.end()
        if match.group(1) is not None:
            doubled.append(_doubled_field_words(match.group(1).strip()))
        elif match.group(2).strip() not in CONTACT_FIELDS:
            unknown.append(_unknown_field_words(match.group(2).strip()))
    stray += _stray_braces(text, end, len(text))

    errors = []
    if unknown:
        noun = "merge field" if len(unknown) == 1 else "merge fields"
        errors.append(
            f"The SMS text has the unknown {noun} {', '.join(unknown)}, which the SMS would "
            f"show as typed. Merge fields are {MERGE_FIELDS_IN_WORDS}; fix the spelling or "
            "remove the braces."
        )
    errors += doubled
    if stray:
        errors.append(
            f"The SMS text has an unmatched {', '.join(stray)}, which the SMS would show as "
            "typed. Braces only mark merge fields such as {first_name}; close the brace or "
            "remove it."
        )
    return errors


def _unknown_field_words(name: str) -> str:
    closest = _closest(name, CONTACT_FIELDS)
    hint = f" (did you mean {{{closest}}}?)" if closest else ""
    return f"{{{name}}}{hint}"


def _doubled_field_words(name: str) -> str:
    field = name if name in CONTACT_FIELDS else _closest(name, CONTACT_FIELDS)
    fix = f"write {{{field}}}" if field else f"use one of {MERGE_FIELDS_IN_WORDS}"
    return (
        f"The SMS text has {{{{{name}}}}} in double braces, which only WhatsApp templates "
        f"use, so the SMS would show it as typed. SMS merge fields take single braces: {fix}."
    )


def _stray_braces(text: str, start: int, end: int) -> list[str]:
    """Describe each brace between start and end, with its 1-based character position."""
    return [
        f"'{character}' at character {start + offset + 1}"
        for offset, character in enumerate(text[start:end])
        if character in "{}"
    ]


# Template variables


def variable_errors(variables: Any, template: Template | None = None) -> list[str]:
    """Check each variable source: a string, either "contact.<field>" or literal text.

    With a template, also check that there is one source per template variable.
    """
    if not isinstance(variables, list):
        return [
            f"variables must be a JSON list of strings, not {_json(variables)}; for example "
            '["contact.first_name", "SPRING20"].'
        ]
    names = list(dict.fromkeys(template.variables)) if template is not None else []
    errors = []
    for index, source in enumerate(variables):
        position = f"variables[{index}]"
        if index < len(names):
            position += f" (for {{{{{names[index]}}}}})"
        if error := source_error(source, position):
            errors.append(error)
    if template is not None and len(variables) != len(template.variables):
        expected, supplied = len(template.variables), len(variables)
        errors.append(
            f"Template {template.name} has {_count(expected, 'variable')} but "
            f"{_count(supplied, 'value')} {'was' if supplied == 1 else 'were'} given; give one per "
            "variable, in order."
        )
    return errors


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def source_error(source: Any, position: str) -> str | None:
    """Check one variable source; `position` names it in the message, e.g. "variables[0]"."""
    if not isinstance(source, str):
        return (
            f"{position} is {_json(source)}, which is not a string; give "
            f"'contact.<field>' or the literal text as a JSON string{_as_string(source)}."
        )
    if not source.strip():
        return f"{position} is empty; give 'contact.<field>' or the literal text to send."
    if source.startswith(CONTACT_PREFIX) and source not in VARIABLE_SOURCES:
        closest = _closest(source, VARIABLE_SOURCES)
        hint = f" Did you mean '{closest}'?" if closest else ""
        return (
            f"{position} is '{source}', which is not a contact field.{hint} Use one of "
            f"{_quoted(VARIABLE_SOURCES)}, or literal text that does not start with "
            f"'{CONTACT_PREFIX}'."
        )
    return None


def _json(value: Any) -> str:
    return json.dumps(value)[:60]


def _as_string(value: Any) -> str:
    # A number or true/false was most likely meant as literal text: show it quoted.
    if isinstance(value, bool | int | float):
        return f", e.g. {json.dumps(json.dumps(value))}"
    return ""


# Audience


def tag_list_errors(tags: Any) -> list[str]:
    """Check that an audience's tags are a JSON list of strings."""
    if not isinstance(tags, list):
        return [f'audience_tags must be a JSON list of tags, not {_json(tags)}; e.g. ["vip"].']
    return [
        f"audience_tags[{index}] is {_json(tag)}, which is not a string; write the tag in "
        "double quotes."
        for index, tag in enumerate(tags)
        if not isinstance(tag, str)
    ]


class AudienceRow(NamedTuple):
    phone: str
    tags: Any


def audience_errors(campaign: Campaign) -> list[str]:
    """Check that every audience tag is on some contact and that the audience is not empty.

    A tag on no contact is most likely misspelled: it would narrow the audience without
    anyone noticing, or empty it.
    """
    rule = AudienceFilter(campaign)
    tags_in_use: set[str] = set()
    reached = False
    # NOTE: this reads the phone and tags of every contact of the sub-account, as the
    # review page's counts do. It has not been timed beyond a few thousand contacts.
    rows = Contact.objects.filter(sub_account_id=campaign.sub_account_id).values_list(
        "phone", "tags"
    )
    for row in rows.iterator(chunk_size=2000):
        contact = AudienceRow._make(row)
        tags_in_use.update(contact.tags or [])
        reached = reached or rule.includes(contact)

    missing = [tag for tag in campaign.audience_tags or [] if tag not in tags_in_use]
    if missing:
        return [_missing_tags_words(missing, tags_in_use)]
    if not reached:
        return [_empty_audience_words(campaign)]
    return []


def _missing_tags_words(missing: list[str], tags_in_use: set[str]) -> str:
    noun = "the tag" if len(missing) == 1 else "any of the tags"
    hints = [
        f"'{closest}' for '{tag}'" for tag in missing if (closest := _closest(tag, tags_in_use))
    ]
    hint = f" Did you mean {', '.join(hints)}?" if hints else ""
    return (
        f"No contact has {noun} {_quoted(missing)}.{hint} Check the spelling, or tag "
        "contacts first."
    )


def _empty_audience_words(campaign: Campaign) -> str:
    if campaign.audience_tags and campaign.audience_phones:
        return (
            f"No contact in the uploaded list has any of the tags "
            f"{_quoted(campaign.audience_tags)}. Pick other tags or upload another list."
        )
    if campaign.audience_phones:
        return (
            f"None of the {len(campaign.audience_phones)} numbers in the uploaded list is a "
            "contact of this sub-account. Import them as contacts, or upload another list."
        )
    return "This sub-account has no contacts. Import contacts, then launch."


# Launch


def launch_errors(campaign: Campaign) -> list[str]:
    """Return every reason the campaign's stored content cannot be sent as it is."""
    errors = variable_errors(campaign.variables, campaign.template)
    # The SMS text is sent only when fallback is on: routing gives no SMS route without it.
    if campaign.fallback_enabled:
        errors += sms_text_errors(campaign.fallback_text)
    errors += audience_errors(campaign)
    return errors
